"""Optimistic concurrency: the ETag is a row's ``row_version``; updates must send ``If-Match``.

A stale If-Match gets 409 listing what was changed since, by whom and when, read from
the audit log (rows of the same subject written after that version).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import SessionDep
from ..errors import AppError, Conflict, FieldError
from .models import AuditEntry

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')
_BEIJING = dt.timezone(dt.timedelta(hours=8))


class PreconditionRequired(AppError):
    status_code = 428
    code = "if_match_required"


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def _short(value) -> str:
    if isinstance(value, dict) and "geometry_sha256" in value:
        return "（边界图形）"
    text = "空" if value in (None, "") else str(value)
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
            out.append(FieldError(row.object_type, f"{row.username} 于 {when} {row.action}（{row.object_type} {row.object_id}）"))
            continue
        for key, new in row.after.items():
            old = row.before.get(key)
            out.append(FieldError(key, f"{row.username} 于 {when}（{row.action}）将 {key} 由“{_short(old)}”改为“{_short(new)}”"))
    return out


def check_if_match(session: Session, request: Request, current: int, subject: str, what: str,
                   *, required: bool = True) -> None:
    """Refuse an update made against an out-of-date copy (409) or without a version (428)."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "":
        if required:
            raise PreconditionRequired(
                f"修改{what}需在请求头 If-Match 中带上读取时的版本号（ETag，当前为 {etag(current)}），以免覆盖他人的修改"
            )
        return
    if header.strip() == "*":
        return
    m = _ETAG.match(header)
    if m is None:
        raise PreconditionRequired(f"请求头 If-Match 应为读取时得到的 ETag，例如 {etag(current)}")
    sent = int(m.group(1))
    if sent != current:
        changes = changes_since(session, subject, sent)
        raise Conflict(
            f"{what}已被他人修改（您依据的版本 {sent}，当前版本 {current}），请刷新查看后再修改", changes
        )


def rollback_on_error(session: SessionDep) -> Iterator[None]:
    """Undo a half-done write when a request fails, so nothing pending leaks into the next flush."""
    try:
        yield
    except Exception:
        session.rollback()
        raise
