"""Authorisation matrix: every state-changing workflow endpoint × every role (and anonymous, and
another unit's officer) gets exactly 401, 403 or its 2xx. The server decides; nothing trusts the page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.db import get_session
from app.main import create_app
from app.models import Parcel
from tests.app.workflow_site import FOUR, SIDE_M, make_site

ACTORS = ["anonymous", "planner", "gis_staff", "officer", "other_officer", "reviewer", "admin"]
OWN, ADMIN, REVIEW = {"officer", "admin"}, {"admin"}, {"reviewer", "admin"}


class World:
    """Builds, through the API as the unit officer and the admin, the state an endpoint needs."""

    def __init__(self, login_as, db_session):
        self.login_as, self.db = login_as, db_session
        self.officer = login_as("unit_officer", unit="wutong")
        self.admin = login_as("admin")
        self.parcels = make_site(db_session, "wutong", "WT-M", [(0, 0), (SIDE_M, 0)])
        self.credit_code = db_session.scalar(select(Parcel).where(Parcel.code == self.parcels[0])).enterprise.credit_code

    def draft(self) -> str:
        r = self.officer.post("/api/plans", json={"code": "TX2023-WT-M1", "name": "矩阵区块", "year": 2023,
                                                  "parcels": self.parcels, **FOUR})
        assert r.status_code == 201, r.text
        return "TX2023-WT-M1"

    def submitted(self) -> str:
        code = self.draft()
        assert self.officer.post(f"/api/plans/{code}/submit").status_code == 200
        return code

    def approved(self) -> str:
        code = self.submitted()
        r = self.admin.post(f"/api/plans/{code}/approve", json={"doc_no": "桐有更〔2023〕7号", "approval_date": "2023-05-01"})
        assert r.status_code == 200, r.text
        return code

    def classified(self, cls="clear_out") -> str:
        r = self.admin.put(f"/api/enterprises/{self.credit_code}/classification",
                           json={"classification": cls, "reason": "亩均税收低于 1 万元", "decided_on": "2023-02-01"})
        assert r.status_code == 200, r.text
        return self.credit_code

    def referral(self) -> int:
        self.classified()
        r = self.admin.post(f"/api/enterprises/{self.credit_code}/referrals",
                            json={"reason": "拒不配合整治", "referred_on": "2023-03-01"})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def tenant(self) -> int:
        r = self.officer.post("/api/tenants", json={"parcel": self.parcels[0], "lessee": "桐乡某某纺织加工厂",
                                                    "leased_area_m2": 1200, "lease_start": "2021-01-01"})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def inspection(self) -> int:
        r = self.officer.post(f"/api/tenants/{self.tenant()}/inspections", json={
            "inspected_on": "2023-04-01", "inspector": "消防检查组", "findings": "疏散通道堵塞"})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def credit(self) -> int:
        r = self.officer.post("/api/credit-records", json={
            "project_name": "矩阵项目", "enterprise": self.credit_code, "year": 2022,
            "promised_investment_10k": 5000, "promised_output_10k": 20000, "promised_tax_10k": 800})
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def notification(self) -> int:
        code = self.submitted()
        self.admin.post(f"/api/plans/{code}/return", json={"comment": "请补充"})
        return self.officer.get("/api/notifications").json()["data"][0]["id"]

    def user(self) -> str:
        self.login_as("planner", username="matrix_target")
        return "matrix_target"


APPROVE = {"doc_no": "桐有更〔2023〕8号", "approval_date": "2023-05-02"}
DRAFT_BODY = {"code": "TX2023-WT-M2", "name": "新区块", "year": 2023, **FOUR}

# (name, allowed actors, success status, method, path template, body, setup → path values)
CASES = [
    ("plan_create", OWN, 201, "post", "/api/plans", "NEW_PLAN", None),
    ("plan_draft_update", OWN, 200, "patch", "/api/plans/{0}/draft", {"four_east": "东至新路"}, "draft"),
    ("plan_submit", OWN, 200, "post", "/api/plans/{0}/submit", None, "draft"),
    ("plan_approve", REVIEW, 200, "post", "/api/plans/{0}/approve", APPROVE, "submitted"),
    ("plan_return", REVIEW, 200, "post", "/api/plans/{0}/return", {"comment": "请补充四至"}, "submitted"),
    ("review_batch", REVIEW, 200, "post", "/api/review/batch",
     {"decisions": [{"code": "TX2023-WT-M1", "action": "return", "comment": "退回"}]}, "submitted"),
    ("plan_revision", OWN, 201, "post", "/api/plans/{0}/revisions", {"change_note": "调整"}, "approved"),
    ("plan_stage", OWN, 200, "post", "/api/plans/{0}/stage", {"stage": "started"}, "approved"),
    ("classify", OWN | REVIEW, 200, "put", "/api/enterprises/{0}/classification",
     {"classification": "transform", "reason": "回购", "decided_on": "2023-02-02"}, "classified"),
    ("clearance", OWN | REVIEW, 200, "put", "/api/enterprises/{0}/clearance", {"status": "rectifying"}, "classified"),
    ("enterprise_figures", {"gis_staff", "admin"}, 200, "put", "/api/enterprises/{0}/figures/2022",
     {"tax_10k_yuan": 12, "output_10k_yuan": 300}, "classified"),
    ("referral", OWN | REVIEW, 201, "post", "/api/enterprises/{0}/referrals",
     {"reason": "拒不配合", "referred_on": "2023-03-02"}, "classified"),
    ("referral_close", REVIEW, 200, "post", "/api/referrals/{0}/close",
     {"outcome": "已关停", "closed_on": "2023-06-01"}, "referral"),
    ("grading", ADMIN, 200, "put", "/api/grading/B",
     {"min_tax_per_mu_10k": 16, "min_output_per_mu_10k": 160, "suggested_classification": "upgrade"}, None),
    ("tenant_create", OWN, 201, "post", "/api/tenants", "NEW_TENANT", None),
    ("tenant_update", OWN, 200, "patch", "/api/tenants/{0}", {"business": "经编"}, "tenant"),
    ("tenant_figures", OWN | {"gis_staff"}, 200, "put", "/api/tenants/{0}/figures/2022",
     {"tax_10k_yuan": 3, "output_10k_yuan": 90}, "tenant"),
    ("inspection_create", OWN, 201, "post", "/api/tenants/{0}/inspections",
     {"inspected_on": "2023-04-02", "inspector": "安监", "findings": "电线私拉"}, "tenant"),
    ("inspection_update", OWN, 200, "patch", "/api/inspections/{0}", {"rectification_status": "in_progress"},
     "inspection"),
    ("credit_create", OWN, 201, "post", "/api/credit-records", "NEW_CREDIT", None),
    ("credit_update", OWN, 200, "patch", "/api/credit-records/{0}", {"actual_investment_10k": 3000}, "credit"),
    ("user_create", ADMIN, 201, "post", "/api/users", {"username": "m_new", "role": "planner", "password": "m-pass-2023"},
     None),
    ("user_update", ADMIN, 200, "patch", "/api/users/{0}", {"display_name": "改名"}, "user"),
    ("user_password", ADMIN, 204, "post", "/api/users/{0}/password", {"password": "m-pass-2024"}, "user"),
]
EVERYONE = set(ACTORS) - {"anonymous"}


def _client(actor: str, login_as, settings, db_session, stack):
    if actor == "anonymous":
        app = create_app(settings)
        app.dependency_overrides[get_session] = lambda: db_session
        c = TestClient(app)
        c.__enter__()
        stack.append(c)
        return c
    if actor == "officer":
        return login_as("unit_officer", unit="wutong")
    if actor == "other_officer":
        return login_as("unit_officer", unit="chongfu")
    return login_as(actor)


@pytest.fixture()
def stack():
    clients = []
    yield clients
    for c in clients:
        c.__exit__(None, None, None)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "allowed", "ok", "method", "path", "body", "setup"), CASES, ids=[c[0] for c in CASES])
def test_matrix(name, allowed, ok, method, path, body, setup, actor, login_as, db_session, settings, stack):
    world = World(login_as, db_session)
    arg = getattr(world, setup)() if setup else None
    if body == "NEW_PLAN":
        body = {**DRAFT_BODY, "parcels": world.parcels, "unit": "wutong"}
    elif body == "NEW_TENANT":
        body = {"parcel": world.parcels[0], "lessee": "新租户", "leased_area_m2": 500, "lease_start": "2022-01-01"}
    elif body == "NEW_CREDIT":
        body = {"project_name": "新项目", "enterprise": world.credit_code, "year": 2023, "promised_investment_10k": 1,
                "promised_output_10k": 1, "promised_tax_10k": 1}
    client = _client(actor, login_as, settings, db_session, stack)
    r = getattr(client, method)(path.format(arg), json=body, headers={"If-Match": "*"}) if method != "post" else \
        client.post(path.format(arg), json=body, headers={"If-Match": "*"})
    expected = 401 if actor == "anonymous" else ok if actor in allowed else 403
    assert r.status_code == expected, f"{name} as {actor}: {r.status_code} {r.text[:300]}"
    if expected in (401, 403):
        assert r.json()["code"] in {"unauthenticated", "forbidden"}


@pytest.mark.parametrize("actor", ACTORS)
def test_own_account_actions(actor, login_as, db_session, settings, stack):
    client = _client(actor, login_as, settings, db_session, stack)
    r = client.post("/api/auth/logout")
    assert r.status_code == (401 if actor == "anonymous" else 204)


@pytest.mark.parametrize("actor", ACTORS)
def test_notifications_are_private(actor, login_as, db_session, settings, stack):
    world = World(login_as, db_session)
    nid = world.notification()
    client = _client(actor, login_as, settings, db_session, stack)
    r = client.post(f"/api/notifications/{nid}/read")
    assert r.status_code == {"anonymous": 401, "officer": 204}.get(actor, 404)


@pytest.mark.parametrize("actor", ACTORS)
def test_audit_log_readers(actor, login_as, db_session, settings, stack):
    client = _client(actor, login_as, settings, db_session, stack)
    r = client.get("/api/audit")
    assert r.status_code == (401 if actor == "anonymous" else 200 if actor in REVIEW else 403)


@pytest.mark.parametrize("actor", ACTORS)
def test_workflow_reads_need_an_account(actor, login_as, db_session, settings, stack):
    client = _client(actor, login_as, settings, db_session, stack)
    for path in ("/api/plans", "/api/evaluation?year=2022", "/api/tenants", "/api/grading"):
        assert client.get(path).status_code == (401 if actor == "anonymous" else 200), path
    r = client.get("/api/credit-records")
    assert r.status_code == {"anonymous": 401, "gis_staff": 403}.get(actor, 200)


# --- who may read what (docs/workflow.md "Who may read what") -----------------------------------------

# (list path, who sees every unit's rows; unit officers see their own unit's; others 403)
READS = [("/api/tenants", {"planner", "gis_staff", "reviewer", "admin"}),
         ("/api/credit-records", {"planner", "reviewer", "admin"})]


@pytest.mark.parametrize("actor", ACTORS)
def test_tenant_and_credit_reads(actor, login_as, db_session, settings, stack):
    world = World(login_as, db_session)
    ids = {"/api/tenants": world.tenant(), "/api/credit-records": world.credit()}  # both in wutong
    client = _client(actor, login_as, settings, db_session, stack)
    for path, everyone in READS:
        r = client.get(path)
        if actor == "anonymous":
            assert r.status_code == 401
            continue
        if actor not in everyone | {"officer", "other_officer"}:
            assert r.status_code == 403, (path, r.text)
            assert r.json()["code"] == "forbidden" and "无权查看" in r.json()["detail"]
            continue
        assert r.status_code == 200, (path, r.text)
        seen = {row["id"] for row in r.json()["data"]}
        assert (ids[path] in seen) == (actor != "other_officer"), (path, actor)
        if actor == "other_officer":
            units = {row.get("unit") for row in r.json()["data"]} - {None}
            assert units <= {"chongfu"}, units
        if path == "/api/tenants" and actor != "other_officer":  # what the page offers is what the writes allow
            row = next(t for t in r.json()["data"] if t["id"] == ids[path])
            assert row["can_edit"] == (actor in OWN), actor
            assert row["can_enter_figures"] == (actor in OWN | {"gis_staff"}), actor
    r = client.get("/api/tenants/export.xlsx")  # the Excel list is read as the list is
    readers = READS[0][1] | {"officer", "other_officer"}
    assert r.status_code == (401 if actor == "anonymous" else 200 if actor in readers else 403), (actor, r.text)
    if actor == "other_officer":
        r = client.get("/api/tenants?unit=wutong")
        assert r.status_code == 403 and "本单位" in r.json()["detail"], r.text


GEOJSON = (b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"MX-UP-1"},'
           b'"geometry":{"type":"Polygon","coordinates":[[[120.5,30.6],[120.501,30.6],[120.501,30.601],'
           b'[120.5,30.601],[120.5,30.6]]]}}]}')


@pytest.mark.parametrize("actor", [*ACTORS, "other_gis"])
def test_staged_uploads_are_read_by_their_uploader_and_admins(actor, login_as, db_session, settings, stack):
    owner = login_as("gis_staff")
    r = owner.post("/api/uploads", files={"file": ("mx.geojson", GEOJSON, "application/geo+json")})
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    client = login_as("gis_staff", username="matrix_gis_2") if actor == "other_gis" else \
        _client(actor, login_as, settings, db_session, stack)
    expected = {"anonymous": 401, "gis_staff": 200, "admin": 200, "other_gis": 404}.get(actor, 403)
    r = client.get(f"/api/uploads/{uid}")
    assert r.status_code == expected, r.text
    if actor == "other_gis":
        assert r.json()["code"] == "not_found"
        assert client.post(f"/api/uploads/{uid}/commit", json={}).status_code == 404
