"""月度通报: issue a monthly report as an immutable snapshot, export it to Excel, render it for print."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
from dataclasses import dataclass

from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..core.clock import TIMEZONE
from ..actionplans.calendar import Calendar
from ..core.audit import audit_context
from ..core.excel import NUMBER_FORMATS, Column, new_workbook, print_setup, table_sheet, to_bytes, write_table
from ..core.uow import unit_of_work
from ..errors import AppError, Conflict, FieldError, NotFound
from ..messages import message
from . import scoring, service
from .models import ProgressReport

REPORT_TITLE = "桐乡市工业园区有机更新工作进度通报"
BEHIND_FILL = "FDE2E1"  # the same light red as the print stylesheet's .behind rows
HEADER_FILL = "0B3D62"  # the map's top bar colour


def canonical_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_report(session: Session, year: int, month: int) -> dict:
    """The report's content as of the month's last day: the ranked table, the indicators and the parcels."""
    config, _meta = scoring.get_config(session, year)
    as_of = service.month_end(year, month)
    progress = service.monthly_progress(session, year, month, schedule=config.schedule, as_of=as_of)
    ind = service.indicators(session, as_of)
    parcels = service.parcel_trace(session, as_of=as_of, year=year, month=month)
    return {
        "title": f"{REPORT_TITLE}（{year} 年 {month} 月）",
        "year": year,
        "month": month,
        "as_of": as_of.isoformat(),
        "progress": progress,
        "indicators": {"citywide": ind["citywide"], "units": ind["units"]},
        "parcels_in_month": parcels,
    }


DEFAULT_ISSUING_BODY = "桐乡市工业园区有机更新工作领导小组办公室"
MAX_ISSUE_NO = 999
MAX_BODY_LENGTH = 64
MAX_NAME_LENGTH = 32
ISSUE_FIELDS = {"issue_no": "期号", "issuing_body": "印发单位", "issue_date": "印发日期", "signed_by": "签发人"}


class InvalidIssue(AppError):
    """The issue facts of a report (期号, 印发单位, 印发日期, 签发人) fail their checks; each error names its field."""

    status_code = 422
    code = "invalid_report_issue"


@dataclass(frozen=True)
class IssueFacts:
    """What a report says about its issue, printed on its page and in its Excel."""

    issue_no: int
    issuing_body: str
    issue_date: dt.date
    signed_by: str | None  # None only on a preview (not yet signed off)
    issued_by_name: str | None

    @property
    def label(self) -> str:
        return f"第 {self.issue_no} 期"

    def to_dict(self) -> dict:
        return {"issue_no": self.issue_no, "issue_label": self.label, "issuing_body": self.issuing_body,
                "issue_date": self.issue_date.isoformat(), "signed_by": self.signed_by,
                "issued_by_name": self.issued_by_name}


def next_issue_no(session: Session, year: int) -> int:
    """The number the year's next report would get: one more than the highest issued (1 for the first)."""
    return (session.scalar(select(func.max(ProgressReport.issue_no)).where(ProgressReport.year == year)) or 0) + 1


