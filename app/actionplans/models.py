"""The table of this package: ``action_plans``, one row per 行动计划 (migration 0012).

A plan is a record, not code: its document number and title, its period (whole years), the
headline targets of its main goals (二、主要目标) and the thresholds of its rules (三（二）), which
``spatial`` applies through :class:`spatial.PlanThresholds`. Periods never overlap (an exclusion
constraint), so a year has at most one plan in force. The yearly targets per unit
(``annual_targets``) and the scoring configuration (``assessment_configs``) are kept per year
and belong to the plan whose period covers the year — linked by the year, not by a key, so a
plan entered later adopts the targets already set for its years and a year's figures never
depend on which row was entered first.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, Integer, Numeric, SmallInteger, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

import spatial

from ..models import Base


class ActionPlan(Base):
    """行动计划: 桐政办发〔2022〕11号 (2022—2023) is seeded; administrators enter the next ones."""

    __tablename__ = "action_plans"
    __table_args__ = (
        CheckConstraint("end_year >= start_year", name="period_order"),
        CheckConstraint(
            "target_total_mu >= 0 AND target_new_floor_area_m2 >= 0 AND target_average_far >= 0"
            " AND min_block_mu >= 0 AND max_blocks_per_unit_per_year >= 0 AND min_parcel_mu >= 0"
            " AND min_far >= 0 AND min_merged_parcel_mu >= 0 AND tolerance_m >= 0",
            name="non_negative",
        ),
        CheckConstraint("report_due_day BETWEEN 1 AND 28", name="report_due_day_range"),
        CheckConstraint("max_outside_park_mu >= 0", name="max_outside_park_mu_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_no: Mapped[str] = mapped_column(String(64), unique=True)  # 文号, e.g. 桐政办发〔2022〕11号
    title: Mapped[str] = mapped_column(String(200))
    start_year: Mapped[int] = mapped_column(Integer)  # 实施期 (whole years, both included)
    end_year: Mapped[int] = mapped_column(Integer)
    # 二、主要目标
    target_total_mu: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 更新土地（亩）over the period
    target_new_floor_area_m2: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 新增厂房建筑面积（m²）
    target_average_far: Mapped[Decimal] = mapped_column(Numeric(6, 2))  # 改造区域平均容积率 ≥
    # 三（二）: the rules' thresholds (spatial.PlanThresholds)
    min_block_mu: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    max_blocks_per_unit_per_year: Mapped[int] = mapped_column(Integer)
    min_parcel_mu: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    min_far: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    min_merged_parcel_mu: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    tolerance_m: Mapped[Decimal] = mapped_column(Numeric(8, 2))  # 连片容差（米）
    # 三（二）实施范围: a 连片 block lies in a 开发区 or 镇街工业园区; this much outside is a sliver (migration 0018)
    max_outside_park_mu: Mapped[Decimal] = mapped_column(
        Numeric(10, 2), default=Decimal(str(spatial.MAX_OUTSIDE_PARK_MU)), server_default=str(spatial.MAX_OUTSIDE_PARK_MU))
    # 月报: a month's report is due on this day of the following month (migration 0013)
    report_due_day: Mapped[int] = mapped_column(SmallInteger, server_default="5", default=5)
    note: Mapped[str] = mapped_column(Text, default="")  # 说明 (where each figure comes from)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"action_plan:{self.id}"

    def covers(self, year: int) -> bool:
        return self.start_year <= year <= self.end_year

    def thresholds(self) -> spatial.PlanThresholds:
        return spatial.PlanThresholds(
            min_block_mu=float(self.min_block_mu),
            max_blocks_per_unit_per_year=int(self.max_blocks_per_unit_per_year),
            min_parcel_mu=float(self.min_parcel_mu),
            min_far=float(self.min_far),
            min_merged_parcel_mu=float(self.min_merged_parcel_mu),
            tolerance_m=float(self.tolerance_m),
            max_outside_park_mu=float(self.max_outside_park_mu),
        )


class ReportDeadline(Base):
    """A month whose 月报 deadline was moved from the plan's ``report_due_day`` (while it was open)."""

    __tablename__ = "report_deadlines"
    __table_args__ = (
        CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
        CheckConstraint("due_on > make_date(year, month, 1)", name="after_month_start"),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_version: Mapped[int] = mapped_column(Integer, server_default="1", default=1)

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"report_deadline:{self.year}-{self.month:02d}"
