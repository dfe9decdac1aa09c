"""转让与租赁 from a sheet: .xlsx, .xls or .csv (UTF-8/GBK) with Chinese column headers.

The file is read by the register import's reader (app.enterprises.imports.read_sheet: formats, encodings,
blank rows, sizes) and its column names are compared in the field mapping's form (app.ingest.mapping.normalise:
full-width folded, no spaces or brackets, units such as （万元） dropped), against the names below. Every row is
checked like a record entered on the page (app.market.service.check) and reported with its flags as they would
be; ``dry_run`` stops there (nothing written). The commit writes every row or none.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from ..auth.deps import Principal
from ..core.audit import audit_context
from ..core.excel import Column, new_workbook, table_sheet, to_bytes
from ..core.forms import Form
from ..core.uow import discarded, unit_of_work
from ..enterprises.imports import read_sheet, refuse_file
from ..errors import FieldError, InvalidFeatures
from ..ingest.mapping import normalise
from ..messages import field_label, message
from . import service
from .enums import AreaBasis, MarketKind

HEADER_SCAN_ROWS = 10
MAX_ROWS = 2_000
# model field -> (the template's column title, names seen in the wild); compared normalised, units dropped
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "kind": ("类型", ("类型", "交易类型", "登记类型", "类别", "方式", "交易方式", "lx", "jylx", "kind", "type")),
    "parcels": ("宗地编号", ("宗地编号", "宗地代码", "宗地号", "地块编号", "宗地", "zdbh", "parcel", "parcels")),
    "signed_on": ("签订日期", ("签订日期", "合同签订日期", "签约日期", "交易日期", "转让日期", "出租日期", "日期",
                               "qdrq", "signedon", "date")),
    "from_name": ("转让方/出租方", ("转让方出租方", "转让方", "出租方", "出让方", "转让方名称", "出租方名称",
                                    "from", "fromname", "lessor", "transferor")),
    "from_credit_code": ("转让方/出租方统一社会信用代码", (
        "转让方出租方统一社会信用代码", "转让方统一社会信用代码", "出租方统一社会信用代码", "转让方信用代码",
        "出租方信用代码", "fromcreditcode")),
    "to_name": ("受让方/承租方", ("受让方承租方", "受让方", "承租方", "受让方名称", "承租方名称", "to", "toname",
                                  "lessee", "transferee")),
    "to_credit_code": ("受让方/承租方统一社会信用代码", (
        "受让方承租方统一社会信用代码", "受让方统一社会信用代码", "承租方统一社会信用代码", "受让方信用代码",
        "承租方信用代码", "tocreditcode")),
    "lease_start": ("租期起", ("租期起", "租期开始", "租赁开始日期", "起租日期", "租赁起始日期", "leasestart")),
    "lease_end": ("租期止", ("租期止", "租期结束", "租赁结束日期", "到期日期", "租赁截止日期", "leaseend")),
    "area_m2": ("面积（平方米）", ("面积", "转让面积", "租赁面积", "出租面积", "交易面积", "aream2", "area")),
    "area_basis": ("面积类型（土地面积/建筑面积）", ("面积类型", "面积口径", "面积类别", "areabasis")),
    "price_10k_yuan": ("转让价款（万元）", ("转让价款", "转让价格", "成交价", "成交价格", "交易价款", "价款", "price")),
    "rent_yuan_per_m2_year": ("租金（元/平方米·年）", ("租金", "年租金单价", "租金单价", "租金标准", "rent")),
    "industry_code": ("受让方/承租方行业代码", ("受让方承租方行业代码", "承租方行业代码", "受让方行业代码", "行业代码",
                                                "hydm", "industrycode")),
    "note": ("备注", ("备注", "说明", "bz", "note", "remark")),
}
REQUIRED = ("kind", "parcels", "signed_on", "from_name", "to_name")
_UNITS = re.compile(r"(万元|元平方米年|元m2年|元㎡年|元每平方米每年|元|平方米|㎡|m2)$")
_KIND_WORDS = {
    MarketKind.EQUITY_TRANSFER: {"股权转让", "股权", "equitytransfer"},
    MarketKind.LAND_TRANSFER: {"土地转让", "土地", "土地使用权转让", "landtransfer"},
    MarketKind.FACTORY_TRANSFER: {"厂房转让", "厂房", "房产转让", "factorytransfer"},
    MarketKind.LEASE: {"出租", "租赁", "厂房出租", "厂房租赁", "lease"},
}
_BASIS_WORDS = {AreaBasis.LAND: {"土地面积", "土地", "用地面积", "land"},
                AreaBasis.FLOOR: {"建筑面积", "建筑", "厂房面积", "floor"}}


def _key(name: str) -> str:
    key = normalise(name)
    return _UNITS.sub("", key) or key


_NAMES = {model_field: [_key(n) for n in (title, *names)] for model_field, (title, names) in COLUMNS.items()}


def mapping_of(header: list[str]) -> dict[str, int]:
    """model field → column index, from the names alone; each column used once, earlier names first.

    >>> mapping_of(["序号", "类型", "宗地编号", "出租方", "承租方", "租金（元/平方米·年）", "签订日期"])["rent_yuan_per_m2_year"]
    5
    >>> sorted(mapping_of(["转让方", "受让方"]))
    ['from_name', 'to_name']
    """
    keys = [_key(h) if h else "" for h in header]
    out: dict[str, int] = {}
    taken: set[int] = set()
    for model_field, names in _NAMES.items():
        for name in names:
            hit = next((i for i, k in enumerate(keys) if k == name and i not in taken), None)
            if hit is not None:
                out[model_field] = hit
                taken.add(hit)
                break
    return out


def _header(table: list[tuple[int, list[str]]], filename: str) -> tuple[int, dict[str, int]]:
    for i, (_number, values) in enumerate(table[:HEADER_SCAN_ROWS]):
        found = mapping_of(values)
        if len(found) >= 2:
            return i, found
    raise refuse_file("register_no_header", code="sheet_no_header", name=filename,
                      row=table[0][0] if table else 1)


def _date(value: str) -> dt.date:
    found = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?: .*)?", value)
    if found is None:
        raise ValueError(message("market_import_date_bad", value=value))
    try:
        return dt.date(*(int(g) for g in found.groups()))
    except ValueError:
        raise ValueError(message("market_import_date_bad", value=value)) from None


def _number(value: str) -> Decimal:
    try:
        number = Decimal(value.replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise ValueError(message("market_import_number_bad", value=value)) from None
    if not number.is_finite() or abs(number) >= Decimal("1e12"):
        raise ValueError(message("market_import_number_bad", value=value))
    return number.quantize(Decimal("0.01"))


def _word(value: str, words: dict, key: str):
    k = normalise(value)
    for member, names in words.items():
        if k in names or k == member.value:
            return member
    raise ValueError(message(key, value=value))


PARSERS = {
    "kind": lambda v: _word(v, _KIND_WORDS, "market_import_kind_unknown"),
    "parcels": lambda v: [p for p in re.split(r"[、,，;；\s]+", v) if p],
    "signed_on": _date, "lease_start": _date, "lease_end": _date,
    "area_m2": _number, "price_10k_yuan": _number, "rent_yuan_per_m2_year": _number,
    "area_basis": lambda v: _word(v, _BASIS_WORDS, "market_import_basis_bad"),
}


def _prefixed(row: int, e: FieldError) -> FieldError:
    prefix = message("market_import_row", row=row)
    return FieldError(e.field, prefix + field_label(e.field) + "：" + e.message, feature=row)


def check_sheet(session: Session, principal: Principal, form: Form) -> tuple[list[dict], list[service.Checked]]:
    files = form.files_of("file")
    if len(files) != 1:
        raise refuse_file("register_file_missing", code="invalid_request")
    upload = files[0]
    filename = (re.sub(r"[\x00-\x1f]", "", upload.filename).strip() or "sheet")[:255]
    sheet = read_sheet(upload.data, filename)
    at, columns = _header(sheet.table, filename)
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        detail = message("market_import_no_columns", labels="、".join(COLUMNS[f][0] for f in missing))
        raise InvalidFeatures(detail, [FieldError(f"mapping.{f}", detail) for f in missing])
    data = [(n, v) for n, v in sheet.table[at + 1:] if any(v)]
    if not data:
        raise InvalidFeatures(message("market_import_empty"), [FieldError("file", message("market_import_empty"))])
    if len(data) > MAX_ROWS:
        raise refuse_file("register_too_many_rows", code="sheet_too_long", max=MAX_ROWS)
    rows, checked = [], []
    for number, values in data:
        raw = {f: (values[i] if i < len(values) else "").strip() for f, i in columns.items()}
        parsed, errors = {}, []
        for f, value in raw.items():
            if not value:
                if f in REQUIRED:
                    errors.append(FieldError(f, message("market_import_required", label=COLUMNS[f][0])))
                continue
            try:
                parsed[f] = PARSERS[f](value) if f in PARSERS else value
            except ValueError as exc:
                errors.append(FieldError(f, str(exc)))
        c = None
        if not errors:
            c = service.check(session, principal, service.Draft(**parsed))
            errors = c.errors
        rows.append({"row": number, "kind": parsed.get("kind").label if parsed.get("kind") else raw.get("kind"),
                     "parcels": raw.get("parcels"), "from_name": raw.get("from_name"), "to_name": raw.get("to_name"),
                     "signed_on": raw.get("signed_on"),
                     "problems": [_prefixed(number, e).message for e in errors], "flags": [],
                     "_errors": [_prefixed(number, e) for e in errors]})
        checked.append(c)
    return rows, checked


def import_sheet(session: Session, principal: Principal, form: Form, *, dry_run: bool) -> dict:
    """The per-row report (and the flags each row would raise); without ``dry_run`` every row is written, or
    none when one row has a problem (422, each problem naming its row)."""
    service.require_writer(principal)
    rows, checked = check_sheet(session, principal, form)
    bad = [r for r in rows if r["_errors"]]
    if bad and not dry_run:
        listed = "、".join(str(r["row"]) for r in bad[:20])
        raise InvalidFeatures(message("market_import_refused", count=len(bad), rows=listed),
                              [e for r in bad for e in r["_errors"]])
    good = [(r, c) for r, c in zip(rows, checked) if not r["_errors"]]
    if dry_run:
        with discarded(session):
            written = service.write_many(session, principal, [c for _r, c in good])
            for (r, _c), record in zip(good, written):
                r["flags"] = [f.text for f in record.flags]
        created = 0
    else:
        with unit_of_work(session), audit_context(session, "market_import"):
            written = service.write_many(session, principal, [c for _r, c in good])
            for (r, _c), record in zip(good, written):
                r["flags"] = [f.text for f in record.flags]
                r["id"] = record.id
        created = len(written)
    for r in rows:
        r.pop("_errors")
    return {"dry_run": dry_run, "rows": rows, "count": len(rows), "refused": len(bad), "created": created,
            "flagged": sum(1 for r in rows if r["flags"]), "can_commit": dry_run and not bad}


def template() -> bytes:
    """The sheet to fill in: the columns' titles and two example rows."""
    columns = [Column(COLUMNS[f][0], width=18) for f in COLUMNS]
    examples = [
        ["出租", "330483-CF-0001", "2023-05-01", "桐乡某某纺织有限公司", "", "桐乡某某经编厂", "",
         "2023-05-01", "2026-04-30", "1200", "建筑面积", "", "180", "C1761", ""],
        ["厂房转让", "330483-CF-0002", "2023-06-15", "桐乡某某化纤有限公司", "", "桐乡某某新材料有限公司", "", "", "",
         "5600", "建筑面积", "1350", "", "C2829", ""],
    ]
    wb = new_workbook()
    table_sheet(wb, message("market_sheet_title"), columns, examples, title=message("market_template_title"),
                notes=[message("market_template_note")])
    return to_bytes(wb)
