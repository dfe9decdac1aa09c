"""The towns' monthly progress reports (月报, docs/assessment.md §5): a unit officer reports a parcel's
status or a block's stage with the day it happened, the floor area built and evidence files; submits
the month by its deadline; the office sees who has and has not, and may return a report.

A report is applied at once: it updates the parcel (or block) with the history source ``report`` and
the day it happened, so the dated history (0011) records it and the 一表 counts it from that day — in
the figures of its month while that month is open (its 月报 deadline has not passed), in the current
month's as a 补报 (late record) otherwise. Withdrawing a report (撤回, while its month is open and not
submitted) adds an event that replaces it; nothing is ever deleted from the history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

import filetype
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..core.clock import TIMEZONE
from ..actionplans.calendar import Calendar, Deadline, month_label
from ..auth.deps import Principal
from ..auth.models import User
from ..auth.service import display_names
from ..auth.roles import Role
from ..core.audit import audit_context
from ..core.history import event_source
from ..core.notifications import notify
from ..core.uow import unit_of_work
from ..enums import ParcelStatus, Stage
from ..errors import Conflict, FieldError, Forbidden, InvalidFeatures, InvalidParameter, InvalidUpload, NotFound
from ..errors import PayloadTooLarge
from ..messages import message
from ..models import Enterprise, Parcel, RenewalBlock, Unit
from . import service
from .models import ProgressEntry, ProgressEvidence, ProgressSubmission
from .submissions import month_state, status_label

EVIDENCE_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
MAX_NOTE = 500
MAX_SUMMARY = 2000
MAX_FLOOR_AREA_M2 = Decimal("100000000")
PARCEL_ORDER = {s.value: i for i, s in enumerate(ParcelStatus)}
STAGE_ORDER = {s.value: i for i, s in enumerate(Stage)}


# --------------------------------------------------------------------------------------------
# Who reports for which unit
# --------------------------------------------------------------------------------------------
def unit_for(session: Session, principal: Principal, unit_code: str | None) -> Unit:
    """An officer reports for their own unit; an administrator names the unit (``unit``)."""
    if principal.has(Role.UNIT_OFFICER):
        unit = session.get(Unit, principal.unit_id)
        if unit_code and unit_code not in (unit.code, unit.name):
            raise Forbidden(message("reporting_other_unit", unit=unit.name))
        return unit
    if not principal.has(Role.ADMIN):
        raise Forbidden(message("reporting_role"))
    if not unit_code:
        raise InvalidParameter("unit", message("reporting_unit_required"))
    unit = session.scalar(select(Unit).where((Unit.code == unit_code) | (Unit.name == unit_code)))
    if unit is None:
        raise InvalidParameter("unit", message("unknown_unit", code=unit_code))
    return unit


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    """ISO text; a moment in Tongxiang's time (+08:00), however the database session reports it."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(TIMEZONE)
    return None if value is None else value.isoformat()


# --------------------------------------------------------------------------------------------
# The months: which are open, and where each unit stands
# --------------------------------------------------------------------------------------------
def submission_dict(session: Session, s: ProgressSubmission, unit: Unit, entries: int | None = None,
                    names: dict[str, str] | None = None) -> dict:
    names = names if names is not None else display_names(session, {s.submitted_by, s.returned_by or ""})
    if entries is None:
        entries = _entry_count(session, unit.id, s.year, s.month)
    return {"id": s.id, "unit_code": unit.code, "unit_name": unit.name, "year": s.year, "month": s.month,
            "status": s.status, "status_label": status_label(s.status), "summary": s.summary or "",
            "submitted_at": _iso(s.submitted_at), "submitted_by_name": names.get(s.submitted_by, s.submitted_by),
            "returned_at": _iso(s.returned_at),
            "returned_by_name": names.get(s.returned_by, s.returned_by) if s.returned_by else None,
            "return_reason": s.return_reason, "entries": entries, "etag": f'"{s.row_version}"'}


def _entry_count(session: Session, unit_id: int, year: int, month: int) -> int:
    return int(session.scalar(select(func.count()).select_from(ProgressEntry).where(
        ProgressEntry.unit_id == unit_id, ProgressEntry.year == year, ProgressEntry.month == month,
        ProgressEntry.withdrawn_at.is_(None))) or 0)


