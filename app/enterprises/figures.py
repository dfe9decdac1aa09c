"""一库: the departments' yearly figures of each enterprise (``enterprise_figures``).

Every figure is one row per (enterprise, year, field), with the department that sent it and how it
came (an imported sheet or a department's system through its API key). A changed value never
overwrites the row in force: that row is superseded (``superseded_at``) and a new one is written,
so :func:`figures_in_force` can read back what was known at any moment; an unchanged value is not
rewritten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..messages import message
from ..ogc.models import ApiKey
from .models import FIGURE_FIELDS, EnterpriseFigure, EnterpriseImport

# field → (Chinese name, unit); the one place the figures' names and units are written.
FIELD_NAMES: dict[str, tuple[str, str]] = {
    "tax_10k": ("税收", "万元"),
    "revenue_10k": ("营业收入", "万元"),
    "value_added_10k": ("工业增加值", "万元"),
    "energy_tce": ("综合能耗", "吨标准煤"),
    "emission_t": ("主要污染物排放量", "吨"),
    "electricity_10k_kwh": ("用电量", "万千瓦时"),
    "employees": ("年平均职工人数", "人"),
    "rd_10k": ("R&D经费支出", "万元"),
    "safety_points": ("安全生产扣分", "分"),
    "environment_points": ("环保扣分", "分"),
    "innovation_points": ("科技创新加分", "分"),
}
FIELD_LABELS: dict[str, str] = {f: f"{name}（{unit}）" for f, (name, unit) in FIELD_NAMES.items()}
MINUS_FIELDS = ("safety_points", "environment_points")  # ≤ 0
BONUS_FIELDS = ("innovation_points",)  # ≥ 0
POINT_FIELDS = MINUS_FIELDS + BONUS_FIELDS
assert tuple(FIELD_NAMES) == FIGURE_FIELDS


@dataclass(frozen=True)
class Figure:
    """One figure in force: its value, note, the department, how it came (in Chinese) and when."""

    value: Decimal
    note: str | None
    department: str
    recorded_at: dt.datetime
    source: str


def source_text(filename: str | None, key_name: str | None, recorded_by: str) -> str:
    if filename:
        return message("evaluation_source_file", name=filename)
    if key_name:
        return message("evaluation_source_key", name=key_name)
    return message("evaluation_source_user", name=recorded_by)


def figures_in_force(session: Session, year: int, at: dt.datetime | None = None,
                     enterprise_ids: Iterable[int] | None = None) -> dict[int, dict[str, Figure]]:
    """enterprise id → field → the figure of ``year`` in force at ``at`` (recorded by then and not yet
    superseded); ``at=None`` is now."""
    f = EnterpriseFigure
    q = (select(f, EnterpriseImport.filename, ApiKey.name)
         .outerjoin(EnterpriseImport, EnterpriseImport.id == f.import_id)
         .outerjoin(ApiKey, ApiKey.id == f.api_key_id).where(f.year == year))
    if at is None:
        q = q.where(f.superseded_at.is_(None))
    else:
        q = q.where(f.recorded_at <= at, f.superseded_at.is_(None) | (f.superseded_at > at))
    if enterprise_ids is not None:
        q = q.where(f.enterprise_id.in_(list(enterprise_ids)))
    out: dict[int, dict[str, Figure]] = {}
    for row, filename, key_name in session.execute(q):
        out.setdefault(row.enterprise_id, {})[row.field] = Figure(
            row.value.normalize(), row.note, row.department, row.recorded_at,
            source_text(filename, key_name, row.recorded_by))
    return out
