"""The yearly 亩均效益综合评价 around the pure engine (package ``evaluation``).

* **Configuration**: one per year (``evaluation_configs``), the engine's default until an admin saves
  one; frozen once the year is fixed (定档).
* **Runs**: :func:`compute_run` reads the register, the parcels' 亩, 厂中厂 leased floor area and the
  departments' figures in force now, evaluates, and freezes configuration, inputs (with where each
  figure came from) and result in one row. A run is 试算 (computed) → 公示 (published for a period) →
  定档 (final); or withdrawn. Nothing of a run changes afterwards; figures that change later are
  flagged on it (:func:`changed_figures`).
* **异议**: during the 公示 period the town (or an admin) files an objection with evidence and the
  figures it says are wrong; the reviewer upholds or rejects it — an upheld correction is recorded as
  the enterprise's figure (department 异议核定). Fixing applies the upheld corrections to the
  published inputs (a new final run) or fixes the published run itself, and sets each enterprise's
  class for the map and lists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import evaluation as engine
from evaluation.messages import (
    ADJUSTMENT_LABELS,
    CHOICE_LABELS,
    FIELD_LABELS as CONFIG_FIELD_LABELS,
    GROUP_LABELS,
    INDICATOR_LABELS,
    INDICATOR_UNITS,
    NOT_GRADED_LABELS,
    SCALE_LABELS,
)

from ..auth.deps import Principal
from ..auth.roles import Role
from ..auth.service import display_names
from ..core.clock import today
from ..core.audit import audit_context
from ..core.db import long_statements
from ..core.forms import Form
from ..core.uow import unit_of_work
from ..enterprises.directory import land_by_enterprise
from ..enterprises.figures import (
    FIELD_LABELS,
    MAX_POINTS,
    MAX_VALUE,
    in_force,
    parse_number,
    source_text,
    value_problem,
    with_sources,
)
from ..enterprises.models import FIGURE_FIELDS, EnterpriseFigure, EnterpriseImport
from ..enums import Classification, EnterpriseScale
from ..errors import FieldError, Forbidden, InvalidFeatures, InvalidParameter, InvalidState, NotFound
from ..messages import message
from ..models import Enterprise, Parcel, Unit
from ..ogc.models import ApiKey
from ..progress.reporting import clean_filename, evidence_type
from ..workflow.models import EnterpriseGovernance, Tenant
from .models import EvaluationConfig, EvaluationEvidence, EvaluationObjection, EvaluationRun

FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_PUBLICITY_DAYS = 60
MAX_EVIDENCE_FILES = 5
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_REASON = 2000
CORRECTION_DEPARTMENT = "异议核定"
POINT_FIELDS = {"safety_points": "safety", "environment_points": "environment", "innovation_points": "innovation"}
STATUS_LABELS = {"computed": "试算", "published": "公示中", "final": "已定档", "withdrawn": "已撤回"}
OBJECTION_LABELS = {"open": "待处理", "upheld": "已采纳", "rejected": "不予采纳"}


def figure_label(field: str) -> str:
    """The figure's Chinese name with its unit, e.g. 税收（万元）."""
    return FIELD_LABELS[field]


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidParameter("year", message("evaluation_year_range", low=FIRST_YEAR, high=LAST_YEAR))
    return year


def _num(x) -> str | None:
    return None if x is None else f"{x:f}" if isinstance(x, Decimal) else str(x)


def _iso(x: dt.datetime | dt.date | None) -> str | None:
    return None if x is None else x.isoformat()


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------
def labels() -> dict:
    """Every Chinese word the configuration screen needs."""
    return {
        "indicators": {c: {"label": INDICATOR_LABELS[c], "unit": INDICATOR_UNITS[c]} for c in engine.INDICATORS},
        "groups": GROUP_LABELS, "scales": SCALE_LABELS, "choices": CHOICE_LABELS, "fields": CONFIG_FIELD_LABELS,
        "not_graded": NOT_GRADED_LABELS, "adjustments": ADJUSTMENT_LABELS,
        "figures": {f: figure_label(f) for f in FIGURE_FIELDS},
    }


def stored_config(session: Session, year: int) -> EvaluationConfig | None:
    return session.get(EvaluationConfig, check_year(year))


def config_of(session: Session, year: int) -> engine.Config:
    row = stored_config(session, year)
    return engine.default_config(year) if row is None else engine.config_from_dict(row.config, year)


def final_run(session: Session, year: int) -> EvaluationRun | None:
    return session.scalar(select(EvaluationRun).where(EvaluationRun.year == year, EvaluationRun.status == "final"))


def config_view(session: Session, year: int) -> dict:
    row = stored_config(session, year)
    config = engine.config_to_dict(engine.default_config(year)) if row is None else row.config
    return {"year": year, "stored": row is not None, "version": row.row_version if row else 0, "config": config,
            "labels": labels(), "updated_by": row.updated_by if row else None,
            "updated_at": _iso(row.updated_at) if row else None, "frozen": final_run(session, year) is not None}


def _refuse_if_fixed(session: Session, year: int) -> None:
    if final_run(session, year) is not None:
        raise InvalidState(message("evaluation_config_frozen", year=year))


