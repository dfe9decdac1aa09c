"""一库: the enterprise register imported from a sheet — staged with a per-row report, committed all or nothing.

The same pattern as the parcel upload (app/ingest) and the 月报 sheet (app/progress/reporting_excel):

1. :func:`stage` reads the file (.xlsx, .xls, or .csv in UTF-8 or GBK, detected like uploads), finds the
   header row, suggests the field mapping from Chinese, pinyin-initial and English column names
   (app/ingest/mapping.py, target ``enterprises``) and keeps every row in ``enterprise_imports``;
2. :func:`report` checks every row against the register as it is now — each problem names its row
   and column in Chinese; :func:`remap` changes the mapping and checks again;
3. :func:`write_import` checks once more under lock and writes every row or none: new enterprises, the
   changed fields of known ones (one ``enterprise_field_history`` row per field), parcels linked by
   the credit code their upload gave, and name-only enterprises from uploads merged into the
   registered enterprise of the same name.

Blank cells never clear a stored value: a sheet that lacks a column, or leaves a cell empty, keeps
what the register has.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass, field

import xlrd
from openpyxl import load_workbook
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from ..auth.deps import Principal
from ..core.clock import TIMEZONE
from ..core.audit import audit_context
from ..core.forms import Form
from ..core.uow import unit_of_work
from ..credit_code import credit_code_problem
from ..enums import EnterpriseScale
from ..errors import Conflict, FieldError, InvalidFeatures, InvalidUpload, NotFound
from ..ingest import mapping as fieldmap
from ..ingest.read import detect_encoding
from ..messages import message
from ..models import Enterprise, Parcel, Unit
from . import industry
from .models import EnterpriseFieldHistory, EnterpriseImport

TARGET = "enterprises"
MAX_ROWS = 20_000
HEADER_SCAN_ROWS = 10
FIRST_YEAR = 1949
REGISTER_FIELDS = ("name", "industry_code", "industry_name", "scale", "production_year", "address", "unit")
MAX_LENGTH = {"name": 128, "industry_name": 64, "address": 255}
REFUSED_ROWS_LISTED = 20
_SCALE_WORDS = {
    EnterpriseScale.ABOVE: {"规上", "规模以上", "规上企业", "规上工业", "规模以上工业企业", "是", "y", "yes", "1", "true",
                            "above", "abovescale", "above_scale"},
    EnterpriseScale.BELOW: {"规下", "规模以下", "规下企业", "规下工业", "规模以下工业企业", "否", "n", "no", "0", "false",
                            "below", "belowscale", "below_scale"},
}


def refuse_file(key: str, *, code: str, status: int = 422, **values) -> InvalidUpload:
    """A sheet refused as a whole (unreadable, empty, too large), the message beside the file field; the
    market import (app/market/imports.py) refuses its sheets with it too."""
    detail = message(key, **values)
    return InvalidUpload(detail, [FieldError("file", detail)], code=code, status_code=status)


def label(model_field: str) -> str:
    return fieldmap.ENTERPRISE_FIELDS[model_field][0]


# --- reading the file -----------------------------------------------------------------------

@dataclass
class Sheet:
    file_format: str
    encoding: str | None
    table: list[tuple[int, list[str]]]  # (row number as the clerk counts it, cell texts); blank rows left out


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return re.sub(r"\s+", " ", str(value)).strip()


def _keep(number: int, values: list[str], table: list) -> None:
    if any(values):
        table.append((number, values))
        if len(table) > MAX_ROWS + HEADER_SCAN_ROWS:
            raise refuse_file("register_too_many_rows", code="sheet_too_long", max=MAX_ROWS)


def _read_xlsx(data: bytes, filename: str) -> Sheet:
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            if not wb.worksheets:
                raise refuse_file("register_empty", code="sheet_empty", name=filename)
            table: list = []
            for number, values in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
                _keep(number, [_cell_text(v) for v in values], table)
        finally:
            wb.close()
    except InvalidUpload:
        raise
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise refuse_file("register_not_xlsx", code="not_xlsx", name=filename) from None
    return Sheet("xlsx", None, table)


def _read_xls(data: bytes, filename: str) -> Sheet:
    """Excel 97–2003 (.xls) through xlrd 2: date cells become dates, numbers numbers, booleans 是/否."""
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
        try:
            if book.nsheets == 0:
                raise refuse_file("register_empty", code="sheet_empty", name=filename)
            ws = book.sheet_by_index(0)
            table: list = []
            for r in range(ws.nrows):
                values = []
                for cell in ws.row(r):
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        values.append(_cell_text(xlrd.xldate_as_datetime(cell.value, book.datemode)))
                    elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                        values.append(_cell_text(bool(cell.value)))
                    elif cell.ctype == xlrd.XL_CELL_ERROR:
                        values.append("")
                    else:
                        values.append(_cell_text(cell.value))
                _keep(r + 1, values, table)
        finally:
            book.release_resources()
    except InvalidUpload:
        raise
    except Exception:  # xlrd raises XLRDError, struct errors, IndexError … for a damaged file
        raise refuse_file("register_not_xlsx", code="not_xls", name=filename) from None
    return Sheet("xls", None, table)


def _read_csv(data: bytes, filename: str) -> Sheet:
    encoding = detect_encoding(lambda: iter([data]))
    if encoding is None or b"\x00" in data[:4096]:
        raise refuse_file("register_csv_undecodable", code="invalid_encoding", name=filename)
    textual = data.decode(encoding)
    textual = textual.removeprefix("\ufeff")
    sample = textual[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;，").delimiter
    except csv.Error:
        delimiter = ","
    table: list = []
    reader = csv.reader(io.StringIO(textual, newline=""), delimiter=delimiter)
    try:
        for values in reader:
            _keep(reader.line_num, [_cell_text(v) for v in values], table)
    except csv.Error:
        raise refuse_file("register_csv_malformed", code="csv_malformed", name=filename, row=reader.line_num) from None
    return Sheet("csv", encoding, table)


def read_sheet(data: bytes, filename: str) -> Sheet:
    """The file's rows as text, by its content (and its name's ending where the content says nothing)."""
    lower = filename.lower()
    if not data.strip():
        raise refuse_file("register_empty", code="sheet_empty", name=filename)
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE2 compound file: Excel 97–2003
        return _read_xls(data, filename)
    if zipfile.is_zipfile(io.BytesIO(data)):
        return _read_xlsx(data, filename)
    if lower.endswith((".xlsx", ".xlsm")):
        raise refuse_file("register_not_xlsx", code="not_xlsx", name=filename)
    if lower.endswith(".xls"):
        raise refuse_file("register_not_xlsx", code="not_xls", name=filename)
    if lower.endswith((".csv", ".txt")) or "." not in lower:
        return _read_csv(data, filename)
    raise refuse_file("register_format_unsupported", code="unsupported_format", status=415, name=filename)


def _looks_like_data(value: str) -> bool:
    return bool(value) and (credit_code_problem(value.upper()) is None or bool(re.fullmatch(r"[\d.,\-]+", value)))


def split_header(sheet: Sheet, filename: str, target: str = TARGET) -> tuple[int, list[str], list[dict]]:
    """The header row (the first of the first rows with a known column name, else the first row unless it
    holds data), its column names (unique, blank ones named by position) and the data rows."""
    if not sheet.table:
        raise refuse_file("register_empty", code="sheet_empty", name=filename)
    at = next((i for i, (_n, values) in enumerate(sheet.table[:HEADER_SCAN_ROWS])
               if fieldmap.suggest([v for v in values if v], target)), None)
    if at is None:
        number, values = sheet.table[0]
        if any(_looks_like_data(v) for v in values):
            raise refuse_file("register_no_header", code="sheet_no_header", name=filename, row=number)
        at = 0
    header_number, names = sheet.table[at]
    fields: list[str] = []
    for i, name in enumerate(names, start=1):
        name = name or message("register_column_unnamed", number=i)
        base, k = name, 2
        while name in fields:
            name, k = f"{base}（{k}）", k + 1
        fields.append(name)
    rows = []
    for number, values in sheet.table[at + 1:]:
        values = (values + [""] * len(fields))[:len(fields)]
        if any(values):
            rows.append({"row": number, "values": values})
    if not rows:
        raise refuse_file("register_no_rows", code="sheet_no_rows", name=filename, row=header_number)
    if len(rows) > MAX_ROWS:
        raise refuse_file("register_too_many_rows", code="sheet_too_long", max=MAX_ROWS)
    return header_number, fields, rows


# --- checking the rows ----------------------------------------------------------------------

@dataclass
class Checked:
    row: int
    values: dict  # model field -> typed value (str / int / EnterpriseScale / unit id); blank fields absent
    problems: list = field(default_factory=list)
    existing: Enterprise | None = None
    pending: Enterprise | None = None  # a name-only enterprise of the same name, to merge
    pending_parcels: int = 0
    changes: list = field(default_factory=list)  # (field, old, new) as stored values

    @property
    def blocked(self) -> bool:
        return any(p["severity"] == "error" for p in self.problems)


class UnitNames:
    """镇街 as a sheet writes them: 崇福镇, 崇福, chongfu, 开发区, 高桥街道 …"""

    def __init__(self, session: Session) -> None:
        self.units = list(session.scalars(select(Unit).order_by(Unit.id)))
        self.by_key: dict[str, Unit] = {}
        for u in self.units:
            keys = {u.name, u.code, re.sub(r"(镇|街道)$", "", u.name)}
            keys |= {part for part in re.split(r"[（）()]", u.name) if part}
            for k in keys:
                self.by_key.setdefault(fieldmap.normalise(k), u)

    def find(self, value: str) -> Unit | None:
        return self.by_key.get(fieldmap.normalise(value))

    def choices(self) -> str:
        return "、".join(u.name for u in self.units)


def _year_of(value: str) -> int | None:
    found = re.fullmatch(r"(\d{4})(?:\.0+|年|-\d{1,2}(?:-\d{1,2})?|/\d{1,2}(?:/\d{1,2})?|年\d{1,2}月(?:\d{1,2}日)?)?",
                         value)
    return int(found.group(1)) if found else None


def _scale_of(value: str) -> EnterpriseScale | None:
    key = fieldmap.normalise(value)
    return next((s for s, words in _SCALE_WORDS.items() if key in words), None)


def _add(checked: Checked, model_field: str | None, key: str, severity: str = "error", **values) -> None:
    checked.problems.append({"field": model_field, "severity": severity, "message": message(key, **values)})


def _parse_row(raw: dict, columns: dict[str, int], units: UnitNames, this_year: int) -> Checked:
    checked = Checked(row=raw["row"], values={})
    cells = raw["values"]
    for model_field, index in columns.items():
        value = cells[index] if index < len(cells) else ""
        if not value:
            continue
        if model_field == "credit_code":
            code = unicodedata.normalize("NFKC", value).replace(" ", "").upper()
            problem = credit_code_problem(code)
            if problem:
                checked.problems.append({"field": model_field, "severity": "error", "message": problem})
            checked.values[model_field] = code
        elif model_field in MAX_LENGTH:
            if len(value) > MAX_LENGTH[model_field]:
                _add(checked, model_field, "register_too_long", max=MAX_LENGTH[model_field], count=len(value))
            checked.values[model_field] = value
        elif model_field == "industry_code":
            code = industry.normalise_code(unicodedata.normalize("NFKC", value))
            problem = industry.code_problem(code)
            if problem:
                _add(checked, model_field, problem[0], **problem[1])
            checked.values[model_field] = code
        elif model_field == "scale":
            scale = _scale_of(value)
            if scale is None:
                _add(checked, model_field, "register_scale_unknown", value=value)
            checked.values[model_field] = scale
        elif model_field == "production_year":
            year = _year_of(unicodedata.normalize("NFKC", value))
            if year is None:
                _add(checked, model_field, "register_year_not_number", value=value)
            elif not FIRST_YEAR <= year <= this_year:
                _add(checked, model_field, "register_year_range", value=year, low=FIRST_YEAR, high=this_year)
            checked.values[model_field] = year
        elif model_field == "unit":
            unit = units.find(value)
            if unit is None:
                _add(checked, model_field, "register_unit_unknown", value=value, choices=units.choices())
            checked.values[model_field] = unit.id if unit else None
    for required in fieldmap.REQUIRED[TARGET]:
        if required in columns and required not in checked.values:
            _add(checked, required, "register_required_missing")
    return checked


def _stored(ent: Enterprise, model_field: str):
    return ent.unit_id if model_field == "unit" else getattr(ent, model_field)


def check_rows(session: Session, imp: EnterpriseImport, *, lock: bool = False) -> list[Checked]:
    """Every staged row checked against the file itself and the register as it is now."""
    columns = {f: imp.fields.index(src) for f, src in imp.mapping.items() if src in imp.fields}
    units = UnitNames(session)
    this_year = dt.datetime.now(TIMEZONE).year
    rows = [_parse_row(raw, columns, units, this_year) for raw in imp.rows]
    codes = {r.values["credit_code"] for r in rows if r.values.get("credit_code")}
    names = {r.values["name"] for r in rows if r.values.get("name")}
    query = select(Enterprise).where(Enterprise.credit_code.in_(codes) | Enterprise.name.in_(names))
    if lock:
        query = query.with_for_update()
    known = list(session.scalars(query)) if codes or names else []
    by_code = {e.credit_code: e for e in known if e.credit_code}
    by_name: dict[str, list[Enterprise]] = {}
    for e in known:
        by_name.setdefault(e.name, []).append(e)
    pending_ids = [e.id for e in known if e.credit_code is None]
    parcel_counts = dict(session.execute(
        select(Parcel.enterprise_id, text("count(*)")).where(Parcel.enterprise_id.in_(pending_ids))
        .group_by(Parcel.enterprise_id)).all()) if pending_ids else {}
    renamed_in_file = {r.values["credit_code"] for r in rows
                       if r.values.get("credit_code") in by_code and r.values.get("name")
                       and by_code[r.values["credit_code"]].name != r.values["name"]}
    seen_code: dict[str, int] = {}
    seen_name: dict[str, tuple[int, str | None]] = {}
    for r in rows:
        code, name = r.values.get("credit_code"), r.values.get("name")
        if code:
            if code in seen_code:
                _add(r, "credit_code", "register_credit_duplicate", code=code, other=seen_code[code])
            seen_code.setdefault(code, r.row)
        if name:
            other = seen_name.get(name)
            if other is not None and other[1] != code:
                _add(r, "name", "register_name_duplicate", other=other[0])
            seen_name.setdefault(name, (r.row, code))
        if r.blocked:
            continue
        r.existing = by_code.get(code) if code else None
        for same in by_name.get(name, []) if name else []:
            if same.credit_code is None:
                r.pending, r.pending_parcels = same, parcel_counts.get(same.id, 0)
            elif same.credit_code != code and same.credit_code not in renamed_in_file:
                _add(r, "name", "register_name_taken", name=name, code=same.credit_code, given=code)
        if r.existing is not None and name and r.existing.name != name:
            _add(r, "name", "register_name_changed", severity="warning", old=r.existing.name, new=name)
        if r.pending is not None:
            _add(r, "name", "register_merge_pending", severity="info", parcels=r.pending_parcels)
        for model_field in REGISTER_FIELDS:
            if model_field not in r.values or r.values[model_field] is None:
                continue
            old = _stored(r.existing, model_field) if r.existing is not None else None
            if old != r.values[model_field]:
                r.changes.append((model_field, old, r.values[model_field]))
    _with_row_names(rows, imp.mapping)
    return rows


def _with_row_names(rows: list[Checked], mapping: dict) -> None:
    for r in rows:
        for p in r.problems:
            column = mapping.get(p["field"]) or (label(p["field"]) if p["field"] else "")
            prefix = message("register_row", row=r.row, column=column) if column else \
                message("register_row_only", row=r.row)
            p["column"] = mapping.get(p["field"])
            if not p["message"].startswith(prefix):
                p["message"] = prefix + p["message"]


def _shown(model_field: str, value, units: dict[int, str]) -> str | None:
    """A stored value as the clerk reads it (规上, 崇福镇, 2015)."""
    if value is None:
        return None
    if model_field == "unit":
        return units.get(value, str(value))
    if isinstance(value, EnterpriseScale):
        return value.label
    return str(value)


def _action(r: Checked) -> str:
    if r.blocked:
        return "refused"
    if r.existing is None:
        return "create"
    return "update" if r.changes or r.pending is not None else "unchanged"


def report(session: Session, imp: EnterpriseImport, rows: list[Checked] | None = None) -> dict:
    """The per-row report: each row's action, problems (named by row and column) and changes (old → new)."""
    if imp.status == "committed":
        rows = []
    elif rows is None:
        rows = check_rows(session, imp)
    units = {u.id: u.name for u in session.scalars(select(Unit))}
    missing = fieldmap.missing_required(imp.mapping, TARGET)
    out_rows = []
    counts = {"rows": len(imp.rows), "create": 0, "update": 0, "unchanged": 0, "refused": 0, "warnings": 0,
              "merges": 0}
    for r in rows:
        action = _action(r)
        counts[action] += 1
        counts["warnings"] += any(p["severity"] == "warning" for p in r.problems)
        counts["merges"] += r.pending is not None and not r.blocked
        out_rows.append({
            "row": r.row, "credit_code": r.values.get("credit_code"), "name": r.values.get("name"), "action": action,
            "enterprise_id": r.existing.id if r.existing is not None else None,
            "problems": r.problems,
            "changes": [{"field": f, "label": label(f), "old": _shown(f, o, units), "new": _shown(f, n, units)}
                        for f, o, n in r.changes],
        })
    mapping_problems = [message("register_mapping_missing", label=label(f)) for f in missing]
    return {
        "id": str(imp.id), "kind": imp.kind, "filename": imp.filename, "file_format": imp.file_format,
        "encoding": imp.encoding, "header_row": imp.header_row, "status": imp.status, "fields": imp.fields,
        "mapping": imp.mapping, "targets": fieldmap.describe(TARGET, imp.fields, imp.mapping),
        "mapping_problems": mapping_problems, "counts": counts, "rows": out_rows, "outcome": imp.outcome,
        "created_by": imp.created_by, "created_at": imp.created_at.isoformat() if imp.created_at else None,
        "can_commit": imp.status == "staged" and not missing and counts["refused"] == 0
                      and counts["create"] + counts["update"] > 0,
    }


