"""The reaper of abandoned uploads (docs/deployment.md, "The upload reaper").

An upload is read in a thread of the process that received it (``staging``, its ``progress``
updated every half second) and then waits, ``staged``, for the clerk to commit it. A restart or a
crash ends that thread: the upload would stay ``staging`` forever, and a staged upload nobody commits
keeps its staged rows (and perhaps its file) for good. The reaper, run by every process at start-up
and every ``upload_reap_interval_minutes``, marks failed, with a Chinese reason, the uploads

* ``staging`` whose record has not moved for ``upload_stale_staging_minutes``, and
* ``staged`` for longer than ``upload_abandoned_staged_hours``,

deletes their staged features and kept source, and audits each as ``reap`` by ``system``.
``FOR UPDATE SKIP LOCKED`` leaves alone a record another transaction holds (an upload being staged
or committed right now), and several processes reaping at once each take different rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from ..core.audit import SYSTEM, audit_context, set_actor
from ..core.uow import unit_of_work
from ..messages import message
from .models import Upload, UploadFeature, UploadSource, UploadStatus

log = logging.getLogger("cloudmap.ingest")

BATCH = 100


def reap(session: Session, *, staging_minutes: float, staged_hours: float) -> list[uuid.UUID]:
    """Fail the abandoned uploads (see the module docstring); returns their ids."""
    with unit_of_work(session):
        now = session.execute(select(func.now())).scalar_one()
        stale_staging = now - dt.timedelta(minutes=staging_minutes)
        stale_staged = now - dt.timedelta(hours=staged_hours)
        uploads = session.scalars(
            select(Upload)
            .where(or_(and_(Upload.status == UploadStatus.STAGING, Upload.updated_at < stale_staging),
                       and_(Upload.status == UploadStatus.STAGED, Upload.updated_at < stale_staged)))
            .order_by(Upload.updated_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if not uploads:
            return []
        set_actor(session, None, SYSTEM)
        ids = [u.id for u in uploads]
        with audit_context(session, "reap"):
            for upload in uploads:
                if upload.status == UploadStatus.STAGING:
                    key, code = "upload_reaped_staging", "upload_interrupted"
                else:
                    key, code = "upload_reaped_staged", "upload_abandoned"
                detail = message(key, hours=_hours(staged_hours))
                upload.status = UploadStatus.FAILED
                upload.progress = None
                upload.outcome = {"error": {"detail": detail, "code": code, "errors": []}}
            session.execute(delete(UploadFeature).where(UploadFeature.upload_id.in_(ids)))
            session.execute(delete(UploadSource).where(UploadSource.upload_id.in_(ids)))
    log.warning("reaper: %d abandoned upload(s) marked failed: %s", len(ids), ", ".join(map(str, ids)))
    return ids


def _hours(hours: float) -> str:
    return f"{hours:g}"


def reap_with(maker: sessionmaker[Session], staging_minutes: float, staged_hours: float) -> list[uuid.UUID]:
    """:func:`reap` in a session of its own (the app's periodic task); errors are logged, not raised."""
    try:
        with maker() as session:
            return reap(session, staging_minutes=staging_minutes, staged_hours=staged_hours)
    except Exception as exc:  # noqa: BLE001 - a database that is down now is tried again next time
        log.warning("reaper: could not reap abandoned uploads: %s", exc)
        return []