def save_config(session: Session, principal: Principal, year: int, data: object) -> EvaluationConfig:
    _refuse_if_fixed(session, year)
    if isinstance(data, dict) and "year" not in data:
        data = {**data, "year": year}
    try:
        config = engine.config_from_dict(data, year)
    except engine.ConfigError as e:
        raise InvalidFeatures(message("evaluation_config_invalid", count=len(e.problems)),
                              [FieldError(f"config.{p.field}", p.message) for p in e.problems]) from None
    row = stored_config(session, year)
    with unit_of_work(session), audit_context(session, "evaluation_config", row):
        if row is None:
            row = EvaluationConfig(year=year, updated_by=principal.username)
            session.add(row)
        row.config, row.updated_by, row.updated_at = engine.config_to_dict(config), principal.username, func.now()
    return row


def reset_config(session: Session, year: int) -> None:
    _refuse_if_fixed(session, year)
    row = stored_config(session, year)
    if row is not None:
        with unit_of_work(session), audit_context(session, "evaluation_config_reset", row):
            session.delete(row)


# --------------------------------------------------------------------------------------------
# Inputs: the register, the land, the departments' figures
# --------------------------------------------------------------------------------------------
def _in_force(session: Session, year: int, at: dt.datetime | None = None,
              enterprise_ids: Iterable[int] | None = None) -> dict[int, dict[str, tuple[int, Decimal, str | None]]]:
    """enterprise id → field → (figure id, value, note) in force at ``at`` (now when None): the lean read of
    :func:`app.enterprises.figures.figures_in_force` for whole years (plain rows, no sources)."""
    f = EnterpriseFigure
    q = select(f.id, f.enterprise_id, f.field, f.value, f.note).where(*in_force(year, at))
    if enterprise_ids is not None:
        q = q.where(f.enterprise_id.in_(list(enterprise_ids)))
    out: dict[int, dict[str, tuple[int, Decimal, str | None]]] = {}
    for fid, eid, field, value, note in session.execute(q).all():
        out.setdefault(eid, {})[field] = (fid, value.normalize(), note)
    return out


def figure_details(session: Session, ids: Iterable[int]) -> dict[int, dict]:
    """figure id → value, note, department, source (in Chinese) and time, for the few a page shows."""
    ids = list(ids)
    if not ids:
        return {}
    f = EnterpriseFigure
    rows = session.execute(with_sources(select(f.id, f.value, f.note, f.department, f.recorded_at, f.recorded_by,
                                               EnterpriseImport.filename, ApiKey.name)).where(f.id.in_(ids))).all()
    names = display_names(session, {r.recorded_by for r in rows})
    return {r.id: {"value": _num(r.value.normalize()), "note": r.note, "department": r.department,
                   "source": source_text(r.filename, r.name, names.get(r.recorded_by, r.recorded_by)),
                   "recorded_at": _iso(r.recorded_at)} for r in rows}


_SCALES = {EnterpriseScale.ABOVE.value: "above", EnterpriseScale.BELOW.value: "below"}


def _enterprise_input(e, land: Decimal | None, leased: Decimal | None,
                      figures: dict[str, tuple[int, Decimal, str | None]]) -> tuple[engine.Enterprise, dict]:
    """The engine's input of one enterprise, and the same as the run keeps it (``enterprise_to_dict``
    without the empty figures; written here directly, a city's run builds ten thousand)."""
    values = {k: v[1] for k, v in figures.items() if k not in POINT_FIELDS}
    adjustments = tuple(engine.Adjustment(kind, figures[k][1], figures[k][2] or "")
                        for k, kind in POINT_FIELDS.items() if k in figures and figures[k][1] != 0)
    scale = _SCALES.get(e.scale)
    utility = bool(e.industry_code and e.industry_code.startswith("D"))  # 门类 D 电力、热力、燃气及水
    obj = engine.Enterprise(e.credit_code, e.name, land_mu=land, scale=scale, leased_floor_m2=leased,
                            start_year=e.production_year, is_utility=utility, figures=engine.Figures(**values),
                            adjustments=adjustments)
    kept = {"credit_code": e.credit_code, "name": e.name, "land_mu": _num(land), "scale": scale,
            "leased_floor_m2": _num(leased), "start_year": e.production_year, "is_utility": utility,
            "is_major_project": False, "figures": {k: f"{v:f}" for k, v in values.items()},
            "adjustments": [{"kind": a.kind, "points": f"{a.points:f}", "note": a.note} for a in adjustments]}
    return obj, kept


def build_inputs(session: Session, year: int, at: dt.datetime) -> tuple[dict[str, dict], list[engine.Enterprise]]:
    """The run's frozen inputs — credit code → {"input": engine dict, "sources": field → figure id,
    "enterprise_id", "unit_id"} — and the engine's objects, of every registered enterprise with a figure
    for the year (one no department reports on is not evaluated)."""
    figures = _in_force(session, year, at)
    if not figures:
        return {}, []
    # each enterprise's 亩 and the unit most of its parcels lie in, as the 一库 list places it
    held = land_by_enterprise()
    land = {eid: (mu, unit) for eid, mu, unit in session.execute(
        select(held.c.enterprise_id, held.c.land_mu, held.c.parcel_unit_id)).all()}
    leased = dict(session.execute(select(Tenant.credit_code, func.sum(Tenant.leased_area_m2))
                                  .where(Tenant.credit_code.is_not(None)).group_by(Tenant.credit_code)).all())
    e = Enterprise.__table__.c
    out: dict[str, dict] = {}
    objects: list[engine.Enterprise] = []
    for row in session.execute(select(e.id, e.credit_code, e.name, e.scale, e.production_year, e.industry_code,
                                      e.unit_id).where(e.credit_code.is_not(None)).order_by(e.credit_code)).all():
        own = figures.get(row.id)
        if own is None:
            continue
        mu, unit_id = land.get(row.id, (None, None))
        obj, kept = _enterprise_input(row, mu, leased.get(row.credit_code), own)
        objects.append(obj)
        out[row.credit_code] = {"input": kept, "enterprise_id": row.id, "unit_id": row.unit_id or unit_id,
                                "sources": {k: v[0] for k, v in sorted(own.items())}}
    return out, objects