# --- the endpoints' work ----------------------------------------------------------------------

def _clean_filename(name: str) -> str:
    return (re.sub(r"[\x00-\x1f]", "", name).strip() or "register")[:255]


def staged_import(form: Form, principal: Principal, target: str = TARGET, **extra) -> EnterpriseImport:
    """The form's one file read (format, encoding, header row, rows) into a new staged import, not yet added;
    the mapping suggested for ``target`` (``enterprises`` the register, ``figures`` the departments' figures)."""
    files = form.files_of("file")
    if len(files) != 1:
        raise refuse_file("register_file_missing", code="invalid_request")
    upload = files[0]
    filename = _clean_filename(upload.filename)
    sheet = read_sheet(upload.data, filename)
    header_row, fields, rows = split_header(sheet, filename, target)
    return EnterpriseImport(id=uuid.uuid4(), filename=filename, sha256=hashlib.sha256(upload.data).hexdigest(),
                            file_format=sheet.file_format, encoding=sheet.encoding, header_row=header_row,
                            fields=fields, mapping=fieldmap.suggest(fields, target), rows=rows, status="staged",
                            created_by=principal.username, **extra)


def stage(session: Session, principal: Principal, form: Form) -> dict:
    kind = form.fields.get("kind") or "register"
    if kind != "register":
        detail = message("register_kind_unknown", kind=kind[:40])
        raise InvalidUpload(detail, [FieldError("kind", detail)], code="invalid_kind", status_code=422)
    imp = staged_import(form, principal, kind="register")
    with unit_of_work(session), audit_context(session, "stage_enterprise_import"):
        session.add(imp)
        session.flush()
    return report(session, imp)


