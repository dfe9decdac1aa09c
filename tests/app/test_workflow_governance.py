"""Concurrency (ETag / If-Match → 409 with what changed), the audit trail, 亩均 evaluation and
grading, the two Excel lists, 厂中厂 and 投资履约 defaulters (real PostGIS)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.enums import Classification
from app.models import Parcel
from tests.app.workflow_site import FOUR, SIDE_M, make_site


@pytest.fixture()
def site(db_session):
    return make_site(db_session, "wutong", "WT-G", [(0, 0), (SIDE_M, 0)])


def _plan(officer, parcels):
    r = officer.post("/api/plans", json={"code": "TX2023-WT-G1", "name": "治理区块", "year": 2023,
                                         "parcels": parcels, **FOUR})
    assert r.status_code == 201
    return r.headers["ETag"]


def test_concurrent_edit_gets_409_with_what_changed(login_as, site):
    first = login_as("unit_officer", unit="wutong", username="officer_a")
    second = login_as("unit_officer", unit="wutong", username="officer_b")
    etag = _plan(first, site)
    assert second.get("/api/plans/TX2023-WT-G1").headers["ETag"] == etag
    r = first.patch("/api/plans/TX2023-WT-G1/draft", json={"four_east": "东至甲路"}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] != etag
    r = second.patch("/api/plans/TX2023-WT-G1/draft", json={"four_east": "东至乙路"}, headers={"If-Match": etag})
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    changes = r.json()["errors"]
    assert any(c["field"] == "four_east" and "officer_a" in c["message"] and "东至甲路" in c["message"] for c in changes)
    assert first.get("/api/plans/TX2023-WT-G1/versions/1").json()["properties"]["four_east"] == "东至甲路"
    r = second.patch("/api/plans/TX2023-WT-G1/draft", json={"four_east": "东至乙路"})
    assert r.status_code == 428 and r.json()["code"] == "if_match_required"


def test_audit_trail_by_object_and_by_user(login_as, site, db_session):
    officer = login_as("unit_officer", unit="wutong")
    reviewer = login_as("reviewer")
    _plan(officer, site)
    officer.post("/api/plans/TX2023-WT-G1/submit")
    reviewer.post("/api/plans/TX2023-WT-G1/return", json={"comment": "补充"})
    rows = reviewer.get("/api/audit?subject=plan:TX2023-WT-G1").json()["data"]
    actions = [r["action"] for r in rows]
    assert actions[0] == "plan_create" and "submit" in actions and actions[-1] == "return"
    ret = [r for r in rows if r["action"] == "return" and r["object_type"] == "block_versions"][0]
    assert ret["user"] == "test_reviewer" and ret["before"]["status"] == "submitted" and ret["after"]["status"] == "returned"
    create = [r for r in rows if r["object_type"] == "block_versions" and r["action"] == "plan_create"][0]
    assert create["before"] is None and create["after"]["four_east"] == FOUR["four_east"]
    assert "geometry_sha256" in create["after"]["geom"]
    mine = reviewer.get("/api/audit?user=unit_officer_wutong").json()["data"]
    assert mine and all(r["user"] == "unit_officer_wutong" for r in mine)
    # append-only, in the database itself
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text("UPDATE audit_log SET username = 'x'"))
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text("DELETE FROM audit_log"))


def test_classification_evaluation_lists_and_referrals(login_as, site, db_session):
    officer = login_as("unit_officer", unit="wutong")
    gis, admin, reviewer = login_as("gis_staff"), login_as("admin"), login_as("reviewer")
    parcel = db_session.scalar(select(Parcel).where(Parcel.code == site[0]))
    cc = parcel.enterprise.credit_code  # 135 亩
    r = gis.put(f"/api/enterprises/{cc}/figures/2022", json={"tax_10k_yuan": 270, "output_10k_yuan": 5400})
    assert r.status_code == 200
    assert (r.json()["tax_per_mu_10k"], r.json()["output_per_mu_10k"], r.json()["grade"]) == (2.0, 40.0, "D")
    assert r.json()["suggested_classification"] == "clear_out"
    # the thresholds are editable by the admin and change the grade
    etag = f'"{[g for g in admin.get("/api/grading").json()["data"] if g["grade"] == "C"][0]["version"]}"'
    r = admin.put("/api/grading/C", json={"min_tax_per_mu_10k": 2, "min_output_per_mu_10k": 40,
                                          "suggested_classification": "transform"}, headers={"If-Match": etag})
    assert r.status_code == 200
    ev = officer.get("/api/evaluation?year=2022&unit=wutong").json()
    row = [e for e in ev["enterprises"] if e["credit_code"] == cc][0]
    assert row["grade"] == "C" and row["land_mu"] == 135.0
    r = admin.put("/api/grading/B", json={"min_tax_per_mu_10k": 1, "min_output_per_mu_10k": 1,
                                          "suggested_classification": "upgrade"}, headers={"If-Match": "*"})
    assert r.status_code == 400  # B below C

    # classification: reason, date, who; parcels follow; history kept
    r = officer.put(f"/api/enterprises/{cc}/classification",
                    json={"classification": "clear_out", "reason": "亩均税收 2 万元/亩，长期低效", "decided_on": "2023-02-01"})
    assert r.status_code == 200 and r.json()["clearance_status"] == "listed" and r.json()["decided_by"] == "unit_officer_wutong"
    db_session.refresh(parcel)
    assert parcel.classification == Classification.CLEAR_OUT
    stale = r.headers["ETag"]
    r = reviewer.put(f"/api/enterprises/{cc}/classification", headers={"If-Match": stale},
                     json={"classification": "clear_out", "reason": "复核维持", "decided_on": "2023-02-10"})
    assert r.status_code == 200 and len(r.json()["history"]) == 2
    r = officer.put(f"/api/enterprises/{cc}/classification", headers={"If-Match": stale},
                    json={"classification": "upgrade", "reason": "x", "decided_on": "2023-02-11"})
    assert r.status_code == 409

    # 十剑联动 only for 整治清退, once at a time
    other = db_session.scalar(select(Parcel).where(Parcel.code == site[1])).enterprise.credit_code
    assert officer.post(f"/api/enterprises/{other}/referrals", json={"reason": "x", "referred_on": "2023-03-01"}).status_code == 409
    assert officer.post(f"/api/enterprises/{cc}/referrals", json={"reason": "拒不配合整治", "referred_on": "2023-03-01"}).status_code == 201
    assert officer.post(f"/api/enterprises/{cc}/referrals", json={"reason": "再次", "referred_on": "2023-03-02"}).status_code == 409

    for path, title, reason in (("clearance", "整治清退清单", "复核维持"), ("enforcement", "十剑联动清单", "拒不配合整治")):
        r = officer.get(f"/api/exports/{path}.xlsx")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
        ws = load_workbook(io.BytesIO(r.content)).active
        assert ws.title == title
        rows = [[c.value for c in row] for row in ws.iter_rows()]
        assert rows[2][:6] == ["序号", "企业名称", "统一社会信用代码", "宗地编号", "镇（街道、开发区）", "用地面积（亩）"]
        mine = [row for row in rows[3:] if row[2] == cc]
        assert len(mine) == 1 and mine[0][3] == site[0] and mine[0][4] == "梧桐街道"
        assert any(reason in str(v) for v in mine[0])


def test_tenants_inspections_and_their_evaluation_group(login_as, site):
    officer = login_as("unit_officer", unit="wutong")
    r = officer.post("/api/tenants", json={"parcel": site[0], "lessee": "某经编加工点", "leased_area_m2": 2000,
                                           "lease_start": "2022-01-01", "lease_end": "2021-01-01"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "lease_end"
    r = officer.post("/api/tenants", json={"parcel": site[0], "lessee": "某经编加工点", "credit_code": "123",
                                           "leased_area_m2": 2000, "lease_start": "2022-01-01"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "credit_code"
    r = officer.post("/api/tenants", json={"parcel": site[0], "lessee": "某经编加工点", "leased_area_m2": 2000,
                                           "business": "经编", "lease_start": "2022-01-01"})
    assert r.status_code == 201
    tid = r.json()["id"]
    assert officer.put(f"/api/tenants/{tid}/figures/2022", json={"tax_10k_yuan": 6, "output_10k_yuan": 120}).status_code == 200
    r = officer.post(f"/api/tenants/{tid}/inspections", json={"inspected_on": "2023-04-01", "inspector": "消防",
                                                              "findings": "疏散通道堵塞", "rectify_by": "2023-05-01"})
    iid = r.json()["id"]
    r = officer.patch(f"/api/inspections/{iid}", json={"rectification_status": "done"}, headers={"If-Match": '"1"'})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "rectified_on"
    r = officer.patch(f"/api/inspections/{iid}", json={"rectification_status": "done", "rectified_on": "2023-04-20"},
                      headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["rectification_status"] == "done"
    tenants = officer.get("/api/evaluation?year=2022&unit=wutong").json()["tenants"]
    t = [x for x in tenants if x["id"] == tid][0]
    assert t["land_mu"] == 3.0 and t["tax_per_mu_10k"] == 2.0 and t["output_per_mu_10k"] == 40.0


def test_credit_records_and_defaulters(login_as, site, db_session):
    officer = login_as("unit_officer", unit="wutong")
    cc = db_session.scalar(select(Parcel).where(Parcel.code == site[0])).enterprise.credit_code
    r = officer.post("/api/credit-records", json={
        "project_name": "年产 5 万吨经编面料项目", "enterprise": cc, "year": 2022, "promised_investment_10k": 10000,
        "promised_output_10k": 30000, "promised_tax_10k": 1000, "actual_investment_10k": 8000})
    assert r.status_code == 201 and r.json()["is_defaulter"] is False  # 80 % is the default threshold
    rid = r.json()["id"]
    r = officer.patch(f"/api/credit-records/{rid}", json={"actual_output_10k": 12000}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["is_defaulter"] is True
    assert r.json()["missed"] == [{"item": "output", "label": "产出", "promised_10k": 30000.0, "actual_10k": 12000.0,
                                   "rate": 0.4}]
    listed = officer.get("/api/credit-records?defaulters=true").json()["data"]
    assert [x["id"] for x in listed] == [rid]
    r = officer.patch(f"/api/credit-records/{rid}", json={"actual_tax_10k": 1}, headers={"If-Match": '"1"'})
    assert r.status_code == 409


def test_the_tenant_list_carries_place_figures_and_rights_and_filters_by_block(login_as, site, db_session):
    officer = login_as("unit_officer", unit="wutong")
    r = officer.post("/api/tenants", json={"parcel": site[0], "lessee": "某织造加工点", "leased_area_m2": 800,
                                           "lease_start": "2024-01-01"})
    assert r.status_code == 201, r.text
    tid, etag = r.json()["id"], r.headers["ETag"]
    assert r.json()["unit_name"] == "梧桐街道" and r.json()["figures"] == [] and r.json()["can_edit"] is True
    for year, tax in ((2024, 3), (2025, 4)):
        assert officer.put(f"/api/tenants/{tid}/figures/{year}",
                           json={"tax_10k_yuan": tax, "output_10k_yuan": 90}).status_code == 200
    row = next(t for t in officer.get("/api/tenants?unit=wutong").json()["data"] if t["id"] == tid)
    assert [f["year"] for f in row["figures"]] == [2025, 2024] and row["figures"][0]["tax_10k_yuan"] == 4.0
    assert row["parcel"] == site[0] and row["block_name"] is None  # the site's parcels are in no block yet

    # a required field emptied is refused by name, and nothing changes
    r = officer.patch(f"/api/tenants/{tid}", json={"lessee": None}, headers={"If-Match": etag})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "lessee"
    assert "承租企业名称不能为空" in r.json()["errors"][0]["message"]
    r = officer.patch(f"/api/tenants/{tid}", json={"business": None, "lease_end": None}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.json()["business"] is None and len(r.json()["figures"]) == 2
    r = officer.post(f"/api/tenants/{tid}/inspections", json={"inspected_on": "2026-01-05", "inspector": "安监",
                                                              "findings": "消防通道堵塞"})
    assert r.status_code == 201
    r = officer.patch(f"/api/inspections/{r.json()['id']}", json={"inspector": None}, headers={"If-Match": '"1"'})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "inspector"

    # by block: the block's parcels now
    db_session.execute(text("UPDATE parcels SET block_id = (SELECT id FROM renewal_blocks ORDER BY id LIMIT 1) "
                            "WHERE code = :c"), {"c": site[0]})
    block = db_session.execute(text("SELECT code, name FROM renewal_blocks ORDER BY id LIMIT 1")).one()
    listed = officer.get(f"/api/tenants?block={block.code}").json()["data"]
    assert [t["id"] for t in listed] == [tid] and listed[0]["block_name"] == block.name
    assert officer.get("/api/tenants?block=NO-SUCH-BLOCK").json()["count"] == 0

    r = officer.get("/api/tenants/export.xlsx?unit=wutong")
    assert r.status_code == 200 and r.headers["X-Row-Count"] == str(officer.get("/api/tenants?unit=wutong").json()["count"])
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "厂中厂清单" in values and "某织造加工点" in values and 2025 in values
    assert any("消防通道堵塞（待整改）" in str(v) for v in values)
