"""Tables of the progress and assessment package (一表).

Figures are never stored here: progress, indicators and scores are computed from
parcels and blocks on demand. What is stored is what people decide or issue:
the scoring configuration an admin sets, the tax figures after renewal, and the
monthly reports, which are frozen once issued.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, LargeBinary, Numeric, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base


class ParcelTaxRecord(Base):
    """Tax paid on a parcel in one year (税务 data), used for 亩均税收 after renewal."""

    __tablename__ = "parcel_tax_records"
    __table_args__ = (
        UniqueConstraint("parcel_id", "year", name="uq_parcel_tax_records_parcel_year"),
        CheckConstraint("tax_10k_yuan >= 0", name="non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    tax_10k_yuan: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 年税收（万元）
    source: Mapped[str] = mapped_column(String(32), default="demo")


class AssessmentConfig(Base):
    """考核指标与权重 for one year, set by an admin (validated by ``scoring.ScoringConfig``)."""

    __tablename__ = "assessment_configs"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    config: Mapped[dict] = mapped_column(JSONB)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ProgressReport(Base):
    """月度通报: an issued monthly report. Immutable: a trigger refuses UPDATE and DELETE."""

    __tablename__ = "progress_reports"
    __table_args__ = (
        UniqueConstraint("year", "month", name="uq_progress_reports_year_month"),
        UniqueConstraint("year", "issue_no", name="uq_progress_reports_year_issue_no"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
        CheckConstraint("issue_no >= 1", name="issue_no_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[dt.date] = mapped_column(Date)  # figures include completions up to this day
    issued_by: Mapped[str] = mapped_column(String(64))  # login name, for the audit trail
    issued_by_name: Mapped[str] = mapped_column(String(64))  # the issuer's display name at issue time
    issue_no: Mapped[int] = mapped_column(Integer)  # 第 X 期, per year
    issuing_body: Mapped[str] = mapped_column(String(128))  # 印发单位
    issue_date: Mapped[dt.date] = mapped_column(Date)  # 印发日期
    signed_by: Mapped[str] = mapped_column(String(64))  # 签发人
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    data: Mapped[dict] = mapped_column(JSONB)
    data_sha256: Mapped[str] = mapped_column(String(64))  # of the canonical JSON text
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)
    xlsx_sha256: Mapped[str] = mapped_column(String(64))
