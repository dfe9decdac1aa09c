"""Roles and what each may do. The server checks every endpoint against these."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PLANNER = "planner"  # 规划人员、领导小组成员：只读
    GIS_STAFF = "gis_staff"  # 自然资源和规划局、镇街 GIS 人员：上传边界
    UNIT_OFFICER = "unit_officer"  # 镇（街道、开发区）经办人：起草、提交本单位区块方案，报进度
    REVIEWER = "reviewer"  # 领导小组办公室：批量评审、认定或退回
    ADMIN = "admin"  # 系统管理员

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.PLANNER: "规划查看",
    Role.GIS_STAFF: "GIS 数据员",
    Role.UNIT_OFFICER: "镇街经办人",
    Role.REVIEWER: "评审（领导小组）",
    Role.ADMIN: "管理员",
}