def get_import(session: Session, import_id: uuid.UUID, *, lock: bool = False) -> EnterpriseImport:
    imp = session.get(EnterpriseImport, import_id, with_for_update=lock or None)
    if imp is None:
        raise NotFound(message("register_import_not_found"))
    return imp


def remap(session: Session, import_id: uuid.UUID, edits) -> dict:
    """Change the mapping (model field → column name; null or "" unmaps) and check every row again."""
    if not isinstance(edits, dict):
        detail = message("register_mapping_not_object")
        raise InvalidUpload(detail, [FieldError("mapping", detail)], code="invalid_mapping", status_code=422)
    with unit_of_work(session), audit_context(session, "remap_enterprise_import"):
        imp = get_import(session, import_id, lock=True)
        if imp.status != "staged":
            raise Conflict(message("register_import_committed"))
        imp.mapping = fieldmap.resolve(imp.fields, TARGET, edits, base=imp.mapping)
        session.flush()
    return report(session, imp)


def _refusal_rows(bad: list[Checked]) -> str:
    listed = "、".join(str(r.row) for r in bad[:REFUSED_ROWS_LISTED])
    return listed + (message("register_rows_more") if len(bad) > REFUSED_ROWS_LISTED else "")


def write_import(session: Session, principal: Principal, import_id: uuid.UUID) -> dict:
    """Write every row or none; the rows are checked once more under lock."""
    with unit_of_work(session), audit_context(session, "commit_enterprise_import"):
        imp = get_import(session, import_id, lock=True)
        if imp.status != "staged":
            raise Conflict(message("register_import_committed"))
        missing = fieldmap.missing_required(imp.mapping, TARGET)
        if missing:
            detail = message("register_import_refused_mapping",
                             missing="；".join(message("register_mapping_missing", label=label(f)) for f in missing))
            raise InvalidFeatures(detail, [FieldError(f"mapping.{f}", detail) for f in missing])
        rows = check_rows(session, imp, lock=True)
        bad = [r for r in rows if r.blocked]
        if bad:
            errors = [FieldError(p["field"], p["message"], feature=r.row)
                      for r in bad for p in r.problems if p["severity"] == "error"]
            raise InvalidFeatures(message("register_import_refused", count=len(bad), rows=_refusal_rows(bad)), errors)
        todo = [r for r in rows if _action(r) in ("create", "update")]
        if not todo:
            raise Conflict(message("register_import_empty"))
        return _write(session, principal, imp, todo)