def open_months(session: Session, principal: Principal, on: dt.date | None = None) -> dict:
    on = on or service.today()
    unit = session.get(Unit, principal.unit_id) if principal.unit_id else None
    months = []
    for d in Calendar(session).open_months(on):
        sub = None
        if unit is not None:
            row = session.scalar(select(ProgressSubmission).where(
                ProgressSubmission.unit_id == unit.id, ProgressSubmission.year == d.year,
                ProgressSubmission.month == d.month))
            sub = submission_dict(session, row, unit) if row is not None else None
        months.append({"year": d.year, "month": d.month, "label": month_label(d.year, d.month),
                       "due_on": d.due_on.isoformat(), "days_left": (d.due_on - on).days, "submission": sub})
    return {"today": on.isoformat(), "unit": {"code": unit.code, "name": unit.name} if unit else None,
            "months": months}


def overview(session: Session, year: int, month: int, on: dt.date | None = None) -> dict:
    """The office's view of a month: every unit's 月报, its reports and the 亩 they completed."""
    service.check_month(year, month)
    on = on or service.today()
    state = month_state(session, year, month, on)
    d = state.deadline
    counts = {r.unit_id: r for r in session.execute(text("""
        SELECT e.unit_id, count(*) AS entries,
               count(*) FILTER (WHERE e.parcel_id IS NOT NULL AND e.status = 'completed') AS completed_parcels,
               coalesce(sum(p.land_area_mu) FILTER (WHERE e.status = 'completed'), 0) AS completed_mu
        FROM progress_entries e LEFT JOIN parcels p ON p.id = e.parcel_id
        WHERE e.year = :y AND e.month = :m AND e.withdrawn_at IS NULL
        GROUP BY e.unit_id"""), {"y": year, "m": month})}
    names = display_names(session, {n for s in state.by_unit.values() for n in (s.submitted_by, s.returned_by or "")})
    units = []
    for unit in session.scalars(select(Unit).order_by(Unit.id)):
        sub = state.by_unit.get(unit.id)
        status = state.status(unit.id)
        c = counts.get(unit.id)
        units.append({
            "unit_code": unit.code, "unit_name": unit.name, "status": status, "status_label": status_label(status),
            "submission": submission_dict(session, sub, unit, c.entries if c else 0, names) if sub else None,
            "entries": int(c.entries) if c else 0, "completed_parcels": int(c.completed_parcels) if c else 0,
            "completed_mu": service.q2(Decimal(c.completed_mu)) if c else 0.0,
        })
    return {"year": year, "month": month, "label": month_label(year, month), "due_on": d.due_on.isoformat(),
            "open": d.is_open(on), "deadline_moved": d.moved, "deadline_reason": d.reason,
            "submitted": sum(1 for u in units if u["status"] == "submitted"), "total": len(units), "units": units}


# --------------------------------------------------------------------------------------------
# What a unit can report on
# --------------------------------------------------------------------------------------------
def reportable(session: Session, principal: Principal, unit_code: str | None) -> dict:
    unit = unit_for(session, principal, unit_code)
    last = dict(session.execute(text("""
        SELECT e.parcel_id, max(e.happened_on) FROM parcel_status_events e JOIN parcels p ON p.id = e.parcel_id
        WHERE p.unit_id = :u AND e.source = 'report' GROUP BY e.parcel_id"""), {"u": unit.id}).all())
    rows = session.execute(
        select(Parcel, RenewalBlock.code, RenewalBlock.name, Enterprise.name)
        .outerjoin(RenewalBlock, RenewalBlock.id == Parcel.block_id)
        .outerjoin(Enterprise, Enterprise.id == Parcel.enterprise_id)
        .where(Parcel.unit_id == unit.id).order_by(Parcel.code))
    parcels = [{
        "code": p.code, "block_code": block_code, "block_name": block_name, "enterprise_name": enterprise,
        "status": p.status.value, "status_label": p.status.label, "completed_on": _iso(p.completed_on),
        "land_area_mu": service.q2(p.land_area_mu), "floor_area_m2": service.q2(p.floor_area_m2),
        "planned_floor_area_m2": service.q2(p.planned_floor_area_m2),
        "built_floor_area_m2": service.q2(p.built_floor_area_m2), "last_reported_on": _iso(last.get(p.id)),
    } for p, block_code, block_name, enterprise in rows]
    blocks = [{"code": b.code, "name": b.name, "stage": b.stage.value, "stage_label": b.stage.label,
               "completed_on": _iso(b.completed_on)}
              for b in session.scalars(select(RenewalBlock).where(RenewalBlock.unit_id == unit.id)
                                       .order_by(RenewalBlock.code))]
    return {"unit": {"code": unit.code, "name": unit.name}, "parcels": parcels, "blocks": blocks}


