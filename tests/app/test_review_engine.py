"""The review engine (app.core.review): its transition table, separation of duties on block plans,
the review log, and the setting that relaxes separation for a single-person demo (real PostGIS)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core import review
from app.core.db import get_session
from app.core.models import ReviewEvent
from app.main import create_app
from app.settings import Settings
from tests.app.workflow_site import FOUR, SIDE_M, make_site
from tests.conftest import TEST_PASSWORD

ADJACENT = [(0, 0), (SIDE_M, 0)]  # 270 亩, contiguous: passes every rule


def _create(client, code, parcels, **extra):
    body = {"code": code, "name": f"{code} 试验区块", "year": 2023, "parcels": parcels, **FOUR, **extra}
    r = client.post("/api/plans", json=body)
    assert r.status_code == 201, r.text
    return r


def _approve(client, code):
    return client.post(f"/api/plans/{code}/approve", json={"doc_no": "桐有更〔2023〕5号", "approval_date": "2023-06-01"})


def test_the_standard_flow_is_a_table():
    flow = review.STANDARD_FLOW
    assert flow.target("draft", "submit") == "submitted" and flow.target("returned", "submit") == "submitted"
    assert flow.target("submitted", "approve") == "approved" and flow.target("submitted", "return") == "returned"
    for state, action in [("draft", "approve"), ("approved", "submit"), ("returned", "approve"), (None, "submit"),
                          ("submitted", "submit"), ("approved", "return")]:
        assert flow.target(state, action) is None, (state, action)
    assert sorted(flow.actions("submitted")) == ["approve", "return"]
    assert flow.decisions == {"approve", "return"} and flow.editable == {"draft", "returned"}


def test_an_officer_made_reviewer_cannot_approve_their_own_submission(login_as, db_session):
    parcels = make_site(db_session, "wutong", "WT-SD1", ADJACENT)
    officer = login_as("unit_officer", unit="wutong", username="sod_officer")
    _create(officer, "TX2023-WT-S1", parcels)
    assert officer.post("/api/plans/TX2023-WT-S1/submit").status_code == 200
    admin = login_as("admin")
    etag = admin.get("/api/users").json()["data"]
    version = next(u["version"] for u in etag if u["username"] == "sod_officer")
    r = admin.patch("/api/users/sod_officer", json={"role": "reviewer"}, headers={"If-Match": f'"{version}"'})
    assert r.status_code == 200, r.text
    r = _approve(officer, "TX2023-WT-S1")
    assert r.status_code == 403 and r.json()["code"] == "separation_of_duties"
    assert "不能由您本人认定" in r.json()["detail"]
    r = officer.post("/api/plans/TX2023-WT-S1/return", json={"comment": "自己退回自己"})
    assert r.status_code == 403 and r.json()["code"] == "separation_of_duties"
    # another reviewer may
    assert _approve(login_as("reviewer"), "TX2023-WT-S1").status_code == 200


def test_an_admin_who_drafted_cannot_approve(login_as, db_session):
    parcels = make_site(db_session, "wutong", "WT-SD2", ADJACENT)
    admin = login_as("admin")
    _create(admin, "TX2023-WT-S2", parcels, unit="wutong")
    assert login_as("unit_officer", unit="wutong").post("/api/plans/TX2023-WT-S2/submit").status_code == 200
    r = _approve(admin, "TX2023-WT-S2")
    assert r.status_code == 403 and r.json()["code"] == "separation_of_duties"
    plan = admin.get("/api/plans/TX2023-WT-S2").json()
    assert plan["status"] == "submitted"  # nothing was written
    assert _approve(login_as("reviewer"), "TX2023-WT-S2").status_code == 200


def test_an_admin_who_edited_or_submitted_cannot_decide(login_as, db_session):
    parcels = make_site(db_session, "wutong", "WT-SD3", ADJACENT)
    officer, admin = login_as("unit_officer", unit="wutong"), login_as("admin")
    _create(officer, "TX2023-WT-S3", parcels)
    etag = admin.get("/api/plans/TX2023-WT-S3").headers["ETag"]
    assert admin.patch("/api/plans/TX2023-WT-S3/draft", json={"four_east": "东至管理员改的路"},
                       headers={"If-Match": etag}).status_code == 200
    assert officer.post("/api/plans/TX2023-WT-S3/submit").status_code == 200
    r = admin.post("/api/plans/TX2023-WT-S3/return", json={"comment": "请补充"})
    assert r.status_code == 403 and r.json()["code"] == "separation_of_duties"
    # an admin who only submits is an author too
    parcels = make_site(db_session, "wutong", "WT-SD4", ADJACENT)
    _create(officer, "TX2023-WT-S4", parcels)
    assert admin.post("/api/plans/TX2023-WT-S4/submit").status_code == 200
    assert _approve(admin, "TX2023-WT-S4").status_code == 403


def test_a_reviewer_who_returned_may_approve_the_resubmission_and_every_step_is_logged(login_as, db_session):
    parcels = make_site(db_session, "wutong", "WT-SD5", ADJACENT)
    officer, reviewer = login_as("unit_officer", unit="wutong"), login_as("reviewer")
    _create(officer, "TX2023-WT-S5", parcels)
    assert officer.post("/api/plans/TX2023-WT-S5/submit").status_code == 200
    assert reviewer.post("/api/plans/TX2023-WT-S5/return", json={"comment": "四至请核对"}).status_code == 200
    etag = officer.get("/api/plans/TX2023-WT-S5").headers["ETag"]
    assert officer.patch("/api/plans/TX2023-WT-S5/draft", json={"four_west": "西至核对后的河"},
                         headers={"If-Match": etag}).status_code == 200
    assert officer.post("/api/plans/TX2023-WT-S5/submit").status_code == 200
    assert _approve(reviewer, "TX2023-WT-S5").status_code == 200
    events = db_session.execute(select(ReviewEvent.action, ReviewEvent.from_state, ReviewEvent.to_state,
                                       ReviewEvent.version_no, ReviewEvent.doc_no, ReviewEvent.comment)
                                .where(ReviewEvent.subject_type == "block_plan",
                                       ReviewEvent.subject_code == "TX2023-WT-S5").order_by(ReviewEvent.id)).all()
    assert [tuple(e) for e in events] == [
        ("submit", "draft", "submitted", 1, None, None),
        ("return", "submitted", "returned", 1, None, "四至请核对"),
        ("submit", "draft", "submitted", 1, None, None),
        ("approve", "submitted", "approved", 1, "桐有更〔2023〕5号", None),
    ]
    notes = officer.get("/api/notifications").json()["data"]
    assert {n["subject"]["code"] for n in notes if n["subject"]} >= {"TX2023-WT-S5"}
    assert all(n["plan"] == n["subject"]["code"] for n in notes if n["subject"])


def test_the_setting_relaxes_separation_for_a_single_person_demo(settings, db_session, standing_sessions):
    demo = create_app(Settings(database_url=settings.database_url, review_allow_self_approval=True))
    demo.dependency_overrides[get_session] = lambda: db_session
    parcels = make_site(db_session, "wutong", "WT-SD6", ADJACENT)
    with TestClient(demo) as admin:
        r = admin.post("/api/auth/login", json={"username": "test_admin", "password": TEST_PASSWORD})
        admin.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        _create(admin, "TX2023-WT-S6", parcels, unit="wutong")
        assert admin.post("/api/plans/TX2023-WT-S6/submit").status_code == 200
        assert _approve(admin, "TX2023-WT-S6").status_code == 200


def test_the_setting_is_refused_in_production():
    with pytest.raises(ValueError, match="single-person demo"):
        Settings(environment="production", secret_key="a-real-secret", review_allow_self_approval=True)
