"""行动计划 as data (/api/action-plans): the seeded 2022—2023 plan, entering the 2024—2026 plan,
rules checked against the plan in force in the block's year, validation, roles, If-Match, audit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from shapely import box
from sqlalchemy import select

import spatial
from app.core.models import AuditEntry
from app.enums import Classification, RenewalType
from app.models import Enterprise, Parcel, Unit
from tests.app.workflow_site import FOUR, credit_code, park_around

PLAN_2024 = {
    "doc_no": "桐政办发〔2024〕5号",
    "title": "桐乡市工业园区有机更新攻坚行动计划（2024—2026年）",
    "start_year": 2024, "end_year": 2026,
    "target_total_mu": 9000, "target_new_floor_area_m2": 6_000_000, "target_average_far": 2.2,
    "min_block_mu": 150, "max_blocks_per_unit_per_year": 3, "min_parcel_mu": 15, "min_far": 2.2,
    "min_merged_parcel_mu": 15, "tolerance_m": 40,
}

# A plan whose period has not begun yet (today is in 2026 or later): its figures may still change.
PLAN_2027 = {**PLAN_2024, "doc_no": "桐政办发〔2027〕1号", "title": "桐乡市工业园区有机更新行动计划（2027—2029年）",
             "start_year": 2027, "end_year": 2029}


@pytest.fixture()
def admin(login_as):
    return login_as("admin")


@pytest.fixture()
def officer(login_as):
    return login_as("unit_officer", unit="wutong")


def _site_160(session, prefix: str, origin: tuple[float, float]) -> list[str]:
    """One 160 亩 parcel (400 m × 266.667 m) at an empty spot, with its enterprise."""
    unit = session.scalar(select(Unit).where(Unit.code == "wutong"))
    x, y = origin
    geom_4549 = box(x, y, x + 400, y + 800 / 3)
    ent = Enterprise(name=f"{prefix}测试企业", credit_code=credit_code(900_000 + sum(map(ord, prefix)) % 90_000))
    session.add(ent)
    session.flush()
    parcel = Parcel(code=f"{prefix}-001", unit_id=unit.id, enterprise_id=ent.id,
                    planned_floor_area_m2=Decimal(f"{geom_4549.area * 2.5:.2f}"),
                    classification=Classification.UPGRADE, renewal_type=RenewalType.INDUSTRIAL_TO_INDUSTRIAL,
                    land_use="工业用地")
    parcel.set_geometry(spatial.reproject(geom_4549, spatial.AREA_SRID, spatial.STORAGE_SRID))
    session.add(parcel)
    park_around(session, unit, prefix, geom_4549.buffer(500))  # a 连片 block lies in a park (docs/parks.md)
    session.commit()
    return [parcel.code]


def _codes(report) -> set[str]:
    return {v["code"] for v in report["violations"] if v["severity"] == "error"}


def test_the_seeded_2022_plan(client):
    r = client.get("/api/action-plans")
    assert r.status_code == 200
    plans = r.json()["plans"]
    assert len(plans) == 1
    p = plans[0]
    assert p["doc_no"] == "桐政办发〔2022〕11号" and (p["start_year"], p["end_year"]) == (2022, 2023)
    assert (p["target_total_mu"], p["target_new_floor_area_m2"], p["target_average_far"]) == (6000, 4_000_000, 2.0)
    assert p["thresholds"] == spatial.DEFAULT_THRESHOLDS.to_dict()
    one = client.get(f"/api/action-plans/{p['id']}")
    assert one.headers["ETag"] == p["etag"]
    years = {y["year"]: y for y in one.json()["years"]}
    assert set(years) == {2022, 2023} and years[2022]["target_mu"] == 3000.0  # the appendix table
    r = client.get("/api/action-plans/in-force?year=2023").json()
    assert r["plan"]["id"] == p["id"] and r["headline"]["target_total_mu"] == 6000


def test_a_block_is_checked_against_the_plan_of_its_year(admin, officer, client, db_session):
    r = admin.post("/api/action-plans", json=PLAN_2024)
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["thresholds"]["min_block_mu"] == 150 and r.headers["ETag"] == new["etag"]
    assert client.get("/api/action-plans/in-force?year=2025").json()["headline"]["target_total_mu"] == 9000
    # a year after the last plan keeps its rules
    assert client.get("/api/action-plans/in-force?year=2030").json()["plan"]["id"] == new["id"]

    late = _site_160(db_session, "AP24", (70_000.0, 3_390_000.0))
    early = _site_160(db_session, "AP22", (70_000.0, 3_395_000.0))
    body = {"name": "行动计划测试区块", "parcels": late, **FOUR}
    assert officer.post("/api/plans", json={**body, "code": "TX2024-WT-71", "year": 2024}).status_code == 201
    assert officer.post("/api/plans", json={**body, "code": "TX2022-WT-72", "year": 2022,
                                            "parcels": early}).status_code == 201

    r24 = officer.get("/api/plans/TX2024-WT-71/check").json()
    assert r24["land_area_mu"] == 160.0
    assert "block_area_below_min" not in _codes(r24) and r24["passed"], r24["violations"]
    assert r24["action_plan"]["doc_no"] == "桐政办发〔2024〕5号"

    r22 = officer.get("/api/plans/TX2022-WT-72/check").json()
    assert "block_area_below_min" in _codes(r22) and not r22["passed"]
    msg = next(v["message_zh"] for v in r22["violations"] if v["code"] == "block_area_below_min")
    assert "低于 200 亩下限" in msg
    assert r22["action_plan"]["doc_no"] == "桐政办发〔2022〕11号"
    # submitting the 2024 plan passes the rules of 2024
    assert officer.post("/api/plans/TX2024-WT-71/submit").status_code == 200
    assert officer.post("/api/plans/TX2022-WT-72/submit").status_code == 422

    # the pre-check without storing anything: the same parcel, 2024 against 2022
    parcel = {"type": "Feature", "properties": {"code": "P", "planned_floor_area_m2": 266_667,
                                               "renewal_type": "industrial_to_industrial",
                                               "classification": "upgrade"},
              "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [400, 0], [400, 800 / 3], [0, 800 / 3], [0, 0]]]}}
    for year, passes, limit in ((2024, True, 150), (2022, False, 200)):
        rep = client.post("/api/analysis", json={"crs": "EPSG:4549", "year": year,
                                                 "parcels": {"type": "FeatureCollection", "features": [parcel]}}).json()
        assert ("block_area_below_min" not in _codes(rep)) is passes
        assert rep["action_plan"]["thresholds"]["min_block_mu"] == limit
        assert rep["action_plan"]["thresholds"]["tolerance_m"] == (40 if year == 2024 else 30)
    # a scattered 16 亩 parcel with FAR 2.3: passes the 2024 plan (15 亩, 2.2), fails 2022 (20 亩)
    small = {**parcel, "properties": {**parcel["properties"], "planned_floor_area_m2": 16 * 666.67 * 2.3},
             "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [100, 0], [100, 106.6672], [0, 106.6672], [0, 0]]]}}
    fc = {"type": "FeatureCollection", "features": [small]}
    assert client.post("/api/analysis", json={"crs": "EPSG:4549", "kind": "scattered", "year": 2024,
                                              "parcels": fc}).json()["passed"]
    rep = client.post("/api/analysis", json={"crs": "EPSG:4549", "kind": "scattered", "year": 2022,
                                             "parcels": fc}).json()
    assert "parcel_area_below_min" in _codes(rep)


def test_overlapping_and_invalid_plans_are_refused_by_field(admin):
    r = admin.post("/api/action-plans", json={**PLAN_2024, "doc_no": "甲", "start_year": 2023, "end_year": 2025})
    assert r.status_code == 409 and r.json()["code"] == "action_plan_overlap"
    assert "重叠" in r.json()["detail"] and "重叠" in r.json()["errors"][0]["message"] and {e["field"] for e in r.json()["errors"]} == {"start_year", "end_year"}
    r = admin.post("/api/action-plans", json={**PLAN_2024, "start_year": 2026, "end_year": 2024})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "end_year"
    r = admin.post("/api/action-plans", json={**PLAN_2024, "doc_no": " ", "min_block_mu": "很多", "min_far": -1,
                                              "max_blocks_per_unit_per_year": 2.5, "title": None})
    assert r.status_code == 422 and r.json()["code"] == "invalid_action_plan"
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert errors == {"doc_no": "请填写文号", "title": "请填写标题", "min_block_mu": "连片区块面积下限（亩）应为数字",
                      "min_far": "改造后容积率下限应在 0～10 之间",
                      "max_blocks_per_unit_per_year": "每单位每年认定区块上限（个）应为整数"}
    r = admin.post("/api/action-plans", json={**PLAN_2024, "doc_no": "桐政办发〔2022〕11号"})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "doc_no"


def test_only_admins_write(client, login_as):
    assert client.post("/api/action-plans", json=PLAN_2024).status_code == 401
    for role, unit in (("planner", None), ("reviewer", None), ("unit_officer", "wutong")):
        c = login_as(role, unit=unit)
        assert c.post("/api/action-plans", json=PLAN_2024).status_code == 403
        plan_id = c.get("/api/action-plans").json()["plans"][0]["id"]
        assert c.put(f"/api/action-plans/{plan_id}", json={"title": "改"}, headers={"If-Match": '"1"'}).status_code == 403


def test_update_needs_if_match_and_is_audited(admin, db_session):
    created = admin.post("/api/action-plans", json=PLAN_2027)
    plan_id, etag = created.json()["id"], created.headers["ETag"]
    url = f"/api/action-plans/{plan_id}"
    assert admin.put(url, json={"min_block_mu": 160}).status_code == 428
    r = admin.put(url, json={"min_block_mu": 160}, headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    assert r.json()["thresholds"]["min_block_mu"] == 160 and r.headers["ETag"] != etag
    stale = admin.put(url, json={"min_block_mu": 170}, headers={"If-Match": etag})
    assert stale.status_code == 409 and stale.json()["errors"]  # what changed since, by whom
    # moving the period onto the 2022 plan is refused
    r = admin.put(url, json={"start_year": 2023}, headers={"If-Match": admin.get(url).headers["ETag"]})
    assert r.status_code == 409 and r.json()["code"] == "action_plan_overlap"
    actions = set(db_session.scalars(select(AuditEntry.action).where(AuditEntry.subject == f"action_plan:{plan_id}")))
    assert {"create_action_plan", "update_action_plan"} <= actions


def test_a_scattered_parcel_follows_the_plan_of_its_renewal_year(admin, db_session):
    """The 一表's rule notes: a 16 亩 parcel with FAR 2.3 renewed in 2024 meets the 2024 plan (15 亩, 2.2)."""
    from sqlalchemy import text

    from app.progress import service

    assert admin.post("/api/action-plans", json=PLAN_2024).status_code == 201
    [late] = _site_160(db_session, "AS24", (70_000.0, 3_400_000.0))
    [early] = _site_160(db_session, "AS22", (70_000.0, 3_405_000.0))
    for code, day in ((late, "2024-05-01"), (early, "2022-05-01")):
        # 16 亩 (100 m × 106.667 m) with FAR 2.3, completed on the day
        x, y = (70_000.0, 3_400_000.0) if code == late else (70_000.0, 3_405_000.0)
        parcel = db_session.scalar(select(Parcel).where(Parcel.code == code))
        parcel.set_geometry(spatial.reproject(box(x, y, x + 100, y + 320 / 3), spatial.AREA_SRID, spatial.STORAGE_SRID))
        parcel.planned_floor_area_m2 = Decimal(f"{100 * 320 / 3 * 2.3:.2f}")
        db_session.flush()
        db_session.execute(text("UPDATE parcels SET status = 'completed', completed_on = CAST(:d AS date) "
                                "WHERE code = :c"), {"d": day, "c": code})
    db_session.expire_all()
    found = {p.code: p for p in service.renewed_parcels(db_session, service.today())}
    assert float(found[late].land_area_mu) == 16.0
    assert found[late].rule_problems() == []
    assert found[early].rule_problems() == ["parcel_area_below_min"]
    assert "低于 20 亩下限" in found[early].rule_notes()[0]


