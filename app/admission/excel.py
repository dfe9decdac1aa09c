"""The list of project admissions as an Excel workbook (app.core.excel: title, export time, A4 landscape)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..auth.deps import Principal
from ..core.excel import Column, exported_line, new_workbook, table_sheet, to_bytes
from ..industry import division_name
from ..messages import message
from . import service

COLUMNS = [
    Column("序号", "int", 6), Column("准入编号", width=10), Column("项目名称", width=24), Column("企业名称", width=26),
    Column("统一社会信用代码", width=21), Column("镇（街道、开发区）", width=14), Column("区块", width=20),
    Column("宗地编号", width=22), Column("行业代码", width=9), Column("行业名称", width=16),
    Column("计划投资（万元）", "money"), Column("预计年产出（万元）", "money"), Column("预计年税收（万元）", "money"),
    Column("规划建筑面积", "area"), Column("规划容积率", "far"), Column("计划开工", "date"), Column("计划竣工", "date"),
    Column("状态", width=9), Column("检查结果", width=40), Column("审核意见", width=24), Column("准入文号", width=16),
    Column("准入日期", "date"),
]


def admission_list(session: Session, principal: Principal, **filters) -> tuple[bytes, int]:
    rows = []
    for k, a in enumerate(service.listing(session, principal, **filters), start=1):
        report = service.shown_report(session, a) or {}
        flags = "；".join(f"{f['severity_label']}：{f['message_zh']}" for f in report.get("flags", [])
                         if f["severity"] != "info") or "—"
        e = a.enterprise
        rows.append([k, a.code, a.project_name, e.name if e else a.enterprise_name, e.credit_code if e else a.credit_code,
                     a.unit.name, a.block.name, "、".join(a.parcel_codes), a.industry_code,
                     division_name(a.industry_code), a.investment_10k, a.output_10k, a.tax_10k, a.floor_area_m2,
                     a.far, a.start_on, a.complete_on, service.status_label(a.status), flags, a.review_comment,
                     a.approval_doc_no, a.approval_date])
    wb = new_workbook()
    table_sheet(wb, "项目准入", COLUMNS, rows, title=message("admission_list_title"), date_line=exported_line())
    return to_bytes(wb), len(rows)