def check_issue(session: Session, year: int, month: int, *, issue_no: object = None, issuing_body: object = None,
                issue_date: object = None, signed_by: object = None, now: dt.date | None = None) -> IssueFacts:
    """The issue facts as sent, with their defaults (next number, the leading group's office, today).

    Every problem is reported at once, each naming its field in Chinese (422); a number already
    used in the year is a conflict (409)."""
    now = now or service.today()
    errors: list[FieldError] = []

    def bad(name: str, key: str, **values: object) -> None:
        errors.append(FieldError(name, message(key, field=ISSUE_FIELDS[name], **values)))

    number = next_issue_no(session, year) if issue_no in (None, "") else _as_int(issue_no)
    if number is None:
        bad("issue_no", "progress_issue_no_not_int", value=issue_no)
    elif not 1 <= number <= MAX_ISSUE_NO:
        bad("issue_no", "progress_issue_no_range", max=MAX_ISSUE_NO)
    body = DEFAULT_ISSUING_BODY if issuing_body is None else _text(issuing_body)
    if body is None or not body:
        bad("issuing_body", "progress_issue_text_required")
    elif len(body) > MAX_BODY_LENGTH:
        bad("issuing_body", "progress_issue_text_too_long", max=MAX_BODY_LENGTH)
    date = now if issue_date in (None, "") else _as_date(issue_date)
    if date is None:
        bad("issue_date", "progress_issue_date_invalid", value=issue_date)
    elif date <= service.month_end(year, month):
        bad("issue_date", "progress_issue_date_early", year=year, month=month)
    elif date > now:
        bad("issue_date", "progress_issue_date_future", today=now.isoformat())
    signer = None if signed_by is None else _text(signed_by)
    if not signer:
        bad("signed_by", "progress_issue_text_required")
    elif len(signer) > MAX_NAME_LENGTH:
        bad("signed_by", "progress_issue_text_too_long", max=MAX_NAME_LENGTH)
    if errors:
        raise InvalidIssue(message("progress_issue_invalid", reason="；".join(e.message for e in errors)), errors)
    taken = session.scalar(select(ProgressReport.month).where(ProgressReport.year == year,
                                                              ProgressReport.issue_no == number))
    if taken is not None:
        reason = message("progress_issue_no_taken", year=year, issue_no=number, month=taken,
                         next=next_issue_no(session, year))
        raise Conflict(reason, [FieldError("issue_no", reason)])
    return IssueFacts(number, body, date, signer, None)


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) else None


