"""Tables of the shared machinery: the audit log, notifications and the review log.

Each row names its *subject* — the object a person thinks of — as a type and a code
(``block_plan`` / ``TX2022-CF-01``), so every reviewed or audited kind shares these tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base


def evidence_checks() -> tuple[CheckConstraint, CheckConstraint]:
    """The checks of a table of :class:`EvidenceFile` rows (new objects for each table)."""
    return (CheckConstraint("content_type IN ('application/pdf', 'image/jpeg', 'image/png')", name="type"),
            CheckConstraint("size_bytes = octet_length(content)", name="size"))


class EvidenceFile:
    """The columns of an attached file (PDF, JPEG, PNG): its type read from its bytes, stored with its
    SHA-256 — the 月报's 佐证材料 and an objection's evidence alike."""

    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuditEntry(Base):
    """One write: who, when, what (table + key), and the values before and after.

    Append-only: a trigger (migration 0004) refuses UPDATE and DELETE. ``subject`` groups
    rows under the object a person thinks of (``plan:TX2022-CF-01``), and ``subject_version``
    is that object's ETag after the write, so a 409 can list what changed since a version.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_subject", "subject", "subject_version"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: the log outlives accounts
    username: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(128))
    object_version: Mapped[int | None]
    subject: Mapped[str | None] = mapped_column(String(128))
    subject_version: Mapped[int | None]
    before: Mapped[dict | None] = mapped_column(JSONB)
    after: Mapped[dict | None] = mapped_column(JSONB)


class Notification(Base):
    """A message to one user about a subject (e.g. the officer is told the outcome of a review)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_subject", "subject_type", "subject_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    subject_type: Mapped[str | None] = mapped_column(String(32))  # e.g. block_plan
    subject_code: Mapped[str | None] = mapped_column(String(64))  # e.g. TX2022-CF-01
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewEvent(Base):
    """One transition of a reviewed object (submit, approve, return …), by whom, with what it was based on.

    Written by the review engine (:mod:`app.core.review`) for every kind; never updated.
    """

    __tablename__ = "review_events"
    __table_args__ = (Index("ix_review_events_subject", "subject_type", "subject_code", "version_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_code: Mapped[str] = mapped_column(String(64))
    version_no: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    doc_no: Mapped[str | None] = mapped_column(String(64))  # e.g. 认定文号
    decided_on: Mapped[dt.date | None] = mapped_column(Date)  # e.g. 认定日期
    report_passed: Mapped[bool | None] = mapped_column(Boolean)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RateLimitCounter(Base):
    """The shared rate limiter's counters (app.core.ratelimit, migration 0017): a window per key.

    UNLOGGED: after a crash every window simply starts again.
    """

    __tablename__ = "rate_limit_counters"
    __table_args__ = (Index("ix_rate_limit_counters_expires_at", "expires_at"), {"prefixes": ["UNLOGGED"]})

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
