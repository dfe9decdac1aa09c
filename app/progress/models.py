"""Tables of the progress and assessment package (一表).

Figures are never stored here: progress, indicators and scores are computed from
parcels and blocks on demand. What is stored is what people decide or issue:
the scoring configuration an admin sets, the tax figures after renewal, and the
monthly reports, which are frozen once issued — and the dated history the figures
are computed from (``parcel_status_events``, ``block_stage_events``, migration 0011),
written by database triggers on ``parcels`` and ``renewal_blocks`` whatever writes them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
import uuid

from sqlalchemy import Boolean, SmallInteger, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from ..core.models import EvidenceFile, evidence_checks
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


EVENT_SOURCES = ("backfill", "seed", "upload", "report", "correction", "edit")
# Sources whose facts count from the day they happened (the history as first loaded); every other
# event counts from the day it was recorded, so a later record never moves an earlier day's figures.
HISTORICAL_SOURCES = ("backfill", "seed")
_SOURCE_CHECK = "source IN (" + ", ".join(f"'{s}'" for s in EVENT_SOURCES) + ")"


class ParcelStatusEvent(Base):
    """A parcel's status, completion date and measures from ``happened_on``, known from ``known_on``.

    Written by the trigger ``parcel_status_events_record`` (migration 0011) for every INSERT or
    UPDATE of ``parcels`` that changes them; ``source`` / ``recorded_by`` / ``note`` come from the
    transaction's settings (``app.core.history.event_source``), ``edit`` when none is set. Never
    updated. A correction (``corrects_id``) replaces the event it corrects from its ``known_on`` on.
    """

    __tablename__ = "parcel_status_events"
    __table_args__ = (
        CheckConstraint(_SOURCE_CHECK, name="source"),
        CheckConstraint("known_on >= happened_on", name="known_after_happened"),
        Index("ix_parcel_status_events_as_of", "parcel_id", "happened_on", "known_on", "id"),
        Index("ix_parcel_status_events_known_on", "known_on"),
        Index("ix_parcel_status_events_corrects_id", "corrects_id", postgresql_where=text("corrects_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(32))
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    land_area_mu: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    floor_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    planned_floor_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    built_floor_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    far: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    planned_far: Mapped[Decimal | None] = mapped_column(Numeric(8, 4))
    happened_on: Mapped[dt.date] = mapped_column(Date)  # the day it became true
    known_on: Mapped[dt.date] = mapped_column(Date)  # the first day whose figures include it
    source: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    note: Mapped[str | None] = mapped_column(Text)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("parcel_status_events.id", ondelete="CASCADE"))


class BlockStageEvent(Base):
    """A block's stage and completion date from ``happened_on``, known from ``known_on`` (as above)."""

    __tablename__ = "block_stage_events"
    __table_args__ = (
        CheckConstraint(_SOURCE_CHECK, name="source"),
        CheckConstraint("known_on >= happened_on", name="known_after_happened"),
        Index("ix_block_stage_events_as_of", "block_id", "happened_on", "known_on", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("renewal_blocks.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(32))
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    happened_on: Mapped[dt.date] = mapped_column(Date)
    known_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    note: Mapped[str | None] = mapped_column(Text)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("block_stage_events.id", ondelete="CASCADE"))


class ProgressSubmission(Base):
    """A unit's 月报 of a month (migration 0013): submitted by its officer, or returned by the office."""

    __tablename__ = "progress_submissions"
    __table_args__ = (
        CheckConstraint("status IN ('submitted', 'returned')", name="status"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
        UniqueConstraint("unit_id", "year", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, server_default="", default="")
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[str] = mapped_column(String(64))
    returned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    returned_by: Mapped[str | None] = mapped_column(String(64))
    return_reason: Mapped[str | None] = mapped_column(Text)
    row_version: Mapped[int] = mapped_column(Integer, server_default="1", default=1)

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"progress_submission:{self.id}"


class ProgressImport(Base):
    """An Excel sheet of reports, staged with its per-row report until it is committed (all or nothing)."""

    __tablename__ = "progress_imports"
    __table_args__ = (CheckConstraint("status IN ('staged', 'committed')", name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(SmallInteger)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[list] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), server_default="staged", default="staged")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    committed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    def audit_subject(self) -> str:
        return f"progress_import:{self.id}"


class ProgressEntry(Base):
    """One reported change (a parcel's status or a block's stage), dated by the day it happened.

    ``event_id`` is the history event it wrote; a withdrawn entry (撤回) keeps it and names the
    event that undid it (``withdraw_event_id``): history is only ever added to."""

    __tablename__ = "progress_entries"
    __table_args__ = (
        CheckConstraint("(parcel_id IS NULL) <> (block_id IS NULL)", name="one_subject"),
        CheckConstraint("source IN ('browser', 'excel')", name="source"),
        CheckConstraint("built_floor_area_m2 IS NULL OR built_floor_area_m2 >= 0", name="built_non_negative"),
        Index("ix_progress_entries_month", "year", "month", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(SmallInteger)
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id", ondelete="CASCADE"), index=True)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("renewal_blocks.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    previous_status: Mapped[str | None] = mapped_column(String(32))
    happened_on: Mapped[dt.date] = mapped_column(Date)
    built_floor_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    previous_built_floor_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    previous_completed_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, server_default="", default="")
    late: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16), server_default="browser", default="browser")
    import_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("progress_imports.id"))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
    withdraw_event_id: Mapped[int | None] = mapped_column(BigInteger)
    row_version: Mapped[int] = mapped_column(Integer, server_default="1", default=1)

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"progress_entry:{self.id}"


class ProgressEvidence(EvidenceFile, Base):
    """An attached file (PDF, JPEG, PNG) of a 月报 entry."""

    __tablename__ = "progress_evidence"
    __table_args__ = evidence_checks()

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("progress_entries.id", ondelete="CASCADE"), index=True)