def used_value(item: dict, field: str) -> str | None:
    """The value of a figure a run used (a bonus/minus point from its adjustments)."""
    if field in POINT_FIELDS:
        kind = POINT_FIELDS[field]
        return next((a["points"] for a in item["input"]["adjustments"] if a["kind"] == kind), None)
    return item["input"]["figures"].get(field)


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------
def run_by_id(session: Session, run_id: int) -> EvaluationRun:
    run = session.get(EvaluationRun, run_id) if 0 < run_id < 2**31 else None
    if run is None:
        raise NotFound(message("evaluation_run_not_found", id=run_id))
    return run


def runs_of(session: Session, year: int) -> list[EvaluationRun]:
    return list(session.scalars(select(EvaluationRun).where(EvaluationRun.year == check_year(year))
                                .order_by(EvaluationRun.number.desc())))


_PER_GROUP = ("label", "unit", "weight", "benchmark")  # an indicator's fields that are the same in its whole group


def evaluate_inputs(config: dict, inputs: dict[str, dict], objects: list[engine.Enterprise] | None = None) -> dict:
    """The engine's result as stored: each enterprise's indicators without what its group's entry (and the
    configuration) already hold — a third of the size for a city's enterprises; :func:`_indicators` puts
    them back."""
    if objects is None:
        objects = [engine.enterprise_from_dict(v["input"]) for v in inputs.values()]
    result = engine.evaluate(objects, engine.config_from_dict(config)).to_dict()
    for e in result["enterprises"]:
        e["indicators"] = [{k: v for k, v in i.items() if k not in _PER_GROUP} for i in e["indicators"]]
    return result


def _indicators(run: EvaluationRun) -> dict[str, dict[str, dict]]:
    """group code → indicator code → the per-group fields of an indicator (label, unit, weight, benchmark)."""
    out = {}
    for g, gc in zip(run.result["groups"], run.config["groups"], strict=True):
        out[g["code"]] = {i["code"]: {"label": INDICATOR_LABELS[i["code"]], "unit": INDICATOR_UNITS[i["code"]],
                                      "weight": _num(Decimal(str(i["weight"]))),
                                      "benchmark": g["benchmarks"].get(i["code"])} for i in gc["indicators"]}
    return out


def new_run(session: Session, created_by: str, year: int, config: dict, inputs: dict, at: dt.datetime,
            objects: list[engine.Enterprise] | None = None, **values) -> EvaluationRun:
    """A run of ``inputs`` (the figures as of ``at``) evaluated and added, numbered next in its year."""
    number = (session.scalar(select(func.max(EvaluationRun.number)).where(EvaluationRun.year == year)) or 0) + 1
    run = EvaluationRun(year=year, number=number, config=config, inputs=inputs,
                        result=evaluate_inputs(config, inputs, objects),
                        figures_as_of=at, created_by=created_by, **values)
    session.add(run)
    return run


def compute_run(session: Session, principal: Principal, year: int, note: str | None) -> EvaluationRun:
    check_year(year)
    long_statements(session)  # every enterprise's figures of the year, and the run's frozen copy
    if final_run(session, year) is not None:
        raise InvalidState(message("evaluation_year_fixed", year=year))
    at = session.scalar(select(func.now()))
    config = engine.config_to_dict(config_of(session, year))
    inputs, objects = build_inputs(session, year, at)
    if not inputs:
        raise InvalidState(message("evaluation_no_inputs", year=year))
    with unit_of_work(session), audit_context(session, "evaluation_run"):
        run = new_run(session, principal.username, year, config, inputs, at, objects, status="computed",
                      note=(note or None))
        session.flush()
    return run


def in_publicity(run: EvaluationRun, on: dt.date | None = None) -> bool:
    on = on or today()
    return (run.status == "published" and run.publicity_closed_at is None
            and run.publicity_start is not None and run.publicity_start <= on <= run.publicity_end)


def publicity_over(run: EvaluationRun, on: dt.date | None = None) -> bool:
    on = on or today()
    return run.status == "published" and (run.publicity_closed_at is not None or on > run.publicity_end)


def _objection_counts(session: Session, runs: list[EvaluationRun]) -> dict[int, dict[str, int]]:
    """run id → objections by status; a final run recomputed after 公示 counts those of its published run."""
    ids = {r.id for r in runs} | {r.based_on_id for r in runs if r.based_on_id}
    own: dict[int, dict[str, int]] = {i: {s: 0 for s in OBJECTION_LABELS} for i in ids}
    for run_id, status, n in session.execute(
            select(EvaluationObjection.run_id, EvaluationObjection.status, func.count())
            .where(EvaluationObjection.run_id.in_(ids))
            .group_by(EvaluationObjection.run_id, EvaluationObjection.status)):
        own[run_id][status] = n
    return {r.id: {s: own[r.id][s] + (own[r.based_on_id][s] if r.based_on_id else 0) for s in OBJECTION_LABELS}
            for r in runs}


