"""Engine, sessions and the hooks every session runs.

A session made here runs two hooks, installed by :func:`install_session_hooks` and by
nothing else (no import side effects):

* ``before_flush`` → :func:`app.models.recompute_before_flush`: 亩 and FAR from the geometry,
  through ``spatial``, whenever a geometry or a floor area changes;
* ``after_flush`` → :func:`app.core.audit.record_writes`: the audit trail of every write.

The third side effect, the OGC tile cache's invalidation after a commit, is installed by
``app.ogc.runtime.OgcRuntime.attach`` on the application's sessionmaker (``app.main``).
Transactions are opened and closed with :func:`app.core.uow.unit_of_work`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import orjson
from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from ..models import recompute_before_flush
from ..settings import Settings
from . import audit

SESSION_HOOKS = (
    ("before_flush", recompute_before_flush),
    ("after_flush", audit.record_writes),
)


def install_session_hooks(target: sessionmaker | Session) -> None:
    """Install the measure and audit hooks on a sessionmaker or on one session."""
    for name, hook in SESSION_HOOKS:
        event.listen(target, name, hook)


def database_url(settings: Settings) -> str:
    """DATABASE_URL when set; otherwise the checkout's private development cluster, started on demand.

    The private cluster (``devdb``) is a development tool: it is not part of the production
    package or the Docker image, where DATABASE_URL is always set.
    """
    if settings.database_url:
        return settings.database_url
    try:
        import devdb
    except ImportError as exc:
        raise RuntimeError("DATABASE_URL is not set and the development cluster (devdb) is not installed") from exc
    from ..settings import PROJECT_ROOT

    return devdb.start(PROJECT_ROOT, settings.pg_port)


def _json_dumps(value) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    return create_engine(
        url or settings.resolved_database_url(),
        pool_size=5,
        max_overflow=5,
        pool_pre_ping=True,
        connect_args={"application_name": "cloudmap"},
        # orjson for JSON/JSONB columns: a 亩均评价 run stores megabytes (several times faster than json)
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
    )


def conninfo(engine: Engine) -> str:
    """The engine's URL as a libpq connection string (psycopg's own connections: the read pool, LISTEN)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    maker = sessionmaker(bind=engine, expire_on_commit=False)
    install_session_hooks(maker)
    return maker


def new_session(bind: Engine | Connection, **options) -> Session:
    """A session with the hooks, for code that binds its own engine or connection (CLI dry runs, tests)."""
    session = Session(bind=bind, **options)
    install_session_hooks(session)
    return session


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; services own the transactions (:func:`app.core.uow.unit_of_work`)."""
    with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
