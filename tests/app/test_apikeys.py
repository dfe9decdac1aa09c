"""/api/apikeys: the admin lists, creates and revokes the keys other systems use on /ogc.

The keys must be committed for the OGC gate (which looks a key up on its own connection) to
see them, so this module has its own database and real sessions (no shared, rolled-back one).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from app.core.db import new_session
from app.core.models import AuditEntry
from app.settings import Settings
from tests.dbutil import demo_database

PASSWORD = "keys-test-pass-2022"


@pytest.fixture(scope="module")
def keys_db():
    with demo_database("txmap_test_keys") as url:
        engine = create_engine(url)
        from app.auth.service import create_user

        with new_session(engine) as session:
            create_user(session, username="key_admin", role="admin", password=PASSWORD, display_name="钥匙管理员")
            create_user(session, username="key_planner", role="planner", password=PASSWORD)
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def app(keys_db):
    from app.main import create_app

    return create_app(Settings(database_url=keys_db, ogc_allow_anonymous=False))


def _client(app, username: str | None) -> TestClient:
    c = TestClient(app)
    c.__enter__()
    if username:
        r = c.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


@pytest.fixture()
def admin(app):
    c = _client(app, "key_admin")
    yield c
    c.__exit__(None, None, None)


@pytest.fixture()
def anonymous(app):
    c = _client(app, None)
    yield c
    c.__exit__(None, None, None)


def test_a_key_is_shown_once_works_on_ogc_and_stops_when_revoked(admin, anonymous, keys_db):
    res = admin.post("/api/apikeys", json={"name": "  市场监管局   企业画像系统 ", "rate_limit_per_minute": 120})
    assert res.status_code == 201, res.text
    created = res.json()
    key = created["key"]
    assert key.startswith(f"cmk_{created['prefix']}_") and len(key) > 40
    assert created["name"] == "市场监管局 企业画像系统" and created["rate_limit_per_minute"] == 120
    assert created["revoked"] is False and created["hint"] == f"cmk_{created['prefix']}_…"

    listed = admin.get("/api/apikeys").json()["keys"]
    mine = next(k for k in listed if k["id"] == created["id"])
    assert "key" not in mine and "secret_hash" not in mine
    assert key not in admin.get("/api/apikeys").text  # never again
    assert key.split("_", 2)[2] not in admin.get("/api/apikeys").text

    assert anonymous.get("/ogc/collections").status_code == 401  # this server requires a key
    assert anonymous.get("/ogc/collections", headers={"X-API-Key": key}).status_code == 200

    # Revoking asks for the CSRF token, like every write with the session cookie.
    no_csrf = admin.post(f"/api/apikeys/{created['id']}/revoke", headers={"X-CSRF-Token": "wrong"})
    assert no_csrf.status_code == 403
    res = admin.post(f"/api/apikeys/{created['id']}/revoke")
    assert res.status_code == 200, res.text
    assert res.json()["revoked"] is True and res.json()["revoked_at"]
    assert anonymous.get("/ogc/collections", headers={"X-API-Key": key}).status_code == 401
    again = admin.post(f"/api/apikeys/{created['id']}/revoke")
    assert again.status_code == 409 and "已于" in again.json()["detail"] and "停用" in again.json()["detail"]
    assert admin.post("/api/apikeys/999999/revoke").status_code == 404

    # Both writes are in the audit trail, by the admin, without the secret.
    engine = create_engine(keys_db)
    with new_session(engine) as session:
        rows = session.execute(select(AuditEntry.action, AuditEntry.username, AuditEntry.after)
                               .where(AuditEntry.object_type == "api_keys",
                                      AuditEntry.object_id == str(created["id"])).order_by(AuditEntry.id)).all()
    engine.dispose()
    assert [(r.action, r.username) for r in rows] == [("create_api_key", "key_admin"), ("revoke_api_key", "key_admin")]
    assert rows[0].after["secret_hash"] == "***" and rows[1].after["revoked_at"]


def test_the_default_rate_is_the_servers(admin):
    res = admin.post("/api/apikeys", json={"name": "自然资源局 一张图"})
    assert res.status_code == 201 and res.json()["rate_limit_per_minute"] == Settings().ogc_default_rate_limit_per_minute


@pytest.mark.parametrize(("body", "fields", "words"), [
    ({}, ["name"], "请填写使用单位"),
    ({"name": "   "}, ["name"], "请填写使用单位"),
    ({"name": "局" * 129}, ["name"], "不能超过 128 个字"),
    ({"name": "税务局", "rate_limit_per_minute": "很多"}, ["rate_limit_per_minute"], "每分钟请求上限应为正整数"),
    ({"name": "税务局", "rate_limit_per_minute": 0}, ["rate_limit_per_minute"], "每分钟请求上限应在 1～100000 之间"),
    ({"name": "", "rate_limit_per_minute": -5}, ["name", "rate_limit_per_minute"], "请填写使用单位"),
])
def test_a_new_key_is_checked(admin, body, fields, words):
    before = len(admin.get("/api/apikeys").json()["keys"])
    res = admin.post("/api/apikeys", json=body)
    assert res.status_code == 422, res.text
    assert [e["field"] for e in res.json()["errors"]] == fields and words in res.json()["detail"]
    assert len(admin.get("/api/apikeys").json()["keys"]) == before


def test_only_an_admin_manages_keys(app, anonymous):
    assert anonymous.get("/api/apikeys").status_code == 401
    assert anonymous.post("/api/apikeys", json={"name": "x"}).status_code in (401, 403)
    planner = _client(app, "key_planner")
    try:
        assert planner.get("/api/apikeys").status_code == 403
        res = planner.post("/api/apikeys", json={"name": "偷偷的系统"})
        assert res.status_code == 403 and "管理员" in res.json()["detail"]
        assert planner.post("/api/apikeys/1/revoke").status_code == 403
    finally:
        planner.__exit__(None, None, None)


def test_a_figures_key_has_its_department_and_fields_and_does_not_read_ogc(admin, anonymous):
    res = admin.post("/api/apikeys", json={"name": "供电公司 用电系统", "scope": "figures_write", "department": "供电公司",
                                           "figure_fields": ["employees", "electricity_10k_kwh", "employees"]})
    assert res.status_code == 201, res.text
    made = res.json()
    assert made["scope"] == "figures_write" and made["department"] == "供电公司"
    assert made["figure_fields"] == ["electricity_10k_kwh", "employees"]  # in the fields' order, once each
    listed = next(k for k in admin.get("/api/apikeys").json()["keys"] if k["id"] == made["id"])
    assert listed["scope"] == "figures_write" and "key" not in listed
    r = anonymous.get("/ogc/collections", headers={"X-API-Key": made["key"]})
    assert r.status_code == 403 and "只用于报送部门数据" in r.json()["detail"]
    reader = admin.post("/api/apikeys", json={"name": "只读系统"}).json()
    assert reader["scope"] == "ogc_read" and reader["department"] is None and reader["figure_fields"] is None
    assert anonymous.get("/ogc/collections", headers={"X-API-Key": reader["key"]}).status_code == 200
    r = anonymous.post("/api/enterprises/figures", json={"year": 2023, "rows": []}, headers={"X-API-Key": reader["key"]})
    assert r.status_code == 403


@pytest.mark.parametrize(("body", "fields"), [
    ({"name": "税务局", "scope": "figures_write"}, ["department"]),
    ({"name": "税务局", "scope": "write_all"}, ["scope"]),
    ({"name": "税务局", "scope": "figures_write", "department": "税务局", "figure_fields": ["tax", "tax_10k"]},
     ["figure_fields"]),
    ({"name": "税务局", "figure_fields": ["tax_10k"]}, ["figure_fields"]),
    ({"name": "", "scope": "figures_write"}, ["name", "department"]),
])
def test_a_figures_key_is_checked(admin, body, fields):
    res = admin.post("/api/apikeys", json=body)
    assert res.status_code == 422, res.text
    assert [e["field"] for e in res.json()["errors"]] == fields