def test_the_plan_in_force_for_the_progress_page_and_the_carry_over(client, admin):
    """/api/progress/plan: the cards' headline targets and the period's cumulative figure come from the
    plan in force in the year; the carry-over is the previous year of the same plan."""
    r = client.get("/api/progress/plan?year=2023&as_of=2023-12-31").json()
    assert r["plan"]["doc_no"] == "桐政办发〔2022〕11号" and r["plan"]["target_total_mu"] == 6000
    assert (r["period"]["start_year"], r["period"]["end_year"]) == (2022, 2023)
    assert r["period"]["target_new_floor_area_m2"] == 4_000_000 and r["period"]["target_average_far"] == 2.0
    ind = client.get("/api/progress/indicators?as_of=2023-12-31").json()["citywide"]
    assert r["period"]["done_mu"] == ind["programme"]["done_mu"]  # the same 2022—2023 sum
    carry = {u["unit_code"]: u for u in r["carry_over"]["units"]}
    assert r["carry_over"]["year"] == 2022 and len(carry) == 11
    monthly = {u["unit_code"]: u for u in client.get("/api/progress/monthly?year=2022&month=12").json()["rows"]}
    for code, u in carry.items():
        assert u["target_mu"] == monthly[code]["target"]["renewal_mu"]
        assert u["done_mu"] == pytest.approx(monthly[code]["done_ytd_mu"], abs=0.011)
        assert u["difference_mu"] == pytest.approx(u["done_mu"] - u["target_mu"], abs=0.011)
    # the first year of a plan starts afresh
    assert client.get("/api/progress/plan?year=2022").json()["carry_over"] is None

    assert admin.post("/api/action-plans", json=PLAN_2024).status_code == 201
    r = client.get("/api/progress/plan?year=2025").json()
    assert r["plan"]["target_total_mu"] == 9000 and r["period"]["start_year"] == 2024
    assert r["carry_over"]["year"] == 2024
    assert client.get("/api/progress/plan?year=2024").json()["carry_over"] is None


