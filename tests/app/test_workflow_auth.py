"""Login, sessions, CSRF, login back-off, account administration and the users CLI (real PostGIS)."""

from __future__ import annotations

import subprocess

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth.models import LoginSession, User
from app.auth.passwords import verify_password
from app.auth.service import create_user
from app.core.db import get_session
from app.main import create_app
from app.settings import PROJECT_ROOT
from app.core.models import AuditEntry
from tests.conftest import TEST_PASSWORD


@pytest.fixture()
def anon(settings, db_session):
    app = create_app(settings)
    app.dependency_overrides[get_session] = lambda: db_session
    with TestClient(app) as c:
        yield c


def _user(db_session, username="alice", role="reviewer", unit=None) -> User:
    user = create_user(db_session, username=username, role=role, password=TEST_PASSWORD, unit_code=unit)
    db_session.flush()
    return user


def test_password_is_stored_as_argon2id(db_session):
    user = _user(db_session)
    assert user.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in user.password_hash
    assert verify_password(TEST_PASSWORD, user.password_hash)[0]


def test_login_sets_httponly_samesite_cookie_and_csrf(anon, db_session):
    alice = _user(db_session)
    r = anon.post("/api/auth/login", json={"username": "alice", "password": TEST_PASSWORD})
    assert r.status_code == 200
    cookies = r.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("cloudmap_session="))
    csrf_cookie = next(c for c in cookies if c.startswith("cloudmap_csrf="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    assert "HttpOnly" not in csrf_cookie
    assert "Secure" not in session_cookie  # development default
    body = r.json()
    assert body["user"]["role"] == "reviewer" and body["csrf_token"]
    token = session_cookie.split(";")[0].split("=", 1)[1]
    stored = db_session.scalars(select(LoginSession).where(LoginSession.user_id == alice.id)).all()
    assert len(stored) == 1 and stored[0].token_sha256 != token  # only the digest is kept
    assert anon.get("/api/auth/me").json()["user"]["username"] == "alice"


def test_secure_cookie_when_configured(settings, db_session):
    app = create_app(settings.model_copy(update={"session_cookie_secure": True}))
    app.dependency_overrides[get_session] = lambda: db_session
    _user(db_session)
    with TestClient(app) as c:
        r = c.post("/api/auth/login", json={"username": "alice", "password": TEST_PASSWORD})
    assert all("Secure" in c for c in r.headers.get_list("set-cookie"))


def test_wrong_password_and_unknown_user_get_the_same_401(anon, db_session):
    _user(db_session)
    a = anon.post("/api/auth/login", json={"username": "alice", "password": "wrong-pass-1"})
    b = anon.post("/api/auth/login", json={"username": "nobody", "password": "wrong-pass-1"})
    assert a.status_code == b.status_code == 401
    assert a.json()["detail"] == b.json()["detail"] == "用户名或密码错误"
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.action == "login_failed")).all()
    assert len(actions) == 2


def test_backoff_after_repeated_failures(anon, db_session, settings):
    """No lock: this address waits (429, Retry-After), with the same answer for a name that is no account."""
    _user(db_session, username="alice_backoff")
    for name in ("alice_backoff", "nobody_backoff"):
        for _ in range(settings.login_max_failures):
            assert anon.post("/api/auth/login", json={"username": name, "password": "bad-pass-1"}).status_code == 401
    known = anon.post("/api/auth/login", json={"username": "alice_backoff", "password": TEST_PASSWORD})
    unknown = anon.post("/api/auth/login", json={"username": "nobody_backoff", "password": TEST_PASSWORD})
    assert known.status_code == unknown.status_code == 429  # even the right password waits, from this address
    assert known.json() == unknown.json() and known.json()["code"] == "login_throttled"
    assert int(known.headers["Retry-After"]) <= 60 and "分钟后再试" in known.json()["detail"]


def test_backoff_threshold_is_configurable(settings, db_session):
    app = create_app(settings.model_copy(update={"login_max_failures": 2}))
    app.dependency_overrides[get_session] = lambda: db_session
    _user(db_session, username="alice_threshold")
    with TestClient(app) as c:
        for _ in range(2):
            r = c.post("/api/auth/login", json={"username": "alice_threshold", "password": "bad-pass-1"})
            assert r.status_code == 401
        assert c.post("/api/auth/login", json={"username": "alice_threshold", "password": "bad-pass-1"}).status_code == 429