def fix_blocker(run: EvaluationRun, objections: dict[str, int]) -> str | None:
    """Why the run cannot be fixed now (Chinese), or None."""
    if run.status != "published":
        return message("evaluation_fix_not_published")
    if not publicity_over(run):
        return message("evaluation_fix_publicity_running", end=run.publicity_end.isoformat())
    if objections["open"]:
        return message("evaluation_fix_open_objections", count=objections["open"])
    return None


def actions(run: EvaluationRun, principal: Principal | None, objections: dict[str, int]) -> list[str]:
    if principal is None:
        return []
    admin, reviewer = principal.has(Role.ADMIN), principal.has(Role.REVIEWER)
    out: list[str] = []
    if run.status == "computed" and admin:
        out += ["publish", "withdraw"]
    if run.status == "published":
        if admin and not publicity_over(run):
            out.append("close_publicity")
        if admin and not objections["upheld"]:
            out.append("withdraw")
        if (admin or reviewer) and fix_blocker(run, objections) is None:
            out.append("fix")
        if in_publicity(run) and (admin or principal.has(Role.UNIT_OFFICER)):
            out.append("object")
    return out


def run_view(session: Session, run: EvaluationRun, principal: Principal | None,
             objections: dict[str, int] | None = None, changed: int | None = None,
             now: dict | None = None) -> dict:
    """A run as the screens show it; ``changed`` (how many figures changed since) is counted here unless
    given, against ``now`` (the year's figures in force) when that was read already."""
    objections = objections or _objection_counts(session, [run])[run.id]
    grades = {g: 0 for g in "ABCD"}
    graded = 0
    for e in run.result["enterprises"]:
        if e["grade"]:
            graded += 1
            grades[e["grade"]] += 1
    total = len(run.result["enterprises"])
    names = display_names(session, {run.created_by, run.published_by, run.fixed_by, run.publicity_closed_by})
    if changed is None:
        changed = sum(len(v) for v in changed_figures(session, run, now).values())
    return {
        "id": run.id, "year": run.year, "number": run.number, "status": run.status,
        "status_label": STATUS_LABELS[run.status], "created_at": _iso(run.created_at), "created_by": run.created_by,
        "note": run.note, "figures_as_of": _iso(run.figures_as_of),
        "counts": {"enterprises": total, "graded": graded, "not_graded": total - graded, **grades},
        "publicity_start": _iso(run.publicity_start), "publicity_end": _iso(run.publicity_end),
        "in_publicity": in_publicity(run), "published_at": _iso(run.published_at), "published_by": run.published_by,
        "publicity_closed_at": _iso(run.publicity_closed_at), "publicity_close_reason": run.publicity_close_reason,
        "fixed_at": _iso(run.fixed_at), "fixed_by": run.fixed_by, "based_on": run.based_on_id,
        "objections": objections, "changed_figures": changed, "version": run.row_version,
        "actions": actions(run, principal, objections),
        "fix_blocked_by": fix_blocker(run, objections) if run.status == "published" else None,
        "created_by_name": names.get(run.created_by, run.created_by),
        "published_by_name": names.get(run.published_by) if run.published_by else None,
        "fixed_by_name": names.get(run.fixed_by) if run.fixed_by else None,
        "publicity_closed_by_name": names.get(run.publicity_closed_by) if run.publicity_closed_by else None,
    }


def runs_view(session: Session, year: int, principal: Principal | None) -> dict:
    runs = runs_of(session, year)
    counts = _objection_counts(session, runs)
    now = _in_force(session, year) if runs else {}
    return {"year": year, "runs": [run_view(session, r, principal, counts[r.id], now=now) for r in runs]}


def _require_status(run: EvaluationRun, *statuses: str) -> None:
    if run.status not in statuses:
        raise InvalidState(message("evaluation_run_wrong_status", number=run.number,
                                   status=STATUS_LABELS[run.status]))


def publish(session: Session, principal: Principal, run: EvaluationRun, start: dt.date, end: dt.date) -> None:
    _require_status(run, "computed")
    problems = []
    if end < start:
        problems.append(FieldError("publicity_end", message("evaluation_publicity_order")))
    elif (end - start).days + 1 > MAX_PUBLICITY_DAYS:
        problems.append(FieldError("publicity_end", message("evaluation_publicity_long", days=MAX_PUBLICITY_DAYS)))
    if end < today():
        problems.append(FieldError("publicity_end", message("evaluation_publicity_past")))
    if problems:
        raise InvalidFeatures(problems[0].message, problems)
    other = session.scalar(select(EvaluationRun).where(EvaluationRun.year == run.year,
                                                       EvaluationRun.status.in_(("published", "final"))))
    if other is not None:
        raise InvalidState(message("evaluation_other_published", number=other.number,
                                   status=STATUS_LABELS[other.status]))
    with unit_of_work(session), audit_context(session, "evaluation_publish", run):
        run.status, run.publicity_start, run.publicity_end = "published", start, end
        run.published_by, run.published_at = principal.username, func.now()


def close_publicity(session: Session, principal: Principal, run: EvaluationRun, reason: str) -> None:
    _require_status(run, "published")
    if publicity_over(run):
        raise InvalidState(message("evaluation_publicity_already_over"))
    with unit_of_work(session), audit_context(session, "evaluation_close_publicity", run):
        run.publicity_closed_at, run.publicity_closed_by = func.now(), principal.username
        run.publicity_close_reason = reason


