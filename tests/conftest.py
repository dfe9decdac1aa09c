"""Test fixtures: a real PostGIS database created for the run and dropped after it.

Without DATABASE_URL the project's private cluster is used (started on demand);
with it, the test database is created on that server. The demo database is never
touched: every run gets its own ``txmap_test_<hex>``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.core.db import new_session
from app.settings import Settings
from tests.dbutil import demo_database


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A migrated database holding the demo data, for the whole run."""
    with demo_database(keep=bool(os.environ.get("CLOUDMAP_KEEP_TEST_DB"))) as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture()
def db_session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    conn = engine.connect()
    outer = conn.begin()
    session = new_session(conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        conn.close()


@pytest.fixture()
def client(settings: Settings, db_session: Session):
    """The app with every request in the test's rolled-back transaction."""
    from fastapi.testclient import TestClient

    from app.core.db import get_session
    from app.main import create_app

    app = create_app(settings)
    app.dependency_overrides[get_session] = lambda: db_session
    with TestClient(app) as c:
        yield c


# --- accounts (app/auth): log in as any role -----------------------------------

TEST_PASSWORD = "test-pass-2022"


# Users that many tests log in as: created and logged in once per run (committed), so the
# argon2 work (~0.1–0.3 s a hash or check on these cores) is paid once, not in every test.
STANDING_ACTORS = [
    ("planner", None),
    ("gis_staff", None),
    ("reviewer", None),
    ("admin", None),
    ("unit_officer", "wutong"),
    ("unit_officer", "chongfu"),
]


def _default_username(role: str, unit: str | None) -> str:
    return f"{role}_{unit}" if unit else f"test_{role}"


@pytest.fixture(scope="session")
def standing_sessions(settings: Settings, engine) -> dict[str, tuple[str, str]]:
    """username → (session token, CSRF token) for the standing actors, logged in through the real service."""
    from app.auth.service import create_user, login

    tokens = {}
    with new_session(engine) as session:
        for role, unit in STANDING_ACTORS:
            username = _default_username(role, unit)
            create_user(session, username=username, role=role, password=TEST_PASSWORD, unit_code=unit)
            session.commit()
            new = login(session, settings, username, TEST_PASSWORD, "pytest")
            tokens[username] = (new.token, new.csrf_token)
    return tokens


@pytest.fixture()
def sign_in(standing_sessions):
    """``sign_in(client, role, unit=None)``: put a standing actor's session on an existing TestClient."""
    from app.auth.deps import CSRF_COOKIE, SESSION_COOKIE

    def apply(client, role: str, unit: str | None = None):
        token, csrf = standing_sessions[_default_username(role, unit)]
        client.cookies.set(SESSION_COOKIE, token)
        client.cookies.set(CSRF_COOKIE, csrf)
        client.headers["X-CSRF-Token"] = csrf
        return client

    return apply


@pytest.fixture()
def login_as(settings: Settings, db_session: Session, standing_sessions):
    """``login_as(role, unit=None, username=None)`` → a TestClient logged in as a user of that role.

    Default usernames reuse the standing actors' sessions; any other username is created in
    the test's transaction and logs in through POST /api/auth/login. The client sends the
    CSRF token on every request. Unit officers need ``unit`` (a unit code such as ``chongfu``).
    """
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from app.auth.deps import CSRF_COOKIE, SESSION_COOKIE
    from app.auth.models import User
    from app.auth.service import create_user
    from app.core.db import get_session
    from app.main import create_app

    app = create_app(settings)
    app.dependency_overrides[get_session] = lambda: db_session
    clients = []

    def login(role: str, unit: str | None = None, username: str | None = None):
        username = username or _default_username(role, unit)
        c = TestClient(app)
        c.__enter__()
        clients.append(c)
        if username in standing_sessions:
            token, csrf = standing_sessions[username]
            c.cookies.set(SESSION_COOKIE, token)
            c.cookies.set(CSRF_COOKIE, csrf)
            c.headers["X-CSRF-Token"] = csrf
            return c
        if db_session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(db_session, username=username, role=role, password=TEST_PASSWORD, unit_code=unit)
            db_session.flush()
        r = c.post("/api/auth/login", json={"username": username, "password": TEST_PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c

    yield login
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture()
def gis_client(login_as):
    """A client logged in as GIS staff (uploads need gis_staff or admin)."""
    return login_as("gis_staff")
