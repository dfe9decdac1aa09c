"""/api/progress/plan: the 行动计划 in force in a year as the 一表 shows it — its headline targets
(二、主要目标), what has been done towards them over the plan's period, and each unit's carry-over
(结转): what it did beyond or below its target in the previous year of the same plan.

Figures come from ``service.renewed_parcels`` (the data as it stood on the as-of day), like every
other figure of the 一表; the plan comes from ``app.actionplans``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from ..actionplans import service as action_plans
from ..core.db import SessionDep
from . import service

router = APIRouter(prefix="/api/progress", tags=["一表 progress"])


def _done_by_unit(session: Session, as_of: dt.date, year: int) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(lambda: service.ZERO)
    for p in service.renewed_parcels(session, as_of, since=dt.date(year, 1, 1), until=dt.date(year, 12, 31)):
        out[p.unit_code] += p.land_area_mu
    return out


def carry_over(session: Session, year: int, as_of: dt.date) -> dict | None:
    """Each unit's surplus (+) or shortfall (−) of ``year − 1`` against its target, when that year is
    in the same plan as ``year``; None otherwise (the first year of a plan starts afresh). The
    previous year's renewals are counted as they stood on ``as_of``."""
    plan = action_plans.plan_for_year(session, year)
    previous = year - 1
    if plan is None or not plan.covers(year) or not plan.covers(previous):
        return None
    done = _done_by_unit(session, as_of, previous)
    targets = service.targets(session, previous)
    rows = []
    for u in service.units(session):
        target = targets.get(u.code)
        done_mu = done.get(u.code, service.ZERO)
        rows.append({
            "unit_code": u.code, "unit_name": u.name,
            "target_mu": None if target is None else service.q2(target.renewal_mu),
            "done_mu": service.q2(done_mu),
            "difference_mu": None if target is None else service.q2(done_mu - target.renewal_mu),
        })
    return {"year": previous, "as_of": as_of.isoformat(), "units": rows}


def plan_progress(session: Session, year: int, as_of: dt.date | None = None) -> dict:
    as_of = as_of or min(service.today(), dt.date(year, 12, 31))
    plan = action_plans.plan_for_year(session, year)
    out = {"year": year, "as_of": as_of.isoformat(), "plan": action_plans.headline(plan), "period": None,
           "carry_over": carry_over(session, year, as_of)}
    if plan is None:
        return out
    parcels = service.renewed_parcels(session, as_of, since=dt.date(plan.start_year, 1, 1),
                                      until=dt.date(plan.end_year, 12, 31))
    t = service.total_of(parcels)
    out["period"] = {
        "start_year": plan.start_year, "end_year": plan.end_year,
        "done_mu": service.q2(t.mu), "target_mu": service.q2(plan.target_total_mu),
        "rate": service.q4(service.ratio(t.mu, plan.target_total_mu)),
        "new_floor_area_m2": service.q2(t.new_floor_area_m2),
        "target_new_floor_area_m2": service.q2(plan.target_new_floor_area_m2),
        "new_floor_area_rate": service.q4(service.ratio(t.new_floor_area_m2, plan.target_new_floor_area_m2)),
        "average_far": service.q4(service.ratio(t.far_weighted, t.far_mu)),
        "target_average_far": float(plan.target_average_far),
    }
    return out


@router.get("/plan", summary="该年施行的行动计划：主要目标、实施期内累计完成，以及各单位上年任务的超额或差额（结转）")
def get_plan_progress(
    session: SessionDep,
    year: Annotated[int, Query(ge=2000, le=2100, description="年份")],
    as_of: Annotated[dt.date | None, Query(description="统计截止日（YYYY-MM-DD），默认该年年底或今天")] = None,
) -> dict:
    return plan_progress(session, year, as_of)