# --------------------------------------------------------------------------------------------
# Evidence files
# --------------------------------------------------------------------------------------------
def clean_filename(name: str | None) -> str:
    base = PurePath((name or "").replace("\\", "/")).name.strip()
    base = "".join(ch for ch in base if ch.isprintable())
    return (base or message("reporting_evidence_unnamed"))[:255]


def evidence_type(name: str, data: bytes, max_bytes: int) -> str:
    """The file's type read from its bytes (never from its name or the browser's word): PDF, JPEG or PNG."""
    if not data:
        raise InvalidUpload(message("reporting_evidence_empty", name=name), [FieldError("file", message(
            "reporting_evidence_empty", name=name))], code="evidence_empty", status_code=422)
    if len(data) > max_bytes:
        text_ = message("reporting_evidence_too_large", name=name, mb=f"{max_bytes / 1048576:g}")
        raise PayloadTooLarge(text_, [FieldError("file", text_)])
    kind = filetype.guess(data)
    mime = kind.mime if kind is not None else None
    if mime not in EVIDENCE_TYPES:
        text_ = message("reporting_evidence_type", name=name)
        raise InvalidUpload(text_, [FieldError("file", text_)], code="evidence_type", status_code=415)
    return mime


def evidence_dict(e: ProgressEvidence) -> dict:
    return {"id": e.id, "filename": e.filename, "content_type": e.content_type, "type_label":
            EVIDENCE_TYPES[e.content_type], "size_bytes": e.size_bytes, "sha256": e.sha256,
            "url": f"/api/progress/evidence/{e.id}"}


def store_evidence(session: Session, principal: Principal, unit_code: str | None, filename: str | None,
                   data: bytes, max_bytes: int) -> dict:
    unit = unit_for(session, principal, unit_code)
    name = clean_filename(filename)
    mime = evidence_type(name, data, max_bytes)
    with unit_of_work(session), audit_context(session, "upload_evidence"):
        row = ProgressEvidence(unit_id=unit.id, filename=name, content_type=mime, size_bytes=len(data),
                               sha256=hashlib.sha256(data).hexdigest(), content=data, uploaded_by=principal.username)
        session.add(row)
        session.flush()
    return evidence_dict(row)


def evidence_file(session: Session, principal: Principal, evidence_id: int) -> ProgressEvidence:
    row = session.get(ProgressEvidence, evidence_id)
    if row is None or (principal.has(Role.UNIT_OFFICER) and row.unit_id != principal.unit_id):
        raise NotFound(message("reporting_evidence_not_found", id=evidence_id))
    return row


# --------------------------------------------------------------------------------------------
# Checking a report (shared by the browser and the Excel sheet)
# --------------------------------------------------------------------------------------------
class Resolved:
    """A report that passed its checks: what it applies to, and where it is filed."""

    def __init__(self, *, unit: Unit, parcel: Parcel | None, block: RenewalBlock | None, status: str,
                 happened_on: dt.date, built: Decimal | None, note: str, deadline: Deadline, late: bool) -> None:
        self.unit, self.parcel, self.block, self.status = unit, parcel, block, status
        self.happened_on, self.built, self.note, self.deadline, self.late = happened_on, built, note, deadline, late

    @property
    def subject_label(self) -> str:
        if self.parcel is not None:
            return message("reporting_subject_parcel", code=self.parcel.code)
        return message("reporting_subject_block", name=self.block.name)


EVENT_TABLES = {"parcel": ("parcel_status_events", "parcel_id", "status"),
                "block": ("block_stage_events", "block_id", "stage")}


def _latest_events(session: Session, kind: str, ids: list[int]) -> dict[int, Any]:
    """The latest event not replaced by a correction of each parcel (``kind`` parcel) or block: id → row."""
    if not ids:
        return {}
    table, key, state = EVENT_TABLES[kind]
    rows = session.execute(text(f"""
        SELECT DISTINCT ON (x.{key}) x.{key} AS subject_id, x.id, x.{state} AS status, x.happened_on
        FROM {table} x
        WHERE x.{key} = ANY(:ids) AND NOT EXISTS (SELECT 1 FROM {table} c WHERE c.corrects_id = x.id)
        ORDER BY x.{key}, x.happened_on DESC, x.known_on DESC, x.id DESC"""), {"ids": sorted(set(ids))})
    return {r.subject_id: r for r in rows}


