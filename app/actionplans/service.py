"""行动计划 as data: which plan is in force in a year, its thresholds for ``spatial``, and the
admin's writes (create the next plan, correct one), each validated field by field.

A plan is in force in every year of its period. A year after the last plan keeps the last
plan's rules (they stay in force until a new plan replaces them); a year before the first
plan takes the first plan's. Without any plan (an empty database) the thresholds are
``spatial.DEFAULT_THRESHOLDS``, the 2022—2023 plan's constants.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import spatial

from ..auth.models import User
from ..core.clock import today
from ..core.audit import SYSTEM, audit_context
from ..core.uow import unit_of_work
from ..errors import AppError, Conflict, FieldError, NotFound
from ..messages import ACTION_PLAN_LABELS, message
from ..models import AnnualTarget
from .models import ActionPlan

FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_PERIOD_YEARS = 10

TEXT_FIELDS = {"doc_no": 64, "title": 200}
# name → (integer?, lowest, highest, must be above zero)
NUMBER_FIELDS: dict[str, tuple[bool, float, float, bool]] = {
    "start_year": (True, FIRST_YEAR, LAST_YEAR, False),
    "end_year": (True, FIRST_YEAR, LAST_YEAR, False),
    "target_total_mu": (False, 0, 1_000_000, True),
    "target_new_floor_area_m2": (False, 0, 1_000_000_000, False),
    "target_average_far": (False, 0, 10, False),
    "min_block_mu": (False, 0, 100_000, True),
    "max_blocks_per_unit_per_year": (True, 0, 100, False),
    "min_parcel_mu": (False, 0, 100_000, False),
    "min_far": (False, 0, 10, False),
    "min_merged_parcel_mu": (False, 0, 100_000, False),
    "tolerance_m": (False, 0, 500, False),
    "max_outside_park_mu": (False, 0, 10_000, False),
    "report_due_day": (True, 1, 28, False),
}
OPTIONAL_FIELDS = {"report_due_day": 5, "max_outside_park_mu": spatial.MAX_OUTSIDE_PARK_MU}  # a new plan may leave them out: the default
FIELDS = (*TEXT_FIELDS, *NUMBER_FIELDS, "note")
THRESHOLD_FIELDS = ("min_block_mu", "max_blocks_per_unit_per_year", "min_parcel_mu", "min_far",
                    "min_merged_parcel_mu", "tolerance_m", "max_outside_park_mu")


class InvalidActionPlan(AppError):
    """A plan's fields are wrong; ``errors`` names each one (the field and a Chinese sentence)."""

    status_code = 422
    code = "invalid_action_plan"


class ActionPlanOverlap(Conflict):
    code = "action_plan_overlap"


# --------------------------------------------------------------------------------------------
# Reading: the plan in force
# --------------------------------------------------------------------------------------------
def listing(session: Session) -> list[ActionPlan]:
    return list(session.scalars(select(ActionPlan).order_by(ActionPlan.start_year)))


def get(session: Session, plan_id: int) -> ActionPlan:
    plan = session.get(ActionPlan, plan_id)
    if plan is None:
        raise NotFound(message("action_plan_not_found", id=plan_id))
    return plan


def _in_force(plans: list[ActionPlan], year: int) -> ActionPlan | None:
    """``plans`` ordered by start year."""
    if not plans:
        return None
    for plan in plans:
        if plan.covers(year):
            return plan
    before = [p for p in plans if p.end_year < year]
    return before[-1] if before else plans[0]


def plan_for_year(session: Session, year: int | None = None) -> ActionPlan | None:
    """The plan in force in ``year`` (default this year, Asia/Shanghai); None without any plan."""
    return _in_force(listing(session), today().year if year is None else int(year))


def thresholds_for_year(session: Session, year: int | None = None) -> spatial.PlanThresholds:
    """The rules' thresholds in force in ``year`` (a block's designation year, a parcel's renewal year)."""
    plan = plan_for_year(session, year)
    return spatial.DEFAULT_THRESHOLDS if plan is None else plan.thresholds()


def thresholds_lookup(session: Session) -> Callable[[int], spatial.PlanThresholds]:
    """``year → thresholds`` with the plans read once (for a loop over many parcels)."""
    plans = listing(session)
    cache: dict[int, spatial.PlanThresholds] = {}

    def lookup(year: int) -> spatial.PlanThresholds:
        if year not in cache:
            plan = _in_force(plans, year)
            cache[year] = spatial.DEFAULT_THRESHOLDS if plan is None else plan.thresholds()
        return cache[year]

    return lookup


