"""一库 directory: the register as a searchable, filterable, paged list (GET /api/enterprises).

One statement for the page (the enterprise, its unit, its parcels' count and 亩 summed in a grouped
subquery, its current classification) and one for ``numberMatched``. Name-only enterprises (registered
from a parcel upload, 信用代码待补充) are listed too, with a null credit code.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from ..enums import Classification, EnterpriseScale
from ..errors import NotFound
from ..mapapi.queries import like_pattern
from ..messages import message
from ..models import Enterprise, Parcel, Unit
from ..workflow.models import EnterpriseGovernance

MAX_LIMIT = 200


@dataclass(frozen=True)
class Filters:
    q: str | None = None
    unit: str | None = None  # unit code
    scale: EnterpriseScale | None = None
    industry: str | None = None  # GB/T 4754 code prefix, upper case (C, C17, C171 …)
    grade: str | None = None  # A/B/C/D (the latest fixed 亩均评价)
    pending: bool | None = None  # True: 信用代码待补充 only; False: registered only


def land_by_enterprise():
    """Per enterprise: its parcels' count and 亩, and the unit most of them lie in (for an enterprise whose
    register row names no 所在镇街 — the demo's and the uploads' — the list shows and filters by that)."""
    return (select(Parcel.enterprise_id.label("enterprise_id"), func.count(Parcel.id).label("parcel_count"),
                   func.sum(Parcel.land_area_mu).label("land_mu"),
                   func.mode().within_group(Parcel.unit_id).label("parcel_unit_id"))
            .where(Parcel.enterprise_id.is_not(None)).group_by(Parcel.enterprise_id).subquery("land"))


def _where(stmt: Select, f: Filters, unit_id: int | None) -> Select:
    if f.q:
        pattern = like_pattern(f.q.strip())
        stmt = stmt.where(or_(Enterprise.name.ilike(pattern, escape="\\"),
                              Enterprise.credit_code.ilike(pattern, escape="\\")))
    if unit_id is not None:
        in_unit = exists().where(Parcel.enterprise_id == Enterprise.id, Parcel.unit_id == unit_id)
        stmt = stmt.where(or_(Enterprise.unit_id == unit_id, and_(Enterprise.unit_id.is_(None), in_unit)))
    if f.scale is not None:
        stmt = stmt.where(Enterprise.scale == f.scale)
    if f.industry:
        stmt = stmt.where(Enterprise.industry_code.like(f.industry.replace("%", "").replace("_", "") + "%"))
    if f.grade:
        stmt = stmt.where(Enterprise.evaluation_grade == f.grade)
    if f.pending is True:
        stmt = stmt.where(Enterprise.credit_code.is_(None))
    elif f.pending is False:
        stmt = stmt.where(Enterprise.credit_code.is_not(None))
    return stmt


def directory(session: Session, f: Filters, *, limit: int, offset: int) -> dict:
    """One page of the register under the filters, with ``numberMatched``."""
    unit_id = None
    if f.unit:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == f.unit))
        if unit_id is None:
            raise NotFound(message("unknown_unit", code=f.unit))
    land = land_by_enterprise()
    stmt = (select(Enterprise.id, Enterprise.credit_code, Enterprise.name, Enterprise.industry_code,
                   Enterprise.industry_name, Enterprise.scale, Enterprise.production_year,
                   Unit.code.label("unit_code"), Unit.name.label("unit_name"),
                   Enterprise.unit_id.is_(None).label("unit_from_parcels"),
                   func.coalesce(land.c.parcel_count, 0).label("parcel_count"), land.c.land_mu,
                   EnterpriseGovernance.classification, Enterprise.evaluation_grade, Enterprise.evaluation_year)
            .outerjoin(land, land.c.enterprise_id == Enterprise.id)
            .outerjoin(Unit, Unit.id == func.coalesce(Enterprise.unit_id, land.c.parcel_unit_id))
            .outerjoin(EnterpriseGovernance, EnterpriseGovernance.enterprise_id == Enterprise.id))
    stmt = _where(stmt, f, unit_id)
    rows = session.execute(stmt.order_by(Enterprise.name, Enterprise.id).limit(limit).offset(offset)).all()
    if offset == 0 and len(rows) < limit:
        matched = len(rows)
    else:
        matched = session.scalar(_where(select(func.count(Enterprise.id)), f, unit_id))
    return {"data": [_row(r) for r in rows], "numberMatched": matched, "numberReturned": len(rows),
            "limit": limit, "offset": offset}


def _row(r) -> dict:
    scale = EnterpriseScale(r.scale) if r.scale else None
    cls = Classification(r.classification) if r.classification else None
    return {
        "id": r.id, "credit_code": r.credit_code, "credit_code_pending": r.credit_code is None, "name": r.name,
        "industry_code": r.industry_code, "industry_name": r.industry_name,
        "scale": scale.value if scale else None, "scale_label": scale.label if scale else None,
        "production_year": r.production_year, "unit_code": r.unit_code, "unit_name": r.unit_name,
        "unit_from_parcels": bool(r.unit_from_parcels and r.unit_code),
        "parcel_count": int(r.parcel_count or 0),
        "land_mu": round(float(r.land_mu), 2) if r.land_mu is not None else None,
        "classification": cls.value if cls else None, "classification_label": cls.label if cls else None,
        "evaluation_grade": r.evaluation_grade, "evaluation_year": r.evaluation_year,
    }