def _latest_event(session: Session, kind: str, subject_id: int):
    return _latest_events(session, kind, [subject_id]).get(subject_id)


def parse_day(raw: Any) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text_ = str(raw or "").strip().replace("/", "-").replace(".", "-")
    try:
        return dt.date.fromisoformat(text_) if text_ else None
    except ValueError:
        parts = text_.split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                return None
        return None


def parse_area(raw: Any) -> tuple[Decimal | None, bool]:
    """(value, ok) — blank is (None, True)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, True
    if isinstance(raw, bool):
        return None, False
    try:
        value = Decimal(str(raw).replace(",", "").replace("，", "").strip())
    except InvalidOperation:
        return None, False
    if not value.is_finite() or value < 0 or value > MAX_FLOOR_AREA_M2:
        return None, False
    return value.quantize(Decimal("0.01")), True


def submitted_months(session: Session, unit: Unit) -> set[tuple[int, int]]:
    return {(s.year, s.month) for s in session.scalars(select(ProgressSubmission).where(
        ProgressSubmission.unit_id == unit.id, ProgressSubmission.status == "submitted"))}


def check_report(session: Session, unit: Unit, body: dict, *, on: dt.date, evidence_count: int,
                 lock: bool = False, cal: Calendar | None = None,
                 submitted: set[tuple[int, int]] | None = None) -> tuple[Resolved | None, list[FieldError]]:
    """Every check of one report, each refusal naming its field in Chinese (nothing is written here).
    ``cal`` and ``submitted`` (the unit's submitted months) may be read once for a sheet of many rows."""
    errors: list[FieldError] = []
    parcel_code = str(body.get("parcel_code") or "").strip()
    block_code = str(body.get("block_code") or "").strip()
    parcel = block = None
    if bool(parcel_code) == bool(block_code):
        errors.append(FieldError("parcel_code", message("reporting_subject_missing")))
    elif parcel_code:
        q = select(Parcel).where(Parcel.code == parcel_code)
        parcel = session.scalar(q.with_for_update() if lock else q)
        if parcel is None:
            errors.append(FieldError("parcel_code", message("reporting_parcel_unknown", code=parcel_code)))
        elif parcel.unit_id != unit.id:
            errors.append(FieldError("parcel_code", message("reporting_parcel_other_unit", code=parcel_code,
                                                            unit=unit.name)))
            parcel = None
    else:
        q = select(RenewalBlock).where((RenewalBlock.code == block_code) | (RenewalBlock.name == block_code))
        block = session.scalar(q.with_for_update() if lock else q)
        if block is None:
            errors.append(FieldError("block_code", message("reporting_block_unknown", code=block_code)))
        elif block.unit_id != unit.id:
            errors.append(FieldError("block_code", message("reporting_block_other_unit", code=block_code,
                                                           unit=unit.name)))
            block = None

    status = str(body.get("status") or "").strip()
    if block_code:
        choices = {s.value: s for s in Stage}
        label_of = {s.value: s.label for s in Stage}
    else:
        choices = {s.value: s for s in ParcelStatus}
        label_of = {s.value: s.label for s in ParcelStatus}
    by_label = {v: k for k, v in label_of.items()}
    status = by_label.get(status, status)
    if status not in choices:
        errors.append(FieldError("status", message("reporting_status_unknown", value=status or "（空）",
                                                   choices="、".join(label_of.values()))))
        status = ""

    happened = parse_day(body.get("happened_on"))
    if happened is None:
        errors.append(FieldError("happened_on", message("reporting_day_invalid")))
    elif happened > on:
        errors.append(FieldError("happened_on", message("reporting_day_future", today=on.isoformat())))
    elif happened < service.PROGRAMME_START:
        errors.append(FieldError("happened_on", message("reporting_day_too_early",
                                                        first=service.PROGRAMME_START.isoformat())))

    built, ok = parse_area(body.get("built_floor_area_m2"))
    if not ok:
        errors.append(FieldError("built_floor_area_m2", message("reporting_area_invalid")))
    elif built is not None and block_code:
        errors.append(FieldError("built_floor_area_m2", message("reporting_area_block")))
    note = str(body.get("note") or "").strip()
    if len(note) > MAX_NOTE:
        errors.append(FieldError("note", message("reporting_text_too_long", max=MAX_NOTE)))

    subject = parcel or block
    if subject is not None and status:
        current = subject.status.value if parcel is not None else subject.stage.value
        order = PARCEL_ORDER if parcel is not None else STAGE_ORDER
        same_built = built is None or (parcel is not None and parcel.built_floor_area_m2 == built)
        if status == current and same_built:
            errors.append(FieldError("status", message("reporting_unchanged", subject=_subject_label(parcel, block),
                                                       status=label_of[current])))
        if order[status] < order[current] and not note:
            errors.append(FieldError("note", message("reporting_backwards", was=label_of[current],
                                                     now=label_of[status])))
        if status == "completed" and evidence_count == 0:
            errors.append(FieldError("evidence", message("reporting_evidence_required")))
        if happened is not None:
            latest = (_latest_event(session, "parcel", parcel.id) if parcel is not None
                      else _latest_event(session, "block", block.id))
            if latest is not None and happened < latest.happened_on:
                errors.append(FieldError("happened_on", message(
                    "reporting_day_before_latest", subject=_subject_label(parcel, block),
                    day=latest.happened_on.isoformat(), status=label_of.get(latest.status, latest.status))))

    deadline, late = None, False
    if happened is not None and not errors:
        cal = cal or Calendar(session)
        d = cal.deadline(happened.year, happened.month)
        submitted = submitted_months(session, unit) if submitted is None else submitted
        if d.is_open(on):
            deadline = d
        else:  # a 补报: filed in the first open month this unit has not yet submitted
            late = True
            months = cal.open_months(on)
            deadline = next((m for m in months if (m.year, m.month) not in submitted), months[-1])
        if (deadline.year, deadline.month) in submitted:
            errors.append(FieldError("month", message("reporting_month_submitted",
                                                      month=month_label(deadline.year, deadline.month))))
    if errors:
        return None, errors
    return Resolved(unit=unit, parcel=parcel, block=block, status=status, happened_on=happened, built=built,
                    note=note, deadline=deadline, late=late), []


def _subject_label(parcel: Parcel | None, block: RenewalBlock | None) -> str:
    if parcel is not None:
        return message("reporting_subject_parcel", code=parcel.code)
    return message("reporting_subject_block", name=block.name if block is not None else "")


def _last_event_id(session: Session, table: str, key: str, subject_id: int) -> int | None:
    return session.scalar(text(f"SELECT max(id) FROM {table} WHERE {key} = :s"), {"s": subject_id})


def apply(session: Session, r: Resolved, principal: Principal, *, source: str = "browser",
          import_id=None) -> ProgressEntry:
    """Write one checked report (inside the caller's unit of work): the parcel or block, its dated history
    event (source ``report``, happened on the reported day), and the entry."""
    event_source(session, "report", principal.username,
                 r.note or message("reporting_event_note", month=month_label(r.deadline.year, r.deadline.month)),
                 day=r.happened_on)
    entry = ProgressEntry(unit_id=r.unit.id, year=r.deadline.year, month=r.deadline.month, status=r.status,
                          happened_on=r.happened_on, built_floor_area_m2=r.built, note=r.note, late=r.late,
                          source=source, import_id=import_id, recorded_by=principal.username)
    if r.parcel is not None:
        p = r.parcel
        entry.parcel_id = p.id
        entry.previous_status, entry.previous_completed_on = p.status.value, p.completed_on
        entry.previous_built_floor_area_m2 = p.built_floor_area_m2
        p.status = ParcelStatus(r.status)
        p.completed_on = r.happened_on if r.status == "completed" else None
        if r.built is not None:
            p.built_floor_area_m2 = r.built
        session.flush()
        entry.event_id = _last_event_id(session, "parcel_status_events", "parcel_id", p.id)
    else:
        b = r.block
        entry.block_id = b.id
        entry.previous_status, entry.previous_completed_on = b.stage.value, b.completed_on
        b.stage = Stage(r.status)
        b.completed_on = r.happened_on if r.status == "completed" else None
        session.flush()
        entry.event_id = _last_event_id(session, "block_stage_events", "block_id", b.id)
    event_source(session, "report", principal.username)  # the day named above is this report's only
    session.add(entry)
    session.flush()
    return entry


def attach_evidence(session: Session, entry: ProgressEntry, evidence_ids: list[int], unit: Unit) -> list[FieldError]:
    errors = []
    for eid in evidence_ids:
        row = session.get(ProgressEvidence, eid, with_for_update=True)
        if row is None or row.unit_id != unit.id:
            errors.append(FieldError("evidence", message("reporting_evidence_not_found", id=eid)))
        elif row.entry_id is not None and row.entry_id != entry.id:
            errors.append(FieldError("evidence", message("reporting_evidence_used", name=row.filename)))
        else:
            row.entry_id = entry.id
    return errors


def _evidence_ids(raw: Any) -> tuple[list[int], list[FieldError]]:
    if raw in (None, ""):
        return [], []
    if not isinstance(raw, list):
        raw = [raw]
    out = []
    for item in raw:
        try:
            value = int(item)
            if not 0 < value < 2**31:
                raise ValueError
        except (TypeError, ValueError):
            return [], [FieldError("evidence", message("reporting_evidence_not_found", id=item))]
        if value not in out:
            out.append(value)
    return out, []


def report(session: Session, principal: Principal, body: dict, on: dt.date | None = None) -> dict:
    """One report from the browser: checked, applied, evidence attached — or refused with every reason."""
    on = on or service.today()
    unit = unit_for(session, principal, body.get("unit"))
    ids, id_errors = _evidence_ids(body.get("evidence"))
    with unit_of_work(session), audit_context(session, "report_progress"):
        resolved, errors = check_report(session, unit, body, on=on, evidence_count=len(ids), lock=True)
        errors = id_errors + errors
        if resolved is None or errors:
            _refuse(errors)
        entry = apply(session, resolved, principal)
        errors = attach_evidence(session, entry, ids, unit)
        if errors:
            _refuse(errors)
    return entry_dicts(session, [entry], on)[0]


def _refuse(errors: list[FieldError]) -> None:
    if errors and all(e.field == "month" for e in errors):  # the month was submitted: a state, not an input
        raise Conflict(errors[0].message, errors)
    raise InvalidFeatures(message("reporting_refused", reasons="；".join(e.message for e in errors)), errors)


# --------------------------------------------------------------------------------------------
# The month's reports
# --------------------------------------------------------------------------------------------
def entry_dicts(session: Session, entries: list[ProgressEntry], on: dt.date) -> list[dict]:
    if not entries:
        return []
    ids = [e.id for e in entries]
    evidence: dict[int, list[dict]] = {}
    for row in session.scalars(select(ProgressEvidence).where(ProgressEvidence.entry_id.in_(ids))
                               .order_by(ProgressEvidence.id)):
        evidence.setdefault(row.entry_id, []).append(evidence_dict(row))
    units = {u.id: u for u in session.scalars(select(Unit))}
    parcels = dict(session.execute(select(Parcel.id, Parcel.code).where(
        Parcel.id.in_([e.parcel_id for e in entries if e.parcel_id]))).all())
    blocks = {b.id: b for b in session.scalars(select(RenewalBlock).where(
        RenewalBlock.id.in_([e.block_id for e in entries if e.block_id])))}
    names = display_names(session, {e.recorded_by for e in entries} | {e.withdrawn_by or "" for e in entries})
    cal = Calendar(session)
    latest = _latest_event_ids(session, [e.parcel_id for e in entries if e.parcel_id],
                               [e.block_id for e in entries if e.block_id])
    subs = {(s.unit_id, s.year, s.month): s for s in session.scalars(select(ProgressSubmission).where(
        ProgressSubmission.unit_id.in_({e.unit_id for e in entries})))}
    out = []
    for e in entries:
        kind = "parcel" if e.parcel_id else "block"
        labels = ({s.value: s.label for s in ParcelStatus} if kind == "parcel" else {s.value: s.label for s in Stage})
        block = blocks.get(e.block_id)
        sub = subs.get((e.unit_id, e.year, e.month))
        month_open = cal.deadline(e.year, e.month).is_open(on)
        out.append({
            "id": e.id, "year": e.year, "month": e.month, "unit_code": units[e.unit_id].code,
            "unit_name": units[e.unit_id].name, "kind": kind, "parcel_code": parcels.get(e.parcel_id),
            "block_code": block.code if block else None,
            "subject_label": (message("reporting_subject_parcel", code=parcels.get(e.parcel_id)) if kind == "parcel"
                              else message("reporting_subject_block", name=block.name if block else "")),
            "status": e.status, "status_label": labels.get(e.status, e.status), "previous_status": e.previous_status,
            "previous_status_label": labels.get(e.previous_status) if e.previous_status else None,
            "happened_on": e.happened_on.isoformat(), "built_floor_area_m2": service.q2(e.built_floor_area_m2),
            "note": e.note or "", "late": e.late, "source": e.source, "evidence": evidence.get(e.id, []),
            "recorded_by": e.recorded_by, "recorded_by_name": names.get(e.recorded_by, e.recorded_by),
            "recorded_at": _iso(e.recorded_at), "withdrawn": e.withdrawn_at is not None,
            "withdrawn_at": _iso(e.withdrawn_at),
            "can_withdraw": (e.withdrawn_at is None and month_open and (sub is None or sub.status != "submitted")
                             and e.event_id is not None and e.event_id in latest),
        })
    return out


def _latest_event_ids(session: Session, parcel_ids: list[int], block_ids: list[int]) -> set[int]:
    """The latest event (not replaced) of each of these parcels and blocks, in two queries."""
    return ({r.id for r in _latest_events(session, "parcel", parcel_ids).values()}
            | {r.id for r in _latest_events(session, "block", block_ids).values()})


def _is_latest(session: Session, e: ProgressEntry) -> bool:
    latest = _latest_event(session, "parcel", e.parcel_id) if e.parcel_id else _latest_event(session, "block", e.block_id)
    return latest is not None and latest.id == e.event_id


def list_entries(session: Session, principal: Principal, year: int, month: int, unit_code: str | None,
                 on: dt.date | None = None) -> dict:
    service.check_month(year, month)
    q = select(ProgressEntry).where(ProgressEntry.year == year, ProgressEntry.month == month)
    if principal.has(Role.UNIT_OFFICER, Role.ADMIN) and (unit_code or principal.has(Role.UNIT_OFFICER)):
        q = q.where(ProgressEntry.unit_id == unit_for(session, principal, unit_code).id)
    elif unit_code:  # the leadership and reviewers read every unit's reports
        unit = session.scalar(select(Unit).where((Unit.code == unit_code) | (Unit.name == unit_code)))
        if unit is None:
            raise InvalidParameter("unit", message("unknown_unit", code=unit_code))
        q = q.where(ProgressEntry.unit_id == unit.id)
    entries = list(session.scalars(q.order_by(ProgressEntry.id.desc())))
    return {"entries": entry_dicts(session, entries, on or service.today())}


def withdraw(session: Session, principal: Principal, entry_id: int, on: dt.date | None = None) -> dict:
    """撤回: undo a report while its month is open and not submitted — by a new event that replaces it."""
    on = on or service.today()
    with unit_of_work(session), audit_context(session, "withdraw_progress_report"):
        entry = session.get(ProgressEntry, entry_id, with_for_update=True)
        if entry is None or (principal.has(Role.UNIT_OFFICER) and entry.unit_id != principal.unit_id):
            raise NotFound(message("reporting_entry_not_found", id=entry_id))
        if not principal.has(Role.UNIT_OFFICER, Role.ADMIN):
            raise Forbidden(message("reporting_role"))
        label = month_label(entry.year, entry.month)
        if entry.withdrawn_at is not None:
            raise Conflict(message("reporting_entry_withdrawn"))
        if not Calendar(session).deadline(entry.year, entry.month).is_open(on):
            raise Conflict(message("reporting_entry_month_closed", month=label))
        sub = session.scalar(select(ProgressSubmission).where(
            ProgressSubmission.unit_id == entry.unit_id, ProgressSubmission.year == entry.year,
            ProgressSubmission.month == entry.month))
        if sub is not None and sub.status == "submitted":
            raise Conflict(message("reporting_month_submitted", month=label))
        if not _is_latest(session, entry):
            raise Conflict(message("reporting_entry_not_latest"))
        event_source(session, "report", principal.username,
                     message("reporting_withdraw_note", day=entry.happened_on.isoformat()),
                     day=entry.happened_on, fix=True)
        if entry.parcel_id:
            p = session.get(Parcel, entry.parcel_id, with_for_update=True)
            p.status = ParcelStatus(entry.previous_status)
            p.completed_on = entry.previous_completed_on if entry.previous_status == "completed" else None
            p.built_floor_area_m2 = entry.previous_built_floor_area_m2
            session.flush()
            entry.withdraw_event_id = _last_event_id(session, "parcel_status_events", "parcel_id", p.id)
        else:
            b = session.get(RenewalBlock, entry.block_id, with_for_update=True)
            b.stage = Stage(entry.previous_status)
            b.completed_on = entry.previous_completed_on if entry.previous_status == "completed" else None
            session.flush()
            entry.withdraw_event_id = _last_event_id(session, "block_stage_events", "block_id", b.id)
        event_source(session, "report", principal.username)
        entry.withdrawn_at = dt.datetime.now(TIMEZONE)
        entry.withdrawn_by = principal.username
    return entry_dicts(session, [entry], on)[0]


# --------------------------------------------------------------------------------------------
# Submitting and returning the month
# --------------------------------------------------------------------------------------------
def _admins(session: Session) -> list[int]:
    return list(session.scalars(select(User.id).where(User.role == Role.ADMIN, User.is_active.is_(True))))


def submit(session: Session, principal: Principal, year: int, month: int, summary: str | None,
           unit_code: str | None = None, on: dt.date | None = None) -> dict:
    service.check_month(year, month)
    on = on or service.today()
    unit = unit_for(session, principal, unit_code)
    label = month_label(year, month)
    summary = (summary or "").strip()
    if len(summary) > MAX_SUMMARY:
        raise InvalidParameter("summary", message("reporting_text_too_long", max=MAX_SUMMARY))
    d = Calendar(session).deadline(year, month)
    if on < d.first_day:
        raise Conflict(message("reporting_month_not_begun", month=label))
    if d.is_closed(on):
        raise Conflict(message("reporting_month_closed", month=label, due=d.due_on.isoformat()))
    with unit_of_work(session), audit_context(session, "submit_monthly_report"):
        row = session.scalar(select(ProgressSubmission).where(
            ProgressSubmission.unit_id == unit.id, ProgressSubmission.year == year,
            ProgressSubmission.month == month).with_for_update())
        if row is not None and row.status == "submitted":
            raise Conflict(message("reporting_already_submitted", unit=unit.name, month=label))
        if row is None:
            row = ProgressSubmission(unit_id=unit.id, year=year, month=month)
            session.add(row)
        row.status, row.summary = "submitted", summary
        row.submitted_at, row.submitted_by = dt.datetime.now(TIMEZONE), principal.username
        session.flush()
        notify(session, _admins(session), "monthly_report_submitted",
               message("reporting_notify_submitted", unit=unit.name, month=label),
               subject_type="progress_submission", subject_code=f"{unit.code}-{year}-{month:02d}")
    return submission_dict(session, row, unit)


def return_submission(session: Session, principal: Principal, submission_id: int, reason: str | None,
                      on: dt.date | None = None) -> dict:
    on = on or service.today()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidParameter("reason", message("reporting_return_reason_missing"))
    if len(reason) > MAX_NOTE:
        raise InvalidParameter("reason", message("reporting_text_too_long", max=MAX_NOTE))
    with unit_of_work(session), audit_context(session, "return_monthly_report"):
        row = session.get(ProgressSubmission, submission_id, with_for_update=True)
        if row is None:
            raise NotFound(message("reporting_submission_not_found", id=submission_id))
        unit = session.get(Unit, row.unit_id)
        label = month_label(row.year, row.month)
        if row.status != "submitted":
            raise Conflict(message("reporting_not_submitted", unit=unit.name, month=label))
        d = Calendar(session).deadline(row.year, row.month)
        if d.is_closed(on):
            raise Conflict(message("reporting_return_closed", month=label, due=d.due_on.isoformat()))
        row.status, row.return_reason = "returned", reason
        row.returned_at, row.returned_by = dt.datetime.now(TIMEZONE), principal.username
        session.flush()
        officers = session.scalars(select(User.id).where(User.unit_id == unit.id, User.is_active.is_(True)))
        notify(session, officers, "monthly_report_returned",
               message("reporting_notify_returned", month=label, reason=reason),
               subject_type="progress_submission", subject_code=f"{unit.code}-{row.year}-{row.month:02d}")
    return submission_dict(session, row, unit)

