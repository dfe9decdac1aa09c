"""The tables of the yearly 亩均效益综合评价 (migration 0015).

A run keeps everything it was computed from — the configuration, every enterprise's inputs as the
pure engine took them (``evaluation.enterprise_to_dict`` plus where each figure came from) and the
engine's result — so a published or fixed result never changes when figures change later.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..core.models import EvidenceFile, evidence_checks
from ..models import Base

RUN_STATUSES = ("computed", "published", "final", "withdrawn")
OBJECTION_STATUSES = ("open", "upheld", "rejected")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class EvaluationConfig(Base):
    """One year's configuration, as ``evaluation.config_to_dict`` gives it (edited by an admin)."""

    __tablename__ = "evaluation_configs"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    config: Mapped[dict] = mapped_column(JSONB)
    row_version: Mapped[int] = mapped_column(Integer, server_default="1", default=1)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"evaluation_config:{self.year}"


class EvaluationRun(Base):
    """A computed evaluation of one year: 试算 (computed) → 公示 (published) → 定档 (final), or withdrawn."""

    __tablename__ = "evaluation_runs"
    __table_args__ = (
        CheckConstraint(_in("status", RUN_STATUSES), name="status"),
        CheckConstraint("publicity_end IS NULL OR publicity_end >= publicity_start", name="publicity"),
        UniqueConstraint("year", "number"),
        Index("uq_evaluation_runs_final", "year", unique=True, postgresql_where=text("status = 'final'")),
        Index("uq_evaluation_runs_published", "year", unique=True, postgresql_where=text("status = 'published'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)  # 第几次试算 of the year
    status: Mapped[str] = mapped_column(String(16), default="computed")
    config: Mapped[dict] = mapped_column(JSONB)
    inputs: Mapped[dict] = mapped_column(JSONB)  # credit code -> {"input": …, "sources": …, "unit": …}
    result: Mapped[dict] = mapped_column(JSONB)  # evaluation.Result.to_dict()
    figures_as_of: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_runs.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    row_version: Mapped[int] = mapped_column(Integer, server_default="1", default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    publicity_start: Mapped[dt.date | None] = mapped_column(Date)
    publicity_end: Mapped[dt.date | None] = mapped_column(Date)
    published_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # 提前结束公示: the admin ended the period before its last day (with a reason, audited).
    publicity_closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    publicity_closed_by: Mapped[str | None] = mapped_column(String(64))
    publicity_close_reason: Mapped[str | None] = mapped_column(Text)
    fixed_by: Mapped[str | None] = mapped_column(String(64))
    fixed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"evaluation_run:{self.id}"


class EvaluationObjection(Base):
    """异议: an enterprise's objection to a published run (filed for it by its town or an admin), with the
    figures it says are wrong (``corrections``: field -> value) and the reviewer's decision."""

    __tablename__ = "evaluation_objections"
    __table_args__ = (CheckConstraint(_in("status", OBJECTION_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id", ondelete="CASCADE"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    corrections: Mapped[dict | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default="open")
    resolution: Mapped[str | None] = mapped_column(Text)
    row_version: Mapped[int] = mapped_column(Integer, server_default="1", default=1)
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"evaluation_objection:{self.id}"


class EvaluationEvidence(EvidenceFile, Base):
    """A file attached to an objection (PDF, JPEG, PNG)."""

    __tablename__ = "evaluation_evidence"
    __table_args__ = evidence_checks()

    id: Mapped[int] = mapped_column(primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("evaluation_objections.id", ondelete="CASCADE"), index=True)
