"""项目准入 (project admission): one row per application, which is both the reviewed object and its
only version (the :class:`~app.core.review.Reviewable` columns on it).

An application names the approved block it enters, the version of the block's plan in force when it
was written (its parcels and 产业导向), the enterprise (from the register, or a new one by name and
credit code, registered when the project is admitted), the parcels, the project's figures and dates.
Approval creates the project's 投资履约 record (``credit_record_id``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.review import Reviewable
from ..enums import ReviewStatus
from ..models import Base, Enterprise, RenewalBlock, Unit, _enum
from ..workflow.models import BlockPlan, CreditRecord


class ProjectAdmission(Reviewable, Base):
    """A 项目准入 application (万元 for money, m² for floor area)."""

    __tablename__ = "project_admissions"
    __table_args__ = (
        CheckConstraint("investment_10k >= 0 AND output_10k >= 0 AND tax_10k >= 0 AND floor_area_m2 >= 0"
                        " AND far >= 0", name="figures_non_negative"),
        CheckConstraint("complete_on >= start_on", name="dates_in_order"),
        CheckConstraint("enterprise_id IS NOT NULL OR (enterprise_name IS NOT NULL AND credit_code IS NOT NULL)",
                        name="enterprise_named"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[ReviewStatus] = mapped_column(_enum(ReviewStatus, "review_status"))
    block_id: Mapped[int] = mapped_column(ForeignKey("renewal_blocks.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("block_plans.id"), index=True)
    plan_version_no: Mapped[int] = mapped_column(Integer)  # the plan's version in force when last edited
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    # the enterprise: from the register, or (not registered yet) its name and credit code only
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    enterprise_name: Mapped[str | None] = mapped_column(String(128))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    parcel_codes: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    project_name: Mapped[str] = mapped_column(String(128))
    industry_code: Mapped[str] = mapped_column(String(5))
    investment_10k: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 计划总投资
    output_10k: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 达产后预计年产出
    tax_10k: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 达产后预计年税收
    floor_area_m2: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 规划建筑面积
    far: Mapped[Decimal] = mapped_column(Numeric(6, 2))  # 规划容积率
    start_on: Mapped[dt.date] = mapped_column(Date)  # 计划开工
    complete_on: Mapped[dt.date] = mapped_column(Date)  # 计划竣工（达产）
    note: Mapped[str | None] = mapped_column(Text)
    credit_record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_records.id"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    block: Mapped[RenewalBlock] = relationship()
    plan: Mapped[BlockPlan] = relationship()
    unit: Mapped[Unit] = relationship()
    enterprise: Mapped[Enterprise | None] = relationship()
    credit_record: Mapped[CreditRecord | None] = relationship()

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"admission:{self.id}"

    @property
    def code(self) -> str:
        """How people and the review log name it: 准入 number, e.g. ZR-0007."""
        return f"ZR-{self.id:04d}"
