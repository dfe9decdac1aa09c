"""项目准入 (docs/admission.md): 产业导向 on the plan, the checks, the reviewer's decision both ways, the
投资履约 record an admission creates, If-Match races, bad blocks and parcels, who reads what, the export."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.core.models import AuditEntry, ReviewEvent
from app.credit_code import check_character
from app.enums import ReviewStatus
from app.models import Enterprise, RenewalBlock
from tests.browser.words import workbook_offending

BLOCK = "TX2022-CF-01"  # 崇福东兴羽绒区块, 产业导向 C17 / C18 / C19 in the demo
PARCEL = "330483-CF-0009"  # 桐乡市顺远纺织有限公司 (C1713, class B)
TEXTILE = "91330483510444980C"


def body(**over) -> dict:
    data = {"block": BLOCK, "parcels": [PARCEL], "enterprise": TEXTILE, "project_name": "顺远年产 5000 吨差别化纤维项目",
            "industry_code": "C1713", "investment_10k": 20000, "output_10k": 60000, "tax_10k": 1500,
            "floor_area_m2": 25000, "far": 2.5, "start_on": "2024-03-01", "complete_on": "2025-12-31"}
    return {**data, **over}


@pytest.fixture()
def officer(login_as):
    return login_as("unit_officer", unit="chongfu")


@pytest.fixture()
def reviewer(login_as):
    return login_as("reviewer")


def flags(report: dict) -> dict[str, dict]:
    return {f["code"]: f for f in report["flags"]}


def created(officer, **over) -> dict:
    r = officer.post("/api/admissions", json=body(**over))
    assert r.status_code == 201, r.text
    return r.json()


def submitted(officer, **over) -> dict:
    a = created(officer, **over)
    r = officer.post(f"/api/admissions/{a['id']}/submit")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "submitted"
    return r.json()


# --- 产业导向 on the block plan ------------------------------------------------------------------


def test_guidance_is_drafted_validated_copied_and_compared(officer):
    plan = officer.get(f"/api/plans/{BLOCK}").json()
    v1 = officer.get(f"/api/plans/{BLOCK}/versions/{plan['current_version_no']}").json()["properties"]
    assert v1["industry_guidance"] == ["C17", "C18", "C19"]
    r = officer.post(f"/api/plans/{BLOCK}/revisions", json={"change_note": "调整产业导向"})
    assert r.status_code == 201, r.text
    plan = r.json()
    number = plan["working_version_no"]
    v2 = officer.get(f"/api/plans/{BLOCK}/versions/{number}").json()["properties"]
    assert v2["industry_guidance"] == ["C17", "C18", "C19"]  # copied into the revision

    r = officer.patch(f"/api/plans/{BLOCK}/draft", json={"industry_guidance": ["C17", "Z12", "17"]},
                      headers={"If-Match": f'"{plan["version"]}"'})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "产业导向" in detail and "Z12" in detail
    assert [e["field"] for e in r.json()["errors"]] == ["industry_guidance", "industry_guidance"]
    assert "第 3 项" in r.json()["errors"][1]["message"]

    r = officer.patch(f"/api/plans/{BLOCK}/draft", json={"industry_guidance": ["c 17", "C28", "C17"]},
                      headers={"If-Match": f'"{plan["version"]}"'})
    assert r.status_code == 200, r.text
    v2 = officer.get(f"/api/plans/{BLOCK}/versions/{number}").json()["properties"]
    assert v2["industry_guidance"] == ["C17", "C28"]
    diff = officer.get(f"/api/plans/{BLOCK}/compare?from={number - 1}&to={number}").json()
    assert diff["fields"]["industry_guidance"] == {"from": "C17、C18、C19", "to": "C17、C28"}


# --- the checks and the decision ---------------------------------------------------------------------


def test_a_clean_project_has_no_error_and_its_figures(officer):
    r = officer.post("/api/admissions/check", json=body())
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["passed"] and not report["flagged"], report["flags"]
    fig = report["figures"]
    assert fig["industry_guidance"] == ["C17", "C18", "C19"] and fig["min_far"] == 2.0
    assert 14 < fig["land_mu"] < 16  # the parcel's 亩 in EPSG:4549
    assert fig["tax_per_mu_10k"] == pytest.approx(1500 / fig["land_mu"], abs=0.01)
    assert fig["expected_grade"] == "A"


def test_wrong_industry_is_flagged_and_the_reviewer_approves_with_a_reason(officer, reviewer, db_session):
    live = officer.post("/api/admissions/check", json=body(industry_code="C2614")).json()
    flag = flags(live)["industry_outside_guidance"]
    assert flag["severity"] == "error" and live["flagged"]
    assert "C2614" in flag["message_zh"] and "C17、C18、C19" in flag["message_zh"]
    assert "化学原料" in flag["message_zh"]

    a = submitted(officer, industry_code="C2614")  # an error does not block the submission
    assert a["flagged"] and a["report"]["flagged"]
    assert "industry_outside_guidance" in flags(a["report"])
    seen = reviewer.get(f"/api/admissions/{a['id']}").json()
    assert seen["can_decide"] and "industry_outside_guidance" in flags(seen["report"])
    assert any((n["subject"] or {}).get("code") == a["code"] for n in reviewer.get("/api/notifications").json()["data"])

    r = reviewer.post(f"/api/admissions/{a['id']}/approve", json={})
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == "comment" and "理由" in r.json()["detail"]

    r = reviewer.post(f"/api/admissions/{a['id']}/approve",
                      json={"comment": "产业链配套项目，经领导小组研究同意", "doc_no": "桐有更准〔2024〕3号",
                            "approval_date": "2024-02-20"})
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "approved" and done["approval_doc_no"] == "桐有更准〔2024〕3号"
    assert done["credit_record_id"] is not None

    records = reviewer.get("/api/credit-records?year=2025").json()["data"]
    record = next(x for x in records if x["id"] == done["credit_record_id"])
    assert record["project_name"] == body()["project_name"] and record["credit_code"] == TEXTILE
    assert float(record["promised_investment_10k"]) == 20000 and float(record["promised_tax_10k"]) == 1500
    assert a["code"] in record["note"] and "2025-12-31" in record["note"]
    # the officer's own list of 投资履约 shows it too (their unit)
    assert done["credit_record_id"] in {x["id"] for x in officer.get("/api/credit-records").json()["data"]}
    # decided: the checks shown are the ones decided on
    assert reviewer.get(f"/api/admissions/{a['id']}").json()["report"]["checked_at"] == done["report"]["checked_at"]
    # audited, and on the review log
    actions = set(db_session.scalars(select(AuditEntry.action).where(AuditEntry.subject == f"admission:{a['id']}")))
    assert {"admission_create", "submit", "approve"} <= actions
    events = db_session.scalars(select(ReviewEvent).where(ReviewEvent.subject_type == "project_admission",
                                                          ReviewEvent.subject_code == a["code"])
                                .order_by(ReviewEvent.id)).all()
    assert [(e.action, e.to_state) for e in events] == [("submit", "submitted"), ("approve", "approved")]
    assert events[-1].comment.startswith("产业链配套") and events[-1].doc_no == "桐有更准〔2024〕3号"


def test_wrong_industry_returned_then_corrected(officer, reviewer):
    a = submitted(officer, industry_code="C2614")
    r = reviewer.post(f"/api/admissions/{a['id']}/return", json={"comment": "不符合区块产业导向"})
    assert r.status_code == 200 and r.json()["status"] == "returned" and r.json()["credit_record_id"] is None
    assert any("不符合区块产业导向" in n["message"] for n in officer.get("/api/notifications").json()["data"])
    current = officer.get(f"/api/admissions/{a['id']}")
    r = officer.patch(f"/api/admissions/{a['id']}", json=body(industry_code="C1762"),
                      headers={"If-Match": current.headers["ETag"]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "draft" and not r.json()["flagged"]
    assert officer.patch(f"/api/admissions/{a['id']}", json=body()).status_code == 428  # If-Match required


def test_far_below_the_floor_and_low_per_mu_are_flagged(officer):
    report = officer.post("/api/admissions/check", json=body(far=1.2, tax_10k=60, output_10k=900)).json()
    f = flags(report)
    assert f["far_below_min"]["severity"] == "error" and "1.20" in f["far_below_min"]["message_zh"]
    assert "2.00" in f["far_below_min"]["message_zh"]
    assert f["tax_per_mu_below_line"]["severity"] == "warning"
    assert "B 档" in f["tax_per_mu_below_line"]["message_zh"]
    assert report["figures"]["expected_grade"] == "D"


def test_the_enterprise_credit_is_checked(officer, login_as, db_session):
    admin = login_as("admin")
    r = admin.put(f"/api/enterprises/{TEXTILE}/classification",
                  json={"classification": "clear_out", "reason": "亩均税收低", "decided_on": "2024-01-05"})
    assert r.status_code == 200, r.text
    assert admin.post(f"/api/enterprises/{TEXTILE}/referrals",
                      json={"reason": "拒不配合整治", "referred_on": "2024-01-10"}).status_code == 201
    r = officer.post("/api/credit-records", json={
        "project_name": "顺远旧项目", "enterprise": TEXTILE, "year": 2022, "promised_investment_10k": 5000,
        "promised_output_10k": 20000, "promised_tax_10k": 800})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert officer.patch(f"/api/credit-records/{rid}", json={"actual_investment_10k": 1000},
                         headers={"If-Match": "*"}).status_code == 200
    report = officer.post("/api/admissions/check", json=body()).json()
    f = flags(report)
    assert {"enterprise_clear_out", "enterprise_referred", "enterprise_defaults"} <= f.keys()
    assert "顺远旧项目" in f["enterprise_defaults"]["message_zh"]
    assert report["enterprise"]["classification_label"] == "整治清退"


def test_concurrent_decisions_conflict(officer, reviewer, login_as):
    a = submitted(officer)
    etag = reviewer.get(f"/api/admissions/{a['id']}").headers["ETag"]
    other = login_as("admin")
    r1 = reviewer.post(f"/api/admissions/{a['id']}/return", json={"comment": "补充材料"}, headers={"If-Match": etag})
    assert r1.status_code == 200, r1.text
    r2 = other.post(f"/api/admissions/{a['id']}/approve", json={"comment": "同意"}, headers={"If-Match": etag})
    assert r2.status_code == 409 and r2.json()["code"] == "conflict", r2.text
    assert r2.json()["detail"]


def test_admitting_a_new_enterprise_registers_it(officer, reviewer, db_session):
    first17 = "91330483MA7H2K5X0"
    code = first17 + check_character(first17)
    assert officer.post("/api/admissions/check", json=body(enterprise=code)).status_code == 400  # name needed
    a = submitted(officer, enterprise=code, enterprise_name="桐乡新锐羽绒科技有限公司", industry_code="C1942",
                  project_name="新锐羽绒智能工厂")
    assert not a["enterprise_registered"] and "enterprise_new" in flags(a["report"])
    r = reviewer.post(f"/api/admissions/{a['id']}/approve", json={})
    assert r.status_code == 200, r.text
    e = db_session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
    assert e is not None and e.name == "桐乡新锐羽绒科技有限公司" and e.industry_code == "C1942"
    assert r.json()["enterprise_registered"]


# --- bad input -----------------------------------------------------------------------------


def test_bad_blocks_parcels_and_figures_are_4xx_in_chinese(officer, db_session):
    r = officer.post("/api/admissions", json=body(parcels=[PARCEL, "330483-WT-0001"]))
    assert r.status_code == 422 and "330483-WT-0001" in r.json()["detail"] and "不在" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "parcels"
    r = officer.post("/api/admissions", json=body(block="TX-NONE"))
    assert r.status_code == 400 and "TX-NONE" in r.json()["detail"]
    r = officer.post("/api/admissions", json=body(industry_code="Q9"))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "industry_code"
    r = officer.post("/api/admissions", json=body(complete_on="2023-01-01"))
    assert r.status_code == 400 and "竣工" in r.json()["detail"]
    r = officer.post("/api/admissions", json=body(enterprise="91330483510444980X"))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "enterprise"
    r = officer.post("/api/admissions", json=body(far=-1))
    assert r.status_code == 422 and r.json()["detail"]

    block = db_session.scalar(select(RenewalBlock).where(RenewalBlock.code == BLOCK))
    block.review_status = ReviewStatus.SUBMITTED  # (in the test's transaction only)
    db_session.flush()
    r = officer.post("/api/admissions", json=body())
    assert r.status_code == 400 and "尚未认定" in r.json()["detail"], r.text


# --- who reads what; the export ---------------------------------------------------------------


def test_who_reads_what_and_the_export(officer, reviewer, login_as):
    draft = created(officer)
    sent = submitted(officer, project_name="顺远二期")
    other = login_as("unit_officer", unit="wutong")
    planner = login_as("planner")
    assert {draft["id"], sent["id"]} <= {x["id"] for x in officer.get("/api/admissions").json()["data"]}
    assert not {draft["id"], sent["id"]} & {x["id"] for x in other.get("/api/admissions").json()["data"]}
    assert other.get(f"/api/admissions/{sent['id']}").status_code == 404
    seen = {x["id"] for x in planner.get("/api/admissions").json()["data"]}
    assert sent["id"] in seen and draft["id"] not in seen
    panel = planner.get(f"/api/admissions/by-block/{BLOCK}").json()
    assert panel["industry_guidance"] == ["C17", "C18", "C19"] and panel["industry_guidance_names"][0] == "纺织业"
    assert sent["id"] in {x["id"] for x in panel["data"]}
    listed = reviewer.get("/api/admissions?status=submitted").json()["data"]  # the demo's pending one, and ours
    assert sent["id"] in {x["id"] for x in listed}
    r = reviewer.get("/api/admissions/export.xlsx?status=submitted")
    assert r.status_code == 200 and r.headers["X-Row-Count"] == str(len(listed))
    assert workbook_offending(r.content) == []
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws["A1"].value == "项目准入申请一览"
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    ours = [values for values in rows if "顺远二期" in values]
    assert len(ours) == 1 and "已提交" in ours[0]
    assert other.get("/api/admissions/blocks").json()["data"][0]["unit"] == "wutong"
    assert planner.get("/api/admissions/blocks").status_code == 403


def test_no_one_decides_what_they_wrote(login_as):
    admin = login_as("admin")
    r = admin.post("/api/admissions", json=body(project_name="管理员代填项目"))
    assert r.status_code == 201, r.text
    aid = r.json()["id"]
    assert admin.post(f"/api/admissions/{aid}/submit").status_code == 200
    r = admin.post(f"/api/admissions/{aid}/approve", json={"comment": "同意"})
    assert r.status_code == 403 and r.json()["code"] == "separation_of_duties", r.text
    assert login_as("reviewer").post(f"/api/admissions/{aid}/approve", json={}).status_code == 200