def withdraw(session: Session, run: EvaluationRun) -> None:
    _require_status(run, "computed", "published")
    if _objection_counts(session, [run])[run.id]["upheld"]:
        raise InvalidState(message("evaluation_withdraw_upheld"))
    with unit_of_work(session), audit_context(session, "evaluation_withdraw", run):
        run.status = "withdrawn"


def corrected_inputs(run: EvaluationRun, upheld: list[EvaluationObjection], codes: dict[int, str],
                     figure_ids: dict[tuple[int, str], int]) -> dict[str, dict]:
    """The run's inputs with the upheld corrections; ``figure_ids`` (enterprise id, field) → the figure
    that records each correction (the source of the corrected value)."""
    inputs = json.loads(json.dumps(run.inputs))
    for o in upheld:
        item = inputs[codes[o.enterprise_id]]
        figures = item["input"]["figures"]
        adjustments = {a["kind"]: a for a in item["input"]["adjustments"]}
        for field, value in (o.corrections or {}).items():
            if field in POINT_FIELDS:
                kind = POINT_FIELDS[field]
                note = adjustments.get(kind, {}).get("note", "")
                adjustments[kind] = {"kind": kind, "points": value, "note": note}
                if Decimal(value) == 0:
                    adjustments.pop(kind)
            else:
                figures[field] = value
            if (o.enterprise_id, field) in figure_ids:
                item["sources"][field] = figure_ids[(o.enterprise_id, field)]
            else:
                item["sources"].pop(field, None)
        item["input"]["adjustments"] = [adjustments[k] for k in POINT_FIELDS.values() if k in adjustments]
    return inputs


def fix(session: Session, principal: Principal, run: EvaluationRun) -> EvaluationRun:
    """定档: the published run (or, with upheld corrections, a recomputation of it) becomes the year's result."""
    blocker = fix_blocker(run, _objection_counts(session, [run])[run.id])
    if blocker:
        raise InvalidState(blocker)
    with unit_of_work(session), audit_context(session, "evaluation_fix", run):
        return fix_run(session, run, principal.username)


def fix_run(session: Session, run: EvaluationRun, fixed_by: str, at: dt.datetime | None = None) -> EvaluationRun:
    """The writes of 定档 (inside the caller's transaction), at ``at`` (now when None; the demo's story
    is dated): the final run, and each enterprise's class."""
    upheld = list(session.scalars(select(EvaluationObjection).where(
        EvaluationObjection.run_id == run.id, EvaluationObjection.status == "upheld",
        EvaluationObjection.corrections.is_not(None)).order_by(EvaluationObjection.id)))
    when = func.now() if at is None else at
    if upheld:
        code_of = {v["enterprise_id"]: code for code, v in run.inputs.items()}
        codes = {o.enterprise_id: code_of[o.enterprise_id] for o in upheld}
        ids = {(eid, field): fid for eid, fields in _in_force(session, run.year, None, codes).items()
               for field, (fid, _, _) in fields.items()}
        final = new_run(session, fixed_by, run.year, run.config, corrected_inputs(run, upheld, codes, ids),
                        run.figures_as_of, status="final", based_on_id=run.id,
                        note=message("evaluation_final_note", number=run.number, count=len(upheld)),
                        publicity_start=run.publicity_start, publicity_end=run.publicity_end,
                        published_by=run.published_by, published_at=run.published_at,
                        **({} if at is None else {"created_at": at}))
    else:
        final = run
        run.status = "final"
    final.fixed_by, final.fixed_at = fixed_by, when
    session.flush()
    set_grades(session, final)
    return final


def set_grades(session: Session, run: EvaluationRun) -> None:
    """Each enterprise's latest fixed class (enterprises.evaluation_grade), unless a later year is fixed."""
    ids = {code: v["enterprise_id"] for code, v in run.inputs.items()}
    newer = Enterprise.evaluation_year.is_(None) | (Enterprise.evaluation_year <= run.year)
    session.execute(update(Enterprise).where(Enterprise.evaluation_year == run.year)
                    .values(evaluation_grade=None, evaluation_year=None))
    by_grade: dict[str | None, list[int]] = {}
    for e in run.result["enterprises"]:
        if e["credit_code"] in ids:
            by_grade.setdefault(e["grade"], []).append(ids[e["credit_code"]])
    for grade, members in by_grade.items():
        session.execute(update(Enterprise).where(Enterprise.id.in_(members), newer)
                        .values(evaluation_grade=grade, evaluation_year=run.year if grade else None))


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
def shown_run(session: Session, year: int, run_id: int | None = None) -> EvaluationRun | None:
    """The run a year shows: the asked one, else the final, else the published, else the newest computed."""
    if run_id is not None:
        run = run_by_id(session, run_id)
        if run.year != year:
            raise NotFound(message("evaluation_run_not_found", id=run_id))
        return run
    runs = [r for r in runs_of(session, year) if r.status != "withdrawn"]
    for status in ("final", "published", "computed"):
        for r in runs:
            if r.status == status:
                return r
    return None


