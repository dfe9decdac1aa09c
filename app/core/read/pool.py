"""How reads reach PostgreSQL: compiled SQL, no ORM, on a psycopg pool (or, in tests, a session).

A read request (a GeoJSON page of /api or /ogc, one feature, a tile) costs one statement.
Through an ORM ``Session`` it also cost a thread hop per dependency, a pre-ping round trip,
the statement's compilation (or its cache-key walk) and the session's bookkeeping — several
times the statement itself. So:

* :func:`compile_sql` turns a SQLAlchemy statement into psycopg SQL text once; the
  statements that only differ by values (one item, one tile) are built with named bind
  parameters and compiled once per shape (``functools.lru_cache`` in their modules).
  Request values are always bound parameters, never part of the SQL text.
* :class:`ReadPool` runs them on a ``psycopg_pool.AsyncConnectionPool`` in the event loop
  (last in, first out: :class:`LifoConnectionPool`):
  autocommit (one read-only statement is its own transaction), server-side prepared,
  no parallel workers and no JIT (short statements on a 2-core server; the planner's
  parallel plans and JIT compilation cost more than they save here).
* Reconnecting: a statement that fails with a connection error (server restarted,
  connection killed) is retried once, after the pool has checked its idle connections —
  safe because every statement here only reads. If it fails again, or the statement
  itself fails on the server (cancelled, out of memory), or no connection is free within
  the pool's timeout, the request gets the usual 503 envelope, as an ORM session's would.
* Timeouts (docs/architecture.md, "Limits and timeouts"): each connection connects within
  ``connect_timeout_s`` and runs with the engine's statement, lock and idle-transaction
  timeouts; a server that does not answer at all (stopped, SIGSTOP) is cut off by a deadline
  of the statement timeout plus a second (the socket is shut down): 503, no retry.
* :func:`reader_for` picks the reader of a request: the pool, or — when ``get_session``
  is overridden (the tests run every request in one rolled-back transaction) — that
  session, so both paths run the very same SQL.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.orm import Session
from starlette.requests import Request

from ...errors import ServiceUnavailable
from ...messages import message
from ..db import DEADLINE_GRACE_S, get_session, session_options, shutdown_socket

log = logging.getLogger("cloudmap.read")

POOL_SIZE = 4  # concurrent statements: more only queue inside PostgreSQL on 2 cores
POOL_TIMEOUT_S = 5.0  # waiting longer than this for a connection is a 503, not a hang
CONNECT_TIMEOUT_S = 3
STATEMENT_TIMEOUT_MS = 10_000
LOCK_TIMEOUT_MS = 3_000
CONNECT_OPTIONS = "-c max_parallel_workers_per_gather=0 -c jit=off"
APPLICATION_NAME = "cloudmap-read"

_DIALECT = psycopg_dialect.dialect()


@dataclass(frozen=True)
class Sql:
    """psycopg SQL text (``%(name)s`` placeholders), its constant values and its type conversions."""

    text: str
    constants: dict[str, Any]
    processors: dict[str, Callable[[Any], Any]]  # SQLAlchemy's bind processors, by parameter name
    prepare: bool | None = True  # server-side prepare; None: psycopg's choice (after 5 runs)

    def params(self, values: dict[str, Any] | None = None) -> dict[str, Any]:
        if not values:
            return dict(self.constants)
        out = {**self.constants, **values}
        for name in values.keys() & self.processors.keys():
            out[name] = self.processors[name](out[name])
        return out


def _processors(compiled) -> dict[str, Callable[[Any], Any]]:
    out = {}
    for bind, name in compiled.bind_names.items():
        proc = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
        if proc is not None:
            out[compiled.escaped_bind_names.get(name, name)] = proc
    return out


def compile_sql(stmt, prepare: bool | None = True) -> Sql:
    """Compile a statement whose request values are named bind parameters (given at execution)."""
    compiled = stmt.compile(dialect=_DIALECT)
    processors = _processors(compiled)
    # The values compiled into the statement; the named parameters' are given at execution.
    constants = {name: (processors[name](v) if name in processors and v is not None else v)
                 for name, v in compiled.params.items()}
    return Sql(compiled.string, constants, processors, prepare)


class _ShapeCache:
    """Compiled statements by SQLAlchemy's cache key: the shape of a statement without its values.

    For statements whose shape cannot be named in advance (a CQL2 filter is any tree of
    expressions). It is the key SQLAlchemy's own execution caches by: statements with equal
    keys compile to the same SQL, and the key lists the statement's bound values in a fixed
    order, so a request of a known shape compiles nothing — its values are read out of the
    new statement (``construct_params(extracted_parameters=…)``, as SQLAlchemy does).
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()  # one event loop in production; tests may run several

    def bind(self, stmt, values: dict[str, Any] | None = None) -> tuple[Sql, dict[str, Any]]:
        key = stmt._generate_cache_key()  # None: a construct SQLAlchemy cannot cache
        with self._lock:
            entry = None if key is None else self._entries.get(key.key)
            if entry is not None:
                self._entries.move_to_end(key.key)
        if entry is None:
            compiled = stmt.compile(dialect=_DIALECT, cache_key=key)
            # Expanding IN lists (``col.in_([…])``): how many values there are is part of the text.
            expanding = "POSTCOMPILE" in compiled.string
            entry = (compiled, None if expanding else Sql(compiled.string, {}, _processors(compiled), None))
            if key is not None:
                with self._lock:
                    self._entries[key.key] = entry
                    if len(self._entries) > self.size:
                        self._entries.popitem(last=False)
        compiled, sql = entry
        extracted = None if key is None else key.bindparams
        params = compiled.construct_params(params=values or None, extracted_parameters=extracted)
        if sql is None:
            state = compiled.construct_expanded_state(params)
            return Sql(state.statement, {}, dict(state.processors), None), state.parameters
        return sql, params


