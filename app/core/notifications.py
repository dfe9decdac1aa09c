"""Notifications: a message to a user about a subject (type + code), read in the user's inbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound
from ..messages import message
from .models import Notification


def notify(session: Session, user_ids: Iterable[int], kind: str, text: str, *, subject_type: str,
           subject_code: str) -> None:
    """One notification per user (each user once), inside the caller's unit of work."""
    for user_id in sorted(set(user_ids)):
        session.add(Notification(user_id=user_id, kind=kind, message=text, subject_type=subject_type,
                                 subject_code=subject_code))


def inbox(session: Session, user_id: int, *, unread: bool = False, limit: int = 200) -> list[Notification]:
    q = select(Notification).where(Notification.user_id == user_id).order_by(Notification.id.desc()).limit(limit)
    if unread:
        q = q.where(Notification.read_at.is_(None))
    return list(session.scalars(q))


def mark_read(session: Session, user_id: int, notification_id: int) -> Notification:
    n = session.get(Notification, notification_id)
    if n is None or n.user_id != user_id:
        raise NotFound(message("notification_not_found"))
    if n.read_at is None:
        n.read_at = dt.datetime.now(dt.UTC)
    return n
