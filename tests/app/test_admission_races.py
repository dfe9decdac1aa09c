"""Two decisions on one 项目准入 application with the same If-Match, released together on a real server:
exactly one 2xx and one 409 (never a 500), what is stored is the winner's, and at most one 投资履约 record."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import create_engine, text

from app.auth.service import create_user
from app.core.db import new_session
from app.settings import Settings
from tests.app.live_server import Live
from tests.app.test_concurrency import released
from tests.conftest import TEST_PASSWORD
from tests.dbutil import demo_database

USERS = {"adm_officer": ("unit_officer", "chongfu"), "adm_reviewer_1": ("reviewer", None),
         "adm_reviewer_2": ("reviewer", None)}
BODY = {"block": "TX2022-CF-01", "parcels": ["330483-CF-0009"], "enterprise": "91330483510444980C",
        "industry_code": "C1713", "investment_10k": 9000, "output_10k": 30000, "tax_10k": 800,
        "floor_area_m2": 20000, "far": 2.4, "start_on": "2024-06-01", "complete_on": "2026-06-30"}


@pytest.fixture(scope="module")
def server():
    with demo_database("txmap_test_admission_race") as url:
        engine = create_engine(url)
        with new_session(engine) as s:
            for name, (role, unit) in USERS.items():
                create_user(s, username=name, role=role, password=TEST_PASSWORD, unit_code=unit)
            s.commit()
        with Live(Settings(database_url=url)) as live:
            yield live, engine
        engine.dispose()


def _client(live: Live, username: str) -> httpx.Client:
    c = httpx.Client(base_url=live.url, timeout=60)
    r = c.post("/api/auth/login", json={"username": username, "password": TEST_PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def _submitted(live: Live, name: str) -> tuple[int, str]:
    officer = _client(live, "adm_officer")
    try:
        r = officer.post("/api/admissions", json={**BODY, "project_name": name})
        assert r.status_code == 201, r.text
        r = officer.post(f"/api/admissions/{r.json()['id']}/submit", headers={"If-Match": r.headers["ETag"]})
        assert r.status_code == 200, r.text
        return r.json()["id"], r.headers["ETag"]
    finally:
        officer.close()


@pytest.mark.parametrize(("second", "body"), [("approve", {"comment": "同意"}), ("return", {"comment": "补充材料"})])
def test_two_decisions_with_one_etag(server, second, body):
    live, engine = server
    name = f"并发准入项目（{second}）"
    admission_id, etag = _submitted(live, name)
    a, b = _client(live, "adm_reviewer_1"), _client(live, "adm_reviewer_2")
    try:
        out = released(
            lambda: a.post(f"/api/admissions/{admission_id}/approve", json={"comment": "同意准入"},
                           headers={"If-Match": etag}),
            lambda: b.post(f"/api/admissions/{admission_id}/{second}", json=body, headers={"If-Match": etag}))
    finally:
        a.close()
        b.close()
    codes = sorted(r.status_code for r in out)
    assert codes == [200, 409], [(r.status_code, r.text[:300]) for r in out]
    loser = next(r for r in out if r.status_code == 409).json()
    assert loser["code"] == "conflict" and "已被他人修改" in loser["detail"], loser
    winner = next(r for r in out if r.status_code == 200).json()
    with engine.connect() as conn:
        status, credit = conn.execute(text("SELECT status, credit_record_id FROM project_admissions WHERE id = :i"),
                                      {"i": admission_id}).one()
        records = conn.execute(text("SELECT count(*) FROM credit_records WHERE project_name = :n"), {"n": name}).scalar()
    assert status == winner["status"]
    assert records == (1 if status == "approved" else 0) and (credit is not None) == (status == "approved")
