"""Demo accounts for ``make run`` (development only; documented in README)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.uow import unit_of_work
from .models import User
from .roles import Role
from .service import create_user

DEMO_PASSWORD = "tongxiang-2022"

DEMO_USERS = [
    ("admin", "系统管理员", Role.ADMIN, None),
    ("planner", "规划查看（市有机更新办）", Role.PLANNER, None),
    ("gis", "GIS 数据员（自然资源和规划局）", Role.GIS_STAFF, None),
    ("reviewer", "领导小组办公室评审", Role.REVIEWER, None),
    ("chongfu", "崇福镇经办人", Role.UNIT_OFFICER, "chongfu"),
    ("wutong", "梧桐街道经办人", Role.UNIT_OFFICER, "wutong"),
]


def seed_demo_users(session: Session) -> int:
    """Create the demo users that do not exist yet; returns how many were created."""
    created = 0
    with unit_of_work(session):
        for username, name, role, unit in DEMO_USERS:
            if session.scalar(select(User.id).where(User.username == username)) is None:
                create_user(session, username=username, role=role, password=DEMO_PASSWORD, display_name=name,
                            unit_code=unit)
                created += 1
    return created
