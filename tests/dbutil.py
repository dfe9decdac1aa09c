"""Create, migrate and drop throw-away test databases on the private cluster or DATABASE_URL's server."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.settings import PROJECT_ROOT, Settings


def _server_admin_url() -> str:
    settings = Settings()
    if settings.database_url:
        return settings.database_url
    import devdb

    devdb.start(PROJECT_ROOT, settings.pg_port)
    return devdb.server_url(settings.pg_port, "postgres").replace("postgresql://", "postgresql+psycopg://", 1)


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


def migrate(url: str, revision: str = "heads", down: bool = False) -> None:
    from alembic import command

    from app.cli import alembic_config

    cfg = alembic_config(url)
    (command.downgrade if down else command.upgrade)(cfg, revision)


def seed_demo(url: str) -> None:
    """Load the demo data set into a migrated database."""
    from app.core.db import make_engine, make_sessionmaker
    from app.seed import seed

    engine = make_engine(Settings(database_url=url), url)
    with make_sessionmaker(engine)() as session:
        seed(session, PROJECT_ROOT / "data")
    engine.dispose()


@contextmanager
def demo_database(prefix: str = "txmap_test", keep: bool = False) -> Iterator[str]:
    """A throw-away database, migrated and holding the demo data; dropped afterwards unless ``keep``."""
    url = create_database(prefix)
    try:
        migrate(url)
        seed_demo(url)
        yield url
    finally:
        if not keep:
            drop_database(url)
