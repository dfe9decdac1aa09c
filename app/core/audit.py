"""The audit trail: every write, who made it, and the values before and after.

The ``after_flush`` hook :func:`record_writes` (installed on every session by
``app.core.db``) records each inserted, updated and deleted row of the governance tables
(and of the core tables when a person is acting), so no service can forget to audit.
Services name the action and the subject with :func:`audit_context`.
Geometries are recorded by digest and area; the full shapes live in the frozen versions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from enum import Enum
from typing import Any

from geoalchemy2 import WKBElement
from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session

from .models import AuditEntry

# Rows not audited: the log itself, session tokens, notifications and the review log (derived
# records of an audited action), and the upload staging area (audited by the upload as a whole).
_SKIP_TABLES = {"audit_log", "login_sessions", "notifications", "review_events", "upload_features",
                "alembic_version"}
# Core tables: audited only when a person (not the demo seed) writes them.
_CORE_TABLES = {"units", "annual_targets", "enterprises", "renewal_blocks", "parcels", "uploads", "feature_history"}
# Never stored nor shown, even to reviewers: password and key hashes, salts, secrets, tokens (by name,
# so that a column added later is covered too). :func:`masked` applies the same rule when rows are served.
_SECRET_NAME = re.compile(r"(^|_)hash$|salt|secret|token|^password$", re.IGNORECASE)
MASK = "***"
_NOISE_COLUMNS = {"row_version", "updated_at", "created_at"}
# Bulk JSON (an evaluation run's frozen inputs and result, an import's staged rows): only how many
# entries — the rows themselves are the record, and serialising megabytes twice would double a write.
_BULK_COLUMNS = {"inputs", "result", "rows"}

SYSTEM = "system"


def set_actor(session: Session, user_id: int | None, username: str) -> None:
    """Who the following writes of this session belong to."""
    session.info["actor"] = (user_id, username)


def actor(session: Session) -> tuple[int | None, str]:
    return session.info.get("actor") or (None, SYSTEM)


@contextmanager
def audit_context(session: Session, action: str, subject_obj: Any = None) -> Iterator[None]:
    """Label the writes flushed inside the block (e.g. ``approve``) and group them under a subject."""
    previous = session.info.get("audit_context")
    session.info["audit_context"] = (action, subject_obj)
    try:
        yield
        session.flush()
    finally:
        session.info["audit_context"] = previous


def to_jsonable(value: Any) -> Any:
    """A column value as JSON: exact decimals as strings, dates ISO, enums by code, shapes by digest."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, WKBElement):
        return {"geometry_sha256": hashlib.sha256(bytes(value.data)).hexdigest()[:16]}
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):  # a stored file (an issued report's Excel): by digest and size
        data = bytes(value)
        return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    if isinstance(value, dict | list):
        return value
    return str(value)


def _value(key: str, value: Any) -> Any:
    if value is None:
        return None
    if is_secret(key):
        return MASK
    if key in _BULK_COLUMNS and isinstance(value, dict | list):
        return {"entries": len(value)}
    return to_jsonable(value)


def is_secret(key: str) -> bool:
    return bool(_SECRET_NAME.search(key))


def masked(values: Any) -> Any:
    """``values`` (an audit row's before/after) with every secret-named field masked, at any depth."""
    if isinstance(values, dict):
        return {k: (MASK if is_secret(str(k)) and v is not None else masked(v)) for k, v in values.items()}
    if isinstance(values, list):
        return [masked(v) for v in values]
    return values


def _row(obj: Any) -> dict:
    state = inspect(obj)
    return {
        attr.key: _value(attr.key, getattr(obj, attr.key))
        for attr in state.mapper.column_attrs
        if attr.key not in _NOISE_COLUMNS
    }


def _changes(obj: Any) -> tuple[dict, dict]:
    state = inspect(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        if attr.key in _NOISE_COLUMNS:
            continue
        hist = state.attrs[attr.key].history
        if not hist.has_changes():
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if isinstance(old, WKBElement) and isinstance(new, WKBElement) and bytes(old.data) == bytes(new.data):
            continue
        if old == new and not isinstance(new, WKBElement):
            continue
        before[attr.key] = _value(attr.key, old)
        after[attr.key] = _value(attr.key, new)
    return before, after


def _object_id(obj: Any) -> str:
    # A row inserted in this flush has no identity key yet (it is still pending in after_flush),
    # but its primary key is already set: read it from the instance.
    state = inspect(obj)
    identity = state.identity or state.mapper.primary_key_from_instance(obj)
    return "/".join(str(v) for v in identity if v is not None)


def _subject(obj: Any, context_subject: Any) -> tuple[str | None, int | None]:
    own = getattr(obj, "audit_subject", None)
    if context_subject is not None:
        return context_subject.audit_subject(), getattr(context_subject, "row_version", None)
    if own is not None:
        return own(), getattr(obj, "row_version", None)
    return None, None


def _audited(session: Session, obj: Any) -> bool:
    table = getattr(obj, "__tablename__", None)
    if table is None or table in _SKIP_TABLES:
        return False
    if table in _CORE_TABLES:
        return "actor" in session.info
    return True


def record_writes(session: Session, _flush_context) -> None:
    """The ``after_flush`` hook: one audit row per written row (see the module docstring)."""
    user_id, username = actor(session)
    action, subject_obj = session.info.get("audit_context") or (None, None)
    rows = []
    for kind, objs in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objs:
            if not _audited(session, obj):
                continue
            if kind == "create":
                before, after = None, _row(obj)
            elif kind == "delete":
                before, after = _row(obj), None
            else:
                if not session.is_modified(obj, include_collections=False):
                    continue
                before, after = _changes(obj)
                if not after:
                    continue
            subject, subject_version = _subject(obj, subject_obj)
            rows.append({
                "user_id": user_id,
                "username": username,
                "action": action or kind,
                "object_type": obj.__tablename__,
                "object_id": _object_id(obj),
                "object_version": getattr(obj, "row_version", None),
                "subject": subject,
                "subject_version": subject_version,
                "before": before,
                "after": after,
            })
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


def record(session: Session, action: str, object_type: str, object_id: str, *, after: dict | None = None,
           before: dict | None = None, subject: str | None = None) -> None:
    """An event that is not a row change (login, failed login, logout, export)."""
    user_id, username = actor(session)
    session.execute(insert(AuditEntry).values(
        user_id=user_id, username=username, action=action, object_type=object_type, object_id=object_id,
        subject=subject, before=masked(before), after=masked(after),
    ))