def issue(session: Session, year: int, month: int, user: str, *, issuer_name: str | None = None,
          signed_by: object = None, issue_no: object = None, issuing_body: object = None, issue_date: object = None,
          now: dt.date | None = None) -> ProgressReport:
    """Compute, export and store the month's report with its issue facts (期号, 印发单位, 印发日期, 签发人).

    Refused for a month not yet over or already issued (409), a number already used in the year
    (409), or issue facts that fail their checks (422). ``user`` is the login name kept for the audit
    trail; ``issuer_name`` the name shown on the report and in the list (defaults to ``user``)."""
    service.check_month(year, month)
    now = now or service.today()
    due = Calendar(session).deadline(year, month).due_on
    if due >= now:  # the month's figures are final once its 月报 deadline has passed
        raise AppError(message("progress_report_not_closed", year=year, month=month, due=due.isoformat()))
    existing = get(session, year, month, missing_ok=True)
    if existing is not None:
        raise Conflict(message("progress_report_exists", year=year, month=month,
                               issued_at=existing.issued_at.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")))
    facts = check_issue(session, year, month, issue_no=issue_no, issuing_body=issuing_body, issue_date=issue_date,
                        signed_by=signed_by, now=now)
    name = " ".join((issuer_name or user).split())[:64]
    data = build_report(session, year, month)
    issued_at = dt.datetime.now(TIMEZONE).replace(microsecond=0)
    data["issued_by"] = user
    data["issued_by_name"] = name
    data["issued_at"] = issued_at.isoformat()
    data["issue"] = {**facts.to_dict(), "issued_by_name": name}
    xlsx = to_xlsx(data, issued_at)
    text = canonical_json(data)
    try:
        with unit_of_work(session), audit_context(session, "issue_report"):
            report = ProgressReport(
                year=year, month=month, as_of=service.month_end(year, month), issued_by=user, issued_by_name=name,
                issue_no=facts.issue_no, issuing_body=facts.issuing_body, issue_date=facts.issue_date,
                signed_by=facts.signed_by, issued_at=issued_at,
                data=json.loads(text), data_sha256=sha256(text.encode("utf-8")), xlsx=xlsx, xlsx_sha256=sha256(xlsx),
            )
            session.add(report)
    except IntegrityError as exc:  # another admin issued the month, or took the number, in the meantime
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if constraint == "uq_progress_reports_year_issue_no":
            reason = message("progress_issue_no_taken_now", year=year, issue_no=facts.issue_no,
                             next=next_issue_no(session, year))
            raise Conflict(reason, [FieldError("issue_no", reason)]) from exc
        if constraint == "uq_progress_reports_year_month":
            raise Conflict(message("progress_report_exists_now", year=year, month=month)) from exc
        raise
    return report


def facts_of(report: ProgressReport) -> IssueFacts:
    return IssueFacts(report.issue_no, report.issuing_body, report.issue_date, report.signed_by, report.issued_by_name)


def preview_facts(session: Session, year: int) -> IssueFacts:
    """What a preview shows: the number the report would get now, the default body, today, not yet signed off."""
    return IssueFacts(next_issue_no(session, year), DEFAULT_ISSUING_BODY, service.today(), None, None)


def get(session: Session, year: int, month: int, missing_ok: bool = False) -> ProgressReport | None:
    report = session.scalar(select(ProgressReport).where(ProgressReport.year == year, ProgressReport.month == month))
    if report is None and not missing_ok:
        raise NotFound(message("progress_report_not_found", year=year, month=month))
    return report


def listing(session: Session) -> list[dict]:
    rows = session.execute(
        select(ProgressReport.year, ProgressReport.month, ProgressReport.as_of, ProgressReport.issued_by,
               ProgressReport.issued_by_name, ProgressReport.issue_no, ProgressReport.issuing_body,
               ProgressReport.issue_date, ProgressReport.signed_by, ProgressReport.issued_at,
               ProgressReport.data_sha256, ProgressReport.xlsx_sha256)
        .order_by(ProgressReport.year.desc(), ProgressReport.month.desc())
    )
    return [summary(r) for r in rows]


def summary(r) -> dict:
    base = f"/api/progress/reports/{r.year}/{r.month}"
    return {
        "year": r.year, "month": r.month, "as_of": r.as_of.isoformat(),
        "issue_no": r.issue_no, "issue_label": f"第 {r.issue_no} 期", "issuing_body": r.issuing_body,
        "issue_date": r.issue_date.isoformat(), "signed_by": r.signed_by,
        "issued_by": r.issued_by, "issued_by_name": r.issued_by_name,
        "issued_at": r.issued_at.isoformat(), "data_sha256": r.data_sha256, "xlsx_sha256": r.xlsx_sha256,
        "links": {"json": base, "xlsx": f"{base}.xlsx", "print": f"/progress/reports/{r.year}/{r.month}"},
    }


def issue_preview(session: Session, year: int, month: int) -> dict:
    """What the admin's form starts from: the next number, the default body, today, whether the month can be issued."""
    service.check_month(year, month)
    now = service.today()
    existing = get(session, year, month, missing_ok=True)
    due = Calendar(session).deadline(year, month).due_on
    return {
        "year": year, "month": month, "issue_no": next_issue_no(session, year), "issuing_body": DEFAULT_ISSUING_BODY,
        "issue_date": now.isoformat(), "month_over": due < now,
        "due_on": due.isoformat(),
        "issued": summary(existing) if existing is not None else None,
        "links": {"preview": f"/progress/preview/{year}/{month}",
                  "xlsx": f"/api/progress/monthly.xlsx?year={year}&month={month}"},
    }


# --------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------
TABLE_COLUMNS = [
    Column("排名", "int", 6), Column("单位", width=18), Column("年度任务（亩）", "mu", 12), Column("其中连片", "mu", 10),
    Column("其中零星", "mu", 10), Column("本月完成（亩）", "mu", 12), Column("累计完成（亩）", "mu", 12),
    Column("其中连片", "mu", 10), Column("其中零星", "mu", 10), Column("完成率", "pct", 9, "0.00%"),
    Column("较上月（百分点）", "far", 14), Column("序时进度应完成（亩）", "mu", 16), Column("差距（亩）", "mu", 10),
    Column("平均容积率", "far", 10), Column("进度", width=10),
]


REPORTING_COLUMN = Column("月报", width=10)


def table_columns(progress: dict) -> list[Column]:
    """The table's columns; 月报 (each unit's report status) for reports made since migration 0013."""
    with_reporting = any("reporting_status" in r for r in progress["rows"])
    return TABLE_COLUMNS + ([REPORTING_COLUMN] if with_reporting else [])


def reporting_text(r: dict) -> str:
    status = r.get("reporting_status")
    return "" if status in (None, "not_required") else r.get("reporting_status_label") or ""


def reporting_lines(progress: dict) -> list[str]:
    """月报: the units that had not submitted the month when the table was made (none for older reports)."""
    rep = progress.get("reporting")
    if not rep or not rep.get("not_submitted"):
        return []
    key = "reporting_line_open" if rep.get("provisional") else "reporting_line_closed"
    return [message(key, due=rep["due_on"], units="、".join(rep["not_submitted"]), n=len(rep["not_submitted"]))]


def _table_row(r: dict, columns: list | None = None) -> list:
    t = r["target"] or {}
    extra = [reporting_text(r)] if columns is not None and len(columns) > len(TABLE_COLUMNS) else []
    return [
        r.get("rank"), r["unit_name"], t.get("renewal_mu"), t.get("contiguous_mu"), t.get("scattered_mu"),
        r["done_month_mu"], r["done_ytd_mu"], r["done_ytd_contiguous_mu"], r["done_ytd_scattered_mu"],
        r["completion_rate"], None if r["change_rate"] is None else round(r["change_rate"] * 100, 2),
        r["expected_mu"], r["gap_mu"], r["average_far"], status_text(r), *extra,
    ]


def status_text(r: dict) -> str:
    if r["target"] is None:
        return "未下达任务"
    return "滞后" if r["behind_schedule"] else "正常"


def to_xlsx(data: dict, issued_at: dt.datetime) -> bytes:
    """The report as a workbook (app.core.excel): the ranked table under the notice's masthead, the
    indicators, each unit's indicators and the month's parcels, each sheet A4 landscape with its header
    repeated; every figure a number (亩 and 容积率 with 2 decimals, rates as percentages)."""
    wb = new_workbook()
    wb.properties.title = data["title"]
    naive = issued_at.replace(tzinfo=None)
    wb.properties.created = naive
    wb.properties.modified = naive
    _ranked_sheet(wb, data)
    as_of = message("report_sheet_as_of", date=chinese_date(data["as_of"]))
    rows = indicator_rows(data["indicators"]["citywide"])
    ind = table_sheet(wb, "主要指标", INDICATOR_COLUMNS, [r[:-1] for r in rows],
                      title=message("report_sheet_indicators", title=data["title"]), date_line=as_of)
    for k, r in enumerate(rows, start=4):  # each indicator its own decimals: 亩 2, 容积率 2, m² and 个 none
        for col in (3, 4):
            ind.cell(k, col).number_format = r[-1]
    table_sheet(wb, "各单位指标", UNIT_COLUMNS, [_unit_row(u) for u in data["indicators"]["units"]],
                title=message("report_sheet_units", title=data["title"]), date_line=as_of)
    table_sheet(wb, "本月完成宗地", PARCEL_COLUMNS, [
        [q["code"], q["unit_name"], q["track_label"], q["block_name"] or "—", q["renewed_on"], q["land_area_mu"],
         q["far"], q["planned_far"], q["enterprise_name"] or message("report_no_enterprise"),
         "；".join(q.get("rule_notes") or ()) or "—"] for q in data["parcels_in_month"]],
        title=message("report_sheet_parcels", title=data["title"]), date_line=as_of)
    return to_bytes(wb)


def _ranked_sheet(wb, data: dict) -> None:
    """月度通报: title, 期号, 印发单位 and 印发日期, 统计截至 — then the ranked table; behind units in light red."""
    behind_fill = PatternFill("solid", fgColor=BEHIND_FILL)
    head_fill = PatternFill("solid", fgColor=HEADER_FILL)
    ws = wb.create_sheet("月度通报")
    p = data["progress"]
    issue = data.get("issue") or {}
    columns = table_columns(p)
    width = len(columns)
    ws.append([data["title"]])
    ws.append([issue_heading(data["year"], issue, issued=bool(issue.get("signed_by")))])
    left = ws.max_row + 1
    ws.append([f"印发单位：{issue.get('issuing_body') or DEFAULT_ISSUING_BODY}"])
    ws.cell(left, 9, f"印发日期：{chinese_date(issue.get('issue_date'))}　　签发人：{issue.get('signed_by') or '（印发时填写）'}")
    ws.append([f"统计截至 {chinese_date(data['as_of'])}；序时进度 {p['schedule_rate'] * 100:.2f}%；数据来自云图宗地与区块，非手工填报"])
    for row, size, bold in ((1, 16, True), (2, 12, False)):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        ws.cell(row, 1).font = Font(bold=bold, size=size)
        ws.cell(row, 1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=left, start_column=1, end_row=left, end_column=8)
    ws.merge_cells(start_row=left, start_column=9, end_row=left, end_column=width)
    ws.cell(left, 9).alignment = Alignment(horizontal="right")
    ws.merge_cells(start_row=left + 1, start_column=1, end_row=left + 1, end_column=width)
    header_row = left + 2
    lines = p["rows"] + [p["citywide"]]
    last = write_table(ws, header_row, columns, [_table_row(r, columns) for r in lines])
    ws.auto_filter.ref = None  # the citywide total is the last row: sorting would move it
    for col in range(1, width + 1):
        ws.cell(header_row, col).font = Font(bold=True, color="FFFFFF")
        ws.cell(header_row, col).fill = head_fill
    for row, r in zip(range(header_row + 1, last + 1), lines, strict=True):
        for col in range(1, width + 1):
            cell = ws.cell(row, col)
            if r["behind_schedule"]:
                cell.fill = behind_fill
            if r["unit_code"] == "citywide":
                cell.font = Font(bold=True)
    for line in reporting_lines(p) + [c["text"] for c in p.get("corrections", [])]:  # 月报 and 更正：…
        ws.append([line])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=width)
    ws.append([])
    ws.append([f"签发人：{issue.get('signed_by') or '（印发时填写）'}"])
    ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=width)
    ws.cell(ws.max_row, 1).alignment = Alignment(horizontal="right")
    ws.freeze_panes = ws.cell(header_row + 1, 3)
    print_setup(ws, header_row=header_row)