def changed_figures(session: Session, run: EvaluationRun, now: dict | None = None) -> dict[str, list[dict]]:
    """credit code → the figures that differ now from those the run used (a later import, an API, a
    correction), each with the value in the run, the value now, its department and when it was recorded.
    ``now``: the year's figures in force (:func:`_in_force`), when the caller has read them already."""
    ids = {v["enterprise_id"]: code for code, v in run.inputs.items()}
    if now is None:
        now = _in_force(session, run.year, None, ids) if ids else {}
    found: list[tuple[str, str, str | None, Decimal | None, int | None]] = []
    for eid, code in ids.items():
        item = run.inputs[code]
        used, current = item["sources"], now.get(eid, {})
        for field in FIGURE_FIELDS:
            fid = current[field][0] if field in current else None
            if used.get(field) == fid:
                continue
            before = used_value(item, field)
            after = current[field][1] if field in current else None
            zero = Decimal(0) if field in POINT_FIELDS else None  # no bonus/minus point is 0 points
            if (Decimal(before) if before is not None else zero) == (after if after is not None else zero):
                continue
            found.append((code, field, before, after, fid))
    details = figure_details(session, [f[4] for f in found if f[4] is not None])
    out: dict[str, list[dict]] = {}
    for code, field, before, after, fid in found:
        d = details.get(fid, {})
        out.setdefault(code, []).append({"field": field, "label": figure_label(field), "in_run": before,
                                         "now": _num(after), "department": d.get("department"),
                                         "recorded_at": d.get("recorded_at")})
    return out


def _unit_names(session: Session) -> dict[int, tuple[str, str]]:
    return {i: (c, n) for i, c, n in session.execute(select(Unit.id, Unit.code, Unit.name))}


def _classifications(session: Session, ids: Iterable[int]) -> dict[int, Classification | None]:
    return dict(session.execute(select(EnterpriseGovernance.enterprise_id, EnterpriseGovernance.classification)
                                .where(EnterpriseGovernance.enterprise_id.in_(list(ids)))).all())


def _objection_dicts(session: Session, objections: list[EvaluationObjection], run: EvaluationRun | None,
                     principal: Principal | None) -> list[dict]:
    if not objections:
        return []
    ids = [o.id for o in objections]
    files: dict[int, list[dict]] = {}
    for ev in session.execute(select(EvaluationEvidence.id, EvaluationEvidence.objection_id,
                                     EvaluationEvidence.filename, EvaluationEvidence.size_bytes)
                              .where(EvaluationEvidence.objection_id.in_(ids)).order_by(EvaluationEvidence.id)):
        files.setdefault(ev.objection_id, []).append({"id": ev.id, "filename": ev.filename,
                                                      "size_bytes": ev.size_bytes,
                                                      "url": f"/api/evaluation/evidence/{ev.id}"})
    enterprises = {e.id: e for e in session.scalars(select(Enterprise).where(
        Enterprise.id.in_({o.enterprise_id for o in objections})))}
    units = _unit_names(session)
    names = display_names(session, {o.filed_by for o in objections} | {o.resolved_by for o in objections})
    runs = {run.id: run} if run else {}
    out = []
    for o in objections:
        r = runs.get(o.run_id) or runs.setdefault(o.run_id, session.get(EvaluationRun, o.run_id))
        e = enterprises[o.enterprise_id]
        item = r.inputs.get(e.credit_code)
        unit = units.get(item["unit_id"]) if item else None
        may_resolve = (principal is not None and principal.has(Role.REVIEWER, Role.ADMIN) and o.status == "open"
                       and r.status == "published")
        out.append({
            "id": o.id, "run_id": o.run_id, "credit_code": e.credit_code, "name": e.name,
            "unit_name": unit[1] if unit else None, "reason": o.reason,
            "corrections": [{"field": k, "label": figure_label(k), "in_run": used_value(item, k) if item else None,
                             "claimed": v} for k, v in (o.corrections or {}).items()],
            "status": o.status, "status_label": OBJECTION_LABELS[o.status], "resolution": o.resolution,
            "filed_by": o.filed_by, "filed_by_name": names.get(o.filed_by, o.filed_by), "filed_at": _iso(o.filed_at),
            "resolved_by": o.resolved_by, "resolved_by_name": names.get(o.resolved_by) if o.resolved_by else None,
            "resolved_at": _iso(o.resolved_at), "evidence": files.get(o.id, []), "version": o.row_version,
            "actions": ["resolve"] if may_resolve else []})
    return out


def _objections_of(run: EvaluationRun):
    """The objections of a run: a final run recomputed after 公示 has those of its published run."""
    ids = [run.id] + ([run.based_on_id] if run.based_on_id else [])
    return select(EvaluationObjection).where(EvaluationObjection.run_id.in_(ids))


def _objections_by_code(session: Session, run: EvaluationRun, principal: Principal | None) -> dict[str, list[dict]]:
    rows = list(session.scalars(_objections_of(run).order_by(EvaluationObjection.id)))
    out: dict[str, list[dict]] = {}
    for d in _objection_dicts(session, rows, None if run.based_on_id else run, principal):
        out.setdefault(d["credit_code"], []).append(d)
    return out