def _write(session: Session, principal: Principal, imp: EnterpriseImport, todo: list[Checked]) -> dict:
    source = f"import:{imp.id}"
    units = {u.id: u.name for u in session.scalars(select(Unit))}
    history: list[dict] = []
    created = updated = 0
    targets: list[tuple[Checked, Enterprise]] = []
    for r in todo:
        ent = r.existing
        if ent is None:
            ent = Enterprise(name=r.values["name"], credit_code=r.values["credit_code"])
            session.add(ent)
            created += 1
            history.append({"field": "credit_code", "old_value": None, "new_value": r.values["credit_code"]})
            history[-1]["_ent"] = ent
        elif r.changes:
            updated += 1
        for model_field, old, new in r.changes:
            setattr(ent, "unit_id" if model_field == "unit" else model_field, new)
            history.append({"field": model_field, "old_value": _shown(model_field, old, units),
                            "new_value": _shown(model_field, new, units), "_ent": ent})
        targets.append((r, ent))
    session.flush()
    merged, moved = _merge_pending(session, targets, history, units)
    linked = _link_parcels_by_code(session, [ent for _r, ent in targets])
    session.flush()
    if history:
        session.execute(insert(EnterpriseFieldHistory), [
            {"enterprise_id": h.pop("_ent").id, "source": source, "import_id": imp.id,
             "changed_by": principal.username, **h} for h in history])
    imp.status = "committed"
    imp.committed_by = principal.username
    imp.committed_at = dt.datetime.now(TIMEZONE)
    imp.outcome = {"created": created, "updated": updated, "fields_changed": len(history), "merged": merged,
                   "parcels_moved": moved, "parcels_linked": linked}
    session.flush()
    return {"id": str(imp.id), **imp.outcome}


