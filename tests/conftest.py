"""Test fixtures: a real PostGIS database created for the run and dropped after it.

Without DATABASE_URL the project's private cluster is used (started on demand);
with it, the test database is created on that server. The demo database is never
touched: every run gets its own ``txmap_test_<hex>``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from app.settings import PROJECT_ROOT, Settings


def _server_admin_url() -> str:
    settings = Settings()
    if settings.database_url:
        return settings.database_url
    from app import pgcluster

    pgcluster.start(PROJECT_ROOT, settings.pg_port)
    return pgcluster.server_url(settings.pg_port, "postgres").replace("postgresql://", "postgresql+psycopg://", 1)


def create_database(prefix: str = "txmap_test") -> str:
    """Create an empty database with PostGIS on the test server; return its URL."""
    admin_url = make_url(_server_admin_url())
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    return url


def drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def migrate(url: str, revision: str = "head", down: bool = False) -> None:
    from alembic import command

    from app.cli import alembic_config

    cfg = alembic_config(url)
    (command.downgrade if down else command.upgrade)(cfg, revision)


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
