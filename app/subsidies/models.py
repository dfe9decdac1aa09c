"""The subsidy ledger (扶持资金台账, migration 0021): the plan's fund, its entries and their payments.

The plan (三.(四).5) sets aside at least 2 亿元 for the renewal programme and makes the approved
block's 四至 boundary and enterprise list the ground for it. An entry is one application
(申请) of an enterprise or a parcel, checked against the approved boundary on the day applied for,
then reviewed (审核: the approved amount is the fund's commitment) and paid (拨付, one or more
payments). Amounts are 万元.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import Base, Enterprise, Parcel, RenewalBlock, Unit

ENTRY_STATUSES = ("applied", "approved", "rejected")


class SubsidyFund(Base):
    """A fund (资金): its name and total (万元), set by administrators; the ETag is ``row_version``."""

    __tablename__ = "subsidy_funds"
    __table_args__ = (CheckConstraint("total_10k >= 0", name="total_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    total_10k: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    note: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_version: Mapped[int] = mapped_column(Integer, server_default="1", default=1)

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"subsidy_fund:{self.id}"


class SubsidyEntry(Base):
    """One application for support: for an enterprise (by its credit code) or a parcel, in the approved
    block it lay in on ``applied_on`` (the block, plan version and 认定文号 recorded as found then)."""

    __tablename__ = "subsidy_entries"
    __table_args__ = (
        CheckConstraint("(enterprise_id IS NULL) <> (parcel_id IS NULL)", name="one_subject"),
        CheckConstraint("status IN ('applied', 'approved', 'rejected')", name="status"),
        CheckConstraint("amount_applied_10k > 0", name="applied_positive"),
        CheckConstraint("approved_10k IS NULL OR (approved_10k > 0 AND approved_10k <= amount_applied_10k)",
                        name="approved_range"),
        CheckConstraint("(status = 'approved') = (approved_10k IS NOT NULL)", name="approved_amount"),
        CheckConstraint("paid_10k >= 0 AND paid_10k <= coalesce(approved_10k, 0)", name="paid_within_approved"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("subsidy_funds.id"), index=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("renewal_blocks.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id"), index=True)
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("project_admissions.id"), index=True)  # 准入项目
    project_name: Mapped[str | None] = mapped_column(String(128))  # the project's name (the admission's, or free text)
    applied_on: Mapped[dt.date] = mapped_column(Date)
    amount_applied_10k: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    basis: Mapped[str] = mapped_column(Text)  # 申请依据
    plan_version_no: Mapped[int | None] = mapped_column(Integer)  # the version in force on applied_on
    approval_doc_no: Mapped[str | None] = mapped_column(String(64))  # its 认定文号
    status: Mapped[str] = mapped_column(String(16), default="applied")
    approved_10k: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    paid_10k: Mapped[Decimal] = mapped_column(Numeric(14, 2), server_default="0", default=Decimal(0))  # Σ payments
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applied_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_version: Mapped[int] = mapped_column(Integer, server_default="1", default=1)

    fund: Mapped[SubsidyFund] = relationship()
    block: Mapped[RenewalBlock] = relationship()
    unit: Mapped[Unit] = relationship()
    enterprise: Mapped[Enterprise | None] = relationship()
    parcel: Mapped[Parcel | None] = relationship()
    payments: Mapped[list[SubsidyPayment]] = relationship(
        back_populates="entry", order_by="SubsidyPayment.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"subsidy:{self.id}"


class SubsidyPayment(Base):
    """拨付: one payment of an approved entry (never more in all than the approved amount)."""

    __tablename__ = "subsidy_payments"
    __table_args__ = (CheckConstraint("amount_10k > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("subsidy_entries.id", ondelete="CASCADE"), index=True)
    paid_on: Mapped[dt.date] = mapped_column(Date)
    amount_10k: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    entry: Mapped[SubsidyEntry] = relationship(back_populates="payments")
