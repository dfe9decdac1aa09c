"""Accounts and login sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import Base, Unit, _enum
from .roles import Role


class User(Base):
    """A person who logs in. A unit officer is bound to exactly one unit (镇、街道、开发区)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("(role = 'unit_officer') = (unit_id IS NOT NULL)", name="officer_has_unit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit | None] = relationship()

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"user:{self.username}"


class LoginSession(Base):
    """A browser session. Only the SHA-256 of the cookie token is stored."""

    __tablename__ = "login_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    client: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()
