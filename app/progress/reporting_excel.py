"""月报 in bulk from an Excel sheet: the unit's parcels as a template, the filled sheet staged with a
per-row report (every problem naming its row and column), then committed all or nothing — the same
checks as a report from the browser (``reporting.check_report``), the same history events."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
import zipfile

from openpyxl import load_workbook
from openpyxl.styles import PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.orm import Session

from ..core.clock import TIMEZONE
from ..actionplans.calendar import Calendar, month_label
from ..auth.deps import Principal
from ..auth.roles import Role
from ..core.audit import audit_context
from ..core.excel import Column, exported_line, new_workbook, table_sheet, to_bytes
from ..core.forms import Form
from ..core.uow import unit_of_work
from ..enums import ParcelStatus
from ..errors import Conflict, FieldError, InvalidFeatures, InvalidParameter, InvalidUpload, NotFound
from ..messages import FIELD_LABELS, message
from ..models import Unit
from . import reporting, service
from .models import ProgressEvidence, ProgressImport

COLUMNS = [  # (key, header, width)
    ("parcel_code", "宗地编号", 18), ("block_name", "所在区块", 18), ("enterprise_name", "企业", 22),
    ("land_area_mu", "用地面积（亩）", 12), ("current", "当前状态", 10), ("status", "新状态", 10),
    ("happened_on", "发生日期", 12), ("built_floor_area_m2", "建成建筑面积（㎡）", 16),
    ("evidence", "佐证材料（文件名，多个用；分隔）", 30), ("note", "说明", 30),
]
KINDS = {"land_area_mu": "mu", "happened_on": "date", "built_floor_area_m2": "money"}
TO_FILL = ("status", "happened_on", "built_floor_area_m2", "evidence", "note")
HEADERS = {header: key for key, header, _ in COLUMNS}
HEADER_OF = {key: header for key, header, _ in COLUMNS}
HEADER_OF["evidence"] = "佐证材料"
REQUIRED_HEADERS = ("宗地编号", "新状态", "发生日期")
HEADER_SCAN_ROWS = 6
MAX_ROWS = 5000
MAX_SHEET_MB = 10


def template(session: Session, principal: Principal, year: int, month: int, unit_code: str | None) -> tuple[bytes, str]:
    """The unit's parcels, one row each, with the columns to fill (新状态, 发生日期, …)."""
    service.check_month(year, month)
    data = reporting.reportable(session, principal, unit_code)
    unit = data["unit"]
    wb = new_workbook()
    title = message("reporting_sheet_title", unit=unit["name"], month=month_label(year, month))
    columns = [Column(header, KINDS.get(key, "text"), width) for key, header, width in COLUMNS]
    rows = [[p["code"], p["block_name"] or "", p["enterprise_name"] or "", p["land_area_mu"], p["status_label"]]
            for p in data["parcels"]]
    ws = table_sheet(wb, "月报", columns, rows, title=title, date_line=exported_line(), notes=[message("reporting_sheet_hint")])
    header = 4  # title, export time, the hint, then the header
    ws.row_dimensions[3].height = 48
    fill = PatternFill("solid", fgColor="FFF4D6")
    for col, (key, _, _) in enumerate(COLUMNS, start=1):
        if key in TO_FILL:
            ws.cell(row=header, column=col).fill = fill
    last = max(ws.max_row, header + 1)
    for r in range(header + 1, last + 1):  # the cells to fill get their formats before anyone types
        for col, c in enumerate(columns, start=1):
            if c.format:
                ws.cell(row=r, column=col).number_format = c.format
    choices = DataValidation(type="list", formula1='"' + ",".join(s.label for s in ParcelStatus) + '"',
                             allow_blank=True, showErrorMessage=True, errorTitle=message("reporting_sheet_status_title"),
                             error=message("reporting_sheet_status_error"))
    ws.add_data_validation(choices)
    choices.add(f"F{header + 1}:F{last}")
    ws.freeze_panes = ws.cell(header + 1, 2)
    out = to_bytes(wb)
    name = message("reporting_sheet_filename", unit=unit["name"], year=year, month=month)
    return out, name


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_rows(data: bytes, filename: str) -> list[tuple[int, dict]]:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        text = message("reporting_sheet_not_xlsx", name=filename)
        raise InvalidUpload(text, [FieldError("file", text)], code="not_xlsx", status_code=422)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        text = message("reporting_sheet_not_xlsx", name=filename)
        raise InvalidUpload(text, [FieldError("file", text)], code="not_xlsx", status_code=422) from None
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header_at, columns = None, {}
    buffered = []
    for number, values in enumerate(rows, start=1):
        buffered.append((number, values))
        names = [_cell_text(v) for v in values]
        if "宗地编号" in names:
            header_at = number
            columns = {i: HEADERS[n] for i, n in enumerate(names) if n in HEADERS}
            columns.update({i: "evidence" for i, n in enumerate(names) if n.startswith("佐证材料")})
            break
        if number >= HEADER_SCAN_ROWS:
            break
    missing = [h for h in REQUIRED_HEADERS if h not in {HEADER_OF[k] for k in columns.values()}]
    if header_at is None or missing:
        text = message("reporting_sheet_headers", names="、".join(missing or REQUIRED_HEADERS))
        raise InvalidUpload(text, [FieldError("file", text)], code="sheet_headers", status_code=422)
    out = []
    for number, values in enumerate(rows, start=header_at + 1):
        row = {key: values[i] if i < len(values) else None for i, key in columns.items()}
        if not any(_cell_text(v) for v in row.values()):
            continue
        out.append((number, row))
        if len(out) > MAX_ROWS:
            text = message("reporting_sheet_too_many_rows", max=MAX_ROWS)
            raise InvalidUpload(text, [FieldError("file", text)], code="sheet_too_long", status_code=422)
    wb.close()
    return out




