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

import heapq
import itertools
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Annotated

import orjson
from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..models import recompute_before_flush
from ..settings import Settings
from . import audit

log = logging.getLogger("cloudmap.db")

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


IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000  # a transaction left open by a stuck client frees its locks
DEADLINE_GRACE_S = 1.0  # the server's own statement_timeout answers first; the watchdog only for a hung one


def session_options(statement_timeout_ms: int, lock_timeout_ms: int) -> str:
    """libpq ``options`` that give every connection its statement, lock and idle-transaction timeouts."""
    return (f"-c statement_timeout={statement_timeout_ms} -c lock_timeout={lock_timeout_ms}"
            f" -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_MS}")


class SocketWatchdog:
    """Shuts down the socket of a connection whose server has not answered by a deadline.

    ``statement_timeout`` is enforced by the server; a server that is stopped (SIGSTOP) or cut
    off never answers at all, and libpq waits for ever. One thread keeps the deadlines of the
    statements in flight; past one it shuts the socket down, so the waiting call fails at once
    with a connection error (503) and the pool drops that connection.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int]] = []
        self._armed: dict[int, int] = {}  # token -> fd
        self._tokens = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, fd: int, seconds: float) -> int:
        token = next(self._tokens)
        with self._cond:
            self._armed[token] = fd
            heapq.heappush(self._heap, (time.monotonic() + seconds, token, fd))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cloudmap-db-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
        return token

    def disarm(self, token: int) -> bool:
        """False when the deadline had passed (the socket was shut down)."""
        with self._cond:
            return self._armed.pop(token, None) is not None

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                _, token, fd = heapq.heappop(self._heap)
                del self._armed[token]
                log.error("database did not answer within its deadline: closing that connection")
                shutdown_socket(fd)


def shutdown_socket(fd: int) -> None:
    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.detach()  # the fd stays libpq's


watchdog = SocketWatchdog()


def _fd(dbapi_connection) -> int | None:
    try:
        return dbapi_connection.pgconn.socket
    except Exception:  # closed or broken
        return None


def _install_deadlines(engine: Engine, statement_timeout_ms: int, ping_s: float) -> None:
    """The watchdog around every statement and the check-out ping (:class:`SocketWatchdog`)."""
    default_s = statement_timeout_ms / 1000 + DEADLINE_GRACE_S

    @event.listens_for(engine, "before_cursor_execute")
    def _arm(conn, _cursor, _statement, _params, context, _many):
        fd = _fd(conn.connection.dbapi_connection)
        if fd is not None:
            seconds = conn.info.get("statement_deadline_s", default_s)
            conn.info["deadline_token"] = watchdog.arm(fd, seconds)

    @event.listens_for(engine, "after_cursor_execute")
    def _disarm(conn, *_args):
        token = conn.info.pop("deadline_token", None)
        if token is not None:
            watchdog.disarm(token)

    @event.listens_for(engine, "handle_error")
    def _disarm_on_error(context):
        conn = context.connection
        if conn is not None:
            token = conn.info.pop("deadline_token", None)
            if token is not None:
                watchdog.disarm(token)

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _default_deadline(conn):
        conn.info.pop("statement_deadline_s", None)  # long_statements() lasts one transaction

    @event.listens_for(engine.pool, "checkin")
    def _forget_deadline(_dbapi_connection, record):
        record.info.pop("statement_deadline_s", None)

    @event.listens_for(engine.pool, "checkout")
    def _ping(dbapi_connection, _record, _proxy):
        """pool_pre_ping under a deadline: a hung server is a 503, a lost connection a new one."""
        fd = _fd(dbapi_connection)
        if fd is None:
            raise DisconnectionError("connection closed")
        token = watchdog.arm(fd, ping_s)
        try:
            with dbapi_connection.cursor() as cur:
                cur.execute("SELECT 1")
        except Exception as exc:
            if not watchdog.disarm(token):
                raise OperationalError("SELECT 1", None, exc) from exc
            raise DisconnectionError(str(exc)) from exc
        watchdog.disarm(token)


BULK_STATEMENT_TIMEOUT_S = 600  # a bulk load's or an evaluation's statements (uploads' COPY and commit, the seed)


def long_statements(session: Session, seconds: float = BULK_STATEMENT_TIMEOUT_S) -> None:
    """A longer statement timeout for the rest of the session's transaction (bulk loads, evaluations)."""
    ms = int(seconds * 1000)
    session.execute(text(f"SET LOCAL statement_timeout = {ms}"))
    session.connection().info["statement_deadline_s"] = seconds + DEADLINE_GRACE_S


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    """The ORM's engine: connect, pool, statement and lock timeouts (docs/architecture.md, "Limits and timeouts")."""
    engine = create_engine(
        url or settings.resolved_database_url(),
        pool_size=5,
        max_overflow=5,
        pool_timeout=settings.db_pool_timeout_s,
        connect_args={
            "application_name": "cloudmap",
            "connect_timeout": settings.db_connect_timeout_s,
            "options": session_options(settings.db_statement_timeout_ms, settings.db_lock_timeout_ms),
        },
        # orjson for JSON/JSONB columns: a 亩均评价 run stores megabytes (several times faster than json)
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
    )
    _install_deadlines(engine, settings.db_statement_timeout_ms, float(settings.db_connect_timeout_s))
    return engine


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
