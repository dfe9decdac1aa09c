"""一表: progress, indicators, monthly report snapshots and scores on the seeded demo data.

Expectations are worked out by hand from the stored figures of a few parcels (see
each test's comment); docs/assessment.md repeats the score example.

凤鸣街道 (fengming), 2022 target 100 亩 (连片 60 + 零星 40), two scattered completions:
  330483-FM-0002  23.12 亩  planned FAR 2.3691  completed 2022-03-10
  330483-FM-0012  43.59 亩  planned FAR 2.0539  completed 2022-10-24
石门镇 (shimen), 2022 target 250 亩 (170 + 80), five completions in 石门羔羊区块 (approved) in 2022:
  SM-0022 8.15, SM-0025 10.67, SM-0023 10.63, SM-0013 11.32, SM-0010 10.91 → 51.68 亩;
  the block's parcels total 319.93 亩.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.enums import ParcelStatus
from app.models import Parcel
from app.progress import service
from app.progress.models import ProgressReport
from tests.browser.words import offending, workbook_offending



@pytest.fixture()
def admin(login_as):
    return login_as("admin", username="admin_zhang")


def _row(report: dict, unit_code: str) -> dict:
    return next(r for r in report["rows"] if r["unit_code"] == unit_code)


# --- a month's progress ------------------------------------------------------------------------
def test_a_months_progress_for_fengming(client):
    body = client.get("/api/progress/monthly", params={"year": 2022, "month": 10}).json()
    r = _row(body, "fengming")
    assert body["as_of"] == "2022-10-31" and body["previous_as_of"] == "2022-09-30"
    assert r["target"] == {"renewal_mu": 100.0, "contiguous_mu": 60.0, "scattered_mu": 40.0}
    assert r["done_month_mu"] == 43.59 and r["parcel_codes_month"] == ["330483-FM-0012"]
    assert r["done_ytd_mu"] == 66.71  # 23.12 + 43.59
    assert r["done_ytd_scattered_mu"] == 66.71 and r["done_ytd_contiguous_mu"] == 0.0
    assert r["completion_rate"] == 0.6671  # 66.71 / 100
    assert r["scattered_rate"] == 1.6678  # 66.71 / 40
    assert r["previous_done_ytd_mu"] == 23.12 and r["change_rate"] == 0.4359
    assert r["average_far"] == 2.1631  # (2.3691 × 23.12 + 2.0539 × 43.59) / 66.71
    # ranked by completion rate: fengming leads October 2022 (66.71 %), 崇福 next (79.69 / 360)
    assert [x["unit_code"] for x in body["rows"][:2]] == ["fengming", "chongfu"]
    assert body["rows"][0]["rank"] == 1


def test_january_change_starts_from_zero(client):
    body = client.get("/api/progress/monthly", params={"year": 2023, "month": 1}).json()
    r = _row(body, "fengming")
    assert r["previous_done_ytd_mu"] == 0.0 and body["previous_as_of"] is None
    assert r["target"]["renewal_mu"] == 100.0 and body["units_without_target"] == []  # the demo's 2023 targets
    body = client.get("/api/progress/monthly", params={"year": 2024, "month": 1}).json()
    r = _row(body, "fengming")
    assert r["target"] is None and r["completion_rate"] is None and r["rank"] is None  # 2024 not yet set
    assert "凤鸣街道" in body["units_without_target"]


def test_the_dashboard_opens_on_the_latest_month_with_targets_and_data(client, admin, db_session):
    body = client.get("/api/progress/periods").json()
    assert body["years"] == [2022, 2023]  # the years with targets, not a fixed list
    assert (body["default_year"], body["default_month"]) == (2023, 12)  # the demo's last completions
    # Earlier in 2023, the month of the latest completion so far (June: two parcels), not the empty current one.
    assert service.periods(db_session, now=dt.date(2023, 7, 3)) | {"today": None} == {
        "years": [2022, 2023], "default_year": 2023, "default_month": 6, "today": None}
    assert admin.put("/api/progress/targets/fengming/2024", json={"contiguous_mu": 5, "scattered_mu": 5}).status_code == 200
    body = client.get("/api/progress/periods").json()
    assert body["years"] == [2022, 2023, 2024]
    assert (body["default_year"], body["default_month"]) == (2023, 12)  # 2024 has a target but nothing renewed


def test_expected_by_schedule_is_multiplied_first_and_rounded_once(client):
    """序时应完成 = target × 10/12 at the end of October: 濮院 360 亩 → 300.00, the city's 3,000 亩 → 2,500.00
    (not 360 × 0.8333 = 299.99 and 3,000 × 0.8333 = 2,499.90)."""
    body = client.get("/api/progress/monthly", params={"year": 2023, "month": 10}).json()
    assert _row(body, "puyuan")["target"]["renewal_mu"] == 360.0
    assert _row(body, "puyuan")["expected_mu"] == 300.0
    assert body["citywide"]["target"]["renewal_mu"] == 3000.0 and body["citywide"]["expected_mu"] == 2500.0
    assert body["schedule_rate"] == 0.8333  # reported to 4 places, never multiplied in that form
    city = body["citywide"]
    assert city["gap_mu"] == round(2500 - city["done_ytd_mu"], 2)


# --- behind schedule ---------------------------------------------------------------------------
def test_unit_behind_schedule_and_configurable_schedule(client, admin):
    body = client.get("/api/progress/monthly", params={"year": 2022, "month": 10}).json()
    assert body["schedule_rate"] == 0.8333  # linear: 10 / 12
    r = _row(body, "fengming")
    assert r["behind_schedule"] is True  # 66.71 % < 83.33 %
    assert r["expected_mu"] == 83.33 and r["gap_mu"] == 16.62  # 100 × 10/12 − 66.71
    assert "凤鸣街道" in body["units_behind"]

    # An admin sets a front-loaded-late schedule: 60 % due by the end of October.
    schedule = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.6, 0.8, 1.0]
    config = client.get("/api/progress/config/2022").json()["config"]
    res = admin.put("/api/progress/config/2022", json={**config, "schedule": schedule})
    assert res.status_code == 200, res.text
    body = client.get("/api/progress/monthly", params={"year": 2022, "month": 10}).json()
    r = _row(body, "fengming")
    assert body["schedule_rate"] == 0.6 and r["behind_schedule"] is False  # 66.71 % ≥ 60 %
    assert _row(body, "shimen")["behind_schedule"] is True  # 51.68 / 250 = 20.67 % < 60 %


# --- indicators --------------------------------------------------------------------------------
def test_area_weighted_far_and_tax_per_mu(client):
    ind = client.get("/api/progress/indicators", params={"as_of": "2022-12-31"}).json()
    fm = next(u for u in ind["units"] if u["unit_code"] == "fengming")
    assert fm["average_far"]["after"] == 2.1631 and fm["average_far"]["met"] is True
    assert fm["average_far"]["land_mu"] == 66.71
    # before: (0.9541 × 23.12 + 0.4345 × 43.59) / 66.71
    assert fm["average_far"]["before"] == pytest.approx((0.9541 * 23.12 + 0.4345 * 43.59) / 66.71, abs=1e-4)
    # new floor area: (36521 − 14708) + (59685 − 12625)
    assert fm["new_floor_area"]["done_m2"] == 68873.0
    assert fm["years"]["2022"]["done_mu"] == 66.71 and fm["years"]["2022"]["completion_rate"] == 0.6671

    ind = client.get("/api/progress/indicators", params={"as_of": "2023-12-31"}).json()
    sm = next(u for u in ind["units"] if u["unit_code"] == "shimen")
    # Only the five 2022 completions have a year-after (2023) tax record by 2023.
    # Before: 107.70 + 193.70 × 10.67 / 29.80 (the enterprise's two parcels) + 92.50 + 57.80 + 0 (vacant)
    before = (107.70 + 193.70 * 10.67 / 29.80 + 92.50 + 57.80) / 51.68
    after = (422.8 + 393.6 + 247.3 + 138.8 + 359.2) / 51.68
    assert sm["tax_per_mu"]["parcels"] == 5 and sm["tax_per_mu"]["land_mu"] == 51.68
    assert sm["tax_per_mu"]["before"] == round(before, 2) == 6.33
    assert sm["tax_per_mu"]["after"] == round(after, 2) == 30.22
    assert sm["blocks_approved"]["2022"]["count"] == 1 and sm["blocks_approved"]["2022"]["exceeded"] is False
    city = ind["citywide"]
    assert city["programme"]["target_mu"] == 6000.0
    assert city["new_floor_area"]["target_m2"] == 4000000.0
    assert city["blocks_approved"]["2022"] == {"count": 6, "limit": 2, "units_over_limit": []}
    assert city["years"]["2022"]["target"] == {"renewal_mu": 3000.0, "contiguous_mu": 2000.0, "scattered_mu": 1000.0}


def test_far_average_uses_stored_figures_only(client, db_session):
    """The citywide FAR equals Σ(planned_far × land_area_mu) / Σ land_area_mu over renewed parcels in SQL."""
    expected = db_session.scalar(text(
        "SELECT round(sum(planned_far * land_area_mu) / sum(land_area_mu), 4) FROM parcels "
        "WHERE status = 'completed' AND planned_far IS NOT NULL AND completed_on <= '2023-12-31'"
    ))
    ind = client.get("/api/progress/indicators", params={"as_of": "2023-12-31"}).json()
    assert ind["citywide"]["average_far"]["after"] == float(expected)


def test_blocks_over_the_yearly_limit_are_flagged(client, db_session):
    db_session.execute(text(
        "UPDATE renewal_blocks SET designated_year = 2022 WHERE code IN ('TX2022-CF-01', 'TX2022-CF-02')"))
    db_session.execute(text(
        "INSERT INTO renewal_blocks (code, name, unit_id, designated_year, stage, review_status, geom, area_mu) "
        "SELECT 'TX2022-CF-03', '崇福测试区块', unit_id, 2022, 'planned', 'approved', geom, area_mu "
        "FROM renewal_blocks WHERE code = 'TX2022-CF-01'"))
    ind = client.get("/api/progress/indicators", params={"as_of": "2022-12-31"}).json()
    cf = next(u for u in ind["units"] if u["unit_code"] == "chongfu")
    assert cf["blocks_approved"]["2022"]["count"] == 3 and cf["blocks_approved"]["2022"]["exceeded"] is True
    assert ind["citywide"]["blocks_approved"]["2022"]["units_over_limit"] == ["chongfu"]


# --- traceability ------------------------------------------------------------------------------
def test_figures_trace_down_to_parcels(client):
    body = client.get("/api/progress/parcels", params={"unit": "石门镇", "year": 2022, "track": "contiguous"}).json()
    assert body["count"] == 5 and body["land_area_mu"] == 51.68
    assert {p["code"] for p in body["parcels"]} == {
        "330483-SM-0022", "330483-SM-0025", "330483-SM-0023", "330483-SM-0013", "330483-SM-0010"}
    assert all(p["block_code"] == "TX2022-SM-01" and p["track_label"] == "连片" for p in body["parcels"])
    oct_ = client.get("/api/progress/parcels", params={"unit": "fengming", "year": 2022, "month": 10}).json()
    assert [p["code"] for p in oct_["parcels"]] == ["330483-FM-0012"]


def test_bad_parameters_get_chinese_4xx(client):
    res = client.get("/api/progress/monthly", params={"year": 2022, "month": 13})
    assert res.status_code == 422 and "月份" in res.json()["detail"]
    res = client.get("/api/progress/parcels", params={"unit": "nowhere"})
    assert res.status_code == 404 and res.json()["detail"] == "没有代码为“nowhere”的镇（街道、开发区）"
    res = client.get("/api/progress/parcels", params={"month": 3})
    assert res.status_code == 400 and res.json()["errors"][0]["field"] == "month"


# --- completion dates --------------------------------------------------------------------------
def test_completion_date_is_stamped_and_cleared_by_the_database(db_session):
    parcel = db_session.scalar(select(Parcel).where(Parcel.code == "330483-DM-0001"))
    assert parcel.status != ParcelStatus.COMPLETED and parcel.completed_on is None
    parcel.status = ParcelStatus.COMPLETED
    db_session.flush()
    db_session.refresh(parcel)
    assert parcel.completed_on == service.today()
    parcel.status = ParcelStatus.REBUILDING
    db_session.flush()
    db_session.refresh(parcel)
    assert parcel.completed_on is None
    # A completed parcel rewritten without a date keeps its date.
    fm = db_session.scalar(select(Parcel).where(Parcel.code == "330483-FM-0002"))
    db_session.execute(text("UPDATE parcels SET completed_on = NULL, status = 'completed' WHERE code = '330483-FM-0002'"))
    db_session.refresh(fm)
    assert fm.completed_on == dt.date(2022, 3, 10)


def test_completion_date_on_insert_whatever_writes_the_row(db_session):
    """The INSERT trigger (WHEN clause since migration 0006) stamps completed rows, clears dates on others."""
    db_session.execute(text(
        "INSERT INTO parcels (code, unit_id, geom, land_area_mu, status, completed_on)"
        " SELECT v.code, u.id, ST_Multi(ST_Buffer(ST_PointOnSurface(u.geom), 0.0005)), 1, v.status, v.day"
        " FROM units u, (VALUES ('INS-1', 'completed', NULL::date), ('INS-2', 'completed', DATE '2022-06-01'),"
        "  ('INS-3', 'rebuilding', DATE '2022-06-01'), ('INS-4', 'not_started', NULL::date)) AS v(code, status, day)"
        " WHERE u.code = 'wutong'"))
    got = dict(db_session.execute(text("SELECT code, completed_on FROM parcels WHERE code LIKE 'INS-%'")).all())
    assert got == {"INS-1": service.today(), "INS-2": dt.date(2022, 6, 1), "INS-3": None, "INS-4": None}


def test_block_completion_renews_its_parcels_on_that_day(client, db_session):
    # Loaded as history (source seed): it counts from the day it happened, not from today.
    db_session.execute(text("SELECT set_config('cloudmap.event_source', 'seed', true)"))
    db_session.execute(text(
        "UPDATE renewal_blocks SET stage = 'completed', completed_on = '2023-05-20' WHERE code = 'TX2022-SM-01'"))
    body = client.get("/api/progress/parcels", params={"unit": "shimen", "year": 2023, "month": 5}).json()
    codes = {p["code"] for p in body["parcels"]}
    # The block's 26 parcels less the 5 renewed in 2022; the 4 with later dates of their own
    # (June–December 2023) now count from the block's day, the earlier of the two.
    assert len(codes) == 21 and {"330483-SM-0009", "330483-SM-0017"} <= codes
    assert all(p["renewed_on"] == "2023-05-20" for p in body["parcels"])


# --- targets -----------------------------------------------------------------------------------
def test_admin_sets_2024_targets(client, admin, login_as):
    assert client.put("/api/progress/targets/fengming/2024", json={"contiguous_mu": 50, "scattered_mu": 30}).status_code == 401
    planner = login_as("planner")
    res = planner.put("/api/progress/targets/fengming/2024", json={"contiguous_mu": 50, "scattered_mu": 30})
    assert res.status_code == 403 and "管理员" in res.json()["detail"]
    res = admin.put("/api/progress/targets/凤鸣街道/2024", json={"contiguous_mu": 50, "scattered_mu": 30})
    assert res.status_code == 200, res.text
    assert res.json()["target"] == {"renewal_mu": 80.0, "contiguous_mu": 50.0, "scattered_mu": 30.0}
    assert res.json()["created"] is True
    res = admin.put("/api/progress/targets/fengming/2023", json={"contiguous_mu": 70, "scattered_mu": 30})
    assert res.status_code == 200 and res.json()["created"] is False  # the demo's 2023 target, changed
    res = admin.put("/api/progress/targets/fengming/2024", json={"contiguous_mu": -1, "scattered_mu": 30})
    assert res.status_code == 422 and res.json()["code"] == "invalid_request"
    body = client.get("/api/progress/monthly", params={"year": 2024, "month": 12}).json()
    assert _row(body, "fengming")["target"]["renewal_mu"] == 80.0
    assert _row(body, "fengming")["completion_rate"] == 0.0  # no fengming completion in 2024


def test_targets_carry_etags_and_a_stale_one_is_refused(client, admin):
    rows = {u["unit_code"]: u for u in client.get("/api/progress/targets", params={"year": 2024}).json()["units"]}
    assert rows["fengming"]["target"] is None and rows["fengming"]["etag"] == '"none"'
    first = admin.put("/api/progress/targets/fengming/2024", json={"contiguous_mu": 50, "scattered_mu": 30},
                      headers={"If-Match": rows["fengming"]["etag"]})
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == first.json()["etag"] != '"none"'
    listed = {u["unit_code"]: u for u in client.get("/api/progress/targets", params={"year": 2024}).json()["units"]}
    assert listed["fengming"]["etag"] == first.json()["etag"]
    # A second admin still holding "none" (or an old ETag) is told what the target is now, not overwritten.
    res = admin.put("/api/progress/targets/fengming/2024", json={"contiguous_mu": 1, "scattered_mu": 1},
                    headers={"If-Match": '"none"'})
    assert res.status_code == 409 and "连片 50.00 亩、零星 30.00 亩" in res.json()["detail"]
    assert res.json()["errors"][0]["field"] == "contiguous_mu"
    ok = admin.put("/api/progress/targets/fengming/2024", json={"contiguous_mu": 60, "scattered_mu": 30},
                   headers={"If-Match": first.json()["etag"]})
    assert ok.status_code == 200 and ok.json()["target"]["renewal_mu"] == 90.0
    res = admin.put("/api/progress/targets/fengming/2024", json={"contiguous_mu": 1, "scattered_mu": 1},
                    headers={"If-Match": first.json()["etag"]})
    assert res.status_code == 409
    res = admin.put("/api/progress/targets/fengming/2050", json={"contiguous_mu": 1, "scattered_mu": 1})
    assert res.status_code == 400 and "2022～2033" in res.json()["detail"]


# --- monthly report snapshots ------------------------------------------------------------------
def test_issued_report_never_changes(client, admin, db_session):
    res = admin.post("/api/progress/reports", json={"year": 2022, "month": 10, "signed_by": "王主任"})
    assert res.status_code == 201, res.text
    issued = client.get("/api/progress/reports/2022/10").json()
    assert issued["issued_by"] == "admin_zhang"
    assert _row(issued["data"]["progress"], "fengming")["done_ytd_mu"] == 66.71
    xlsx = client.get("/api/progress/reports/2022/10.xlsx")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert hashlib.sha256(xlsx.content).hexdigest() == issued["xlsx_sha256"] == xlsx.headers["x-content-sha256"]
    ws = load_workbook(io.BytesIO(xlsx.content))["月度通报"]
    fengming_row = next(r for r in ws.iter_rows(values_only=True) if r[1] == "凤鸣街道")
    assert fengming_row[0] == 1 and fengming_row[6] == 66.71 and fengming_row[14] == "滞后"

    # The data change: FM-0012 goes back to 改造中 today. The figures from today on move (the map's),
    # October 2022's live figures do not (as-of truth), nor does the snapshot.
    db_session.execute(text("UPDATE parcels SET status = 'rebuilding' WHERE code = '330483-FM-0012'"))
    live = client.get("/api/progress/monthly", params={"year": 2022, "month": 10}).json()
    assert _row(live, "fengming")["done_ytd_mu"] == 66.71
    today = client.get("/api/progress/indicators").json()
    fengming = next(u for u in today["units"] if u["unit_code"] == "fengming")
    assert fengming["years"]["2022"]["done_mu"] == 23.12
    again = client.get("/api/progress/reports/2022/10").json()
    assert again == issued
    assert client.get("/api/progress/reports/2022/10.xlsx").content == xlsx.content
    stored = db_session.scalar(select(ProgressReport).where(ProgressReport.year == 2022, ProgressReport.month == 10))
    from app.progress.reports import canonical_json
    assert hashlib.sha256(canonical_json(stored.data).encode()).hexdigest() == stored.data_sha256

    page = client.get("/progress/reports/2022/10")
    assert page.status_code == 200 and "@media print" in page.text and 'data-unit="fengming"' in page.text
    assert 'class="behind" data-unit="fengming"' in page.text

    # Issuing again is refused; the database refuses any change to the row.
    res = admin.post("/api/progress/reports", json={"year": 2022, "month": 10, "signed_by": "王主任"})
    assert res.status_code == 409 and "不可修改或重发" in res.json()["detail"]
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.execute(text("UPDATE progress_reports SET issued_by = 'someone' WHERE year = 2022 AND month = 10"))
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.execute(text("DELETE FROM progress_reports WHERE year = 2022 AND month = 10"))


def test_report_for_an_unfinished_month_is_refused(client, admin):
    today = service.today()
    res = admin.post("/api/progress/reports", json={"year": today.year, "month": today.month, "signed_by": "王主任"})
    assert res.status_code == 400 and "截止之后才能印发" in res.json()["detail"]
    assert client.post("/api/progress/reports", json={"year": 2022, "month": 9}).status_code == 401
    assert client.get("/api/progress/reports/2022/9").status_code == 404


BODY = "桐乡市工业园区有机更新工作领导小组办公室"


@pytest.fixture()
def named_admin(admin, db_session):
    """admin_zhang, known to people as 张科长 (the name a report shows; the login name stays for the audit)."""
    from app.auth.models import User

    user = db_session.scalar(select(User).where(User.username == "admin_zhang"))
    user.display_name = "张科长"
    db_session.flush()
    return admin


def _page_text(html: str) -> str:
    """What a reader sees of a server-rendered page: no style sheet, no tags."""
    body = re.sub(r"<style>.*?</style>|<script.*?</script>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def _cells(ws) -> list[str]:
    return [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]


def _report_id(session, year: int, month: int) -> int:
    return session.scalar(select(ProgressReport.id).where(ProgressReport.year == year, ProgressReport.month == month))


def test_report_carries_its_issue_facts(client, named_admin, login_as, db_session):
    admin = named_admin
    today = service.today()
    nxt = client.get("/api/progress/reports/next", params={"year": 2022, "month": 10}).json()
    assert nxt["issue_no"] == 1 and nxt["issuing_body"] == BODY and nxt["issue_date"] == today.isoformat()
    assert nxt["month_over"] is True and nxt["issued"] is None
    preview = client.get("/progress/preview/2022/10").text
    assert "2022 年第 1 期" in preview and "预览" in preview and BODY in preview and "（印发时填写）" in preview
    assert offending(_page_text(preview)) == []

    res = admin.post("/api/progress/reports", json={"year": 2022, "month": 10, "signed_by": " 王主任 "})
    assert res.status_code == 201, res.text
    first = res.json()
    assert (first["issue_no"], first["issue_label"], first["issuing_body"], first["issue_date"], first["signed_by"]) == (
        1, "第 1 期", BODY, today.isoformat(), "王主任")
    assert first["issued_by"] == "admin_zhang" and first["issued_by_name"] == "张科长"

    # The year's next number is offered, on the form and on the preview.
    assert client.get("/api/progress/reports/next", params={"year": 2022, "month": 11}).json()["issue_no"] == 2
    assert "2022 年第 2 期" in client.get("/progress/preview/2022/11").text
    assert client.get("/api/progress/reports/next", params={"year": 2023, "month": 1}).json()["issue_no"] == 1
    done = client.get("/api/progress/reports/next", params={"year": 2022, "month": 10}).json()
    assert done["issued"]["issue_no"] == 1

    # A number already used in the year is a conflict naming the field and the free number.
    res = admin.post("/api/progress/reports", json={"year": 2022, "month": 11, "signed_by": "王主任", "issue_no": 1})
    assert res.status_code == 409, res.text
    assert res.json()["errors"][0]["field"] == "issue_no" and "第 2 期" in res.json()["detail"]

    res = admin.post("/api/progress/reports", json={
        "year": 2022, "month": 11, "signed_by": "王主任", "issue_no": "7", "issuing_body": "桐乡市经济和信息化局",
        "issue_date": "2022-12-05"})
    assert res.status_code == 201, res.text
    second = res.json()
    assert (second["issue_no"], second["issuing_body"], second["issue_date"]) == (7, "桐乡市经济和信息化局", "2022-12-05")

    # The issued page: 第 X 期, the body, the date, the sign-off and the issuer's name, no login name.
    page = client.get("/progress/reports/2022/11").text
    assert "2022 年第 7 期" in page and "桐乡市经济和信息化局" in page and "2022 年 12 月 5 日" in page
    assert 'class="signed-by">王主任<' in page and "张科长" in page and "admin_zhang" not in page
    assert "预览" not in page and "@page { size: A4 landscape" in page

    # The Excel: the title block, A4, Chinese rule notes, no codes.
    xlsx = client.get("/api/progress/reports/2022/11.xlsx")
    book = load_workbook(io.BytesIO(xlsx.content))
    ws = book["月度通报"]
    cells = _cells(ws)
    assert "2022 年第 7 期" in cells and "印发单位：桐乡市经济和信息化局" in cells
    assert "印发日期：2022 年 12 月 5 日　　签发人：王主任" in cells and "签发人：王主任" in cells
    for sheet in book.worksheets:
        assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4 == "9" and sheet.page_setup.orientation == "landscape"
    every = [c for sheet in book.worksheets for c in _cells(sheet)]
    assert not [c for c in every if "_" in c or "/api" in c or "docs/" in c], "codes or paths in the Excel"
    assert workbook_offending(xlsx.content) == []
    assert offending(_page_text(page)) == []
    notes = [r[9] for r in book["本月完成宗地"].iter_rows(min_row=4, values_only=True)]
    assert notes and all(n == "—" or "亩" in n or "容积率" in n or "更新类型" in n for n in notes)

    # The list: newest first, the issuer's display name.
    listed = client.get("/api/progress/reports").json()["reports"]
    assert [(r["month"], r["issue_no"], r["issued_by_name"]) for r in listed[:2]] == [(11, 7, "张科长"), (10, 1, "张科长")]

    # The issue is in the audit trail under the admin's login, the Excel by its digest.
    from app.core.models import AuditEntry
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "issue_report",
                                                       AuditEntry.object_id == str(_report_id(db_session, 2022, 11))))
    assert entry.username == "admin_zhang" and entry.after["signed_by"] == "王主任"
    assert entry.after["xlsx"] == {"sha256": hashlib.sha256(xlsx.content).hexdigest(), "bytes": len(xlsx.content)}

    # Only an admin issues.
    planner = login_as("planner")
    assert planner.post("/api/progress/reports", json={"year": 2022, "month": 12, "signed_by": "王"}).status_code == 403


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({}, "signed_by", "请填写签发人"),
    ({"signed_by": "   "}, "signed_by", "请填写签发人"),
    ({"signed_by": "王" * 33}, "signed_by", "签发人不能超过 32 个字"),
    ({"issue_no": "三"}, "issue_no", "期号应为正整数"),
    ({"issue_no": 0}, "issue_no", "期号应在 1～999 之间"),
    ({"issue_no": -2}, "issue_no", "期号应在 1～999 之间"),
    ({"issuing_body": ""}, "issuing_body", "请填写印发单位"),
    ({"issuing_body": "办" * 65}, "issuing_body", "印发单位不能超过 64 个字"),
    ({"issue_date": "2022-13-01"}, "issue_date", "印发日期应为日期"),
    ({"issue_date": "2022-10-31"}, "issue_date", "印发日期应在 2022 年 10 月结束之后"),
    ({"issue_date": "2999-01-01"}, "issue_date", "印发日期不能晚于今天"),
])
def test_issue_facts_are_checked(client, admin, fields, field, words):
    body = {"year": 2022, "month": 10, "signed_by": "王主任", **fields}
    if "signed_by" in fields or not fields:
        body["signed_by"] = fields.get("signed_by")
    res = admin.post("/api/progress/reports", json=body)
    assert res.status_code == 422, res.text
    assert res.json()["code"] == "invalid_report_issue"
    assert [e["field"] for e in res.json()["errors"]] == [field]
    assert words in res.json()["errors"][0]["message"] and words in res.json()["detail"]
    assert client.get("/api/progress/reports/2022/10").status_code == 404  # nothing issued


def test_every_problem_is_reported_at_once(admin):
    res = admin.post("/api/progress/reports", json={"year": 2022, "month": 10, "issue_no": "x", "issue_date": "昨天"})
    assert res.status_code == 422
    assert [e["field"] for e in res.json()["errors"]] == ["issue_no", "issue_date", "signed_by"]


# --- scores ------------------------------------------------------------------------------------
def test_score_breakdown_2022(client):
    body = client.get("/api/progress/scores", params={"year": 2022}).json()
    assert body["config_meta"]["is_default"] is True and body["as_of"] == "2022-12-31"
    units = {u["unit_code"]: u for u in body["units"]}

    fm = units["fengming"]
    contiguous, scattered = fm["tracks"]
    assert contiguous["score"] == 0.0  # nothing renewed inside an approved block
    items = {i["code"]: i for i in scattered["indicators"]}
    assert items["completion_rate"]["value"] == 1.6678 and items["completion_rate"]["score"] == 100.0
    assert items["compliant_share"]["value"] == 1.0  # both ≥ 20 亩 and FAR ≥ 2.0
    assert items["tax_per_mu_ratio"]["value"] is None and items["tax_per_mu_ratio"]["points"] == 0.0
    assert scattered["score"] == 80.0  # (50 × 100 + 30 × 100 + 20 × 0) / 100
    assert fm["base_score"] == 32.0 and fm["scale_bonus"]["points"] == 0.0 and fm["total"] == 32.0  # 40 % × 80

    sm = units["shimen"]
    contiguous = sm["tracks"][0]
    items = {i["code"]: i for i in contiguous["indicators"]}
    assert items["completion_rate"]["value"] == 0.304  # 51.68 / 170
    assert items["average_far"]["value"] == 2.5666 and items["average_far"]["score"] == 100.0
    assert contiguous["score"] == 45.2  # (50 × 30.4 + 30 × 100 + 20 × 0) / 100
    assert sm["base_score"] == 27.12  # 60 % × 45.2
    bonus = sm["scale_bonus"]
    assert bonus["blocks"] == [{"block_code": "TX2022-SM-01", "block_name": "石门羔羊区块", "renewed_mu": 51.68,
                                "block_parcel_mu": 319.93, "share": 0.1615, "effective_mu": 8.35}]
    assert bonus["points"] == 0.83  # 10 × 51.68² / 319.93 / 100 = 0.8348
    assert sm["total"] == 27.95
    assert [u["unit_code"] for u in body["units"][:3]] == ["chongfu", "fengming", "shimen"]


def test_scoring_weights_are_configurable(client, admin):
    res = admin.put("/api/progress/config/2022", json={
        "contiguous": {"weight": 70, "indicators": [{"code": "completion_rate", "weight": 1, "full_at": 1}]},
        "scattered": {"weight": 40, "indicators": [{"code": "completion_rate", "weight": 1, "full_at": 1}]},
    })
    assert res.status_code == 400 and "轨道权重之和须为 100" in res.json()["detail"]
    res = admin.put("/api/progress/config/2022", json={
        "contiguous": {"weight": 50, "indicators": [{"code": "completion_rate", "weight": 1, "full_at": 1}]},
        "scattered": {"weight": 50, "indicators": [{"code": "completion_rate", "weight": 1, "full_at": 2}]},
        "scale_bonus": {"points_per_100_mu": 20, "cap_points": 1},
    })
    assert res.status_code == 200, res.text
    fm = next(u for u in client.get("/api/progress/scores", params={"year": 2022}).json()["units"]
              if u["unit_code"] == "fengming")
    assert fm["tracks"][1]["score"] == 83.39  # 66.71 / 40 / 2 × 100 = 83.3875
    assert fm["total"] == 41.69  # 50 % × 83.3875 = 41.69375 (rounded once, at the end)
    sm = next(u for u in client.get("/api/progress/scores", params={"year": 2022}).json()["units"]
              if u["unit_code"] == "shimen")
    assert sm["scale_bonus"]["uncapped_points"] == 1.67 and sm["scale_bonus"]["points"] == 1.0  # capped


def test_a_wrong_scoring_config_is_named_in_chinese(client, admin, login_as):
    config = client.get("/api/progress/config/2023").json()["config"]
    config["contiguous"]["indicators"][1]["weight"] = 150
    config["scattered"]["indicators"][0]["full_at"] = 0
    config["schedule"] = config["schedule"][:11]
    res = admin.put("/api/progress/config/2023", json=config)
    assert res.status_code == 400
    errors = {e["field"]: e["message"] for e in res.json()["errors"]}
    assert errors == {
        "contiguous.indicators.1.weight": "连片第 2 项指标的权重：不能大于 100",
        "scattered.indicators.0.full_at": "零星第 1 项指标的满分值：应大于 0",
        "schedule": "序时进度：须为 1～12 月每月一项",
    }
    assert offending(res.json()["detail"]) == []
    assert login_as("planner").put("/api/progress/config/2023", json=config).status_code == 403


def test_dashboard_page_is_served(client):
    res = client.get("/progress")
    assert res.status_code == 200 and "一表" in res.text and "/static/progress/progress.js" in res.text
    assert client.get("/static/progress/progress.js").status_code == 200
    preview = client.get("/progress/preview/2022/10")
    assert preview.status_code == 200 and 'data-report-state="preview"' in preview.text
    live = client.get("/api/progress/monthly.xlsx", params={"year": 2022, "month": 10})
    assert live.status_code == 200 and live.content[:2] == b"PK"