def _problem(field: str | None, text: str) -> dict:
    return {"field": field, "message": text}


def _check_rows(session: Session, unit: Unit, year: int, month: int, rows: list[dict], on: dt.date,
                lock: bool = False) -> list:
    """Re-check every staged row against the data as it is now; returns the resolved reports."""
    resolved_rows = []
    seen: dict[str, int] = {}
    cal, submitted = Calendar(session), reporting.submitted_months(session, unit)
    for row in rows:
        row["problems"] = []
        if row.get("unchanged"):
            resolved_rows.append(None)
            continue
        for problem in row.get("file_problems", []):
            row["problems"].append(problem)
        code = row.get("parcel_code") or ""
        if code in seen:
            row["problems"].append(_problem("parcel_code", message("reporting_sheet_duplicate", row=seen[code])))
        seen.setdefault(code, row["row"])
        body = {"parcel_code": code, "status": row.get("status_input"), "happened_on": row.get("happened_on_input"),
                "built_floor_area_m2": row.get("built_input"), "note": row.get("note")}
        resolved, errors = reporting.check_report(session, unit, body, on=on,
                                                  evidence_count=len(row.get("evidence_ids", [])), lock=lock,
                                                  cal=cal, submitted=submitted)
        for e in errors:
            row["problems"].append(_problem(e.field, e.message))
        if resolved is not None and (resolved.deadline.year, resolved.deadline.month) != (year, month):
            row["problems"].append(_problem("happened_on", message(
                "reporting_sheet_other_month", day=resolved.happened_on.isoformat(),
                month=month_label(resolved.deadline.year, resolved.deadline.month),
                sheet=month_label(year, month))))
        if resolved is not None and resolved.parcel is not None:
            row["status"], row["status_label"] = resolved.status, ParcelStatus(resolved.status).label
            row["happened_on"] = resolved.happened_on.isoformat()
            row["built_floor_area_m2"] = service.q2(resolved.built)
        resolved_rows.append(None if row["problems"] else resolved)
    return resolved_rows


def _with_row_names(rows: list[dict]) -> None:
    for row in rows:
        for p in row["problems"]:
            label = HEADER_OF.get(p["field"] or "") or FIELD_LABELS.get(p["field"] or "", "")
            prefix = message("reporting_sheet_row", row=row["row"], column=label) if label else \
                message("reporting_sheet_row_only", row=row["row"])
            if not p["message"].startswith(prefix):
                p["message"] = prefix + p["message"]


def report_dict(session: Session, imp: ProgressImport) -> dict:
    unit = session.get(Unit, imp.unit_id)
    rows = [{"row": r["row"], "parcel_code": r.get("parcel_code"), "status": r.get("status"),
             "status_label": r.get("status_label"), "happened_on": r.get("happened_on"),
             "built_floor_area_m2": r.get("built_floor_area_m2"), "evidence_files": r.get("evidence_files", []),
             "note": r.get("note") or "", "problems": r.get("problems", [])} for r in imp.rows]
    bad = sum(1 for r in rows if r["problems"])
    unchanged = sum(1 for r in imp.rows if r.get("unchanged"))
    ok = len(rows) - bad - unchanged
    return {"id": str(imp.id), "year": imp.year, "month": imp.month, "unit_code": unit.code, "unit_name": unit.name,
            "filename": imp.filename, "status": imp.status, "rows": rows,
            "counts": {"rows": len(rows), "ok": ok, "problems": bad, "unchanged": unchanged},
            "can_commit": imp.status == "staged" and bad == 0 and ok > 0}


