"""Create, migrate and drop throw-away test databases on the private cluster or DATABASE_URL's server.

``demo_database()`` copies a template: the first call of a test run migrates and seeds one database
(several seconds), and every demo database after it is ``CREATE DATABASE … TEMPLATE`` of that one
(a fraction of a second). The template belongs to this process (its PID is in its name), is closed to
connections while it is copied, and is dropped when the process exits; one left by a killed run is dropped
by the next.
"""

from __future__ import annotations

import atexit
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.settings import PROJECT_ROOT, Settings

TEMPLATE_PREFIX = "txmap_tpl_"
_template_url: str | None = None
_pending_drops: list[threading.Thread] = []


def _server_admin_url() -> str:
    settings = Settings()
    if settings.database_url:
        return settings.database_url
    import devdb

    devdb.start(PROJECT_ROOT, settings.pg_port)
    return devdb.server_url(settings.pg_port, "postgres").replace("postgresql://", "postgresql+psycopg://", 1)


def _admin_engine(url):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


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
    admin = _admin_engine(parsed)
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop_template(conn, name: str) -> None:
    conn.execute(text(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false ALLOW_CONNECTIONS true'))
    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _drop_orphan_templates(conn) -> None:
    """Drop templates left by runs that were killed before their end (their PID is gone)."""
    names = conn.execute(
        text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": TEMPLATE_PREFIX + "%"}
    ).scalars()
    for name in list(names):
        pid = name.removeprefix(TEMPLATE_PREFIX).split("_", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            _drop_template(conn, name)


def demo_template() -> str:
    """The URL of this run's migrated and seeded template database, built on the first call."""
    global _template_url
    if _template_url is None:
        url = create_database(f"{TEMPLATE_PREFIX}{os.getpid()}")
        name = make_url(url).database
        try:
            migrate(url)
            seed_demo(url)
        except BaseException:
            drop_database(url)
            raise
        admin = _admin_engine(url)
        with admin.connect() as conn:
            # Nothing may be connected to a template while it is copied: close it, then end any stragglers.
            conn.execute(text(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
            if not Settings().database_url:  # PIDs are only this machine's on the private cluster
                _drop_orphan_templates(conn)
        admin.dispose()
        _template_url = url
        atexit.register(drop_demo_template)
    return _template_url


def drop_demo_template() -> None:
    """Drop this run's template, if it was built (registered with ``atexit`` when it is)."""
    global _template_url
    if _template_url is None:
        return
    admin = _admin_engine(_template_url)
    with admin.connect() as conn:
        _drop_template(conn, make_url(_template_url).database)
    admin.dispose()
    _template_url = None


def copy_demo_database(prefix: str = "txmap_test") -> str:
    """A new database holding exactly the template's schema and demo data; return its URL."""
    template = make_url(demo_template())
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = _admin_engine(template)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"'))
    admin.dispose()
    return template.set(database=name).render_as_string(hide_password=False)


def _drop_in_background(url: str) -> None:
    """Drop a database while the tests go on: DROP DATABASE waits for a checkpoint (a second or more)."""
    if not _pending_drops:
        atexit.register(_wait_for_drops)
    thread = threading.Thread(target=drop_database, args=(url,), name="drop-test-database", daemon=True)
    thread.start()
    _pending_drops.append(thread)


def _wait_for_drops() -> None:
    while _pending_drops:
        _pending_drops.pop().join(timeout=120)


@contextmanager
def demo_database(prefix: str = "txmap_test", keep: bool = False) -> Iterator[str]:
    """A throw-away database, migrated and holding the demo data; dropped afterwards unless ``keep``."""
    url = copy_demo_database(prefix)
    try:
        yield url
    finally:
        if not keep:
            _drop_in_background(url)