def test_the_yearly_block_limit_of_the_indicators_is_the_plans(admin, client):
    plan = client.get("/api/action-plans").json()["plans"][0]
    assert client.get("/api/progress/indicators?as_of=2023-12-31").json()["citywide"]["years"]  # sanity
    units = client.get("/api/progress/indicators?as_of=2023-12-31").json()["units"]
    assert all(u["blocks_approved"]["2022"]["limit"] == 2 for u in units)
    city = client.get("/api/progress/indicators?as_of=2023-12-31").json()["citywide"]["blocks_approved"]["2022"]
    assert city["limit"] == plan["thresholds"]["max_blocks_per_unit_per_year"] == 2


def test_a_plan_in_force_keeps_its_figures_so_past_days_never_move(admin, client):
    """The 2022 plan's limit has counted the 2022 blocks: changing it would change published figures.
    Its wording may still be corrected; a plan not yet begun may change freely."""
    before = client.get("/api/progress/indicators", params={"as_of": "2023-12-31"}).content
    plan = client.get("/api/action-plans").json()["plans"][0]
    r = admin.put(f"/api/action-plans/{plan['id']}", json={"max_blocks_per_unit_per_year": 1, "min_block_mu": 150},
                  headers={"If-Match": plan["etag"]})
    assert r.status_code == 409, r.text
    body = r.json()
    assert "自 2022 年起实施" in body["detail"] and "每单位每年认定区块上限" in body["detail"]
    assert {e["field"] for e in body["errors"]} == {"max_blocks_per_unit_per_year", "min_block_mu"}
    assert client.get("/api/progress/indicators", params={"as_of": "2023-12-31"}).content == before
    r = admin.put(f"/api/action-plans/{plan['id']}", json={"note": "说明已更正", "min_block_mu": 200},
                  headers={"If-Match": plan["etag"]})  # the same figure sent back is no change
    assert r.status_code == 200, r.text
    later = admin.post("/api/action-plans", json=PLAN_2027)
    r = admin.put(f"/api/action-plans/{later.json()['id']}", json={"min_block_mu": 120},
                  headers={"If-Match": later.headers["ETag"]})
    assert r.status_code == 200 and r.json()["thresholds"]["min_block_mu"] == 120
