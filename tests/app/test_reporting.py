"""The towns' monthly progress reports (月报, docs/assessment.md §5): an officer reports a parcel completed
with evidence, the 一表 counts it from the day it happened, the month is submitted, returned, withdrawn
from; evidence is type-checked from its bytes, size-capped and shown only to logged-in users; the Excel
sheet is all or nothing; a report about a closed month is a 补报 that never moves that month's figures."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from app.actionplans.calendar import Calendar
from app.progress import service
from tests.app.workflow_site import make_site

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.fixture()
def parcels(db_session):
    """Three not-started 135 亩 parcels of 崇福镇 (and one of 梧桐街道)."""
    codes = make_site(db_session, "chongfu", "RP-CF", [(0, 0), (400, 0), (800, 0)])
    other = make_site(db_session, "wutong", "RP-WT", [(0, 1000)])
    db_session.flush()
    return codes, other[0]


@pytest.fixture()
def officer(login_as):
    return login_as("unit_officer", "chongfu")


def first_of_month() -> dt.date:
    t = service.today()
    return dt.date(t.year, t.month, 1)


def upload(client, name: str, data: bytes, mime: str = "application/pdf"):
    return client.post("/api/progress/evidence", files={"file": (name, data, mime)})


def _row(monthly: dict, code: str) -> dict:
    return next(r for r in monthly["rows"] if r["unit_code"] == code)


def test_an_officer_reports_a_parcel_completed_with_evidence_and_the_yibiao_counts_it(officer, parcels, login_as):
    codes, _ = parcels
    day = first_of_month()
    before = officer.get("/api/progress/monthly", params={"year": day.year, "month": day.month}).json()

    ev = upload(officer, "竣工验收单.pdf", PDF)
    assert ev.status_code == 201, ev.text
    assert ev.json()["content_type"] == "application/pdf" and len(ev.json()["sha256"]) == 64
    r = officer.post("/api/progress/entries", json={"parcel_code": codes[0], "status": "completed",
                                                     "happened_on": day.isoformat(), "built_floor_area_m2": 190000,
                                                     "note": "已通过竣工验收", "evidence": [ev.json()["id"]]})
    assert r.status_code == 201, r.text
    entry = r.json()
    assert (entry["year"], entry["month"], entry["late"]) == (day.year, day.month, False)
    assert entry["status_label"] == "已完成" and entry["previous_status_label"] == "未启动"
    assert entry["evidence"][0]["filename"] == "竣工验收单.pdf" and entry["can_withdraw"]

    got = officer.get(entry["evidence"][0]["url"])
    assert got.status_code == 200 and got.content == PDF and got.headers["content-type"] == "application/pdf"

    after = officer.get("/api/progress/monthly", params={"year": day.year, "month": day.month}).json()
    mine, was = _row(after, "chongfu"), _row(before, "chongfu")
    assert mine["done_month_parcels"] == was["done_month_parcels"] + 1
    assert codes[0] in mine["parcel_codes_month"]
    trace = officer.get("/api/progress/parcels", params={"unit": "chongfu", "year": day.year, "month": day.month}).json()
    p = next(x for x in trace["parcels"] if x["code"] == codes[0])
    assert p["renewed_on"] == day.isoformat() and p["built_floor_area_m2"] == 190000.0
    # the history event: source report, happened on the reported day
    ev_row = officer.get("/api/progress/entries", params={"year": day.year, "month": day.month}).json()["entries"][0]
    assert ev_row["id"] == entry["id"]

    # evidence: anonymous 401, another unit's officer 404, the leadership may read it
    anon = login_as("planner")
    assert anon.get(entry["evidence"][0]["url"]).status_code == 200
    assert login_as("unit_officer", "wutong").get(entry["evidence"][0]["url"]).status_code == 404
    from fastapi.testclient import TestClient

    bare = TestClient(officer.app)
    assert bare.get(entry["evidence"][0]["url"]).status_code == 401


def test_bad_reports_are_refused_naming_the_field(officer, parcels):
    codes, other = parcels
    day = first_of_month()
    fake = upload(officer, "照片.pdf", b"just some text, not a pdf at all")
    assert fake.status_code == 415 and "照片.pdf" in fake.json()["detail"]
    big = upload(officer, "扫描件.pdf", PDF + b"0" * (10 * 1048576))
    assert big.status_code == 413 and "扫描件.pdf" in big.json()["detail"]
    assert upload(officer, "现场.png", PNG, "image/png").json()["type_label"] == "PNG"

    def post(**body):
        return officer.post("/api/progress/entries", json={"happened_on": day.isoformat(), **body})

    r = post(parcel_code=codes[0], status="completed")
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["evidence"]
    r = post(parcel_code=other, status="rebuilding")
    assert r.status_code == 422 and "不属于崇福镇" in r.json()["errors"][0]["message"]
    r = post(parcel_code=codes[0], status="rebuilding", happened_on=(service.today() + dt.timedelta(days=1)).isoformat())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "happened_on"
    r = post(parcel_code=codes[0], status="done")
    assert r.status_code == 422 and "已完成" in r.json()["errors"][0]["message"]
    r = post(parcel_code="NO-SUCH", status="rebuilding")
    assert r.status_code == 422 and "NO-SUCH" in r.json()["errors"][0]["message"]
    r = post(parcel_code=codes[0], status="not_started")
    assert r.status_code == 422 and "没有需要报送的变化" in r.json()["errors"][0]["message"]
    assert post(parcel_code=codes[0], status="改造中").status_code == 201  # the Chinese name is understood
    r = post(parcel_code=codes[0], status="vacating")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note"  # backwards needs a reason


def test_submit_return_withdraw(officer, parcels, login_as):
    codes, _ = parcels
    day = first_of_month()
    admin = login_as("admin")
    r = officer.post("/api/progress/entries", json={"parcel_code": codes[1], "status": "rebuilding",
                                                     "happened_on": day.isoformat()})
    entry = r.json()
    sub = officer.post("/api/progress/submissions", json={"year": day.year, "month": day.month, "summary": "本月开工 1 宗"})
    assert sub.status_code == 201 and sub.json()["status_label"] == "已报送" and sub.json()["entries"] == 1
    assert officer.post("/api/progress/submissions", json={"year": day.year, "month": day.month}).status_code == 409
    locked = officer.post("/api/progress/entries", json={"parcel_code": codes[2], "status": "rebuilding",
                                                          "happened_on": day.isoformat()})
    assert locked.status_code == 409 and "已报送" in locked.json()["detail"]
    assert officer.delete(f"/api/progress/entries/{entry['id']}").status_code == 409

    overview = admin.get("/api/progress/reporting", params={"year": day.year, "month": day.month}).json()
    cf = next(u for u in overview["units"] if u["unit_code"] == "chongfu")
    assert cf["status"] == "submitted" and cf["entries"] == 1
    monthly = admin.get("/api/progress/monthly", params={"year": day.year, "month": day.month}).json()
    assert _row(monthly, "chongfu")["reporting_status"] == "submitted"
    assert "崇福镇" not in monthly["reporting"]["not_submitted"] and monthly["reporting"]["provisional"]
    page = admin.get(f"/progress/preview/{day.year}/{day.month}").text
    assert "数字为暂定" in page and "<th>月报</th>" in page and "已报送" in page

    assert admin.post(f"/api/progress/submissions/{sub.json()['id']}/return", json={"reason": ""}).status_code == 400
    back = admin.post(f"/api/progress/submissions/{sub.json()['id']}/return", json={"reason": "请补充佐证材料"})
    assert back.status_code == 200 and back.json()["status_label"] == "已退回"
    mine = officer.get("/api/progress/reporting/open").json()
    this = next(m for m in mine["months"] if (m["year"], m["month"]) == (day.year, day.month))
    assert this["submission"]["return_reason"] == "请补充佐证材料"

    gone = officer.delete(f"/api/progress/entries/{entry['id']}")
    assert gone.status_code == 200 and gone.json()["withdrawn"]
    state = officer.get("/api/progress/reportable").json()
    assert next(p for p in state["parcels"] if p["code"] == codes[1])["status"] == "not_started"
    events = officer.get("/api/progress/entries", params={"year": day.year, "month": day.month}).json()["entries"]
    assert events[0]["withdrawn"] and not events[0]["can_withdraw"]
    again = officer.post("/api/progress/submissions", json={"year": day.year, "month": day.month})
    assert again.status_code == 201 and again.json()["entries"] == 0


def test_a_report_about_a_closed_month_is_a_late_record_that_never_moves_it(officer, parcels, db_session):
    codes, _ = parcels
    today = service.today()
    closed = (dt.date(today.year, today.month, 1) - dt.timedelta(days=80)).replace(day=10)
    assert Calendar(db_session).deadline(closed.year, closed.month).is_closed(today)
    params = {"year": closed.year, "month": closed.month}
    before = officer.get("/api/progress/monthly", params=params).content
    ev = upload(officer, "验收.pdf", PDF).json()
    r = officer.post("/api/progress/entries", json={"parcel_code": codes[2], "status": "completed",
                                                     "happened_on": closed.isoformat(), "evidence": [ev["id"]]})
    assert r.status_code == 201, r.text
    oldest_open = Calendar(db_session).open_months(today)[0]
    assert r.json()["late"] and (r.json()["year"], r.json()["month"]) == (oldest_open.year, oldest_open.month)
    assert officer.get("/api/progress/monthly", params=params).content == before
    now = officer.get("/api/progress/monthly", params={"year": oldest_open.year, "month": oldest_open.month}).json()
    assert any(c["parcel_code"] == codes[2] for c in now["corrections"])


def test_deadlines_and_issuing(officer, login_as, db_session):
    admin = login_as("admin")
    today = service.today()
    d = Calendar(db_session).open_months(today)[-1]  # the current month
    later = d.due_on + dt.timedelta(days=3)
    r = admin.put(f"/api/progress/deadlines/{d.year}/{d.month}", json={"due_on": later.isoformat(), "reason": "春节假期"})
    assert r.status_code == 200 and r.json()["due_on"] == later.isoformat() and r.json()["deadline_moved"]
    assert admin.put(f"/api/progress/deadlines/{d.year}/{d.month}",
                     json={"due_on": (today - dt.timedelta(days=1)).isoformat(), "reason": "x"}).status_code == 400
    old = (dt.date(today.year, today.month, 1) - dt.timedelta(days=80))
    r = admin.put(f"/api/progress/deadlines/{old.year}/{old.month}", json={"due_on": later.isoformat(), "reason": "补报"})
    assert r.status_code == 409 and "不能再调整" in r.json()["detail"]
    assert officer.put(f"/api/progress/deadlines/{d.year}/{d.month}",
                       json={"due_on": later.isoformat(), "reason": "x"}).status_code == 403
    r = admin.post("/api/progress/reports", json={"year": d.year, "month": d.month, "signed_by": "王主任"})
    assert r.status_code == 400 and "截止" in r.json()["detail"]


def test_excel_sheet_all_or_nothing(officer, parcels):
    codes, other = parcels
    day = first_of_month()
    t = officer.get("/api/progress/entries/template.xlsx", params={"year": day.year, "month": day.month})
    assert t.status_code == 200
    wb = load_workbook(io.BytesIO(t.content))
    ws = wb.active
    rows = {ws.cell(row=r, column=1).value: r for r in range(4, ws.max_row + 1)}
    assert codes[0] in rows and other not in rows
    ws.cell(row=rows[codes[0]], column=6, value="已完成")
    ws.cell(row=rows[codes[0]], column=7, value=day)
    ws.cell(row=rows[codes[0]], column=8, value=200000)
    ws.cell(row=rows[codes[0]], column=9, value="验收单.pdf")
    ws.cell(row=rows[codes[1]], column=6, value="改造中")
    ws.cell(row=rows[codes[1]], column=7, value=day.isoformat())
    bad_row = ws.max_row + 1
    ws.cell(row=bad_row, column=1, value="NO-SUCH-PARCEL")
    ws.cell(row=bad_row, column=6, value="改造中")
    ws.cell(row=bad_row, column=7, value=day.isoformat())
    buf = io.BytesIO()
    wb.save(buf)

    def stage(data: bytes):
        return officer.post("/api/progress/entries/imports", data={"year": str(day.year), "month": str(day.month)},
                            files=[("file", ("月报.xlsx", data, "application/octet-stream")),
                                   ("evidence", ("验收单.pdf", PDF, "application/pdf"))])

    r = stage(buf.getvalue())
    assert r.status_code == 201, r.text
    report = r.json()
    assert not report["can_commit"] and report["counts"]["problems"] == 1
    bad = next(x for x in report["rows"] if x["problems"])
    assert bad["row"] == bad_row and f"第 {bad_row} 行" in bad["problems"][0]["message"]
    refused = officer.post(f"/api/progress/entries/imports/{report['id']}/commit")
    assert refused.status_code == 422 and str(bad_row) in refused.json()["detail"]
    state = {p["code"]: p["status"] for p in officer.get("/api/progress/reportable").json()["parcels"]}
    assert state[codes[0]] == "not_started" and state[codes[1]] == "not_started"  # nothing was written

    ws.delete_rows(bad_row)
    buf = io.BytesIO()
    wb.save(buf)
    report = stage(buf.getvalue()).json()
    assert report["can_commit"] and report["counts"]["ok"] == 2, report
    done = officer.post(f"/api/progress/entries/imports/{report['id']}/commit")
    assert done.status_code == 200 and done.json()["entries"] == 2
    assert officer.post(f"/api/progress/entries/imports/{report['id']}/commit").status_code == 409
    state = {p["code"]: p for p in officer.get("/api/progress/reportable").json()["parcels"]}
    assert state[codes[0]]["status"] == "completed" and state[codes[0]]["built_floor_area_m2"] == 200000.0
    entries = officer.get("/api/progress/entries", params={"year": day.year, "month": day.month}).json()["entries"]
    assert {e["source"] for e in entries} == {"excel"} and any(e["evidence"] for e in entries)

    not_xlsx = stage(b"plain text")
    assert not_xlsx.status_code == 422 and "Excel" in not_xlsx.json()["detail"]


def test_history_events_carry_the_reported_day(officer, parcels, db_session):
    codes, _ = parcels
    day = first_of_month()
    officer.post("/api/progress/entries", json={"parcel_code": codes[0], "status": "vacating",
                                                "happened_on": day.isoformat()})
    row = db_session.execute(text("SELECT e.source, e.happened_on, e.recorded_by FROM parcel_status_events e "
                                  "JOIN parcels p ON p.id = e.parcel_id WHERE p.code = :c ORDER BY e.id DESC LIMIT 1"),
                             {"c": codes[0]}).one()
    assert (row.source, row.happened_on, row.recorded_by) == ("report", day, "unit_officer_chongfu")


def test_the_demo_months_of_2023_were_reported(client):
    """The seeded 月报 of Sep–Dec 2023: 屠甸镇 missed December, 石门镇's November was returned once."""
    dec = client.get("/api/progress/monthly", params={"year": 2023, "month": 12}).json()
    assert _row(dec, "tudian")["reporting_status"] == "overdue"
    assert _row(dec, "chongfu")["reporting_status"] == "submitted"
    assert dec["reporting"]["not_submitted"] == ["屠甸镇"] and not dec["reporting"]["provisional"]
    june = client.get("/api/progress/monthly", params={"year": 2023, "month": 6}).json()
    assert {r["reporting_status"] for r in june["rows"]} == {"not_required"} and june["reporting"]["not_submitted"] == []