def _num(value: Decimal | int | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if isinstance(value, int) else float(value)


def headline(plan: ActionPlan | None) -> dict:
    """The headline targets (二、主要目标) the 一表's cards show; the 2022 constants without a plan."""
    if plan is None:
        return {"id": None, "doc_no": None, "title": None, "start_year": None, "end_year": None,
                "target_total_mu": None, "target_new_floor_area_m2": None,
                "target_average_far": spatial.MIN_FAR, "max_blocks_per_unit_per_year":
                    spatial.MAX_BLOCKS_PER_UNIT_PER_YEAR}
    return {"id": plan.id, "doc_no": plan.doc_no, "title": plan.title, "start_year": plan.start_year,
            "end_year": plan.end_year, "target_total_mu": _num(plan.target_total_mu),
            "target_new_floor_area_m2": _num(plan.target_new_floor_area_m2),
            "target_average_far": _num(plan.target_average_far),
            "max_blocks_per_unit_per_year": plan.max_blocks_per_unit_per_year}


def years_of(session: Session, plan: ActionPlan) -> list[dict]:
    """Each year of the period with the yearly targets already set for it (linked by the year)."""
    rows = dict(
        (r.year, r) for r in session.execute(
            select(AnnualTarget.year, func.count().label("units"), func.sum(AnnualTarget.renewal_mu).label("total"),
                   func.sum(AnnualTarget.contiguous_mu).label("contiguous"),
                   func.sum(AnnualTarget.scattered_mu).label("scattered"))
            .where(AnnualTarget.year.between(plan.start_year, plan.end_year))
            .group_by(AnnualTarget.year)
        )
    )
    out = []
    for year in range(plan.start_year, plan.end_year + 1):
        r = rows.get(year)
        out.append({"year": year, "units_with_target": 0 if r is None else int(r.units),
                    "target_mu": None if r is None else float(r.total),
                    "contiguous_mu": None if r is None else float(r.contiguous),
                    "scattered_mu": None if r is None else float(r.scattered)})
    return out


def _person(session: Session, username: str) -> str:
    """Who changed a plan, as people know them: the display name; the seeded plan names the system."""
    if username == SYSTEM:
        return message("action_plan_seeded_by")
    name = session.scalar(select(User.display_name).where(User.username == username))
    return name or username


def to_dict(session: Session, plan: ActionPlan, *, with_years: bool = True) -> dict:
    this_year = today().year
    out = {
        "id": plan.id, "doc_no": plan.doc_no, "title": plan.title,
        "start_year": plan.start_year, "end_year": plan.end_year,
        "target_total_mu": _num(plan.target_total_mu),
        "target_new_floor_area_m2": _num(plan.target_new_floor_area_m2),
        "target_average_far": _num(plan.target_average_far),
        "thresholds": plan.thresholds().to_dict(),
        "report_due_day": plan.report_due_day,
        "note": plan.note or "",
        "in_force_now": plan is plan_for_year(session, this_year),
        "created_by": plan.created_by, "updated_by": plan.updated_by,
        "updated_by_name": _person(session, plan.updated_by),
        "updated_at": plan.updated_at.isoformat() if plan.updated_at else None,
        "etag": f'"{plan.row_version}"',
    }
    if with_years:
        out["years"] = years_of(session, plan)
    return out


# --------------------------------------------------------------------------------------------
# Writing: the admin's create and update, every field checked with a Chinese sentence
# --------------------------------------------------------------------------------------------
def _label(name: str) -> str:
    return ACTION_PLAN_LABELS.get(name, name)


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    """Accept the thresholds at the top level or as ``thresholds: {…}`` (as the plan is read)."""
    out = {k: v for k, v in data.items() if k != "thresholds"}
    nested = data.get("thresholds")
    if isinstance(nested, dict):
        for key, value in nested.items():
            out.setdefault(key, value)
    return out


def _parse(data: dict[str, Any], *, partial: bool) -> tuple[dict[str, Any], list[FieldError]]:
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    ignored = {"id", "etag", "years", "in_force_now", "created_by", "updated_by", "updated_at"}
    unknown = sorted(k for k in data if k not in FIELDS and k not in ignored)
    if unknown:
        errors.append(FieldError(None, message("action_plan_unknown_field", names="、".join(unknown))))
    for name, limit in TEXT_FIELDS.items():
        if name not in data and partial:
            continue
        raw = data.get(name)
        text = "" if raw is None else str(raw).strip()
        if not text:
            errors.append(FieldError(name, message("action_plan_required", label=_label(name))))
        elif len(text) > limit:
            errors.append(FieldError(name, message("action_plan_text_too_long", label=_label(name), max=limit)))
        else:
            values[name] = text
    for name, (integer, low, high, positive) in NUMBER_FIELDS.items():
        if name not in data and (partial or name in OPTIONAL_FIELDS):
            continue
        raw = data.get(name)
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            errors.append(FieldError(name, message("action_plan_required", label=_label(name))))
            continue
        try:
            if isinstance(raw, bool):
                raise InvalidOperation
            number = Decimal(str(raw).strip())
            if not number.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.append(FieldError(name, message("action_plan_not_number", label=_label(name))))
            continue
        if integer and number != number.to_integral_value():
            errors.append(FieldError(name, message("action_plan_not_integer", label=_label(name))))
            continue
        if not low <= number <= high:
            errors.append(FieldError(name, message("action_plan_range", label=_label(name), low=f"{low:g}",
                                                   high=f"{high:g}")))
            continue
        if positive and number <= 0:
            errors.append(FieldError(name, message("action_plan_positive", label=_label(name))))
            continue
        values[name] = int(number) if integer else number
    if "note" in data:
        note = "" if data["note"] is None else str(data["note"]).strip()
        if len(note) > 2000:
            errors.append(FieldError("note", message("action_plan_text_too_long", label=_label("note"), max=2000)))
        else:
            values["note"] = note
    return values, errors


def _check_period(session: Session, start: int, end: int, own_id: int | None) -> None:
    if end < start:
        raise InvalidActionPlan(message("action_plan_invalid", count=1, first=message(
            "action_plan_period_order", start=start)),
            [FieldError("end_year", message("action_plan_period_order", start=start))])
    if end - start + 1 > MAX_PERIOD_YEARS:
        text = message("action_plan_period_too_long", max=MAX_PERIOD_YEARS)
        raise InvalidActionPlan(message("action_plan_invalid", count=1, first=text), [FieldError("end_year", text)])
    stmt = select(ActionPlan).where(ActionPlan.start_year <= end, ActionPlan.end_year >= start)
    if own_id is not None:
        stmt = stmt.where(ActionPlan.id != own_id)
    other = session.scalars(stmt.order_by(ActionPlan.start_year)).first()
    if other is not None:
        text = message("action_plan_overlap", start=start, end=end, title=other.title, doc_no=other.doc_no,
                       other_start=other.start_year, other_end=other.end_year)
        short = message("action_plan_overlap_short", title=other.title, other_start=other.start_year,
                        other_end=other.end_year)
        raise ActionPlanOverlap(text, [FieldError("start_year", short), FieldError("end_year", short)])


def _check_doc_no(session: Session, doc_no: str, own_id: int | None) -> None:
    stmt = select(ActionPlan).where(ActionPlan.doc_no == doc_no)
    if own_id is not None:
        stmt = stmt.where(ActionPlan.id != own_id)
    other = session.scalars(stmt).first()
    if other is not None:
        text = message("action_plan_doc_no_taken", doc_no=doc_no, title=other.title)
        raise Conflict(text, [FieldError("doc_no", text)])


def _refuse(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidActionPlan(message("action_plan_invalid", count=len(errors), first=errors[0].message), errors)


def create(session: Session, data: dict[str, Any], username: str) -> ActionPlan:
    """Enter a plan (the next one): every field required; its period must not overlap another's."""
    values, errors = _parse(_flatten(data), partial=False)
    _refuse(errors)
    with unit_of_work(session), audit_context(session, "create_action_plan"):
        _check_period(session, values["start_year"], values["end_year"], None)
        _check_doc_no(session, values["doc_no"], None)
        plan = ActionPlan(**values, created_by=username, updated_by=username)
        plan.note = values.get("note", "")
        session.add(plan)
    return plan


def _check_not_started(plan: ActionPlan, values: dict[str, Any]) -> None:
    """Once a plan's period has begun its figures and thresholds have been used for figures of past days,
    which never move: only its wording (文号, 标题, 说明) may still be corrected."""
    if plan.start_year > today().year:
        return
    changed = [k for k in NUMBER_FIELDS if k in values and _num(values[k]) != _num(getattr(plan, k))]
    if changed:
        text = message("action_plan_started", title=plan.title, start=plan.start_year,
                       fields="、".join(_label(k) for k in changed))
        raise Conflict(text, [FieldError(k, message("action_plan_started_field")) for k in changed])


def update(session: Session, plan: ActionPlan, data: dict[str, Any], username: str) -> ActionPlan:
    """Correct a plan: the fields sent are checked and changed, the others kept. A plan already in force
    (or past) keeps its figures and thresholds."""
    values, errors = _parse(_flatten(data), partial=True)
    _refuse(errors)
    _check_not_started(plan, values)
    with unit_of_work(session), audit_context(session, "update_action_plan"):
        start = values.get("start_year", plan.start_year)
        end = values.get("end_year", plan.end_year)
        _check_period(session, start, end, plan.id)
        if "doc_no" in values:
            _check_doc_no(session, values["doc_no"], plan.id)
        for key, value in values.items():
            setattr(plan, key, value)
        plan.updated_by = username
    return plan
