"""The register as an Excel workbook (app.core.excel): one row per record, its flags in the last columns."""

from __future__ import annotations

from ..core.excel import Column, exported_line, new_workbook, table_sheet, to_bytes
from ..messages import message
from .models import MarketRecord
from .service import flag_status

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = [
    Column("序号", "int", 6), Column("类型", width=10), Column("镇（街道、开发区）", width=14),
    Column("宗地编号", width=22), Column("所在区块", width=22), Column("签订日期", "date"),
    Column("转让方/出租方", width=26), Column("转让方/出租方统一社会信用代码", width=21),
    Column("受让方/承租方", width=26), Column("受让方/承租方统一社会信用代码", width=21),
    Column("租期起", "date"), Column("租期止", "date"), Column("面积（平方米）", "money"), Column("面积类型", width=10),
    Column("转让价款（万元）", "money"), Column("租金（元/平方米·年）", "money"), Column("行业代码", width=10),
    Column("预警", width=50), Column("预警处理", width=18), Column("备注", width=24),
]


def workbook(records: list[MarketRecord], tenants: dict) -> tuple[bytes, int]:
    rows = []
    for n, r in enumerate(records, start=1):
        statuses = [message(f"market_flag_status_{flag_status(f, tenants.get(r.id, []))}") for f in r.flags]
        rows.append([
            n, r.kind.label, r.unit.name, "、".join(p.parcel_code for p in r.parcels),
            "、".join(dict.fromkeys(p.block.name for p in r.parcels)), r.signed_on, r.from_name, r.from_credit_code,
            r.to_name, r.to_credit_code, r.lease_start, r.lease_end, r.area_m2,
            r.area_basis.label if r.area_basis else None, r.price_10k_yuan, r.rent_yuan_per_m2_year, r.industry_code,
            "\n".join(f.text for f in r.flags) or None, "\n".join(statuses) or None, r.note,
        ])
    wb = new_workbook()
    table_sheet(wb, message("market_sheet_title"), COLUMNS, rows, title=message("market_sheet_title"),
                date_line=exported_line())
    return to_bytes(wb), len(rows)