def test_a_closed_month_with_only_a_returned_report_is_overdue_for_everyone(db_session):
    """Returned and never submitted again before the deadline: that unit (and every other) is 逾期未报送."""
    from app.models import Unit
    from app.progress.models import ProgressSubmission
    from app.progress.submissions import month_state

    today = service.today()
    old = dt.date(today.year, today.month, 1) - dt.timedelta(days=100)
    unit = db_session.query(Unit).filter_by(code="wutong").one()
    db_session.add(ProgressSubmission(unit_id=unit.id, year=old.year, month=old.month, status="returned",
                                      submitted_at=dt.datetime.now(dt.UTC), submitted_by="x", return_reason="补充"))
    db_session.flush()
    state = month_state(db_session, old.year, old.month, today)
    assert state.status(unit.id) == "overdue" and state.required


def test_the_office_reads_every_units_reports(officer, parcels, login_as):
    codes, _ = parcels
    day = first_of_month()
    officer.post("/api/progress/entries", json={"parcel_code": codes[0], "status": "vacating",
                                                "happened_on": day.isoformat()})
    admin = login_as("admin")
    listed = admin.get("/api/progress/entries", params={"year": day.year, "month": day.month}).json()["entries"]
    assert any(e["parcel_code"] == codes[0] for e in listed)
    sub = officer.post("/api/progress/submissions", json={"year": day.year, "month": day.month}).json()
    again = admin.get("/api/progress/reporting", params={"year": day.year, "month": day.month}).json()
    mine = next(u for u in again["units"] if u["unit_code"] == "chongfu")["submission"]
    assert mine["submitted_at"].endswith("+08:00") and sub["submitted_at"].endswith("+08:00")


def test_a_late_record_goes_to_the_first_open_month_not_yet_submitted(officer, parcels, db_session):
    codes, _ = parcels
    today = service.today()
    months = Calendar(db_session).open_months(today)
    closed = (dt.date(today.year, today.month, 1) - dt.timedelta(days=80)).replace(day=12)
    first = months[0]
    assert officer.post("/api/progress/submissions", json={"year": first.year, "month": first.month}).status_code == 201
    r = officer.post("/api/progress/entries", json={"parcel_code": codes[1], "status": "rebuilding",
                                                     "happened_on": closed.isoformat()})
    if len(months) == 1:  # only the current month is open, and it is submitted
        assert r.status_code == 409
    else:
        assert r.status_code == 201 and r.json()["late"]
        assert (r.json()["year"], r.json()["month"]) == (months[1].year, months[1].month)
