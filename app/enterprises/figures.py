"""一库: the departments' yearly figures of each enterprise (``enterprise_figures``).

Every figure is one row per (enterprise, year, field), with the department that sent it and how it
came (an imported sheet or a department's system through its API key). A changed value never
overwrites the row in force: that row is superseded (``superseded_at``) and a new one is written,
so :func:`figures_in_force` can read back what was known at any moment; an unchanged value is not
rewritten.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from ..auth.deps import Principal
from ..auth.roles import Role
from ..core.audit import audit_context, record
from ..core.forms import Form
from ..core.uow import unit_of_work
from ..credit_code import credit_code_problem
from ..errors import AppError, Conflict, FieldError, Forbidden, InvalidFeatures, InvalidUpload, NotFound
from ..ingest import mapping as fieldmap
from ..auth.service import display_names
from ..messages import message
from ..models import Enterprise, Parcel
from ..ogc import apikeys
from ..ogc.models import ApiKey
from . import imports
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


def in_force(year: int, at: dt.datetime | None = None) -> list:
    """The conditions on ``enterprise_figures`` of the figures of ``year`` in force at ``at`` (recorded by then
    and not yet superseded); ``at=None`` is now."""
    f = EnterpriseFigure
    if at is None:
        return [f.year == year, f.superseded_at.is_(None)]
    return [f.year == year, f.recorded_at <= at, f.superseded_at.is_(None) | (f.superseded_at > at)]


def with_sources(q):
    """``q`` on ``enterprise_figures`` joined to what each figure came by (an import's file, an API key)."""
    return (q.outerjoin(EnterpriseImport, EnterpriseImport.id == EnterpriseFigure.import_id)
            .outerjoin(ApiKey, ApiKey.id == EnterpriseFigure.api_key_id))


def figures_in_force(session: Session, year: int, at: dt.datetime | None = None,
                     enterprise_ids: Iterable[int] | None = None) -> dict[int, dict[str, Figure]]:
    """enterprise id → field → the figure of ``year`` in force at ``at`` (:func:`in_force`)."""
    f = EnterpriseFigure
    q = with_sources(select(f, EnterpriseImport.filename, ApiKey.name)).where(*in_force(year, at))
    if enterprise_ids is not None:
        q = q.where(f.enterprise_id.in_(list(enterprise_ids)))
    out: dict[int, dict[str, Figure]] = {}
    for row, filename, key_name in session.execute(q):
        out.setdefault(row.enterprise_id, {})[row.field] = Figure(
            row.value.normalize(), row.note, row.department, row.recorded_at,
            source_text(filename, key_name, row.recorded_by))
    return out


# --- checking values (the sheet's and the JSON's rows alike) ---------------------------------

TARGET = "figures"
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_VALUE = Decimal("1e12")
STORED = Decimal("0.0001")  # enterprise_figures.value is numeric(18, 4)
MAX_POINTS = Decimal(100)
MAX_DEPARTMENT = 64
MAX_NOTE = 500
MAX_JSON_ROWS = 20_000
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# A column's unit that is not the figure's: 元 / 千元 for 万元, 千瓦时 for 万千瓦时.
_WRONG_UNITS = {"万元": re.compile(r"(?<!万)元$"), "万千瓦时": re.compile(r"(?<!万)(千瓦时|kwh|度)$")}


class KeyRefused(AppError):
    status_code = 401
    code = "unauthorized"


class BodyTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"


def name_of(model_field: str) -> str:
    return FIELD_NAMES[model_field][0]


def parse_number(raw) -> tuple[Decimal | None, str | None]:
    """(value, None), (None, None) for a blank, or (None, problem message key)."""
    if raw is None:
        return None, None
    if isinstance(raw, bool):
        return None, "figures_not_number"
    if isinstance(raw, int | float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return None, "figures_not_number"
        return Decimal(str(raw)), None
    if not isinstance(raw, str):
        return None, "figures_not_number"
    value = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")
    if not value:
        return None, None
    if _THOUSANDS.fullmatch(value):
        value = value.replace(",", "")
    if not _NUMBER.fullmatch(value):
        return None, "figures_not_number"
    try:
        return Decimal(value), None
    except InvalidOperation:
        return None, "figures_not_number"


def value_problem(model_field: str, value: Decimal) -> tuple[str, dict] | None:
    """Why a figure cannot be taken as it is (key and values of the message), or None."""
    if model_field in POINT_FIELDS:
        if model_field in MINUS_FIELDS and value > 0:
            return "figures_minus_positive", {"value": _plain(value)}
        if model_field in BONUS_FIELDS and value < 0:
            return "figures_bonus_negative", {"value": _plain(value)}
        if abs(value) > MAX_POINTS:
            return "figures_points_range", {"value": _plain(value), "max": MAX_POINTS}
        return None
    if value < 0:
        return "figures_negative", {"value": _plain(value)}
    if value > MAX_VALUE:
        return "figures_too_large", {"value": _plain(value)}
    return None


def _plain(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text_ = f"{value.normalize():f}"
    return text_


def unit_problems(fields_: list[str], mapping: dict[str, str]) -> list[tuple[str, str]]:
    """(figure field, message) for each mapped column whose name gives another unit (税收（元）)."""
    out = []
    for model_field, column in mapping.items():
        if model_field not in FIELD_NAMES:
            continue
        unit = FIELD_NAMES[model_field][1]
        wrong = _WRONG_UNITS.get(unit)
        if wrong is not None and wrong.search(fieldmap.normalise(column)):
            out.append((model_field, message("figures_unit_wrong", column=column, label=name_of(model_field),
                                             unit=unit)))
    return out


@dataclass
class Row:
    """One enterprise's figures as sent: parsed, checked and compared with the figures in force."""

    row: int  # the sheet's row number, or the JSON row's number (counted from 1)
    credit_code: str | None
    name: str | None = None
    values: dict[str, Decimal] = field(default_factory=dict)
    note: str | None = None
    problems: list[dict] = field(default_factory=list)  # {"field", "severity", "message"}
    enterprise_id: int | None = None
    changes: list[dict] = field(default_factory=list)  # {"field", "old", "new", "kind"}

    @property
    def blocked(self) -> bool:
        return any(p["severity"] == "error" for p in self.problems)

    def add(self, model_field: str | None, key: str, **values) -> None:
        self.problems.append({"field": model_field, "severity": "error", "message": message(key, **values)})


def parse_row(number: int, code_raw, cells: dict[str, object], note_raw=None, name=None) -> Row:
    """A row from the cells of its figure fields (text or JSON numbers; blank = no figure)."""
    code = unicodedata.normalize("NFKC", code_raw).replace(" ", "").upper() if isinstance(code_raw, str) else None
    r = Row(row=number, credit_code=code or None, name=name or None)
    if not code:
        r.add("credit_code", "figures_code_missing")
    elif (problem := credit_code_problem(code)) is not None:
        r.problems.append({"field": "credit_code", "severity": "error", "message": problem})
    for model_field, raw in cells.items():
        value, problem = parse_number(raw)
        if problem:
            r.add(model_field, problem, value=str(raw)[:40])
        elif value is not None:
            bad = value_problem(model_field, value)
            if bad:
                r.add(model_field, bad[0], **bad[1])
            else:  # as stored (4 decimals), so that the same value sent again compares equal
                value = value.quantize(STORED)
            r.values[model_field] = value
    if isinstance(note_raw, str) and note_raw.strip():
        r.note = note_raw.strip()
        if len(r.note) > MAX_NOTE:
            r.add("note", "figures_note_long", max=MAX_NOTE)
    return r


def _current(session: Session, year: int, ids: list[int]) -> dict[tuple[int, str], EnterpriseFigure]:
    if not ids:
        return {}
    return {(f.enterprise_id, f.field): f for f in session.scalars(
        select(EnterpriseFigure).where(EnterpriseFigure.year == year, EnterpriseFigure.enterprise_id.in_(ids),
                                       EnterpriseFigure.superseded_at.is_(None)))}


def settle(session: Session, rows: list[Row], year: int) -> dict[tuple[int, str], EnterpriseFigure]:
    """Each row against the file itself (duplicates), the register (known codes) and the figures in force
    (what changes); returns the figures in force that were compared."""
    codes = {r.credit_code for r in rows if r.credit_code}
    known = dict(session.execute(select(Enterprise.credit_code, Enterprise.id)
                                 .where(Enterprise.credit_code.in_(codes))).all()) if codes else {}
    seen: dict[str, int] = {}
    for r in rows:
        code = r.credit_code
        if not code or any(p["field"] == "credit_code" for p in r.problems):
            continue
        if code in seen:
            r.add("credit_code", "register_credit_duplicate", code=code, other=seen[code])
            continue
        seen[code] = r.row
        r.enterprise_id = known.get(code)
        if r.enterprise_id is None:
            r.add("credit_code", "figures_code_unknown", code=code)
    current = _current(session, year, [r.enterprise_id for r in rows if r.enterprise_id is not None])
    for r in rows:
        if r.blocked or r.enterprise_id is None:
            continue
        for model_field, value in r.values.items():
            old = current.get((r.enterprise_id, model_field))
            if old is None:
                kind = "new"
            elif old.value == value and (r.note is None or r.note == old.note):
                kind = "unchanged"
            else:
                kind = "changed"
            r.changes.append({"field": model_field, "old": old.value if old is not None else None, "new": value,
                              "kind": kind})
    return current


def counts_of(rows: list[Row]) -> dict:
    changes = [c for r in rows if not r.blocked for c in r.changes]
    return {"rows": len(rows), "refused": sum(r.blocked for r in rows),
            "new": sum(c["kind"] == "new" for c in changes), "changed": sum(c["kind"] == "changed" for c in changes),
            "unchanged": sum(c["kind"] == "unchanged" for c in changes)}


def write(session: Session, rows: list[Row], year: int, current: dict, departments: dict[str, str], *,
          recorded_by: str, import_id: uuid.UUID | None = None, api_key_id: int | None = None) -> dict:
    """The rows' new and changed values written (the changed ones' rows in force superseded)."""
    superseded = [current[(r.enterprise_id, c["field"])].id for r in rows for c in r.changes if c["kind"] == "changed"]
    if superseded:
        session.execute(update(EnterpriseFigure).where(EnterpriseFigure.id.in_(superseded))
                        .values(superseded_at=func.now()))
    values = [{"enterprise_id": r.enterprise_id, "year": year, "field": c["field"], "value": c["new"],
               "note": r.note, "department": departments[c["field"]], "import_id": import_id,
               "api_key_id": api_key_id, "recorded_by": recorded_by}
              for r in rows for c in r.changes if c["kind"] != "unchanged"]
    if values:
        session.execute(insert(EnterpriseFigure), values)
    out = counts_of(rows)
    return {"new": out["new"], "changed": out["changed"], "unchanged": out["unchanged"]}


def _lock_year(session: Session, year: int) -> None:
    """One writer of a year's figures at a time (the check before writing stays true while writing)."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('enterprise_figures'), :year)"), {"year": year})


def _year(raw) -> int:
    value = raw.strip() if isinstance(raw, str) else raw
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not FIRST_YEAR <= value <= LAST_YEAR:
        detail = message("figures_year", low=FIRST_YEAR, high=LAST_YEAR)
        raise InvalidFeatures(detail, [FieldError("year", detail)])
    return value


def _department(raw, field_name: str = "department") -> str:
    value = " ".join(raw.split()) if isinstance(raw, str) else ""
    if not value:
        detail = message("figures_department_missing")
        raise InvalidFeatures(detail, [FieldError(field_name, detail)])
    if len(value) > MAX_DEPARTMENT:
        detail = message("figures_department_long", max=MAX_DEPARTMENT)
        raise InvalidFeatures(detail, [FieldError(field_name, detail)])
    return value


# --- the figures sheet: stage, report, remap, commit -------------------------------------------

def _sheet_rows(imp: EnterpriseImport) -> list[Row]:
    columns = {f: imp.fields.index(src) for f, src in imp.mapping.items() if src in imp.fields}
    out = []
    for raw in imp.rows:
        cells = raw["values"]

        def cell(model_field: str) -> str:
            i = columns.get(model_field)
            return cells[i] if i is not None and i < len(cells) else ""
        r = parse_row(raw["row"], cell("credit_code"), {f: cell(f) for f in FIGURE_FIELDS if f in columns},
                      cell("note"), cell("name"))
        out.append(r)
    return out


def _named(rows: list[Row], mapping: dict) -> None:
    for r in rows:
        for p in r.problems:
            column = mapping.get(p["field"]) or (fieldmap.FIGURE_SHEET_FIELDS[p["field"]][0] if p["field"] else "")
            prefix = message("register_row", row=r.row, column=column)
            p["column"] = mapping.get(p["field"])
            if not p["message"].startswith(prefix):
                p["message"] = prefix + p["message"]


def _mapping_problems(imp: EnterpriseImport) -> list[tuple[str, str]]:
    out = [(f, message("register_mapping_missing", label=fieldmap.FIGURE_SHEET_FIELDS[f][0]))
           for f in fieldmap.missing_required(imp.mapping, TARGET)]
    if not any(f in imp.mapping for f in FIGURE_FIELDS):
        out.append(("mapping", message("figures_mapping_no_figures")))
    return out + unit_problems(imp.fields, imp.mapping)


def check_sheet(session: Session, imp: EnterpriseImport) -> tuple[list[Row], dict]:
    rows = _sheet_rows(imp)
    current = settle(session, rows, imp.year)
    _named(rows, imp.mapping)
    return rows, current


def _action(r: Row) -> str:
    if r.blocked:
        return "refused"
    return "write" if any(c["kind"] != "unchanged" for c in r.changes) else "unchanged"


def report(session: Session, imp: EnterpriseImport) -> dict:
    rows = check_sheet(session, imp)[0] if imp.status == "staged" else []
    problems = _mapping_problems(imp)
    counts = counts_of(rows)
    counts["rows"] = len(imp.rows)
    departments = imp.departments or {}
    out_rows = [{
        "row": r.row, "credit_code": r.credit_code, "name": r.name, "enterprise_id": r.enterprise_id,
        "action": _action(r), "problems": r.problems,
        "changes": [{"field": c["field"], "label": FIELD_LABELS[c["field"]], "old": _plain(c["old"]),
                     "new": _plain(c["new"]), "kind": c["kind"], "department": departments.get(c["field"])}
                    for c in r.changes],
    } for r in rows]
    return {
        "id": str(imp.id), "kind": "figures", "year": imp.year, "filename": imp.filename,
        "file_format": imp.file_format, "encoding": imp.encoding, "header_row": imp.header_row, "status": imp.status,
        "fields": imp.fields, "mapping": imp.mapping,
        "departments": {f: departments[f] for f in FIGURE_FIELDS if f in imp.mapping and f in departments},
        "targets": fieldmap.describe(TARGET, imp.fields, imp.mapping),
        "mapping_problems": [m for _f, m in problems], "counts": counts, "rows": out_rows, "outcome": imp.outcome,
        "created_by": imp.created_by, "created_at": imp.created_at.isoformat() if imp.created_at else None,
        "can_commit": imp.status == "staged" and not problems and counts["refused"] == 0
                      and counts["new"] + counts["changed"] > 0,
    }


def stage(session: Session, principal: Principal, form: Form) -> dict:
    """A figures sheet (``kind=figures``, ``year``, ``department``) staged; any other kind is the register's."""
    if (form.fields.get("kind") or "register") != "figures":
        return imports.stage(session, principal, form)
    year = _year(form.fields.get("year"))
    department = _department(form.fields.get("department"))
    imp = imports.staged_import(form, principal, TARGET, kind="figures", year=year,
                                departments={f: department for f in FIGURE_FIELDS})
    with unit_of_work(session), audit_context(session, "stage_figures_import"):
        session.add(imp)
        session.flush()
    return report(session, imp)


def report_any(session: Session, import_id: uuid.UUID) -> dict:
    imp = imports.get_import(session, import_id)
    return report(session, imp) if imp.kind == "figures" else imports.report(session, imp)


def _departments_edit(imp: EnterpriseImport, edits) -> dict[str, str]:
    if not isinstance(edits, dict):
        detail = message("figures_departments_not_object")
        raise InvalidUpload(detail, [FieldError("departments", detail)], code="invalid_mapping", status_code=422)
    out = dict(imp.departments or {})
    errors = []
    for model_field, dept in edits.items():
        if model_field not in FIGURE_FIELDS:
            errors.append(FieldError(f"departments.{model_field}", message(
                "figures_departments_field", field=str(model_field)[:40],
                choices="、".join(name_of(f) for f in FIGURE_FIELDS))))
            continue
        try:
            out[model_field] = _department(dept, f"departments.{model_field}")
        except InvalidFeatures as exc:
            errors.extend(exc.errors)
    if errors:
        raise InvalidUpload(message("upload_mapping_invalid", summary="；".join(e.message for e in errors)), errors,
                            code="invalid_mapping", status_code=422)
    return out


def remap_any(session: Session, import_id: uuid.UUID, edits, departments=None) -> dict:
    """Change the mapping (and, for figures, each column's department) and check every row again."""
    imp = imports.get_import(session, import_id)
    if imp.kind != "figures":
        if departments is not None:
            detail = message("figures_departments_register")
            raise InvalidUpload(detail, [FieldError("departments", detail)], code="invalid_mapping", status_code=422)
        return imports.remap(session, import_id, edits)
    if not isinstance(edits, dict):
        detail = message("register_mapping_not_object")
        raise InvalidUpload(detail, [FieldError("mapping", detail)], code="invalid_mapping", status_code=422)
    with unit_of_work(session), audit_context(session, "remap_figures_import"):
        imp = imports.get_import(session, import_id, lock=True)
        if imp.status != "staged":
            raise Conflict(message("register_import_committed"))
        imp.mapping = fieldmap.resolve(imp.fields, TARGET, edits, base=imp.mapping)
        if departments is not None:
            imp.departments = _departments_edit(imp, departments)
        session.flush()
    return report(session, imp)


def _refused(rows: list[Row], detail_key: str, **values) -> InvalidFeatures:
    bad = [r for r in rows if r.blocked]
    listed = "、".join(str(r.row) for r in bad[:imports.REFUSED_ROWS_LISTED])
    listed += message("register_rows_more") if len(bad) > imports.REFUSED_ROWS_LISTED else ""
    errors = [FieldError(p["field"], p["message"], feature=r.row)
              for r in bad for p in r.problems if p["severity"] == "error"]
    return InvalidFeatures(message(detail_key, count=len(bad), rows=listed, **values), errors)


def commit_any(session: Session, principal: Principal, import_id: uuid.UUID) -> dict:
    imp = imports.get_import(session, import_id)
    if imp.kind != "figures":
        return imports.write_import(session, principal, import_id)
    with unit_of_work(session), audit_context(session, "commit_figures_import"):
        imp = imports.get_import(session, import_id, lock=True)
        if imp.status != "staged":
            raise Conflict(message("register_import_committed"))
        problems = _mapping_problems(imp)
        if problems:
            detail = message("figures_import_refused_mapping", problems="；".join(m for _f, m in problems))
            raise InvalidFeatures(detail, [FieldError(f if f == "mapping" else f"mapping.{f}", m)
                                           for f, m in problems])
        _lock_year(session, imp.year)
        rows, current = check_sheet(session, imp)
        if any(r.blocked for r in rows):
            raise _refused(rows, "figures_import_refused")
        counts = counts_of(rows)
        if counts["new"] + counts["changed"] == 0:
            raise Conflict(message("figures_import_nothing"))
        outcome = write(session, rows, imp.year, current, imp.departments or {}, recorded_by=principal.username,
                        import_id=imp.id)
        imp.status = "committed"
        imp.committed_by = principal.username
        imp.committed_at = dt.datetime.now(imports.TIMEZONE)
        imp.outcome = outcome
        session.flush()
    return {"id": str(imp.id), "year": imp.year, **outcome}


# --- JSON from a department's system --------------------------------------------------------

def read_json(raw: bytes) -> dict:
    try:
        body = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        detail = message("figures_json_invalid")
        raise InvalidFeatures(detail, [FieldError("body", detail)]) from None
    if not isinstance(body, dict):
        detail = message("figures_json_invalid")
        raise InvalidFeatures(detail, [FieldError("body", detail)])
    return body


def key_of(session: Session, raw_key: str) -> ApiKey:
    """The figures key sent in X-API-Key: 401 when unknown or revoked, 403 when it is a read-only key."""
    parts = apikeys.split_key(raw_key.strip())
    record_ = apikeys.KeyStore.check(apikeys.lookup_in(session, parts[0]), parts[1]) if parts else None
    if record_ is None:
        detail = message("ogc_key_invalid")
        raise KeyRefused(detail, [FieldError("X-API-Key", detail)])
    key = session.get(ApiKey, record_.id)
    if key.scope != "figures_write":
        raise Forbidden(message("figures_key_read_only", name=key.name), [FieldError("X-API-Key",
                                                                                    message("figures_key_read_only",
                                                                                            name=key.name))])
    return key


def _json_rows(body: dict, allowed: set[str]) -> list[Row]:
    rows = body.get("rows")
    if not isinstance(rows, list) or not rows:
        detail = message("figures_json_rows")
        raise InvalidFeatures(detail, [FieldError("rows", detail)])
    if len(rows) > MAX_JSON_ROWS:
        detail = message("register_too_many_rows", max=MAX_JSON_ROWS)
        raise InvalidFeatures(detail, [FieldError("rows", detail)])
    notes = body.get("notes") if isinstance(body.get("notes"), dict) else {}
    outside = sorted({k for item in rows if isinstance(item, dict) for k in item
                      if k in FIGURE_FIELDS and k not in allowed}, key=FIGURE_FIELDS.index)
    if outside:
        detail = message("figures_key_fields", fields="、".join(name_of(f) for f in outside))
        raise Forbidden(detail, [FieldError(f"rows[].{f}", detail) for f in outside])
    out = []
    for i, item in enumerate(rows):
        if not isinstance(item, dict):
            r = Row(row=i + 1, credit_code=None)
            r.add(None, "figures_json_row_object")
            out.append(r)
            continue
        unknown = [k for k in item if k not in FIGURE_FIELDS and k not in ("credit_code", "name", "note")]
        code = item.get("credit_code")
        note = item.get("note") if item.get("note") is not None else notes.get(code) if isinstance(code, str) else None
        r = parse_row(i + 1, code, {f: item[f] for f in FIGURE_FIELDS if f in item}, note,
                      item.get("name") if isinstance(item.get("name"), str) else None)
        for k in unknown:
            r.add(str(k)[:40], "figures_json_unknown_field", field=str(k)[:40],
                  choices="、".join(FIGURE_FIELDS))
        out.append(r)
    return out


def _json_errors(rows: list[Row]) -> list[FieldError]:
    errors = []
    for r in rows:
        for p in r.problems:
            if p["severity"] != "error":
                continue
            label = name_of(p["field"]) if p["field"] in FIELD_NAMES else \
                fieldmap.FIGURE_SHEET_FIELDS.get(p["field"] or "", (p["field"] or "",))[0]
            name = f"rows[{r.row - 1}]" + (f".{p['field']}" if p["field"] else "")
            errors.append(FieldError(name, message("figures_json_row", row=r.row, label=label) + p["message"],
                                     feature=r.row))
    return errors


def submit(session: Session, body: dict, *, key: ApiKey | None = None, principal: Principal | None = None) -> dict:
    """A department's figures for one year as JSON: every row or none; answers the counts."""
    year = _year(body.get("year"))
    if key is not None:
        department, allowed = key.department, set(key.figure_fields or FIGURE_FIELDS)
        recorded_by = key.name[:64]
    else:
        if principal is None or principal.role != Role.ADMIN:
            raise Forbidden(message("figures_json_admin_only"))
        department, allowed, recorded_by = _department(body.get("department")), set(FIGURE_FIELDS), principal.username
    rows = _json_rows(body, allowed)
    with unit_of_work(session), audit_context(session, "submit_figures"):
        _lock_year(session, year)
        current = settle(session, rows, year)
        if any(r.blocked for r in rows):
            bad = [r for r in rows if r.blocked]
            listed = "、".join(str(r.row) for r in bad[:imports.REFUSED_ROWS_LISTED])
            raise InvalidFeatures(message("figures_json_refused", count=len(bad), rows=listed), _json_errors(rows))
        outcome = write(session, rows, year, current, {f: department for f in FIGURE_FIELDS},
                        recorded_by=recorded_by, api_key_id=key.id if key is not None else None)
        record(session, "submit_figures", "enterprise_figures", str(year),
               after={"department": department, "rows": len(rows), **outcome},
               subject=f"api_key:{key.id}" if key is not None else None)
    return {"year": year, "department": department, "rows": len(rows), **outcome}


# --- reading one enterprise's figures ------------------------------------------------------

def may_read(session: Session, principal: Principal, ent: Enterprise) -> bool:
    """Everyone signed in but unit officers, who read the enterprises registered in or with a parcel in
    their unit."""
    if principal.role != Role.UNIT_OFFICER:
        return True
    if ent.unit_id == principal.unit_id:
        return True
    return session.scalar(select(Parcel.id).where(Parcel.enterprise_id == ent.id,
                                                  Parcel.unit_id == principal.unit_id).limit(1)) is not None


def _shown(f: EnterpriseFigure, filename: str | None, key_name: str | None, names: dict[str, str]) -> dict:
    return {"value": _plain(f.value), "note": f.note, "department": f.department,
            "source": source_text(filename, key_name, names.get(f.recorded_by, f.recorded_by)),
            "recorded_by": f.recorded_by,
            "recorded_at": f.recorded_at.isoformat(),
            "superseded_at": f.superseded_at.isoformat() if f.superseded_at else None}


def enterprise_figures(session: Session, principal: Principal, credit_code: str, year: int | None) -> dict:
    code = unicodedata.normalize("NFKC", credit_code).strip().upper()
    ent = session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
    if ent is None:
        raise NotFound(message("figures_enterprise_not_found", code=code[:40]))
    if not may_read(session, principal, ent):
        raise Forbidden(message("figures_enterprise_not_yours", name=ent.name))
    years = list(session.scalars(select(EnterpriseFigure.year).where(EnterpriseFigure.enterprise_id == ent.id)
                                 .distinct().order_by(EnterpriseFigure.year.desc())))
    if year is None:
        year = years[0] if years else dt.datetime.now(imports.TIMEZONE).year - 1
    f = EnterpriseFigure
    found = session.execute(
        with_sources(select(f, EnterpriseImport.filename, ApiKey.name))
        .where(f.enterprise_id == ent.id, f.year == year)
        .order_by(f.recorded_at.desc(), f.id.desc())).all()
    by_field: dict[str, list] = {}
    names = display_names(session, {row.recorded_by for row, _, _ in found})
    for row, filename, key_name in found:
        by_field.setdefault(row.field, []).append(_shown(row, filename, key_name, names))
    out = []
    for model_field in FIGURE_FIELDS:
        shown = by_field.get(model_field, [])
        now = next((s for s in shown if s["superseded_at"] is None), None)
        out.append({"field": model_field, "label": FIELD_LABELS[model_field], "name": name_of(model_field),
                    "unit": FIELD_NAMES[model_field][1], "current": now,
                    "history": [s for s in shown if s["superseded_at"] is not None]})
    return {"credit_code": ent.credit_code, "name": ent.name, "year": year, "years": years, "fields": out}