TWO_DECIMALS = NUMBER_FORMATS["mu"]  # #,##0.00
INDICATOR_COLUMNS = [
    Column("指标", width=30), Column("单位", width=10), Column("完成", "money", 14), Column("目标", "money", 14),
    Column("完成率", "pct", 10, "0.00%"), Column("说明", width=50),
]


def indicator_rows(city: dict) -> list[list]:
    """The citywide indicators as numbers (the Excel twin of :func:`indicator_lines`), each row ending
    with the number format of its 完成 and 目标."""
    rows = []
    for year, y in city["years"].items():
        t = y["target"]
        rows.append([message("report_ind_year_mu", year=year), "亩", y["done_mu"], t["renewal_mu"] if t else None,
                     y["completion_rate"], message("report_ind_year_note", contiguous=_num(y["done_contiguous_mu"]),
                                                   scattered=_num(y["done_scattered_mu"]))
                     + ("" if t else message("report_ind_no_target")), TWO_DECIMALS])
    prog = city["programme"]
    rows.append([message("report_ind_programme"), "亩", prog["done_mu"], prog["target_mu"], prog["rate"], None, TWO_DECIMALS])
    nf = city["new_floor_area"]
    rows.append([message("report_ind_floor"), "m²", nf["done_m2"], nf.get("target_m2"), nf.get("rate"),
                 message("report_ind_floor_note", n=nf["parcels_without_plan"]), "#,##0"])
    far = city["average_far"]
    met = message("report_ind_met") if far["met"] else message("report_ind_not_met") if far["met"] is not None \
        else message("report_ind_no_data")
    rows.append([message("report_ind_far"), None, far["after"], far["target"], None,
                 message("report_ind_far_note", before=_num(far["before"]), met=met), "0.00"])
    tax = city["tax_per_mu"]
    rows.append([message("report_ind_tax"), "万元/亩", tax["after"], None, None,
                 message("report_ind_tax_note", before=_num(tax["before"]), n=tax["parcels"], mu=_num(tax["land_mu"])),
                 TWO_DECIMALS])
    for year, b in city["blocks_approved"].items():
        rows.append([message("report_ind_blocks", year=year), "个", b["count"],
                     b.get("limit", service.MAX_BLOCKS_PER_UNIT_PER_YEAR), None,
                     message("report_ind_blocks_note", units="、".join(b["units_over_limit"]) or "无"), "0"])
    return rows