def _rows(session: Session, run: EvaluationRun, principal: Principal | None, changed: dict[str, list[dict]],
          only: str | None = None) -> list[dict]:
    """Each enterprise's result as the screens show it (``only``: that one enterprise's)."""
    units = _unit_names(session)
    ids = {code: v["enterprise_id"] for code, v in run.inputs.items() if only is None or code == only}
    classes = _classifications(session, ids.values())
    objections = _objections_by_code(session, run, principal)
    per_group = _indicators(run)
    out = []
    for e in run.result["enterprises"]:
        if only is not None and e["credit_code"] != only:
            continue
        shared = per_group.get(e["group"], {})
        item = run.inputs.get(e["credit_code"], {})
        unit = units.get(item.get("unit_id"))
        cls = classes.get(ids.get(e["credit_code"]))
        out.append({
            **{k: e[k] for k in ("credit_code", "name", "scale", "group", "land_mu", "indicator_score",
                                 "adjustment_score", "total", "rank", "group_size", "grade", "reason",
                                 "explanations")},
            "indicators": [{"code": i["code"], **shared[i["code"]], **{k: i[k] for k in i if k != "code"}}
                           for i in e["indicators"]],
            "scale_label": SCALE_LABELS.get(e["scale"], e["scale"]),
            "group_label": GROUP_LABELS.get(e["group"]) if e["group"] else None,
            "unit_code": unit[0] if unit else None, "unit_name": unit[1] if unit else None,
            "changed_figures": changed.get(e["credit_code"], []),
            "objections": objections.get(e["credit_code"], []),
            "classification": cls.value if cls else None, "classification_label": cls.label if cls else None,
            "proposed_clearance": run.status == "final" and e["grade"] == "D" and cls != Classification.CLEAR_OUT,
        })
    return out


def _groups(run: EvaluationRun) -> list[dict]:
    per_group = _indicators(run)
    return [{"code": g["code"], "label": g["label"], "graded": g["graded"], "not_graded": g["not_graded"],
             "cut_ranks": g["cut_ranks"], "counts": g["grade_counts"],
             "indicators": [{"code": code, **shared, "mean": g["means"].get(code)}
                            for code, shared in per_group[g["code"]].items()]}
            for g in run.result["groups"]]


@dataclass
class ResultFilter:
    unit: str | None = None
    group: str | None = None
    grade: str | None = None
    q: str | None = None

    def keep(self, row: dict) -> bool:
        if self.unit and row["unit_code"] != self.unit:
            return False
        if self.group and (row["group"] or "none") != self.group:
            return False
        if self.grade and (row["grade"] or "none") != self.grade:
            return False
        if self.q and self.q not in row["name"] and self.q.upper() not in row["credit_code"]:
            return False
        return True


def results(session: Session, principal: Principal | None, year: int, run_id: int | None,
            flt: ResultFilter) -> dict:
    check_year(year)
    run = shown_run(session, year, run_id)
    if run is None:
        return {"year": year, "run": None, "groups": [], "enterprises": []}
    changed = changed_figures(session, run)
    rows = _rows(session, run, principal, changed)
    return {"year": year, "run": run_view(session, run, principal, changed=sum(map(len, changed.values()))),
            "groups": _groups(run),
            "enterprises": [r for r in rows if flt.keep(r)]}


def _sources(session: Session, item: dict) -> dict[str, dict]:
    details = figure_details(session, item["sources"].values())
    return {field: details[fid] for field, fid in item["sources"].items() if fid in details}


def enterprise_result(session: Session, principal: Principal | None, year: int, credit_code: str,
                      run_id: int | None = None) -> dict:
    run = shown_run(session, check_year(year), run_id)
    if run is None:
        raise NotFound(message("evaluation_no_run", year=year))
    if credit_code not in run.inputs:
        raise NotFound(message("evaluation_enterprise_not_in_run", code=credit_code, year=year))
    changed = changed_figures(session, run)
    row = _rows(session, run, principal, changed, only=credit_code)[0]
    return {"year": year, "run": run_view(session, run, principal, changed=sum(map(len, changed.values()))),
            "enterprise": row,
            "sources": _sources(session, run.inputs[credit_code])}


# --------------------------------------------------------------------------------------------
# 异议
# --------------------------------------------------------------------------------------------
def objection_by_id(session: Session, objection_id: int) -> EvaluationObjection:
    o = session.get(EvaluationObjection, objection_id) if 0 < objection_id < 2**31 else None
    if o is None:
        raise NotFound(message("evaluation_objection_not_found", id=objection_id))
    return o


def objections_view(session: Session, run: EvaluationRun, principal: Principal | None) -> dict:
    """The run's objections, open ones first (:func:`_objections_of`)."""
    rows = list(session.scalars(_objections_of(run)
                                .order_by((EvaluationObjection.status != "open"), EvaluationObjection.id)))
    return {"objections": _objection_dicts(session, rows, None, principal)}


def objection_view(session: Session, o: EvaluationObjection, principal: Principal | None) -> dict:
    return _objection_dicts(session, [o], None, principal)[0]


_CORRECTION_RANGES = {"safety_points": (-MAX_POINTS, Decimal(0)), "environment_points": (-MAX_POINTS, Decimal(0)),
                      "innovation_points": (Decimal(0), MAX_POINTS)}  # as value_problem bounds them


def _corrections(raw: str | None) -> dict[str, str] | None:
    if raw is None or not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidFeatures(message("evaluation_corrections_format"),
                              [FieldError("corrections", message("evaluation_corrections_format"))]) from None
    if not isinstance(data, dict):
        raise InvalidFeatures(message("evaluation_corrections_format"),
                              [FieldError("corrections", message("evaluation_corrections_format"))])
    out: dict[str, str] = {}
    problems = []
    for field, value in data.items():
        if field not in FIGURE_FIELDS:
            problems.append(FieldError(f"corrections.{field}", message("evaluation_corrections_field", field=field)))
            continue
        # Read and bounded as a department's figure is (app/enterprises/figures.py), named as the form names it.
        number, unreadable = parse_number(value if isinstance(value, str | int | float) else repr(value))
        if number is None and unreadable is None:
            continue
        if unreadable:
            problems.append(FieldError(f"corrections.{field}", message(
                "evaluation_corrections_number", label=figure_label(field))))
            continue
        if value_problem(field, number) is not None:
            low, high = _CORRECTION_RANGES.get(field, (Decimal(0), MAX_VALUE))
            problems.append(FieldError(f"corrections.{field}", message(
                "evaluation_corrections_range", label=figure_label(field), low=f"{low:f}", high=f"{high:f}")))
            continue
        out[field] = f"{number.normalize():f}"
    if problems:
        raise InvalidFeatures(problems[0].message, problems)
    return out or None