def _referencing_columns(session: Session) -> list[tuple[str, str]]:
    """Every (table, column) with a foreign key to ``enterprises.id`` but ``parcels`` (moved through the ORM)."""
    return [(t, c) for t, c in session.execute(text(
        "SELECT cl.relname, a.attname FROM pg_constraint k"
        " JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_attribute a ON a.attrelid = k.conrelid"
        " AND a.attnum = k.conkey[1]"
        " WHERE k.contype = 'f' AND k.confrelid = 'enterprises'::regclass AND array_length(k.conkey, 1) = 1"
        " AND cl.relname NOT IN ('parcels', 'enterprise_field_history') ORDER BY 1, 2")).all()]


def _merge_pending(session: Session, targets: list[tuple[Checked, Enterprise]], history: list[dict],
                   units: dict) -> tuple[int, int]:
    """Name-only enterprises from uploads go into the registered enterprise of their name: parcels and
    every other reference move over, the name-only row is deleted, the history says so."""
    pairs = [(r.pending, ent) for r, ent in targets if r.pending is not None and r.pending.id != ent.id]
    if not pairs:
        return 0, 0
    columns = _referencing_columns(session)
    moved = 0
    for pending, ent in pairs:
        parcels = list(session.scalars(select(Parcel).where(Parcel.enterprise_id == pending.id)))
        for p in parcels:
            p.enterprise_id = ent.id
        moved += len(parcels)
        session.flush()
        for table, column in columns:
            session.execute(text(f'UPDATE "{table}" SET "{column}" = :to WHERE "{column}" = :old'),
                            {"to": ent.id, "old": pending.id})
        history.append({"field": "merged", "old_value": pending.name,
                        "new_value": message("register_history_merged", id=pending.id, parcels=len(parcels)),
                        "_ent": ent})
        session.expire(pending)
        session.delete(pending)
    session.flush()
    return len(pairs), moved


def _link_parcels_by_code(session: Session, ents: list[Enterprise]) -> int:
    """Parcels whose latest committed upload gave one of these credit codes, and that have no enterprise or a
    name-only one, link to the registered enterprise."""
    by_code = {e.credit_code: e.id for e in ents if e.credit_code}
    if not by_code:
        return 0
    found = session.execute(text(
        "SELECT DISTINCT ON (p.id) p.id, f.mapped_values->>'credit_code' FROM parcels p"
        " JOIN upload_features f ON f.code = p.code JOIN uploads u ON u.id = f.upload_id"
        " LEFT JOIN enterprises e ON e.id = p.enterprise_id"
        " WHERE u.status = 'committed' AND u.target = 'parcels'"
        " AND f.mapped_values->>'credit_code' = ANY(:codes)"
        " AND (p.enterprise_id IS NULL OR e.credit_code IS NULL)"
        " ORDER BY p.id, u.committed_at DESC"), {"codes": list(by_code)}).all()
    if not found:
        return 0
    parcels = {p.id: p for p in session.scalars(select(Parcel).where(Parcel.id.in_([f[0] for f in found])))}
    for pid, code in found:
        parcels[pid].enterprise_id = by_code[code]
    return len(found)