UNIT_COLUMNS = [
    Column("单位", width=20), Column("2022 完成（亩）", "mu", 12), Column("2022 任务（亩）", "mu", 12),
    Column("2023 完成（亩）", "mu", 12), Column("2023 任务（亩）", "mu", 12), Column("平均容积率", "far", 10),
    Column("新增建筑面积", "area", 16, '#,##0" m²"'), Column("认定区块数（2022）", "int", 12), Column("认定区块数（2023）", "int", 12),
    Column("亩均税收 改造前（万元/亩）", "money", 16), Column("亩均税收 改造后（万元/亩）", "money", 16),
]


def _unit_row(u: dict) -> list:
    y = u["years"]
    return [u["unit_name"], y["2022"]["done_mu"], (y["2022"]["target"] or {}).get("renewal_mu"),
            y["2023"]["done_mu"], (y["2023"]["target"] or {}).get("renewal_mu"), u["average_far"]["after"],
            u["new_floor_area"]["done_m2"], u["blocks_approved"].get("2022", {}).get("count"),
            u["blocks_approved"].get("2023", {}).get("count"), u["tax_per_mu"]["before"], u["tax_per_mu"]["after"]]


PARCEL_COLUMNS = [
    Column("宗地编号", width=20), Column("单位", width=16), Column("类型", width=8), Column("区块", width=22),
    Column("完成日期", "date"), Column("面积（亩）", "mu", 10), Column("现状容积率", "far", 10),
    Column("规划容积率", "far", 10), Column("企业", width=30), Column("未满足的规则", width=40),
]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _num(value, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def chinese_date(value: str | dt.date | None) -> str:
    """2024-01-05 → 2024 年 1 月 5 日 (how a notice dates itself)."""
    if not value:
        return "—"
    d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{d.year} 年 {d.month} 月 {d.day} 日"


def issue_heading(year: int, issue: dict, *, issued: bool) -> str:
    """“2023 年第 3 期”, or on a preview the number it would get: “2023 年第 3 期（预览，尚未印发）”."""
    if not issue.get("issue_no"):
        return f"{year} 年（预览，尚未印发）"
    return f"{year} 年第 {issue['issue_no']} 期" + ("" if issued else "（预览，尚未印发）")


def indicator_lines(city: dict) -> list[tuple[str, str, str, str]]:
    """The citywide indicators as (label, done, target, note) text, shared by Excel and print."""
    lines = []
    for year, y in city["years"].items():
        t = y["target"]
        lines.append((f"{year} 年有机更新面积（亩）", _num(y["done_mu"]), _num(t["renewal_mu"]) if t else "未下达",
                      f"完成率 {_pct(y['completion_rate'])}；连片 {_num(y['done_contiguous_mu'])} 亩，零星 {_num(y['done_scattered_mu'])} 亩"))
    lines.append(("2022—2023 年累计（亩）", _num(city["programme"]["done_mu"]), _num(city["programme"]["target_mu"], 0),
                  f"完成率 {_pct(city['programme']['rate'])}"))
    nf = city["new_floor_area"]
    lines.append(("新增厂房建筑面积（m²）", _num(nf["done_m2"], 0), _num(nf.get("target_m2"), 0),
                  f"完成率 {_pct(nf.get('rate'))}；{nf['parcels_without_plan']} 宗完成宗地无规划建筑面积"))
    far = city["average_far"]
    lines.append(("改造区域平均容积率", _num(far["after"]), _num(far["target"], 1),
                  f"改造前 {_num(far['before'])}；{'达标' if far['met'] else '未达标' if far['met'] is not None else '暂无数据'}"))
    tax = city["tax_per_mu"]
    lines.append(("亩均税收（万元/亩）", f"改造后 {_num(tax['after'])}", f"改造前 {_num(tax['before'])}",
                  f"同一批 {tax['parcels']} 宗、{_num(tax['land_mu'])} 亩宗地比较"))
    for year, b in city["blocks_approved"].items():
        over = "、".join(b["units_over_limit"]) or "无"
        lines.append((f"{year} 年认定连片区块（个）", str(b["count"]), f"每单位 ≤ {b.get('limit', service.MAX_BLOCKS_PER_UNIT_PER_YEAR)}",
                      f"超过上限的单位：{over}"))
    return lines


# --------------------------------------------------------------------------------------------
# Printable HTML
# --------------------------------------------------------------------------------------------
PRINT_CSS = """
body { font-family: "Noto Serif CJK SC", "Songti SC", "SimSun", "Noto Sans CJK SC", serif; color: #1f2933; margin: 24px; }
h1 { font-size: 20px; text-align: center; margin: 0 0 4px; }
.meta { text-align: center; color: #52606d; font-size: 12px; margin-bottom: 12px; }
.toolbar { text-align: right; margin-bottom: 8px; }
.toolbar a, .toolbar button { font-size: 13px; margin-left: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 12px; margin-bottom: 16px; }
th, td { border: 1px solid #7b8794; padding: 3px 5px; }
th { background: #0b3d62; color: #fff; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.behind td { background: #fde2e1; }
tr.behind td.status { color: #b42318; font-weight: 700; }
tr.total td { font-weight: 700; border-top: 2px solid #1f2933; }
h2 { font-size: 15px; margin: 16px 0 6px; }
.note { font-size: 11px; color: #52606d; }
.masthead { text-align: center; border-bottom: 2px solid #b42318; padding-bottom: 8px; margin-bottom: 14px; }
.masthead .doc { font-size: 26px; font-weight: 700; color: #b42318; letter-spacing: 4px; }
.masthead .issue-no { font-size: 15px; margin: 6px 0 4px; }
.masthead .issue-line { display: flex; justify-content: space-between; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; }
.masthead .preview-tag { color: #b42318; }
.signoff { text-align: right; font-size: 14px; margin: 20px 0 0; }
.scroll { overflow-x: auto; }
@page { size: A4 landscape; margin: 12mm; }
@media screen and (max-width: 600px) {
  body { margin: 12px; }
  .masthead .doc { font-size: 20px; letter-spacing: 1px; }
  .masthead .issue-line { justify-content: center; }
}
@media print {
  body { margin: 0; }
  .toolbar { display: none; }
  .scroll { overflow: visible; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; }
  th { background: #fff !important; color: #000; border-bottom: 2px solid #000; }
  tr.behind td { background: #eee !important; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { page-break-after: avoid; }
}
"""


def to_html(data: dict, *, issued: bool, xlsx_url: str | None, facts: IssueFacts) -> str:
    """The report as a printable page (A4 landscape). ``facts`` are the issue facts: the stored ones of
    an issued report, or on a preview the number it would get now."""
    e = html.escape
    p = data["progress"]
    columns = table_columns(p)
    head = "".join(f"<th>{e(c.title)}</th>" for c in columns)
    body = []
    for r in p["rows"] + [p["citywide"]]:
        cells = _table_row(r, columns)
        cls = " ".join(c for c in ("behind" if r["behind_schedule"] else "", "total" if r["unit_code"] == "citywide" else "") if c)
        tds = []
        for i, v in enumerate(cells):
            if i == 9:
                text = _pct(v)
            elif i == 10:
                text = "—" if v is None else f"{v:+.2f}"
            elif i == 14:
                text = ("▲ " if r["behind_schedule"] else "") + str(v)
            elif isinstance(v, float):
                text = _num(v)
            else:
                text = "—" if v is None else str(v)
            klass = "status" if i == 14 else ("num" if isinstance(v, (int, float)) else "")
            tds.append(f'<td class="{klass}">{e(text)}</td>')
        body.append(f'<tr class="{cls}" data-unit="{e(r["unit_code"])}">{"".join(tds)}</tr>')
    ind_rows = "".join(
        f"<tr><td>{e(a)}</td><td class='num'>{e(b)}</td><td class='num'>{e(c)}</td><td>{e(d)}</td></tr>"
        for a, b, c, d in indicator_lines(data["indicators"]["citywide"])
    )
    parcels = "".join(
        f"<tr><td>{e(q['code'])}</td><td>{e(q['unit_name'])}</td><td>{e(q['track_label'])}</td>"
        f"<td>{e(q['block_name'] or '—')}</td><td>{e(q['renewed_on'])}</td><td class='num'>{_num(q['land_area_mu'])}</td>"
        f"<td class='num'>{_num(q['planned_far'])}</td><td>{e(q['enterprise_name'] or '（无）')}</td></tr>"
        for q in data["parcels_in_month"]
    ) or "<tr><td colspan='8'>本月无新完成宗地</td></tr>"
    behind = "、".join(p["units_behind"]) or "无"
    # 更正: records of this month about earlier days (absent from reports issued before migration 0011)
    corrections = "".join(f'<p class="note reporting">{e(line)}</p>\n' for line in reporting_lines(p)) + "".join(
        f'<p class="note correction">{e(c["text"])}</p>\n' for c in p.get("corrections", []))
    if issued:
        when = data.get("issued_at", "")[:16].replace("T", " ")
        status = f"印发人：{e(facts.issued_by_name or data.get('issued_by', ''))}（{e(when)}）"
    else:
        status = "预览（尚未印发，数字随数据变化）"
    heading = e(issue_heading(data["year"], {"issue_no": facts.issue_no}, issued=issued))
    if not issued:
        heading = heading.replace("（预览，尚未印发）", '<span class="preview-tag">（预览，尚未印发）</span>')
    signer = e(facts.signed_by) if facts.signed_by else "（印发时填写）"
    xlsx_link = f'<a href="{e(xlsx_url)}">下载 Excel</a>' if xlsx_url else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(data['title'])}</title>