_shapes = _ShapeCache()


def bind_statement(stmt, values: dict[str, Any] | None = None) -> tuple[Sql, dict[str, Any]]:
    """A statement built per request: its cached compiled SQL and all its values.

    ``values`` fills the statement's named parameters; the values of its other (literal)
    parameters are read out of the statement itself.
    """
    return _shapes.bind(stmt, values)


class Reader(Protocol):
    async def one(self, sql: Sql, values: dict[str, Any] | None = None) -> tuple | None: ...


def _unavailable(exc: BaseException) -> ServiceUnavailable:
    err = ServiceUnavailable(message("database_unavailable"))
    err.__cause__ = exc
    return err


def _cut_off(conn: psycopg.AsyncConnection, cut: list[bool]) -> None:
    """The statement's deadline passed: shut the connection's socket so that its read fails now."""
    cut.append(True)
    shutdown_socket(conn.pgconn.socket)


class LifoConnectionPool(AsyncConnectionPool):
    """``psycopg_pool.AsyncConnectionPool`` that hands out the connection returned last.

    The stock pool is first-in first-out, so a few requests at a time rotate through every
    connection: on a 2-core server each read then wakes a backend whose caches went cold,
    which costs a quarter of a small tile's throughput at two connections (bench/bench_ogc.py).
    Last-in first-out keeps the busy few warm and leaves the others idle. It replaces the one
    method that takes a ready connection (psycopg_pool 3.3, pinned; tests/app/test_ogc_pool.py
    checks the order, so an upgrade that changes it fails there).
    """

    async def _get_ready_connection(self, timeout: float | None):
        if timeout is not None and timeout <= 0.0:
            raise PoolTimeout()
        if not self._pool:
            return None
        conn = self._pool.pop()  # the stock pool: popleft()
        self._nconns_min = min(self._nconns_min, len(self._pool))
        return conn


