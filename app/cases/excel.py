"""The typical cases as a workbook (app/core/excel.py)."""

from __future__ import annotations

from ..core.excel import Column, exported_line, new_workbook, table_sheet, to_bytes
from ..messages import message

COLUMNS = [Column("年度", "int"), Column("季度", "int"), Column("现场会日期", "date"), Column("单位"), Column("区块"),
           Column("区块编号"), Column("典型做法与说明", width=50), Column("照片（张）", "int"), Column("登记人")]


def workbook(views: list[dict]) -> bytes:
    wb = new_workbook()
    rows = [[v["year"], v["quarter"], v["held_on"], v["unit_name"], v["block_name"], v["block"], v["notes"],
             len(v["photos"]), v["created_by"]] for v in views]
    table_sheet(wb, message("case_excel_sheet"), COLUMNS, rows, title=message("case_excel_title"),
                date_line=exported_line())
    return to_bytes(wb)