def _may_object_for(session: Session, principal: Principal, run: EvaluationRun, credit_code: str) -> None:
    if principal.has(Role.ADMIN):
        return
    if not principal.has(Role.UNIT_OFFICER):
        raise Forbidden(message("evaluation_object_role"))
    item = run.inputs[credit_code]
    units = {item.get("unit_id")} | set(session.scalars(
        select(Parcel.unit_id).where(Parcel.enterprise_id == item["enterprise_id"])))
    if principal.unit_id not in units:
        raise Forbidden(message("evaluation_object_unit", code=credit_code))


def file_objection(session: Session, principal: Principal, run: EvaluationRun, form: Form) -> EvaluationObjection:
    if not in_publicity(run):
        raise InvalidState(message("evaluation_object_closed"))
    code = (form.fields.get("credit_code") or "").strip().upper()
    if code not in run.inputs:
        text = message("evaluation_object_unknown", code=code or message("evaluation_code_blank"))
        raise InvalidFeatures(text, [FieldError("credit_code", text)])
    _may_object_for(session, principal, run, code)
    reason = (form.fields.get("reason") or "").strip()
    if not reason or len(reason) > MAX_REASON:
        text = message("evaluation_object_reason", max=MAX_REASON)
        raise InvalidFeatures(text, [FieldError("reason", text)])
    corrections = _corrections(form.fields.get("corrections"))
    files = form.files_of("files")
    if len(files) > MAX_EVIDENCE_FILES:
        text = message("evaluation_evidence_count", max=MAX_EVIDENCE_FILES)
        raise InvalidFeatures(text, [FieldError("files", text)])
    stored = []
    for f in files:
        name = clean_filename(f.filename)
        stored.append((name, evidence_type(name, f.data, MAX_EVIDENCE_BYTES), f.data))
    enterprise_id = run.inputs[code]["enterprise_id"]
    if session.scalar(select(EvaluationObjection.id).where(
            EvaluationObjection.run_id == run.id, EvaluationObjection.enterprise_id == enterprise_id,
            EvaluationObjection.status == "open")):
        raise InvalidState(message("evaluation_object_open_exists"))
    with unit_of_work(session), audit_context(session, "evaluation_objection"):
        o = EvaluationObjection(run_id=run.id, enterprise_id=enterprise_id, reason=reason, corrections=corrections,
                                status="open", filed_by=principal.username)
        session.add(o)
        session.flush()
        for name, mime, data in stored:
            session.add(EvaluationEvidence(objection_id=o.id, filename=name, content_type=mime, size_bytes=len(data),
                                           sha256=hashlib.sha256(data).hexdigest(), content=data,
                                           uploaded_by=principal.username))
    return o


def resolve(session: Session, principal: Principal, o: EvaluationObjection, decision: str, resolution: str) -> None:
    run = session.get(EvaluationRun, o.run_id)
    if o.status != "open":
        raise InvalidState(message("evaluation_objection_resolved", status=OBJECTION_LABELS[o.status]))
    _require_status(run, "published")
    with unit_of_work(session), audit_context(session, "evaluation_resolve", o):
        o.status, o.resolution, o.resolved_by, o.resolved_at = decision, resolution, principal.username, func.now()
        session.flush()
        if decision == "upheld" and o.corrections:
            record_corrections(session, principal.username, run.year, o)


def record_corrections(session: Session, recorded_by: str, year: int, o: EvaluationObjection,
                       at: dt.datetime | None = None) -> None:
    """An upheld correction becomes the enterprise's figure in force (department 异议核定), recorded at
    ``at`` (now when None)."""
    note = message("evaluation_source_objection", id=o.id)
    when = func.now() if at is None else at
    for field, value in o.corrections.items():
        current = session.scalar(select(EnterpriseFigure).where(
            EnterpriseFigure.enterprise_id == o.enterprise_id, EnterpriseFigure.year == year,
            EnterpriseFigure.field == field, EnterpriseFigure.superseded_at.is_(None)))
        if (current.value if current is not None else None) == Decimal(value) or (
                current is None and field in POINT_FIELDS and Decimal(value) == 0):
            continue
        if current is not None:
            current.superseded_at = when
            session.flush()
        session.add(EnterpriseFigure(enterprise_id=o.enterprise_id, year=year, field=field, value=Decimal(value),
                                     note=note, department=CORRECTION_DEPARTMENT, recorded_by=recorded_by,
                                     recorded_at=when))


def evidence_file(session: Session, evidence_id: int) -> EvaluationEvidence:
    row = session.get(EvaluationEvidence, evidence_id) if 0 < evidence_id < 2**31 else None
    if row is None:
        raise NotFound(message("evaluation_evidence_not_found", id=evidence_id))
    return row