def test_csrf_header_required_for_writes_with_a_session(login_as):
    c = login_as("admin")
    token = c.headers.pop("X-CSRF-Token")
    body = {"username": "bob", "role": "planner", "password": "bob-pass-2022"}
    r = c.post("/api/users", json=body)
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    r = c.post("/api/users", json=body, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    r = c.post("/api/users", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201
    # reads need no token
    assert c.get("/api/users").status_code == 200


def test_logout_ends_the_session(login_as):
    c = login_as("planner")
    assert c.get("/api/auth/me").status_code == 200
    assert c.post("/api/auth/logout").status_code == 204
    assert c.get("/api/auth/me").status_code == 401


def test_the_session_says_who_is_logged_in_and_never_401s(anon, login_as):
    """The top bar of every page asks /api/auth/session: null without a login (no error in the console)."""
    r = anon.get("/api/auth/session")
    assert r.status_code == 200 and r.json() == {"user": None}
    c = login_as("unit_officer", "chongfu")
    user = c.get("/api/auth/session").json()["user"]
    assert user["role"] == "unit_officer" and user["unit_name"] == "崇福镇"
    assert "password_hash" not in user
    c.post("/api/auth/logout")
    assert c.get("/api/auth/session").json() == {"user": None}


def test_disabled_user_is_logged_out_and_cannot_log_in(login_as, db_session):
    admin = login_as("admin")
    officer = login_as("unit_officer", unit="chongfu")
    user = db_session.scalar(select(User).where(User.username == "unit_officer_chongfu"))
    r = admin.patch("/api/users/unit_officer_chongfu", json={"is_active": False},
                    headers={"If-Match": f'"{user.row_version}"'})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert officer.get("/api/auth/me").status_code == 401
    r = officer.post("/api/auth/login", json={"username": "unit_officer_chongfu", "password": TEST_PASSWORD})
    assert r.status_code == 401


def test_user_admin_validation(login_as):
    admin = login_as("admin")
    r = admin.post("/api/users", json={"username": "x", "role": "unit_officer", "password": "good-pass-1"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "unit"
    r = admin.post("/api/users", json={"username": "x", "role": "unit_officer", "unit": "nowhere", "password": "good-pass-1"})
    assert r.status_code == 400 and "nowhere" in r.json()["detail"]
    r = admin.post("/api/users", json={"username": "x", "role": "planner", "password": "short"})
    assert r.status_code == 400 and "8" in r.json()["detail"]
    r = admin.post("/api/users", json={"username": "x", "role": "emperor", "password": "good-pass-1"})
    assert r.status_code == 422
    r = admin.post("/api/users", json={"username": "x", "role": "unit_officer", "unit": "chongfu", "password": "good-pass-1"})
    assert r.status_code == 201 and r.json()["unit_name"] == "崇福镇"
    r = admin.post("/api/users", json={"username": "x", "role": "planner", "password": "good-pass-1"})
    assert r.status_code == 409


def test_change_own_password(login_as):
    c = login_as("planner")
    r = c.post("/api/auth/password", json={"current_password": "wrong-pass-9", "new_password": "new-pass-2023"})
    assert r.status_code == 401
    r = c.post("/api/auth/password", json={"current_password": TEST_PASSWORD, "new_password": "new-pass-2023"})
    assert r.status_code == 204
    assert c.get("/api/auth/me").status_code == 401  # every session ends with a password change
    r = c.post("/api/auth/login", json={"username": "test_planner", "password": "new-pass-2023"})
    assert r.status_code == 200


def test_existing_read_endpoints_stay_anonymous(anon):
    for path in ("/api/units", "/api/blocks?limit=1", "/api/parcels?limit=1", "/"):
        assert anon.get(path).status_code == 200, path


def test_workflow_reads_need_login(anon):
    assert anon.get("/api/auth/me").status_code == 401
    assert anon.get("/api/users").status_code == 401


def _cli(*args: str, stdin: str = "", env_url: str) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "DATABASE_URL": env_url}
    return subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "cloudmap"), "users", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)


def test_users_cli(database_url, engine):
    name = "cli_officer_t"
    try:
        r = _cli("create", name, "--role", "unit_officer", "--unit", "tudian", "--password-stdin",
                 stdin="cli-pass-2022\n", env_url=database_url)
        assert r.returncode == 0, r.stderr
        r = _cli("create", name, "--role", "planner", "--password-stdin", stdin="cli-pass-2022\n", env_url=database_url)
        assert r.returncode == 1 and "已存在" in r.stderr
        r = _cli("list", env_url=database_url)
        assert f"{name}\tunit_officer\ttudian\tactive" in r.stdout
        r = _cli("set-password", name, "--password-stdin", stdin="cli-pass-2023\n", env_url=database_url)
        assert r.returncode == 0, r.stderr
        r = _cli("disable", name, env_url=database_url)
        assert r.returncode == 0
        assert f"{name}\tunit_officer\ttudian\tdisabled" in _cli("list", env_url=database_url).stdout
        with engine.connect() as conn:
            user = conn.execute(select(User.password_hash).where(User.username == name)).scalar_one()
            actions = conn.execute(select(AuditEntry.action, AuditEntry.username)
                                   .where(AuditEntry.subject == f"user:{name}").order_by(AuditEntry.id)).all()
        assert verify_password("cli-pass-2023", user)[0]
        assert [a for a, _ in actions] == ["user_create", "password_set", "user_update"]
        assert all(u.startswith("cli:") for _, u in actions)
    finally:
        from sqlalchemy import delete, text

        with engine.begin() as conn:
            conn.execute(delete(User).where(User.username == name))
            conn.execute(text("SELECT 1"))
