"""Block plan lifecycle: each transition, each rule at submission and approval, frozen versions,
revisions and comparison, stages, batch review and notifications (real PostGIS)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.enums import ReviewStatus
from app.models import Parcel, RenewalBlock
from app.workflow.models import BlockPlan, BlockVersion
from tests.app.workflow_site import FOUR, SIDE_M, make_site

ADJACENT = [(0, 0), (SIDE_M, 0)]  # two 135 亩 boxes side by side: 270 亩, contiguous


@pytest.fixture()
def officer(login_as):
    return login_as("unit_officer", unit="wutong")


@pytest.fixture()
def reviewer(login_as):
    return login_as("reviewer")


def _create(client, code, parcels, **extra):
    body = {"code": code, "name": f"{code} 试验区块", "year": 2022, "parcels": parcels, **FOUR, **extra}
    return client.post("/api/plans", json=body)


def _codes(r) -> set[str]:
    return {e["field"] for e in r.json()["errors"]}


def _approve(reviewer, code, doc="桐有更〔2022〕9号"):
    return reviewer.post(f"/api/plans/{code}/approve", json={"doc_no": doc, "approval_date": "2022-10-01"})


def test_draft_submit_return_edit_submit_approve(officer, reviewer, db_session):
    parcels = make_site(db_session, "wutong", "WT-T1", ADJACENT)
    r = _create(officer, "TX2022-WT-91", parcels)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["status"] == "draft" and plan["working_version_no"] == 1 and plan["versions"][0]["area_mu"] == 270.0
    assert r.headers["ETag"] == f'"{plan["version"]}"'

    r = officer.post("/api/plans/TX2022-WT-91/submit")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "submitted"
    # a submitted version cannot be edited
    r = officer.patch("/api/plans/TX2022-WT-91/draft", json={"four_east": "东至新路"},
                      headers={"If-Match": r.headers["ETag"]})
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"

    r = reviewer.post("/api/plans/TX2022-WT-91/return", json={"comment": "四至描述请与测绘图一致"})
    assert r.status_code == 200 and r.json()["status"] == "returned"
    notes = officer.get("/api/notifications").json()["data"]
    assert notes[0]["kind"] == "returned" and "四至描述请与测绘图一致" in notes[0]["message"]

    etag = officer.get("/api/plans/TX2022-WT-91").headers["ETag"]
    r = officer.patch("/api/plans/TX2022-WT-91/draft", json={"four_east": "东至试验路（规划）"}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.json()["status"] == "draft"  # returned → draft
    assert officer.post("/api/plans/TX2022-WT-91/submit").status_code == 200

    r = _approve(reviewer, "TX2022-WT-91")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "approved" and body["current_version_no"] == 1 and body["working_version_no"] is None
    assert body["stage"] == "planned"
    v1 = body["versions"][0]
    assert v1["approval_doc_no"] == "桐有更〔2022〕9号" and v1["reviewed_by"]["username"] == "test_reviewer"
    # published as a renewal block, with its parcels
    block = db_session.scalar(select(RenewalBlock).where(RenewalBlock.code == "TX2022-WT-91"))
    assert block.review_status == ReviewStatus.APPROVED and block.designated_year == 2022
    assert block.four_east == "东至试验路（规划）" and float(block.area_mu) == 270.0
    assert sorted(db_session.scalars(select(Parcel.code).where(Parcel.block_id == block.id))) == parcels
    assert officer.get("/api/notifications?unread=true").json()["data"][0]["kind"] == "approved"


def test_permissions_on_drafting(login_as, db_session):
    parcels = make_site(db_session, "wutong", "WT-T2", ADJACENT)
    other = login_as("unit_officer", unit="chongfu")
    assert _create(other, "TX2022-WT-92", parcels, unit="wutong").status_code == 403
    r = _create(other, "TX2022-WT-92", parcels)  # own unit by default: the parcels are not in it
    assert r.status_code == 422 and "不在本单位辖区内" in r.json()["detail"]
    assert _create(login_as("planner"), "TX2022-WT-92", parcels, unit="wutong").status_code == 403
    assert _create(login_as("reviewer"), "TX2022-WT-92", parcels, unit="wutong").status_code == 403
    assert _create(login_as("admin"), "TX2022-WT-92", parcels, unit="wutong").status_code == 201


def test_bad_draft_input_is_named(officer, db_session):
    parcels = make_site(db_session, "wutong", "WT-T3", ADJACENT)
    r = _create(officer, "TX2022-WT-93", [parcels[0], "NO-SUCH-PARCEL"])
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "parcels", "feature": 2, "message": "宗地“NO-SUCH-PARCEL”不存在"}]
    r = _create(officer, "TX2022-WT-93", parcels, enterprises=[{"credit_code": "91330483MA0000000X"}])
    assert r.status_code == 422 and "企业库中没有" in r.json()["detail"]
    r = _create(officer, "TX2022-WT-01", parcels)  # an existing block's code
    assert r.status_code == 409
    taken = db_session.scalar(select(Parcel.code).where(Parcel.block_id.is_not(None), Parcel.unit_id == select(
        RenewalBlock.unit_id).where(RenewalBlock.code == "TX2022-WT-01").scalar_subquery()))
    r = _create(officer, "TX2022-WT-93", [taken])
    assert r.status_code == 422 and "已属于已认定区块" in r.json()["detail"]
    r = _create(officer, "TX2022-WT-93", parcels, boundary={"type": "LineString", "coordinates": [[120, 30], [121, 31]]})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "boundary"


@pytest.mark.parametrize(
    ("offsets", "extra", "classification", "expected"),
    [
        ([(0, 0)], {}, "upgrade", "block_area_below_min"),  # 135 亩
        ([(0, 0), (SIDE_M + 200, 0)], {}, "upgrade", "block_not_contiguous"),  # 200 m apart
        (ADJACENT, {"four_north": ""}, "upgrade", "four_boundaries_missing"),
        (ADJACENT, {}, None, "classification_missing"),
    ],
    ids=["area", "contiguity", "four_boundaries", "classification"],
)
def test_each_rule_refuses_submission(officer, db_session, offsets, extra, classification, expected):
    parcels = make_site(db_session, "wutong", f"WT-R-{expected[:6]}", offsets, classification=classification)
    assert _create(officer, "TX2022-WT-94", parcels, **extra).status_code == 201
    r = officer.post("/api/plans/TX2022-WT-94/submit")
    assert r.status_code == 422 and r.json()["code"] == "plan_rules_failed"
    assert expected in _codes(r)
    assert "不能提交" in r.json()["detail"]
    assert officer.get("/api/plans/TX2022-WT-94").json()["status"] == "draft"
    # the pre-check shows the same report without changing anything
    report = officer.get("/api/plans/TX2022-WT-94/check").json()
    assert report["passed"] is False and expected in {v["code"] for v in report["violations"]}


def test_enterprise_list_must_be_complete(officer, db_session):
    parcels = make_site(db_session, "wutong", "WT-T5", ADJACENT)
    first = db_session.scalar(select(Parcel).where(Parcel.code == parcels[0])).enterprise.credit_code
    assert _create(officer, "TX2022-WT-95", parcels, enterprises=[{"credit_code": first}]).status_code == 201
    r = officer.post("/api/plans/TX2022-WT-95/submit")
    assert r.status_code == 422 and "enterprise_list_incomplete" in _codes(r)


def test_unit_year_limit_at_submission(login_as, db_session):
    chongfu = login_as("unit_officer", unit="chongfu")  # 崇福镇 already has 2 blocks designated in 2022
    parcels = make_site(db_session, "chongfu", "CF-T6", ADJACENT)
    assert _create(chongfu, "TX2022-CF-96", parcels).status_code == 201
    r = chongfu.post("/api/plans/TX2022-CF-96/submit")
    assert r.status_code == 422 and "unit_year_block_limit_exceeded" in _codes(r)
    etag = chongfu.get("/api/plans/TX2022-CF-96").headers["ETag"]
    assert chongfu.patch("/api/plans/TX2022-CF-96/draft", json={"year": 2023}, headers={"If-Match": etag}).status_code == 200
    assert chongfu.post("/api/plans/TX2022-CF-96/submit").status_code == 200


def test_rules_run_again_at_approval(officer, reviewer, db_session):
    """Two plans pass at submission (1 + 1 designated in 2022); approving both would make 3."""
    a = make_site(db_session, "wutong", "WT-T7A", ADJACENT)
    b = make_site(db_session, "wutong", "WT-T7B", ADJACENT, origin=(50_000.0, 3_380_000.0))
    for code, parcels in (("TX2022-WT-97", a), ("TX2022-WT-98", b)):
        assert _create(officer, code, parcels).status_code == 201
        assert officer.post(f"/api/plans/{code}/submit").status_code == 200
    assert _approve(reviewer, "TX2022-WT-97").status_code == 200
    r = _approve(reviewer, "TX2022-WT-98", doc="桐有更〔2022〕10号")
    assert r.status_code == 422 and "unit_year_block_limit_exceeded" in _codes(r)
    assert "不能认定" in r.json()["detail"]
    assert reviewer.get("/api/plans/TX2022-WT-98").json()["status"] == "submitted"
    assert db_session.scalar(select(RenewalBlock).where(RenewalBlock.code == "TX2022-WT-98")) is None


def test_transitions_out_of_order_are_refused(officer, reviewer, db_session):
    parcels = make_site(db_session, "wutong", "WT-T8", ADJACENT)
    assert _create(officer, "TX2022-WT-99", parcels).status_code == 201
    assert _approve(reviewer, "TX2022-WT-99").status_code == 409  # a draft cannot be approved
    assert reviewer.post("/api/plans/TX2022-WT-99/return", json={"comment": "x"}).status_code == 409
    assert officer.post("/api/plans/TX2022-WT-99/stage", json={"stage": "started"}).status_code == 409
    assert officer.post("/api/plans/TX2022-WT-99/revisions", json={"change_note": "x"}).status_code == 409
    assert officer.post("/api/plans/TX2022-WT-99/submit").status_code == 200
    assert officer.post("/api/plans/TX2022-WT-99/submit").status_code == 409
    r = reviewer.post("/api/plans/TX2022-WT-99/approve", json={"doc_no": " ", "approval_date": "2022-10-01"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "doc_no"


def test_approved_version_is_frozen_and_a_change_is_a_new_version(officer, reviewer, db_session):
    parcels = make_site(db_session, "wutong", "WT-T9", [(0, 0), (SIDE_M, 0), (2 * SIDE_M, 0)])
    assert _create(officer, "TX2022-WT-90", parcels[:2]).status_code == 201
    assert officer.post("/api/plans/TX2022-WT-90/submit").status_code == 200
    assert _approve(reviewer, "TX2022-WT-90").status_code == 200
    # nothing open to edit: the approved version cannot be changed through the API
    etag = officer.get("/api/plans/TX2022-WT-90").headers["ETag"]
    r = officer.patch("/api/plans/TX2022-WT-90/draft", json={"four_east": "东至别处"}, headers={"If-Match": etag})
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"
    # …nor in the database
    vid = db_session.scalar(select(BlockVersion.id).join(BlockPlan).where(BlockPlan.code == "TX2022-WT-90"))
    for statement in ("UPDATE block_versions SET four_east = 'x' WHERE id = :id",
                      "UPDATE block_versions SET geom = ST_Multi(ST_Buffer(geom, 0.001)) WHERE id = :id",
                      "DELETE FROM block_version_parcels WHERE version_id = :id",
                      "DELETE FROM block_versions WHERE id = :id"):
        with pytest.raises(DBAPIError, match="frozen"), db_session.begin_nested():
            db_session.execute(text(statement), {"id": vid})

    r = officer.post("/api/plans/TX2022-WT-90/revisions", json={"change_note": "东侧并入一宗"})
    assert r.status_code == 201 and r.json()["working_version_no"] == 2 and r.json()["status"] == "draft"
    etag = r.headers["ETag"]
    r = officer.patch("/api/plans/TX2022-WT-90/draft", json={"parcels": parcels, "four_east": "东至扩展路"},
                      headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    # until version 2 is approved, the block stays as version 1 approved it
    block = db_session.scalar(select(RenewalBlock).where(RenewalBlock.code == "TX2022-WT-90"))
    assert float(block.area_mu) == 270.0
    r = officer.post("/api/plans/TX2022-WT-90/submit")
    assert r.status_code == 200, r.text
    assert _approve(reviewer, "TX2022-WT-90", doc="桐有更〔2022〕12号").status_code == 200
    db_session.refresh(block)
    assert float(block.area_mu) == 405.0 and block.four_east == "东至扩展路" and block.approval_doc_no == "桐有更〔2022〕12号"

    versions = officer.get("/api/plans/TX2022-WT-90/versions").json()
    assert [f["properties"]["version_no"] for f in versions["features"]] == [1, 2]
    assert [f["properties"]["status"] for f in versions["features"]] == ["approved", "approved"]
    v1 = officer.get("/api/plans/TX2022-WT-90/versions/1").json()
    assert v1["properties"]["area_mu"] == 270.0 and len(v1["properties"]["parcels"]) == 2
    assert v1["properties"]["four_east"] == FOUR["four_east"]

    diff = officer.get("/api/plans/TX2022-WT-90/compare?from=1&to=2").json()
    assert diff["area_mu"] == {"from": 270.0, "to": 405.0, "change": 135.0}
    parts = {f["properties"]["change"]: f["properties"]["area_mu"] for f in diff["geometry"]["features"]}
    assert parts["added"] == pytest.approx(135.0, abs=0.01) and parts["removed"] == 0.0
    assert parts["unchanged"] == pytest.approx(270.0, abs=0.01)
    assert [p["code"] for p in diff["parcels"]["added"]] == [parcels[2]] and diff["parcels"]["removed"] == []
    assert len(diff["enterprises"]["added"]) == 1
    assert diff["fields"]["four_east"] == {"from": FOUR["four_east"], "to": "东至扩展路"}


def test_stages_go_forward_one_step(officer, reviewer, login_as, db_session):
    parcels = make_site(db_session, "wutong", "WT-T10", ADJACENT)
    _create(officer, "TX2022-WT-80", parcels)
    officer.post("/api/plans/TX2022-WT-80/submit")
    _approve(reviewer, "TX2022-WT-80")
    r = officer.post("/api/plans/TX2022-WT-80/stage", json={"stage": "completed"})
    assert r.status_code == 409 and "启动" in r.json()["detail"]
    other = login_as("unit_officer", unit="chongfu")
    assert other.post("/api/plans/TX2022-WT-80/stage", json={"stage": "started"}).status_code == 403
    for stage in ("started", "in_progress", "completed"):
        r = officer.post("/api/plans/TX2022-WT-80/stage", json={"stage": stage})
        assert r.status_code == 200 and r.json()["stage"] == stage
    assert officer.post("/api/plans/TX2022-WT-80/stage", json={"stage": "completed"}).status_code == 409


def test_batch_review(officer, reviewer, login_as, db_session):
    a = make_site(db_session, "wutong", "WT-T11A", ADJACENT)
    b = make_site(db_session, "wutong", "WT-T11B", ADJACENT, origin=(50_000.0, 3_380_000.0))
    for code, parcels in (("TX2023-WT-01", a), ("TX2023-WT-02", b)):
        _create(officer, code, parcels, year=2023)
        assert officer.post(f"/api/plans/{code}/submit").status_code == 200
    batch = reviewer.get("/api/review/batch").json()
    assert [p["code"] for p in batch["data"]] == ["TX2023-WT-01", "TX2023-WT-02"]
    assert all(p["submitted"]["properties"]["report"]["passed"] for p in batch["data"])
    assert login_as("planner").get("/api/review/batch").status_code == 403
    r = reviewer.post("/api/review/batch", json={"decisions": [
        {"code": "TX2023-WT-01", "action": "approve", "doc_no": "桐有更〔2023〕1号", "approval_date": "2023-03-01"},
        {"code": "TX2023-WT-02", "action": "return", "comment": "企业清单需补充租户"},
        {"code": "TX2023-WT-03", "action": "approve", "doc_no": "x", "approval_date": "2023-03-01"},
    ]})
    assert r.status_code == 200
    out = r.json()
    assert (out["approved"], out["returned"], out["failed"]) == (1, 1, 1)
    assert out["results"][2]["status_code"] == 404
    kinds = sorted(n["kind"] for n in officer.get("/api/notifications").json()["data"])
    assert kinds == ["approved", "returned"]
    assert reviewer.get("/api/review/batch").json()["count"] == 0


def test_block_approved_before_the_workflow(officer, login_as, db_session):
    """Demo blocks were approved on paper: they show as version 1 (imported) and change like any plan."""
    before = db_session.scalar(select(func.count()).select_from(BlockPlan))
    r = officer.get("/api/plans/TX2022-WT-01")
    assert r.status_code == 200
    plan = r.json()
    assert plan["status"] == "approved" and plan["versions"][0]["is_imported"] is True
    assert plan["versions"][0]["approval_doc_no"] == "桐有更〔2022〕3号"
    assert db_session.scalar(select(func.count()).select_from(BlockPlan)) == before  # reading wrote nothing
    listed = {p["code"] for p in login_as("planner").get("/api/plans").json()["data"]}
    assert {"TX2022-CF-01", "TX2022-WT-01"} <= listed
    r = officer.post("/api/plans/TX2022-WT-01/revisions", json={"change_note": "北侧调整"})
    assert r.status_code == 201 and [v["version_no"] for v in r.json()["versions"]] == [1, 2]
    # other units' officers see only approved versions
    chongfu = login_as("unit_officer", unit="chongfu")
    seen = chongfu.get("/api/plans/TX2022-WT-01").json()
    assert [v["version_no"] for v in seen["versions"]] == [1] and seen["status"] == "approved"
    assert chongfu.get("/api/plans/TX2022-WT-01/versions/2").status_code == 404


def test_parcels_across_a_road_without_a_drawn_boundary_pass(officer, db_session):
    """Real parcels lie across roads: without a drawn boundary the plan's boundary closes the roads
    up to the contiguity tolerance, so a plan of separated parcels is one 连片 block."""
    parcels = make_site(db_session, "wutong", "WT-RD", [(0, 0), (SIDE_M + 15, 0), (0, SIDE_M + 12)])
    r = _create(officer, "TX2022-WT-87", parcels)
    assert r.status_code == 201, r.text
    assert r.json()["versions"][0]["area_mu"] > 3 * 135  # the roads are inside the boundary
    geometry = officer.get("/api/plans/TX2022-WT-87/versions/1").json()["geometry"]
    assert geometry["type"] == "MultiPolygon" and len(geometry["coordinates"]) == 1  # one part
    r = officer.post("/api/plans/TX2022-WT-87/submit")
    assert r.status_code == 200, r.text
    report = officer.get("/api/plans/TX2022-WT-87/check").json()
    assert report["passed"] is True and report["land_area_mu"] == pytest.approx(3 * 135.0, abs=0.01)