class ReadPool:
    """A ``psycopg_pool.AsyncConnectionPool`` of ``size`` autocommit connections, opened in the event
    loop that first uses it (a new loop — a test client started again — gets a new pool)."""

    def __init__(self, conninfo: str, size: int = POOL_SIZE, timeout: float = POOL_TIMEOUT_S, *,
                 connect_timeout_s: int = CONNECT_TIMEOUT_S, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
                 lock_timeout_ms: int = LOCK_TIMEOUT_MS) -> None:
        self.conninfo = conninfo
        self.size = size
        self.timeout = timeout
        self.connect_timeout_s = connect_timeout_s
        self.options = f"{CONNECT_OPTIONS} {session_options(statement_timeout_ms, lock_timeout_ms)}"
        self.deadline_s = statement_timeout_ms / 1000 + DEADLINE_GRACE_S
        self._pool: AsyncConnectionPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Lock | None = None  # of the current loop: one pool is opened at a time
        self._opening_loop: asyncio.AbstractEventLoop | None = None
        self._opened = 0  # connections opened by pools closed so far

    @property
    def connects(self) -> int:
        """Connections opened so far (for tests and diagnostics)."""
        current = self._pool.get_stats().get("connections_num", 0) if self._pool is not None else 0
        return self._opened + current

    async def one(self, sql: Sql, values: dict[str, Any] | None = None) -> tuple | None:
        params = sql.params(values)
        pool = self._pool
        if pool is None or self._loop is not asyncio.get_running_loop():
            pool = await self._current()
        for attempt in (1, 2):
            conn = None
            try:
                # getconn/putconn rather than pool.connection(), which also runs the connection's
                # own context (a commit check under its lock) that an autocommit read never needs
                conn = await pool.getconn()
                cut: list[bool] = []
                timer = asyncio.get_running_loop().call_later(self.deadline_s, _cut_off, conn, cut)
                try:
                    cur = await conn.execute(sql.text, params, prepare=sql.prepare)
                    return await cur.fetchone()
                finally:
                    timer.cancel()
                    await pool.putconn(conn)
            except PoolTimeout as exc:
                log.error("read pool: no connection within %.0f s: %s", self.timeout, exc)
                raise _unavailable(exc) from exc
            except psycopg.OperationalError as exc:
                if conn is None or not conn.broken:
                    # Connecting failed, or the statement failed (cancelled, out of memory …), not
                    # the connection: the same 503 an ORM session's OperationalError gives, no retry.
                    log.error("read failed: %s", exc)
                    raise _unavailable(exc) from exc
                if cut:
                    log.error("read: no answer within %.0f s: %s", self.deadline_s, exc)
                    raise _unavailable(exc) from exc
                if attempt == 2:
                    log.error("read lost a new connection too: %s", exc)
                    raise _unavailable(exc) from exc
                log.warning("read lost its connection (%s); retrying on a checked one", exc)
                try:  # drop (and replace) the other idle connections the same restart broke
                    await asyncio.wait_for(pool.check(), self.timeout)
                except TimeoutError as timeout:
                    log.error("read: checking the pool's connections took over %.0f s", self.timeout)
                    raise _unavailable(exc) from timeout
        raise AssertionError("unreachable")

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        self._opened += pool.get_stats().get("connections_num", 0)
        if asyncio.get_running_loop() is self._loop:
            await pool.close(timeout=1)

    async def _current(self) -> AsyncConnectionPool:
        loop = asyncio.get_running_loop()
        if self._pool is not None and loop is self._loop:
            return self._pool
        if self._opening is None or self._opening_loop is not loop:
            self._opening, self._opening_loop = asyncio.Lock(), loop
        async with self._opening:
            return await self._open(loop)

    async def _open(self, loop: asyncio.AbstractEventLoop) -> AsyncConnectionPool:
        if self._pool is not None and loop is not self._loop:
            self._abandon()
        if self._pool is None:
            pool = LifoConnectionPool(  # a fixed size: no growing and shrinking on a 2-core server
                self.conninfo, min_size=self.size, max_size=self.size, timeout=self.timeout, open=False,
                kwargs={"autocommit": True, "application_name": APPLICATION_NAME, "options": self.options,
                        "connect_timeout": self.connect_timeout_s},
                name="cloudmap-read",
            )
            try:
                await pool.open(wait=True, timeout=self.timeout)  # its connections ready before the first read
            except PoolTimeout as exc:
                self._opened += pool.get_stats().get("connections_num", 0)
                await pool.close(timeout=0)
                log.error("read pool: cannot connect within %.0f s: %s", self.timeout, exc)
                raise _unavailable(exc) from exc
            self._pool, self._loop = pool, loop
        return self._pool

    def _abandon(self) -> None:
        """A pool opened in an event loop that is gone (a test client started again): its
        connections cannot be closed through that loop, so their sockets are closed directly."""
        pool, self._pool = self._pool, None
        assert pool is not None
        self._opened += pool.get_stats().get("connections_num", 0)
        for conn in list(getattr(pool, "_pool", ())):
            conn.pgconn.finish()


def run_on_session(session: Session, sql: Sql, values: dict[str, Any] | None = None) -> tuple | None:
    """The same SQL through a SQLAlchemy session, in the caller's thread (services, tests)."""
    row = session.connection().exec_driver_sql(sql.text, sql.params(values)).first()
    return None if row is None else tuple(row)


def rows_on_session(session: Session, sql: Sql, values: dict[str, Any] | None = None) -> list[tuple]:
    """Every row of the SQL through a session (exports)."""
    return [tuple(r) for r in session.connection().exec_driver_sql(sql.text, sql.params(values))]


class SessionReader:
    """The same SQL through a SQLAlchemy session (in a worker thread)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def one(self, sql: Sql, values: dict[str, Any] | None = None) -> tuple | None:
        return await anyio.to_thread.run_sync(run_on_session, self.session, sql, values)


def reader_for(request: Request) -> Reader:
    """The pool, unless ``get_session`` is overridden: then the session it gives."""
    override: Callable[[], Any] | None = request.app.dependency_overrides.get(get_session)
    if override is None:
        return request.app.state.reads
    session = override()
    if inspect.isgenerator(session):  # a ``yield`` dependency like get_session itself
        session = next(session)
    return SessionReader(session)
