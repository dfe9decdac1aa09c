"""As-of truth (docs/assessment.md §1): the figures for a past day never move.

October 2022's monthly table, indicators, the 2022 scores, the parcels behind them and the preview are
read once; then a block designated in 2023 that holds a parcel completed in 2022 is approved through
the workflow, revised, a revision returned, parcels are uploaded again with other statuses, and a
correction is recorded — and after each step the same requests answer the same bytes. The figures for
a day after the approval do count the new 连片 parcel, and a correction shows in the month it was
recorded in, not before.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import text

from app.actionplans.calendar import Calendar
from app.enums import ParcelStatus
from app.progress import service
from tests.app.workflow_site import FOUR, SIDE_M, make_site

PAST = [
    ("/api/progress/monthly", {"year": 2022, "month": 10}),
    ("/api/progress/monthly", {"year": 2022, "month": 9}),
    ("/api/progress/indicators", {"as_of": "2022-10-31"}),
    ("/api/progress/scores", {"year": 2022, "as_of": "2022-12-31"}),
    ("/api/progress/parcels", {"year": 2022, "month": 10}),
    ("/api/progress/parcels", {"year": 2022}),
    ("/api/progress/parcels", {"unit": "wutong", "year": 2022, "track": "scattered"}),
    ("/progress/preview/2022/10", {}),
]
PLAN = "TX2023-WT-81"
# the requests about a day up to 31 October 2022 (the scores and the year's parcels are as of 31 December)
OCTOBER_AND_BEFORE = {(path, tuple(sorted(params.items()))) for path, params in PAST
                      if params.get("month") in (9, 10) or params.get("as_of") == "2022-10-31"
                      or path.startswith("/progress/preview")}


def snapshot(client) -> dict:
    out = {}
    for path, params in PAST:
        res = client.get(path, params=params)
        assert res.status_code == 200, (path, res.text)
        out[(path, tuple(sorted(params.items())))] = res.content
    return out


def assert_unchanged(client, before: dict, step: str, *, only_before_november: bool = False) -> list:
    after = snapshot(client)
    keys = [k for k in before if not only_before_november or k in OCTOBER_AND_BEFORE]
    changed = [key for key in keys if before[key] != after[key]]
    assert not changed, f"{step} changed {changed}"
    return [key for key in before if before[key] != after[key]]


def recorded_on(db_session, plan: str, version_no: int, day: str) -> None:
    """Date a workflow decision as recorded on ``day`` (what the office would have done at the time)."""
    db_session.execute(text(
        "UPDATE block_versions SET reviewed_at = CAST(:d AS date) + time '10:00' AT TIME ZONE 'Asia/Shanghai' "
        "WHERE version_no = :v AND plan_id = (SELECT id FROM block_plans WHERE code = :p)"),
        {"d": day, "v": version_no, "p": plan})


def _unit(ind: dict, code: str) -> dict:
    return next(u for u in ind["units"] if u["unit_code"] == code)


def _row(monthly: dict, code: str) -> dict:
    return next(r for r in monthly["rows"] if r["unit_code"] == code)


@pytest.fixture()
def site(db_session):
    """Three 135 亩 parcels of 梧桐街道 side by side; the first completed on 2022-03-13, loaded as history."""
    codes = make_site(db_session, "wutong", "AO-T1", [(0, 0), (SIDE_M, 0), (2 * SIDE_M, 0)])
    db_session.execute(text("SELECT set_config('cloudmap.event_source', 'seed', true)"))
    db_session.execute(text("UPDATE parcels SET status = 'completed', completed_on = DATE '2022-03-13' WHERE code = :c"),
                       {"c": codes[0]})
    db_session.execute(text("SELECT set_config('cloudmap.event_source', '', true)"))
    return codes


def _geojson_of(db_session, codes: list[str], status: dict[str, str]) -> bytes:
    """The stored parcels as a GeoJSON upload (same geometry, CGCS2000), with the given 进度."""
    rows = db_session.execute(text("SELECT code, ST_AsBinary(geom) FROM parcels WHERE code = ANY(:c) ORDER BY code"),
                              {"c": codes}).all()
    gdf = gpd.GeoDataFrame({"宗地编号": [r[0] for r in rows], "进度": [status[r[0]] for r in rows]},
                           geometry=[shapely.from_wkb(bytes(r[1])) for r in rows], crs="EPSG:4490")
    return gdf.to_json(drop_id=True).encode()


def test_past_figures_never_move(client, login_as, db_session, site):
    officer = login_as("unit_officer", unit="wutong")
    reviewer = login_as("reviewer")
    before = snapshot(client)

    # In October 2022 the parcel completed in March 2022 is 零星: no block holds it yet.
    oct_ = client.get("/api/progress/parcels", params={"unit": "wutong", "year": 2022, "track": "scattered"}).json()
    assert site[0] in {p["code"] for p in oct_["parcels"]}
    ind_oct = client.get("/api/progress/indicators", params={"as_of": "2022-10-31"}).json()
    assert "2023" not in ind_oct["citywide"]["blocks_approved"] or all(
        b["code"] != PLAN for b in _unit(ind_oct, "wutong")["blocks_approved"].get("2023", {}).get("blocks", []))

    # 1. A block designated in 2023 (认定 2023-03-15) that holds it, through the workflow.
    r = officer.post("/api/plans", json={"code": PLAN, "name": "梧桐试验区块", "year": 2023, "parcels": site[:2],
                                         **FOUR})
    assert r.status_code == 201, r.text
    assert officer.post(f"/api/plans/{PLAN}/submit").status_code == 200
    r = reviewer.post(f"/api/plans/{PLAN}/approve", json={"doc_no": "桐有更〔2023〕3号", "approval_date": "2023-03-15"})
    assert r.status_code == 200, r.text
    assert_unchanged(client, before, "the 2023 approval")
    # Decided today though dated 2023-03-15 on paper, it counts from today: 2023's figures stay as they were.
    late = client.get("/api/progress/indicators", params={"as_of": "2023-06-30"}).json()
    assert PLAN not in {b["code"] for b in _unit(late, "wutong")["blocks_approved"].get("2023", {}).get("blocks", [])}
    assert _unit(late, "wutong")["years"]["2022"]["done_contiguous_mu"] == \
        _unit(ind_oct, "wutong")["years"]["2022"]["done_contiguous_mu"]
    recorded_on(db_session, PLAN, 1, "2023-03-15")  # as if the office had recorded it on the day

    # …then a day after the approval counts it as 连片, and the block in the 2023 count.
    after = client.get("/api/progress/indicators", params={"as_of": "2023-06-30"}).json()
    wt_before, wt_after = _unit(ind_oct, "wutong"), _unit(after, "wutong")
    assert wt_after["years"]["2022"]["done_contiguous_mu"] == pytest.approx(
        wt_before["years"]["2022"]["done_contiguous_mu"] + 135.0, abs=0.02)
    assert PLAN in {b["code"] for b in wt_after["blocks_approved"]["2023"]["blocks"]}
    day_before = client.get("/api/progress/indicators", params={"as_of": "2023-03-14"}).json()
    assert PLAN not in {b["code"] for b in _unit(day_before, "wutong")["blocks_approved"].get("2023", {}).get(
        "blocks", [])}

    # 2. A revision of the approved block (the third parcel joins), approved 2023-05-01.
    r = officer.post(f"/api/plans/{PLAN}/revisions", json={"change_note": "东侧并入一宗"})
    assert r.status_code == 201, r.text
    r = officer.patch(f"/api/plans/{PLAN}/draft", json={"parcels": site}, headers={"If-Match": r.headers["ETag"]})
    assert r.status_code == 200, r.text
    assert officer.post(f"/api/plans/{PLAN}/submit").status_code == 200
    r = reviewer.post(f"/api/plans/{PLAN}/approve", json={"doc_no": "桐有更〔2023〕5号", "approval_date": "2023-05-01"})
    assert r.status_code == 200, r.text
    assert_unchanged(client, before, "the revision")
    recorded_on(db_session, PLAN, 2, "2023-05-01")
    # the block's bonus denominator follows the version in force: 270 亩 in April, 405 亩 from May
    april = client.get("/api/progress/scores", params={"year": 2023, "as_of": "2023-04-30"}).json()
    assert april["as_of"] == "2023-04-30"
    assert service.block_parcel_land(db_session, service.dt.date(2023, 4, 30))[PLAN][2] == pytest.approx(270, abs=0.1)
    assert service.block_parcel_land(db_session, service.dt.date(2023, 5, 1))[PLAN][2] == pytest.approx(405, abs=0.1)

    # 3. Another revision, submitted and returned.
    r = officer.post(f"/api/plans/{PLAN}/revisions", json={"change_note": "西侧调整"})
    assert r.status_code == 201, r.text
    r = officer.patch(f"/api/plans/{PLAN}/draft", json={"parcels": site[:2]}, headers={"If-Match": r.headers["ETag"]})
    assert officer.post(f"/api/plans/{PLAN}/submit").status_code == 200
    assert reviewer.post(f"/api/plans/{PLAN}/return", json={"comment": "边界请与测绘图一致"}).status_code == 200
    assert_unchanged(client, before, "the return")

    # 4. A re-upload: FM-0012 (completed 2022-10-24) and SM-0022 (石门羔羊区块, completed in 2022) back to
    #    改造中, DM-0001 completed now.
    gis = login_as("gis_staff")
    statuses = {"330483-FM-0012": ParcelStatus.REBUILDING.label, "330483-DM-0001": ParcelStatus.COMPLETED.label,
                "330483-SM-0022": ParcelStatus.REBUILDING.label}
    body = gis.post("/api/uploads", files={"file": ("again.geojson", _geojson_of(db_session, list(statuses), statuses),
                                                    "application/geo+json")}).json()
    assert "id" in body, body
    r = gis.post(f"/api/uploads/{body['id']}/commit", json={"on_existing": "replace", "unknown_owners": "none"})
    assert r.status_code == 200, r.text
    assert r.json()["outcome"]["replaced"] == 3, r.json()["outcome"]
    assert db_session.execute(text("SELECT status FROM parcels WHERE code = '330483-FM-0012'")).scalar() == "rebuilding"
    assert_unchanged(client, before, "the re-upload")
    # today's figures follow the upload
    now = client.get("/api/progress/indicators").json()
    assert _unit(now, "fengming")["years"]["2022"]["done_mu"] == 23.12

    # 5. A correction: FM-0002 (completed 2022-03-10) was never completed, recorded on 2022-11-10.
    db_session.execute(text("""
        INSERT INTO parcel_status_events (parcel_id, status, completed_on, land_area_mu, happened_on, known_on,
                                          source, recorded_by, note, corrects_id)
        SELECT e.parcel_id, 'rebuilding', NULL, e.land_area_mu, e.happened_on, DATE '2022-11-10', 'correction',
               'admin', '验收未通过', e.id
        FROM parcel_status_events e JOIN parcels p ON p.id = e.parcel_id
        WHERE p.code = '330483-FM-0002' ORDER BY e.id DESC LIMIT 1"""))
    moved = assert_unchanged(client, before, "the correction", only_before_november=True)
    # recorded on 2022-11-10, it counts in the figures from then on: the 2022 scores as of 31 December
    assert ("/api/progress/scores", (("as_of", "2022-12-31"), ("year", 2022))) in moved
    nov = client.get("/api/progress/monthly", params={"year": 2022, "month": 11}).json()
    fm = _row(nov, "fengming")
    assert fm["previous_done_ytd_mu"] == 66.71 and fm["done_ytd_mu"] == pytest.approx(66.71 - 23.12, abs=0.01)
    assert fm["change_mu"] == pytest.approx(-23.12, abs=0.01)
    lines = [c["text"] for c in nov["corrections"]]
    assert any(t.startswith("更正：凤鸣街道宗地 330483-FM-0002") and "验收未通过" in t for t in lines), lines
    assert client.get("/api/progress/monthly", params={"year": 2022, "month": 10}).json()["corrections"] == []
    # the November report says so: its preview page and its Excel carry the line
    page = client.get("/progress/preview/2022/11").text
    assert '<p class="note correction">更正：凤鸣街道宗地 330483-FM-0002' in page
    assert "更正" not in client.get("/progress/preview/2022/10").text


def test_a_recorded_correction_counts_from_the_day_it_is_recorded(client, db_session):
    before = snapshot(client)
    out = service.record_correction(db_session, "330483-FM-0002", status=ParcelStatus.COMPLETED,
                                    completed_on=service.dt.date(2022, 2, 1), note="以竣工验收单为准", by="admin")
    assert out["happened_on"] == "2022-02-01" and out["recorded_on"] == service.today().isoformat()
    assert out["corrects"] is not None
    assert_unchanged(client, before, "a correction recorded today")
    today = service.today()
    # listed in the first month whose figures count it: the oldest month whose 月报 is still open
    first = Calendar(db_session).open_months(today)[0]
    month = client.get("/api/progress/monthly", params={"year": first.year, "month": first.month}).json()
    assert any("330483-FM-0002" in c["text"] and c["source"] == "correction" for c in month["corrections"])
    # the parcel trace as known today has the corrected date
    now = client.get("/api/progress/indicators").json()
    assert now["as_of"] == today.isoformat()
    traced = service.renewed_parcels(db_session, today, since=service.dt.date(2022, 1, 1))
    assert next(p for p in traced if p.code == "330483-FM-0002").renewed_on == service.dt.date(2022, 2, 1)


def test_every_path_writes_history(db_session):
    """The triggers: an edit without a named source is an ``edit`` known today; events are append-only."""
    status = db_session.execute(text(
        "UPDATE parcels SET status = CASE WHEN status = 'rebuilding' THEN 'vacating' ELSE 'rebuilding' END"
        " WHERE code = '330483-DM-0001' RETURNING status")).scalar()
    row = db_session.execute(text(
        "SELECT e.status, e.source, e.known_on FROM parcel_status_events e JOIN parcels p ON p.id = e.parcel_id"
        " WHERE p.code = '330483-DM-0001' ORDER BY e.id DESC LIMIT 1")).one()
    assert tuple(row) == (status, "edit", service.today())
    from sqlalchemy.exc import DBAPIError
    with pytest.raises(DBAPIError, match="correction"), db_session.begin_nested():
        db_session.execute(text("UPDATE parcel_status_events SET note = 'x'"))
    seeded = db_session.execute(text(
        "SELECT count(*) FROM parcel_status_events WHERE source = 'seed' AND known_on = happened_on")).scalar()
    completed = db_session.execute(text("SELECT count(*) FROM parcels WHERE status = 'completed'")).scalar()
    assert seeded >= completed > 0


def test_an_admin_records_a_correction_over_the_api(client, login_as):
    before = snapshot(client)
    admin = login_as("admin", username="admin_as_of")
    body = {"parcel_code": "330483-FM-0012", "status": "rebuilding", "note": "复核发现尚未竣工"}
    assert client.post("/api/progress/corrections", json=body).status_code in (401, 403)
    r = admin.post("/api/progress/corrections", json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["happened_on"] == "2022-10-24" and out["corrects"] is not None and out["completed_on"] is None
    assert_unchanged(client, before, "a correction over the API")
    r = admin.post("/api/progress/corrections", json={**body, "note": " "})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "note"
    r = admin.post("/api/progress/corrections", json={**body, "parcel_code": "没有这宗地"})
    assert r.status_code == 404
