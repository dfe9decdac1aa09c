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

from app.settings import PROJECT_ROOT, Settings
from tests.dbutil import create_database, drop_database, migrate


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A migrated database holding the demo data, for the whole run."""
    url = create_database()
    try:
        migrate(url)
        from app.db import make_engine, make_sessionmaker
        from app.seed import seed

        engine = make_engine(Settings(database_url=url), url)
        with make_sessionmaker(engine)() as session:
            seed(session, PROJECT_ROOT / "data")
        engine.dispose()
        yield url
    finally:
        if not os.environ.get("CLOUDMAP_KEEP_TEST_DB"):
            drop_database(url)


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
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
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

    from app.db import get_session
    from app.main import create_app

    app = create_app(settings)
    app.dependency_overrides[get_session] = lambda: db_session
    with TestClient(app) as c:
        yield c
