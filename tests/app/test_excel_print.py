"""Every workbook the service writes prints: A4 landscape, one page wide, the header row repeated, a
title and a date line above the table, numbers stored as numbers with fixed decimals, codes shown
as their Chinese labels (app/core/excel.py). Each workbook is downloaded through the API."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.enums import Classification
from app.models import Enterprise, Parcel
from app.progress import service as progress_service
from tests.browser.words import workbook_offending

MU, FAR, DATE = "#,##0.00", "0.00", "yyyy-mm-dd"
CHINESE_DATE = re.compile(r"\d{4} ?年 ?\d{1,2} ?月")
CODE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")  # clear_out, min_far, not_started …


def _header_row(ws) -> int:
    match = re.fullmatch(r"\$?(\d+):\$?(\d+)", ws.print_title_rows or "")
    assert match and match[1] == match[2], f"{ws.title}: no repeated header row"
    return int(match[1])


def check_workbook(content: bytes, numbers: dict[str, dict[str, str | tuple]], min_rows: dict[str, int] | None = None):
    """``numbers``: sheet → {column title → number format(s)}; every filled cell there must be a number
    (a date for DATE) in that format. ``min_rows``: sheet → the least number of table rows."""
    book = load_workbook(io.BytesIO(content))
    assert workbook_offending(content) == []
    for ws in book.worksheets:
        setup = ws.page_setup
        assert (str(setup.paperSize), setup.orientation, setup.fitToWidth, setup.fitToHeight) == \
            (ws.PAPERSIZE_A4, "landscape", 1, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
        header = _header_row(ws)
        assert header >= 3 and isinstance(ws["A1"].value, str) and ws["A1"].font.b, ws.title
        above = [str(ws.cell(r, c).value) for r in range(2, header) for c in range(1, ws.max_column + 1)
                 if ws.cell(r, c).value]
        assert any(CHINESE_DATE.search(t) for t in above), f"{ws.title}: no date line"
        titles = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(header, c).value}
        data = [r for r in range(header + 1, ws.max_row + 1)
                if sum(ws.cell(r, c).value is not None for c in titles.values()) >= 2]
        assert len(data) >= (min_rows or {}).get(ws.title, 0), ws.title
        for title, fmt in numbers.get(ws.title, {}).items():
            assert title in titles, f"{ws.title}: no column {title}"
            cells = [ws.cell(r, titles[title]) for r in data]
            filled = [c for c in cells if c.value is not None and c.value != "—"]
            assert filled or not data, f"{ws.title} {title}: empty column"
            for c in filled:
                expected = (dt.datetime, dt.date) if fmt == DATE else (int, float)
                assert isinstance(c.value, expected) and not isinstance(c.value, bool), \
                    f"{ws.title} {c.coordinate}: {c.value!r} is not a number"
                assert c.number_format in ((fmt,) if isinstance(fmt, str) else fmt), \
                    f"{ws.title} {c.coordinate}: {c.number_format}"
        for row in ws.iter_rows(values_only=True):
            for v in row:
                assert not (isinstance(v, str) and CODE.match(v)), f"{ws.title}: code {v!r} in a cell"
    return book


def test_monthly_report(client):
    r = client.get("/api/progress/monthly.xlsx", params={"year": 2022, "month": 10})
    assert r.status_code == 200
    book = check_workbook(r.content, {
        "月度通报": {"年度任务（亩）": MU, "累计完成（亩）": MU, "完成率": "0.00%", "较上月（百分点）": FAR,
                 "平均容积率": FAR},
        "主要指标": {"完成": (MU, "#,##0", FAR, "0"), "完成率": "0.00%"},
        "各单位指标": {"2022 完成（亩）": MU, "平均容积率": FAR, "认定区块数（2022）": "0"},
        "本月完成宗地": {"完成日期": DATE, "面积（亩）": MU, "规划容积率": FAR},
    }, {"月度通报": 10, "主要指标": 5, "本月完成宗地": 1})
    assert book.sheetnames == ["月度通报", "主要指标", "各单位指标", "本月完成宗地"]
    ws = book["月度通报"]
    fengming = next(r for r in ws.iter_rows(values_only=True) if r[1] == "凤鸣街道")
    assert fengming[6] == 66.71 and fengming[9] == 0.6671 and fengming[14] == "滞后"


def test_evaluation(login_as):
    admin = login_as("admin")
    year = next(y for y in range(2023, 2019, -1)
                if admin.get(f"/api/evaluation/{y}").status_code == 200 and admin.get(f"/api/evaluation/{y}").json()["run"])
    r = admin.get(f"/api/evaluation/{year}/export.xlsx")
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    groups = [name for name in book.sheetnames if name != "不参评"]
    check_workbook(r.content, {**{g: {"排名": "0", "总分": "0.00", "用地（亩）": MU} for g in groups},
                               "不参评": {"用地（亩）": MU}}, {groups[0]: 1})


def test_reporting_template(login_as):
    officer = login_as("unit_officer", "chongfu")
    day = progress_service.today()
    r = officer.get("/api/progress/entries/template.xlsx", params={"year": day.year, "month": day.month})
    assert r.status_code == 200
    book = check_workbook(r.content, {"月报": {"用地面积（亩）": MU}}, {"月报": 1})
    ws = book["月报"]
    header = _header_row(ws)
    assert [ws.cell(header, c).value for c in (1, 6, 7)] == ["宗地编号", "新状态", "发生日期"]
    assert ws.cell(header + 1, 7).number_format == DATE  # the date to fill is a date before anyone types


@pytest.fixture()
def referred(db_session, login_as):
    """A demo enterprise with parcels put on the 整治清退 list and referred to 十剑联动 (rolled back)."""
    e = db_session.scalar(select(Enterprise).join(Parcel, Parcel.enterprise_id == Enterprise.id)
                          .where(Enterprise.credit_code.is_not(None)).order_by(Enterprise.credit_code).limit(1))
    from app.auth.models import User

    admin = login_as("admin", username="admin_zhang")
    db_session.scalar(select(User).where(User.username == "admin_zhang")).display_name = "张科长"  # the lists name people
    db_session.flush()
    r = admin.put(f"/api/enterprises/{e.credit_code}/classification", headers={"If-Match": "*"},
                  json={"classification": Classification.CLEAR_OUT.value, "reason": "亩均税收长期低效",
                        "decided_on": "2023-02-01"})
    assert r.status_code == 200, r.text
    r = admin.post(f"/api/enterprises/{e.credit_code}/referrals", json={"reason": "拒不配合整治", "referred_on": "2023-03-01"})
    assert r.status_code == 201, r.text
    return admin


@pytest.mark.parametrize(("path", "dates"), [("clearance", ("分类日期",)), ("enforcement", ("移交日期",))])
def test_governance_lists(referred, path, dates):
    r = referred.get(f"/api/exports/{path}.xlsx")
    assert r.status_code == 200
    name = load_workbook(io.BytesIO(r.content)).sheetnames[0]
    check_workbook(r.content, {name: {"序号": "0", "用地面积（亩）": MU, **dict.fromkeys(dates, DATE)}}, {name: 1})


@pytest.mark.parametrize(("url", "params", "numbers"), [
    ("/api/blocks/TX2022-CF-01/export", {"format": "xlsx"},
     {"区块": {"面积亩": MU, "规划容积率": FAR}, "宗地": {"用地亩": MU, "现状容积率": FAR}, "企业": {"用地面积（亩）": MU}}),
    ("/api/export", {"layer": "parcels", "format": "xlsx", "block": "TX2022-CF-01"}, None),
], ids=["block", "layer"])
def test_map_exports(client, url, params, numbers):
    """The block and layer exports (app/mapapi) write through the same core."""
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    name = load_workbook(io.BytesIO(r.content)).sheetnames[0]
    check_workbook(r.content, numbers or {name: {"用地亩": MU, "现状容积率": FAR}}, {name: 1})