def stage(session: Session, principal: Principal, form: Form, max_evidence: int, on: dt.date | None = None) -> dict:
    on = on or service.today()
    try:
        year, month = int(form.fields.get("year", "")), int(form.fields.get("month", ""))
    except ValueError:
        raise InvalidParameter("month", message("reporting_sheet_month_missing")) from None
    service.check_month(year, month)
    unit = reporting.unit_for(session, principal, form.fields.get("unit") or None)
    sheets = form.files_of("file")
    if len(sheets) != 1:
        text = message("reporting_sheet_missing")
        raise InvalidUpload(text, [FieldError("file", text)], code="invalid_request", status_code=422)
    sheet = sheets[0]
    d = Calendar(session).deadline(year, month)
    if not d.is_open(on):
        raise Conflict(message("reporting_month_closed", month=month_label(year, month), due=d.due_on.isoformat())
                       if d.is_closed(on) else message("reporting_month_not_begun", month=month_label(year, month)))
    files = {}
    for f in form.files_of("evidence"):
        name = reporting.clean_filename(f.filename)
        files[name] = (f.data, reporting.evidence_type(name, f.data, max_evidence))
    raw_rows = _read_rows(sheet.data, sheet.filename)
    with unit_of_work(session), audit_context(session, "stage_progress_import"):
        stored: dict[str, int] = {}
        rows = []
        for number, raw in raw_rows:
            status_text = _cell_text(raw.get("status"))
            row = {"row": number, "parcel_code": _cell_text(raw.get("parcel_code")) or None,
                   "status_input": status_text, "happened_on_input": _day_text(raw.get("happened_on")),
                   "built_input": _cell_text(raw.get("built_floor_area_m2")), "note": _cell_text(raw.get("note")),
                   "evidence_files": [], "evidence_ids": [], "file_problems": [], "status": None, "status_label": None,
                   "happened_on": None, "built_floor_area_m2": None}
            if not status_text and not row["happened_on_input"] and not row["built_input"]:
                row["unchanged"] = True
                rows.append(row)
                continue
            for name in [n.strip() for n in _cell_text(raw.get("evidence")).replace(";", "；").split("；")
                         if n.strip()]:
                row["evidence_files"].append(name)
                if name not in files:
                    row["file_problems"].append(_problem("evidence", message("reporting_sheet_file_missing", name=name)))
                    continue
                if name not in stored:
                    data, mime = files[name]
                    ev = ProgressEvidence(unit_id=unit.id, filename=name, content_type=mime, size_bytes=len(data),
                                          sha256=hashlib.sha256(data).hexdigest(), content=data,
                                          uploaded_by=principal.username)
                    session.add(ev)
                    session.flush()
                    stored[name] = ev.id
                row["evidence_ids"].append(stored[name])
            rows.append(row)
        _check_rows(session, unit, year, month, rows, on)
        _with_row_names(rows)
        imp = ProgressImport(id=uuid.uuid4(), unit_id=unit.id, year=year, month=month,
                             filename=reporting.clean_filename(sheet.filename),
                             sha256=hashlib.sha256(sheet.data).hexdigest(), rows=rows, created_by=principal.username)
        session.add(imp)
        session.flush()
    return report_dict(session, imp)


def _day_text(value) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return _cell_text(value)


def get_import(session: Session, principal: Principal, import_id: uuid.UUID) -> ProgressImport:
    imp = session.get(ProgressImport, import_id)
    if imp is None or (principal.has(Role.UNIT_OFFICER) and imp.unit_id != principal.unit_id) or \
            not principal.has(Role.UNIT_OFFICER, Role.ADMIN):
        raise NotFound(message("reporting_import_not_found"))
    return imp


def write_import(session: Session, principal: Principal, import_id: uuid.UUID, on: dt.date | None = None) -> dict:
    """Apply every row or none: the rows are checked again against the data as it is now."""
    on = on or service.today()
    with unit_of_work(session), audit_context(session, "commit_progress_import"):
        imp = get_import(session, principal, import_id)
        session.refresh(imp, with_for_update=True)
        if imp.status != "staged":
            raise Conflict(message("reporting_import_committed"))
        unit = session.get(Unit, imp.unit_id)
        rows = [dict(r) for r in imp.rows]
        resolved = _check_rows(session, unit, imp.year, imp.month, rows, on, lock=True)
        _with_row_names(rows)
        bad = [r for r in rows if r["problems"]]
        if bad:
            errors = [FieldError(p["field"], p["message"], feature=r["row"]) for r in bad for p in r["problems"]]
            raise InvalidFeatures(message("reporting_import_refused", rows="、".join(str(r["row"]) for r in bad)),
                                  errors)
        count = 0
        for row, r in zip(rows, resolved, strict=True):
            if r is None:
                continue
            entry = reporting.apply(session, r, principal, source="excel", import_id=imp.id)
            errors = reporting.attach_evidence(session, entry, row.get("evidence_ids", []), unit)
            if errors:
                raise InvalidFeatures(message("reporting_import_refused", rows=str(row["row"])),
                                      [FieldError(e.field, e.message, feature=row["row"]) for e in errors])
            count += 1
        if count == 0:
            raise Conflict(message("reporting_import_empty"))
        imp.rows = rows
        imp.status = "committed"
        imp.committed_at = dt.datetime.now(TIMEZONE)
    return {"entries": count, "year": imp.year, "month": imp.month}
