"""扶持资金 on the approved boundary (issue 19 part 4): inside a block on a day from the version in force,
the ledger refusing what lay outside, its review, payments and totals, If-Match."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.core.models import AuditEntry
from app.models import Parcel
from tests.app.workflow_site import FOUR, SIDE_M, make_site
from tests.browser.words import workbook_offending

TEST_ACCOUNTS = ("test_", "unit_officer_")  # the fixtures' account names (demo accounts have Chinese names)

PLAN = "TX2023-WT-S1"
DEMO_ENTERPRISE = "9133048317555134CX"  # on the list of 崇福东兴羽绒区块 (认定 2022-04-18)


@pytest.fixture()
def officer(login_as):
    return login_as("unit_officer", unit="wutong")


@pytest.fixture()
def admin(login_as):
    return login_as("admin")


@pytest.fixture()
def reviewer(login_as):
    return login_as("reviewer")


@pytest.fixture()
def revised(db_session, officer, reviewer):
    """A wutong block of parcels 1 and 2 approved 2023-05-01, revised to parcels 2 and 3 from 2023-09-01."""
    site = make_site(db_session, "wutong", "WT-S", [(0, 0), (SIDE_M, 0), (2 * SIDE_M, 0)])
    r = officer.post("/api/plans", json={"code": PLAN, "name": "梧桐扶持试验区块", "year": 2023, "parcels": site[:2],
                                         **FOUR})
    assert r.status_code == 201, r.text
    r = officer.post(f"/api/plans/{PLAN}/submit")
    assert r.status_code == 200, r.text
    r = reviewer.post(f"/api/plans/{PLAN}/approve", json={"doc_no": "桐有更〔2023〕21号", "approval_date": "2023-05-01"})
    assert r.status_code == 200, r.text
    r = officer.post(f"/api/plans/{PLAN}/revisions", json={"change_note": "西侧一宗调出，东侧并入一宗"})
    assert r.status_code == 201, r.text
    r = officer.patch(f"/api/plans/{PLAN}/draft", json={"parcels": site[1:]}, headers={"If-Match": r.headers["ETag"]})
    assert r.status_code == 200, r.text
    r = officer.post(f"/api/plans/{PLAN}/submit")
    assert r.status_code == 200, r.text
    r = reviewer.post(f"/api/plans/{PLAN}/approve", json={"doc_no": "桐有更〔2023〕29号", "approval_date": "2023-09-01"})
    assert r.status_code == 200, r.text
    return site


def _member(client, on, **subject):
    r = client.get("/api/boundary-membership", params={"on": on, **subject})
    assert r.status_code == 200, r.text
    return r.json()


def _apply(client, on, amount="100", **subject):
    return client.post("/api/subsidies/entries", json={**subject, "applied_on": on, "amount_10k": amount,
                                                       "basis": "按区块扶持政策申请改造奖励"})


def test_membership_of_a_demo_enterprise_from_its_approval(officer):
    before = _member(officer, "2022-04-17", enterprise=DEMO_ENTERPRISE)
    assert before["inside"] is False and "不在任何已认定区块" in before["sentence"]
    on = _member(officer, "2023-01-01", enterprise=DEMO_ENTERPRISE)
    assert on["inside"] is True
    m = on["membership"]
    assert (m["block"], m["since"], m["doc_no"], m["version_no"]) == ("TX2022-CF-01", "2022-04-18", "桐有更〔2022〕1号", 1)
    assert "崇福东兴羽绒区块" in on["sentence"] and "2022-04-18" in on["sentence"]
    assert [h["from"] for h in on["history"]] == ["2022-04-18"]


def test_membership_bad_input_is_chinese(officer):
    r = officer.get("/api/boundary-membership", params={"on": "2023-01-01"})
    assert r.status_code == 400 and "二选一" not in r.json()["detail"] and "一项" in r.json()["detail"]
    r = officer.get("/api/boundary-membership", params={"on": "2023-01-01", "parcel": "无此宗地"})
    assert r.status_code == 404 and "无此宗地" in r.json()["detail"]
    r = officer.get("/api/boundary-membership", params={"on": "2023-13-01", "parcel": "330483-CF-0001"})
    assert r.status_code == 422


def test_versions_in_force_decide_parcels_and_enterprises(revised, officer, db_session):
    p1, p2, p3 = revised
    # parcel 1: inside with version 1 only
    assert _member(officer, "2023-04-30", parcel=p1)["inside"] is False
    june = _member(officer, "2023-06-01", parcel=p1)
    assert june["inside"] and june["membership"]["version_no"] == 1 and june["membership"]["share_inside"] >= 0.99
    assert _member(officer, "2023-10-01", parcel=p1)["inside"] is False
    # parcel 2: in both versions, unbroken since the first approval
    oct_ = _member(officer, "2023-10-01", parcel=p2)
    assert oct_["membership"]["version_no"] == 2 and oct_["membership"]["since"] == "2023-05-01"
    assert [(h["version_no"], h["from"], h["to"]) for h in oct_["history"]] == [
        (1, "2023-05-01", "2023-09-01"), (2, "2023-09-01", None)]
    # parcel 3 (the reverse): outside before the revision, inside from it
    assert _member(officer, "2023-06-01", parcel=p3)["inside"] is False
    assert _member(officer, "2023-09-01", parcel=p3)["membership"]["since"] == "2023-09-01"
    # enterprises follow the versions' lists the same way
    ent1 = db_session.scalar(select(Parcel).where(Parcel.code == p1)).enterprise.credit_code
    assert _member(officer, "2023-06-01", enterprise=ent1)["inside"] is True
    assert _member(officer, "2023-10-01", enterprise=ent1)["inside"] is False
    ent3 = db_session.scalar(select(Parcel).where(Parcel.code == p3)).enterprise.credit_code
    assert _member(officer, "2023-06-01", enterprise=ent3)["inside"] is False
    assert _member(officer, "2023-10-01", enterprise=ent3)["membership"]["since"] == "2023-09-01"


def test_the_ledger_refuses_what_lay_outside_on_its_date(revised, officer):
    p1, _p2, p3 = revised
    # parcel 1 dropped by the revision: accepted for a day it was inside, refused after
    r = _apply(officer, "2023-06-01", parcel=p1)
    assert r.status_code == 201, r.text
    assert (r.json()["block"], r.json()["plan_version_no"], r.json()["approval_doc_no"]) == (PLAN, 1, "桐有更〔2023〕21号")
    r = _apply(officer, "2023-10-01", parcel=p1)
    assert r.status_code == 422, r.text
    body = r.json()
    assert p1 in body["detail"] and "2023-10-01" in body["detail"] and "不在任何已认定区块" in body["detail"]
    assert body["errors"][0]["field"] == "parcel"
    # parcel 3 joined by the revision: refused before, accepted from it
    r = _apply(officer, "2023-06-01", parcel=p3)
    assert r.status_code == 422 and p3 in r.json()["detail"] and "2023-06-01" in r.json()["detail"]
    assert _apply(officer, "2023-09-02", parcel=p3).status_code == 201
    # an enterprise outside every block
    r = _apply(officer, "2023-06-01", enterprise="91330483MA2B3C4D5E")
    assert r.status_code == 404


def test_officers_apply_for_their_own_unit(login_as):
    chongfu, wutong = login_as("unit_officer", unit="chongfu"), login_as("unit_officer", unit="wutong")
    r = _apply(wutong, "2023-01-10", enterprise=DEMO_ENTERPRISE)
    assert r.status_code == 403 and "崇福镇" in r.json()["detail"]
    r = _apply(chongfu, "2023-01-10", enterprise=DEMO_ENTERPRISE)
    assert r.status_code == 201, r.text
    entry = r.json()["id"]
    assert wutong.get(f"/api/subsidies/entries/{entry}").status_code == 403
    assert entry not in {e["id"] for e in wutong.get("/api/subsidies/entries").json()["data"]}
    assert entry in {e["id"] for e in chongfu.get("/api/subsidies/entries").json()["data"]}


def _d(value) -> Decimal:
    return Decimal(value)


def test_review_payments_and_totals_add_up(login_as, admin, reviewer):
    chongfu = login_as("unit_officer", unit="chongfu")
    start = admin.get("/api/subsidies/fund").json()
    assert start["stored"] and _d(start["total_10k"]) == 20000
    a = _apply(chongfu, "2023-02-01", amount="400", enterprise=DEMO_ENTERPRISE).json()
    b = _apply(chongfu, "2023-02-02", amount="120", parcel="330483-CF-0001").json()
    mid = admin.get("/api/subsidies/fund").json()
    assert _d(mid["pending_10k"]) == _d(start["pending_10k"]) + 520
    assert mid["committed_10k"] == start["committed_10k"]

    # approving more than applied for, or the applicant approving their own, is refused
    etag = admin.get(f"/api/subsidies/entries/{a['id']}").headers["ETag"]
    r = reviewer.post(f"/api/subsidies/entries/{a['id']}/approve", json={"approved_10k": "401"}, headers={"If-Match": etag})
    assert r.status_code == 422 and "不能超过申请金额" in r.json()["detail"]
    r = reviewer.post(f"/api/subsidies/entries/{a['id']}/approve", json={"approved_10k": "350", "comment": "核减"},
                      headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["approved_10k"] == "350.00"
    # the stale ETag is a 409
    r = reviewer.post(f"/api/subsidies/entries/{a['id']}/approve", json={"approved_10k": "300"}, headers={"If-Match": etag})
    assert r.status_code == 409
    r = reviewer.post(f"/api/subsidies/entries/{b['id']}/reject", json={"comment": "不符合条件"}, headers={"If-Match": "*"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    r = admin.post(f"/api/subsidies/entries/{b['id']}/payments", json={"paid_on": "2023-03-01", "amount_10k": "1"},
                   headers={"If-Match": "*"})
    assert r.status_code == 409 and "审核通过" in r.json()["detail"]

    # payments: within the approved amount, never beyond it
    etag = admin.get(f"/api/subsidies/entries/{a['id']}").headers["ETag"]
    r = admin.post(f"/api/subsidies/entries/{a['id']}/payments", json={"paid_on": "2023-04-01", "amount_10k": "200"},
                   headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    r2 = admin.post(f"/api/subsidies/entries/{a['id']}/payments", json={"paid_on": "2023-05-01", "amount_10k": "151"},
                    headers={"If-Match": r.headers["ETag"]})
    assert r2.status_code == 422 and "超过核定金额" in r2.json()["detail"] and "150.00" in r2.json()["detail"]
    r = admin.post(f"/api/subsidies/entries/{a['id']}/payments", json={"paid_on": "2023-05-01", "amount_10k": "100"},
                   headers={"If-Match": r.headers["ETag"]})
    assert r.status_code == 200 and r.json()["paid_10k"] == "300.00" and r.json()["unpaid_10k"] == "50.00"
    assert len(r.json()["payments"]) == 2
    r = reviewer.post(f"/api/subsidies/entries/{a['id']}/payments", json={"paid_on": "2023-05-01", "amount_10k": "1"},
                      headers={"If-Match": "*"})
    assert r.status_code == 403

    end = admin.get("/api/subsidies/fund").json()
    assert _d(end["committed_10k"]) == _d(start["committed_10k"]) + 350
    assert _d(end["paid_10k"]) == _d(start["paid_10k"]) + 300
    assert _d(end["pending_10k"]) == _d(start["pending_10k"])
    assert _d(end["remaining_10k"]) == _d(end["total_10k"]) - _d(end["committed_10k"])
    assert _d(end["unpaid_10k"]) == _d(end["committed_10k"]) - _d(end["paid_10k"])
    for key in ("committed_10k", "paid_10k", "pending_10k", "unpaid_10k"):
        assert sum(_d(b[key]) for b in end["blocks"]) == _d(end[key]), key
        assert sum(_d(u[key]) for u in end["units"]) == _d(end[key]), key
    entries = admin.get("/api/subsidies/entries", params={"limit": 1000}).json()["data"]
    assert sum(_d(e["approved_10k"] or 0) for e in entries) == _d(end["committed_10k"])
    assert sum(_d(e["paid_10k"]) for e in entries) == _d(end["paid_10k"])
    cf = admin.get("/api/subsidies/blocks/TX2022-CF-01").json()
    assert cf["committed_10k"] == next(b for b in end["blocks"] if b["block"] == "TX2022-CF-01")["committed_10k"]

    # the workbook
    r = admin.get("/api/subsidies/export.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["台账", "汇总"]
    assert [w for w in workbook_offending(r.content) if not w.startswith(TEST_ACCOUNTS)] == []
    assert any("崇福东兴羽绒区块" == c.value for row in wb["台账"].iter_rows() for c in row)


def test_self_review_and_the_fund_limits(admin, login_as):
    r = _apply(admin, "2023-02-01", amount="100", enterprise=DEMO_ENTERPRISE)
    assert r.status_code == 201, r.text
    own = r.json()["id"]
    r = admin.post(f"/api/subsidies/entries/{own}/approve", json={"approved_10k": "100"}, headers={"If-Match": "*"})
    assert r.status_code == 403 and "本人" in r.json()["detail"]

    # the fund's total: never below what is committed; If-Match
    fund = admin.get("/api/subsidies/fund")
    committed = _d(fund.json()["committed_10k"])
    assert committed > 0
    body = {"name": fund.json()["name"], "total_10k": str(committed - 1)}
    r = admin.put("/api/subsidies/fund", json=body, headers={"If-Match": fund.headers["ETag"]})
    assert r.status_code == 422 and "不能低于已审核承诺" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "total_10k"
    r = admin.put("/api/subsidies/fund", json={**body, "total_10k": "-5"}, headers={"If-Match": fund.headers["ETag"]})
    assert r.status_code == 422
    r = admin.put("/api/subsidies/fund", json={**body, "total_10k": str(committed + 50)}, headers={})
    assert r.status_code == 428
    r = admin.put("/api/subsidies/fund", json={**body, "total_10k": str(committed + 50)},
                  headers={"If-Match": fund.headers["ETag"]})
    assert r.status_code == 200 and _d(r.json()["remaining_10k"]) == 50
    r2 = admin.put("/api/subsidies/fund", json={**body, "total_10k": "30000"}, headers={"If-Match": fund.headers["ETag"]})
    assert r2.status_code == 409
    # approving beyond what the fund has left
    reviewer = login_as("reviewer")
    r = reviewer.post(f"/api/subsidies/entries/{own}/approve", json={"approved_10k": "60"}, headers={"If-Match": "*"})
    assert r.status_code == 422 and "可承诺余额" in r.json()["detail"] and "50.00" in r.json()["detail"]


def test_writes_are_audited(admin, login_as, db_session):
    chongfu = login_as("unit_officer", unit="chongfu")
    entry = _apply(chongfu, "2023-02-01", enterprise=DEMO_ENTERPRISE).json()["id"]
    login_as("reviewer").post(f"/api/subsidies/entries/{entry}/approve", json={"approved_10k": "80"},
                              headers={"If-Match": "*"})
    admin.post(f"/api/subsidies/entries/{entry}/payments", json={"paid_on": "2023-03-01", "amount_10k": "80"},
               headers={"If-Match": "*"})
    rows = db_session.scalars(select(AuditEntry).where(AuditEntry.subject == f"subsidy:{entry}").order_by(AuditEntry.id))
    actions = {(a.action, a.object_type) for a in rows if a.username != "system"}
    assert {("subsidy_apply", "subsidy_entries"), ("subsidy_approve", "subsidy_entries"),
            ("subsidy_pay", "subsidy_payments"), ("subsidy_pay", "subsidy_entries")} <= actions
    # the applicant is told
    notes = chongfu.get("/api/notifications").json()["data"]
    assert any(f"第 {entry} 笔" in n["message"] and "审核通过" in n["message"] for n in notes), notes


def test_an_entry_for_an_admitted_project(login_as):
    """An application may name an approved 项目准入 of the same enterprise (its name becomes the project's)."""
    chongfu, reviewer = login_as("unit_officer", unit="chongfu"), login_as("reviewer")
    textile = "91330483510444980C"  # 桐乡市顺远纺织有限公司, parcel 330483-CF-0009 of 崇福东兴羽绒区块
    r = chongfu.post("/api/admissions", json={
        "block": "TX2022-CF-01", "parcels": ["330483-CF-0009"], "enterprise": textile,
        "project_name": "顺远差别化纤维项目", "industry_code": "C1713", "investment_10k": 20000, "output_10k": 60000,
        "tax_10k": 1500, "floor_area_m2": 25000, "far": 2.5, "start_on": "2024-03-01", "complete_on": "2025-12-31"})
    assert r.status_code == 201, r.text
    admission = r.json()["id"]
    body = {"enterprise": textile, "applied_on": "2023-06-01", "amount_10k": "90", "basis": "新项目导入奖励",
            "admission_id": admission}
    r = chongfu.post("/api/subsidies/entries", json=body)
    assert r.status_code == 422 and "尚未准入" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "admission_id"
    assert chongfu.post(f"/api/admissions/{admission}/submit").status_code == 200
    r = reviewer.post(f"/api/admissions/{admission}/approve", json={
        "comment": "同意", "doc_no": "桐有更准〔2024〕9号", "approval_date": "2024-02-20"})
    assert r.status_code == 200, r.text
    r = chongfu.post("/api/subsidies/entries", json={**body, "enterprise": DEMO_ENTERPRISE})
    assert r.status_code == 422 and "不是" in r.json()["detail"]
    r = chongfu.post("/api/subsidies/entries", json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["admission_id"], r.json()["project_name"]) == (admission, "顺远差别化纤维项目")
    r = chongfu.post("/api/subsidies/entries", json={**body, "admission_id": 2**31 - 1})
    assert r.status_code == 422 and "未找到" in r.json()["detail"]
