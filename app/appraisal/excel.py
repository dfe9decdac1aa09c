"""The 亩均效益综合评价 as an Excel workbook: one sheet per group (rank order) and one of the not graded,
each with a title and date line, numbers as numbers, A4 landscape, the header repeated on every page."""

from __future__ import annotations

from decimal import Decimal

from openpyxl.styles import PatternFill
from sqlalchemy.orm import Session

from ..auth.deps import Principal
from ..core.excel import Column, new_workbook, table_sheet, to_bytes
from ..errors import NotFound
from ..messages import message
from ..progress.reports import chinese_date
from . import service

GRADE_FILLS = {"A": "C6EFCE", "B": "E2F0D9", "C": "FFF2CC", "D": "F8CBAD"}


def _score(title: str) -> Column:
    """A score: a number with 2 decimals."""
    return Column(title, "money", 9, "0.00")


def _n(value: str | None) -> float | None:
    return None if value is None else float(Decimal(value))


def results_workbook(session: Session, principal: Principal, year: int, run_id: int | None) -> tuple[bytes, str]:
    data = service.results(session, principal, year, run_id, service.ResultFilter())
    run = data["run"]
    if run is None:
        raise NotFound(message("evaluation_no_run", year=year))
    wb = new_workbook()
    status = f"{run['status_label']}（第 {run['number']} 次评价）"
    when = chinese_date(run["fixed_at"] or run["published_at"] or run["created_at"])
    rows = data["enterprises"]
    line = message("evaluation_sheet_date_line", status=status, when=when, as_of=chinese_date(run["figures_as_of"]))

    def sheet(title: str, heading: str, columns: list[Column], lines: list[list], grades: list) -> None:
        ws = table_sheet(wb, title, columns, lines, title=heading, date_line=line)
        for row, grade in enumerate(grades, start=4):
            if grade in GRADE_FILLS:
                ws.cell(row, 4).fill = PatternFill("solid", fgColor=GRADE_FILLS[grade])
        ws.freeze_panes = ws.cell(4, 3)

    for g in data["groups"]:
        members = [r for r in rows if r["group"] == g["code"] and r["grade"]]
        columns = [Column("排名", "int", 6), Column("企业名称", width=30), Column("镇（街道）", width=12),
                   Column("等级", width=6), _score("总分"), Column("用地（亩）", "mu", 10)]
        columns += [Column(f"{i['label']}（{i['unit']}）", "money", 12) for i in g["indicators"]]
        columns += [_score(f"{i['label']}得分") for i in g["indicators"]]
        columns += [_score("加减分"), Column("统一社会信用代码", width=21), Column("说明", width=40)]
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
          [Column("企业名称", width=30), Column("镇（街道）", width=12), Column("规上/规下", width=10),
           Column("用地（亩）", "mu", 10), Column("统一社会信用代码", width=21), Column("原因", width=40)],
          [[r["name"], r["unit_name"] or "—", r["scale_label"], _n(r["land_mu"]), r["credit_code"],
            r["reason"] or "—"] for r in others], [None] * len(others))
    return to_bytes(wb), f"{year}年度亩均效益综合评价（{run['status_label']}）.xlsx"
