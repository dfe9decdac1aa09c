"""Optimistic concurrency: the ETag is a row's ``row_version``; updates send ``If-Match``.

:func:`check_if_match` locks the row it compares (``SELECT … FOR UPDATE``), so of two writes
made against the same version one wins and the other waits, then finds the version moved and
gets 409 listing what was changed since, by whom and when (read from the audit log: rows of
the same subject written after that version). A write that still loses a race (SQLAlchemy's
``StaleDataError``) is a 409 too (:func:`app.core.uow.unit_of_work`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Protocol

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ..errors import AppError, Conflict, FieldError
from ..messages import message
from .models import AuditEntry

LOCK_NOT_AVAILABLE = "55P03"
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')
_BEIJING = dt.timezone(dt.timedelta(hours=8))


class Versioned(Protocol):
    row_version: int

    def audit_subject(self) -> str: ...


class PreconditionRequired(AppError):
    status_code = 428
    code = "if_match_required"


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def _short(value) -> str:
    if isinstance(value, dict) and "geometry_sha256" in value:
        return message("change_geometry")
    text = message("change_empty") if value in (None, "") else str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def changes_since(session: Session, subject: str, version: int) -> list[FieldError]:
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.subject == subject, AuditEntry.subject_version > version)
        .order_by(AuditEntry.id)
        .limit(50)
    ).all()
    out = []
    for row in rows:
        when = row.at.astimezone(_BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        if row.before is None or row.after is None:
            out.append(FieldError(row.object_type, message(
                "change_row", user=row.username, when=when, action=row.action, table=row.object_type,
                id=row.object_id)))
            continue
        for key, new in row.after.items():
            old = row.before.get(key)
            out.append(FieldError(key, message("change_value", user=row.username, when=when, action=row.action,
                                               field=key, old=_short(old), new=_short(new))))
    return out


def sent_version(request: Request, current: int, what: str, *, required: bool) -> int | None:
    """The version the client read (from If-Match): None for ``*`` or when not required and absent."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "":
        if required:
            raise PreconditionRequired(message("if_match_required", what=what, etag=etag(current)))
        return None
    if header.strip() == "*":
        return None
    m = _ETAG.match(header)
    if m is None:
        raise PreconditionRequired(message("if_match_malformed", etag=etag(current)))
    return int(m.group(1))


def check_if_match(session: Session, request: Request, obj: Versioned | None, what: str,
                   *, required: bool = True, subject: str | None = None) -> None:
    """Refuse an update made against an out-of-date copy (409) or without a version (428).

    ``obj`` is the row whose ``row_version`` is the ETag, or None when it does not exist yet
    (version 0; ``subject`` then names it for the list of changes). The row is locked until
    the transaction ends, so a concurrent write with the same If-Match waits and then fails here.
    """
    if obj is not None:
        try:
            session.refresh(obj, with_for_update=True)  # the current version, locked
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:  # lock_timeout: a write holds it
                raise Conflict(message("lock_timeout")) from exc
            raise
    current = obj.row_version if obj is not None else 0
    sent = sent_version(request, current, what, required=required)
    if sent is None or sent == current:
        return
    changes = changes_since(session, subject or obj.audit_subject(), sent)  # type: ignore[union-attr]
    raise Conflict(message("if_match_stale", what=what, sent=sent, current=current), changes)
