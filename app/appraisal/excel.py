"""The 亩均效益综合评价 as an Excel workbook: one sheet per group (rank order) and one of the not graded,
each with a title and date line, numbers as numbers, A4 landscape, the header repeated on every page."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from ..auth.deps import Principal
from ..errors import NotFound
from ..messages import message
from ..progress.reports import a4, chinese_date
from . import service

GRADE_FILLS = {"A": "C6EFCE", "B": "E2F0D9", "C": "FFF2CC", "D": "F8CBAD"}


def _n(value: str | None) -> float | None:
    return None if value is None else float(Decimal(value))


def results_workbook(session: Session, principal: Principal, year: int, run_id: int | None) -> tuple[bytes, str]:
    data = service.results(session, principal, year, run_id, service.ResultFilter())
    run = data["run"]
    if run is None:
        raise NotFound(message("evaluation_no_run", year=year))
    wb = Workbook()
    wb.remove(wb.active)
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    status = f"{run['status_label']}（第 {run['number']} 次评价）"
    when = chinese_date(run["fixed_at"] or run["published_at"] or run["created_at"])
    rows = data["enterprises"]

    def sheet(title: str, heading: str, columns: list[tuple[str, int]], lines: list[list], grades: list) -> None:
        ws = wb.create_sheet(title[:31])
        width = len(columns)
        for text, bold in ((heading, True), (f"{status} · {when} · 数据截至 {chinese_date(run['figures_as_of'])}", False)):
            ws.append([text])
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=width)
            ws.cell(ws.max_row, 1).font = Font(bold=bold, size=14 if bold else 10)
        ws.append([c for c, _ in columns])
        header = ws.max_row
        for col, (_, w) in enumerate(columns, start=1):
            cell = ws.cell(header, col)
            cell.font, cell.fill, cell.border = head_font, head_fill, border
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            ws.column_dimensions[get_column_letter(col)].width = w
        for line, grade in zip(lines, grades, strict=True):
            ws.append(line)
            for col in range(1, width + 1):
                cell = ws.cell(ws.max_row, col)
                cell.border = border
                if isinstance(cell.value, float):
                    cell.number_format = "#,##0.00"
                if col == width:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            if grade in GRADE_FILLS:
                ws.cell(ws.max_row, 4).fill = PatternFill("solid", fgColor=GRADE_FILLS[grade])
        ws.freeze_panes = ws.cell(header + 1, 3)
        ws.print_title_rows = f"{header}:{header}"
        a4(ws)

    for g in data["groups"]:
        members = [r for r in rows if r["group"] == g["code"] and r["grade"]]
        columns = [("排名", 6), ("企业名称", 30), ("镇（街道）", 12), ("等级", 6), ("总分", 8), ("用地（亩）", 10)]
        columns += [(f"{i['label']}（{i['unit']}）", 12) for i in g["indicators"]]
        columns += [(f"{i['label']}得分", 9) for i in g["indicators"]]
        columns += [("加减分", 8), ("统一社会信用代码", 21), ("说明", 40)]
        lines = []
        for r in members:
            values = {i["code"]: i for i in r["indicators"]}
            lines.append([r["rank"], r["name"], r["unit_name"] or "—", r["grade"], _n(r["total"]), _n(r["land_mu"]),
                          *[_n(values[i["code"]]["value"]) for i in g["indicators"]],
                          *[_n(values[i["code"]]["score"]) for i in g["indicators"]],
                          _n(r["adjustment_score"]), r["credit_code"], "；".join(r["explanations"]) or "—"])
        counts = "，".join(f"{k} 档 {v} 家" for k, v in g["counts"].items())
        sheet(g["label"], f"{year} 年度工业企业亩均效益综合评价 · {g['label']}（{g['graded']} 家：{counts}）",
              columns, lines, [r["grade"] for r in members])
    others = [r for r in rows if not r["grade"]]
    sheet("不参评", f"{year} 年度工业企业亩均效益综合评价 · 不参评企业（{len(others)} 家）",
          [("企业名称", 30), ("镇（街道）", 12), ("规上/规下", 10), ("用地（亩）", 10), ("统一社会信用代码", 21),
           ("原因", 40)],
          [[r["name"], r["unit_name"] or "—", r["scale_label"], _n(r["land_mu"]), r["credit_code"],
            r["reason"] or "—"] for r in others], [None] * len(others))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), f"{year}年度亩均效益综合评价（{run['status_label']}）.xlsx"
