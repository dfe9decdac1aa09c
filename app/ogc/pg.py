"""How the hot OGC reads (items, one item, tiles) reach PostgreSQL: compiled SQL, no ORM.

A request to these routes costs one statement. Through an ORM ``Session`` it also cost a
thread hop per dependency, a pre-ping round trip, the statement's compilation (or its
cache-key walk) and the session's bookkeeping — several times the statement itself. So:

* :func:`compile_sql` turns a SQLAlchemy statement into psycopg SQL text once; the
  statements that only differ by values (one item, one tile) are built with named bind
  parameters and compiled once per shape (``functools.lru_cache`` in their modules).
  Request values are always bound parameters, never part of the SQL text.
* :class:`ReadPool` runs them on a few psycopg ``AsyncConnection`` objects in the event loop:
  autocommit (one read-only statement is its own transaction), server-side prepared,
  no parallel workers and no JIT (short statements on a 2-core server; the planner's
  parallel plans and JIT compilation cost more than they save here).
* Reconnecting: a connection is checked for a local close before use, and a statement
  that fails with a connection error (server restarted, connection killed) is retried
  once on a new connection — safe because every statement here only reads. If the new
  connection fails too, or the statement itself fails on the server (cancelled, out of
  memory), the request gets the usual 503 envelope, as an ORM session's would.
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
from psycopg import pq
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.orm import Session
from starlette.requests import Request

from ..core.db import get_session
from ..errors import ServiceUnavailable
from ..messages import message

log = logging.getLogger("cloudmap.ogc")

POOL_SIZE = 4  # concurrent statements: more only queue inside PostgreSQL on 2 cores
CONNECT_OPTIONS = "-c max_parallel_workers_per_gather=0 -c jit=off"

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


class ReadPool:
    """A handful of async connections used in the event loop that created them."""

    def __init__(self, conninfo: str, size: int = POOL_SIZE) -> None:
        self.conninfo = conninfo
        self.size = size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[psycopg.AsyncConnection] = []
        self._slots: asyncio.Semaphore | None = None
        self.connects = 0  # connections opened so far (for tests and diagnostics)

    async def one(self, sql: Sql, values: dict[str, Any] | None = None) -> tuple | None:
        params = sql.params(values)
        for attempt in (1, 2):
            conn = await self._acquire()
            try:
                cur = await conn.execute(sql.text, params, prepare=sql.prepare)
                row = await cur.fetchone()
            except psycopg.OperationalError as exc:
                if not (conn.closed or conn.broken):
                    # The statement failed (cancelled, out of memory …), not the connection:
                    # the same 503 an ORM session's OperationalError gives, and no retry.
                    self._settle(conn)
                    log.error("OGC read failed: %s", exc)
                    raise ServiceUnavailable(message("database_unavailable")) from exc
                await self._discard(conn)
                if attempt == 2:
                    log.error("OGC read lost a new connection too: %s", exc)
                    raise ServiceUnavailable(message("database_unavailable")) from exc
                log.warning("OGC read lost its connection (%s); retrying on a new one", exc)
                continue
            except BaseException:
                self._settle(conn)
                raise
            self._release(conn)
            return row
        raise AssertionError("unreachable")

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        same_loop = asyncio.get_running_loop() is self._loop
        for conn in idle:
            if same_loop:
                await conn.close()
            else:
                conn.pgconn.finish()

    # -- connections ------------------------------------------------------------------
    async def _acquire(self) -> psycopg.AsyncConnection:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._rebind(loop)
        assert self._slots is not None
        await self._slots.acquire()
        try:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed and not conn.broken:
                    return conn
            return await self._connect()
        except BaseException as exc:
            self._slots.release()
            if isinstance(exc, psycopg.OperationalError):
                log.error("OGC read cannot connect: %s", exc)
                raise ServiceUnavailable(message("database_unavailable")) from exc
            raise

    async def _connect(self) -> psycopg.AsyncConnection:
        conn = await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, application_name="cloudmap-ogc", options=CONNECT_OPTIONS
        )
        self.connects += 1
        return conn

    def _settle(self, conn: psycopg.AsyncConnection) -> None:
        """After a failed statement: an idle autocommit connection is reusable; anything else
        (cancelled mid-statement, broken) is closed."""
        if not conn.broken and conn.info.transaction_status == pq.TransactionStatus.IDLE:
            self._release(conn)
        else:
            conn.pgconn.finish()
            if asyncio.get_running_loop() is self._loop:
                assert self._slots is not None
                self._slots.release()

    def _release(self, conn: psycopg.AsyncConnection) -> None:
        if asyncio.get_running_loop() is not self._loop:  # taken before a rebind: not ours any more
            conn.pgconn.finish()
            return
        self._idle.append(conn)
        assert self._slots is not None
        self._slots.release()

    async def _discard(self, conn: psycopg.AsyncConnection) -> None:
        try:
            await conn.close()
        finally:
            if asyncio.get_running_loop() is self._loop:
                assert self._slots is not None
                self._slots.release()

    def _rebind(self, loop: asyncio.AbstractEventLoop) -> None:
        """A new event loop (a test client started again): connections of the old one are dropped."""
        for conn in self._idle:
            conn.pgconn.finish()
        self._idle = []
        self._loop = loop
        self._slots = asyncio.Semaphore(self.size)


class SessionReader:
    """The same SQL through a SQLAlchemy session (in a worker thread)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def one(self, sql: Sql, values: dict[str, Any] | None = None) -> tuple | None:
        params = sql.params(values)

        def run() -> tuple | None:
            row = self.session.connection().exec_driver_sql(sql.text, params).first()
            return None if row is None else tuple(row)

        return await anyio.to_thread.run_sync(run)


def reader_for(request: Request) -> Reader:
    """The pool, unless ``get_session`` is overridden: then the session it gives."""
    override: Callable[[], Any] | None = request.app.dependency_overrides.get(get_session)
    if override is None:
        return request.app.state.ogc.reads
    session = override()
    if inspect.isgenerator(session):  # a ``yield`` dependency like get_session itself
        session = next(session)
    return SessionReader(session)
