"""The ledger as a workbook (app/core/excel.py): the entries, and the totals per block and per unit."""

from __future__ import annotations

from ..core.excel import Column, exported_line, new_workbook, table_sheet, to_bytes
from ..messages import message

ENTRY_COLUMNS = [
    Column("编号", "int"), Column("申请日期", "date"), Column("单位"), Column("区块"), Column("区块编号"),
    Column("对象"), Column("统一社会信用代码 / 宗地编号", width=24), Column("项目名称"), Column("申请金额（万元）", "money"),
    Column("申请依据", width=30), Column("方案版本", "int"), Column("认定文号"), Column("状态"),
    Column("核定金额（万元）", "money"), Column("已拨付（万元）", "money"), Column("未拨付（万元）", "money"),
    Column("审核人"), Column("审核意见", width=24), Column("申请人"),
]
SUM_COLUMNS = [Column("单位"), Column("区块"), Column("笔数", "int"), Column("待审核（万元）", "money"),
               Column("已承诺（万元）", "money"), Column("已拨付（万元）", "money"), Column("未拨付（万元）", "money")]


def workbook(entries: list[dict], totals: dict) -> bytes:
    wb = new_workbook()
    rows = [[e["id"], e["applied_on"], e["unit_name"], e["block_name"], e["block"],
             e["subject"]["name"], e["subject"]["code"], e["project_name"], e["amount_applied_10k"], e["basis"],
             e["plan_version_no"], e["approval_doc_no"], e["status_label"], e["approved_10k"], e["paid_10k"],
             e["unpaid_10k"], e["reviewed_by"], e["review_comment"], e["applied_by"]] for e in entries]
    note = message("subsidy_excel_note", name=totals["name"], total=totals["total_10k"],
                   committed=totals["committed_10k"], paid=totals["paid_10k"], remaining=totals["remaining_10k"])
    table_sheet(wb, message("subsidy_excel_entries"), ENTRY_COLUMNS, rows, title=message("subsidy_excel_title"),
                date_line=exported_line(), notes=[note])
    sums = [[u["unit_name"], message("subsidy_excel_unit_total"), u["entries"], u["pending_10k"], u["committed_10k"],
             u["paid_10k"], u["unpaid_10k"]] for u in totals["units"]]
    sums += [[b["unit_name"], b["block_name"], b["entries"], b["pending_10k"], b["committed_10k"], b["paid_10k"],
              b["unpaid_10k"]] for b in totals["blocks"]]
    sums.append([message("subsidy_excel_all"), "", totals["entries"], totals["pending_10k"], totals["committed_10k"],
                 totals["paid_10k"], totals["unpaid_10k"]])
    table_sheet(wb, message("subsidy_excel_sums"), SUM_COLUMNS, sums, title=message("subsidy_excel_sums_title"),
                date_line=exported_line(), notes=[note])
    return to_bytes(wb)
