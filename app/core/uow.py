"""One unit of work: the one way a service opens, commits and rolls back a transaction.

    with unit_of_work(session):
        ...  # reads and writes
    # committed here; any exception rolled everything back and went on

Routes never commit: they call a service, and the service's ``unit_of_work`` decides. A
unit of work inside another (a service calling a service) joins it: only the outermost
commits. It works whether or not the session already holds a read transaction (a route
may have looked something up first; SQLAlchemy begins one on first use).

A concurrent write that lost (SQLAlchemy's ``StaleDataError``: the row's ``row_version``
moved under us) becomes a 409, never a 500; so does a lock the write waited for longer than
``lock_timeout`` (SQLSTATE 55P03: another write holds the row; docs/architecture.md, "Limits
and timeouts"). The hooks that run inside every flush
(measures, audit) are installed where sessions are made: :mod:`app.core.db`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..errors import Conflict
from ..messages import message
from .db import new_session

_DEPTH = "cloudmap_uow_depth"
LOCK_NOT_AVAILABLE = "55P03"


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """Commit what the block did, or roll all of it back (the outermost unit decides)."""
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except StaleDataError as exc:
        if depth == 0:
            session.rollback()
        raise Conflict(message("concurrent_write")) from exc
    except OperationalError as exc:
        if depth == 0:
            session.rollback()
        if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise Conflict(message("lock_timeout")) from exc
        raise
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


@contextmanager
def discarded(session: Session) -> Iterator[Session]:
    """Rows written inside are undone at the end (a savepoint rolled back): for a read that must
    build rows to show them, such as a block approved on paper shown as a plan."""
    savepoint = session.begin_nested()
    try:
        yield session
    finally:
        savepoint.rollback()


@contextmanager
def session_for(engine: Engine, *, dry_run: bool = False) -> Iterator[Session]:
    """A session of its own (the CLI). ``dry_run``: every unit of work inside commits only to a
    savepoint of one outer transaction, which is rolled back at the end — nothing is kept."""
    with engine.connect() as conn:
        outer = conn.begin() if dry_run else None
        session = new_session(conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
            if outer is not None:
                outer.rollback()
