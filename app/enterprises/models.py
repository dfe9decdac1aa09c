"""The register's import staging area and the history of every field an import changed.

The register's own fields are columns of ``enterprises`` (app/models.py: 行业代码, 行业名称, 规模,
投产年份, 地址, 所在镇街); migration 0014 adds them and these two tables.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base

# The departments' yearly figures (units as evaluation.inputs.Figures) and the bonus/minus points
# (安全生产、环保 minus as negative numbers, 科技创新 bonus as positive) — one enterprise_figures row each.
FIGURE_FIELDS = ("tax_10k", "revenue_10k", "value_added_10k", "energy_tce", "emission_t", "electricity_10k_kwh",
                 "employees", "rd_10k", "safety_points", "environment_points", "innovation_points")


class EnterpriseImport(Base):
    """A register sheet staged with its rows and field mapping until committed (all rows or none)."""

    __tablename__ = "enterprise_imports"
    __table_args__ = (
        CheckConstraint("status IN ('staged', 'committed')", name="status"),
        CheckConstraint("kind IN ('register', 'figures')", name="kind"),
        CheckConstraint("(kind = 'figures') = (year IS NOT NULL)", name="figures_year"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(16), default="register")
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    file_format: Mapped[str] = mapped_column(String(8))  # xlsx / xls / csv
    encoding: Mapped[str | None] = mapped_column(String(16))  # a CSV's detected encoding
    header_row: Mapped[int] = mapped_column()
    fields: Mapped[list] = mapped_column(JSONB)  # the sheet's column names, in order
    mapping: Mapped[dict] = mapped_column(JSONB)  # model field -> column name
    rows: Mapped[list] = mapped_column(JSONB)  # [{"row": n, "values": [cell text, …]}]
    status: Mapped[str] = mapped_column(String(16), default="staged")
    year: Mapped[int | None] = mapped_column(Integer)  # figures: the year they are for
    departments: Mapped[dict | None] = mapped_column(JSONB)  # figures: figure field -> source department
    outcome: Mapped[dict | None] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    committed_by: Mapped[str | None] = mapped_column(String(64))
    committed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class EnterpriseFieldHistory(Base):
    """One changed field of one enterprise: old and new value (as text), where the change came from, who."""

    __tablename__ = "enterprise_field_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(64))  # e.g. import:<uuid>
    import_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprise_imports.id", ondelete="SET NULL"))
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EnterpriseFigure(Base):
    """One figure of one enterprise for one year, as a department sent it.

    A new value supersedes the row in force (``superseded_at``) instead of overwriting it, so what
    was known at any moment — e.g. when an evaluation run read its inputs — can be read back.
    """

    __tablename__ = "enterprise_figures"
    __table_args__ = (
        CheckConstraint("field IN (" + ", ".join(f"'{f}'" for f in FIGURE_FIELDS) + ")", name="field"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
        Index("uq_enterprise_figures_current", "enterprise_id", "year", "field", unique=True,
              postgresql_where=text("superseded_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer, index=True)
    field: Mapped[str] = mapped_column(String(32))
    value: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    note: Mapped[str | None] = mapped_column(Text)  # e.g. the reason of a minus point
    department: Mapped[str] = mapped_column(String(64))  # 税务局、统计局、供电公司 …
    import_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("enterprise_imports.id", ondelete="SET NULL"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