<style>{PRINT_CSS}</style></head>
<body data-report-state="{'issued' if issued else 'preview'}">
<div class="toolbar"><a href="/progress">返回一表</a>{xlsx_link}<button type="button" onclick="window.print()">打印</button></div>
<header class="masthead">
<div class="doc">有机更新工作进度通报</div>
<div class="issue-no" data-issue-no="{facts.issue_no}">{heading}</div>
<div class="issue-line"><span class="issuing-body">{e(facts.issuing_body)}</span><span class="issue-date">{e(chinese_date(facts.issue_date))}</span></div>
</header>
<h1>{e(data['title'])}</h1>
<div class="meta">统计截至 {e(chinese_date(data['as_of']))} · 序时进度 {_pct(p['schedule_rate'])} · {status}</div>
<h2>一、各单位进度（按完成率排序）</h2>
<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>
<p class="note">滞后单位（累计完成率低于序时进度 {_pct(p['schedule_rate'])}）：{e(behind)}。完成面积为宗地登记面积（亩，按国家 2000 坐标系平面面积计算），
宗地状态达到“已完成”（或所在区块阶段达到“完成”）之日计入；位于已认定区块内的计为连片，其余计为零星。</p>
{corrections}<h2>二、主要指标（全市）</h2>
<div class="scroll"><table><thead><tr><th>指标</th><th>完成</th><th>目标</th><th>说明</th></tr></thead><tbody>{ind_rows}</tbody></table></div>
<h2>三、本月完成宗地</h2>
<div class="scroll"><table><thead><tr><th>宗地编号</th><th>单位</th><th>类型</th><th>区块</th><th>完成日期</th><th>面积（亩）</th><th>规划容积率</th><th>企业</th></tr></thead>
<tbody>{parcels}</tbody></table></div>
<p class="signoff">签发人：<span class="signed-by">{signer}</span></p>
</body></html>
"""
