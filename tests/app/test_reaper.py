"""The upload reaper (app/ingest/reaper.py): uploads a restart left ``staging``, and staged ones nobody
committed, become failed with a Chinese reason, lose their staged rows and are audited; one that another
transaction holds, or that moved recently, is left alone; the app runs it at start-up (real PostGIS)."""

from __future__ import annotations

import time
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.core.db import make_engine, make_sessionmaker
from app.ingest.models import Upload, UploadFeature, UploadSource, UploadStatus, UploadTarget
from app.ingest.reaper import reap
from app.main import create_app
from app.settings import Settings
from tests.dbutil import demo_database


@pytest.fixture(scope="module")
def url():
    with demo_database("txmap_reaper") as url:
        yield url


@pytest.fixture(scope="module")
def maker(url):
    engine = make_engine(Settings(database_url=url), url)
    yield make_sessionmaker(engine)
    engine.dispose()


def add_upload(maker, status: UploadStatus, age: str, features: int = 0) -> uuid.UUID:
    upload_id = uuid.uuid4()
    with maker() as s:
        s.add(Upload(id=upload_id, uploader="gis", filename="宗地.zip", file_sha256="0" * 64, file_size_bytes=1,
                     target=UploadTarget.PARCELS, status=status, mapping={}, options={}, counts={},
                     progress={"phase": "reading", "done": 1, "total": 9} if status == UploadStatus.STAGING else None))
        s.flush()
        for n in range(1, features + 1):
            s.add(UploadFeature(upload_id=upload_id, feature_no=n, code=f"R{n}", severity="ok"))
        if features:
            s.add(UploadSource(upload_id=upload_id, part_no=0, data=b"zip"))
        s.commit()
        s.execute(text(f"UPDATE uploads SET updated_at = now() - interval '{age}' WHERE id = :id"), {"id": upload_id})
        s.commit()
    return upload_id


def state(maker, upload_id: uuid.UUID) -> tuple:
    with maker() as s:
        up = s.get(Upload, upload_id)
        staged = s.execute(text("SELECT count(*) FROM upload_features WHERE upload_id = :id"), {"id": upload_id}).scalar()
        sources = s.execute(text("SELECT count(*) FROM upload_sources WHERE upload_id = :id"), {"id": upload_id}).scalar()
        return up.status, up.outcome, staged, sources


def test_abandoned_uploads_are_failed_with_a_reason_and_audited_others_left_alone(maker, url):
    crashed = add_upload(maker, UploadStatus.STAGING, "2 hours")
    reading = add_upload(maker, UploadStatus.STAGING, "10 seconds")
    forgotten = add_upload(maker, UploadStatus.STAGED, "200 hours", features=3)
    waiting = add_upload(maker, UploadStatus.STAGED, "2 hours", features=2)
    held = add_upload(maker, UploadStatus.STAGING, "3 hours")
    committed = add_upload(maker, UploadStatus.COMMITTED, "900 hours")

    locker = create_engine(url)
    with locker.connect() as conn:  # a transaction working on ``held`` right now
        conn.execute(text("SELECT 1 FROM uploads WHERE id = :id FOR UPDATE"), {"id": held})
        with maker() as s:
            reaped = reap(s, staging_minutes=30, staged_hours=168)
        conn.rollback()
    locker.dispose()

    assert set(reaped) == {crashed, forgotten}
    status, outcome, _, _ = state(maker, crashed)
    assert status == UploadStatus.FAILED
    assert outcome["error"]["code"] == "upload_interrupted"
    assert "重新上传" in outcome["error"]["detail"]
    status, outcome, staged, sources = state(maker, forgotten)
    assert (status, staged, sources) == (UploadStatus.FAILED, 0, 0)
    assert "168 小时" in outcome["error"]["detail"]
    for left in (reading, held):
        assert state(maker, left)[0] == UploadStatus.STAGING
    assert state(maker, waiting)[:3] == (UploadStatus.STAGED, None, 2)
    assert state(maker, committed)[0] == UploadStatus.COMMITTED

    with maker() as s:
        audited = s.execute(text(
            "SELECT object_id, username FROM audit_log WHERE action = 'reap' AND object_type = 'uploads'"
        )).all()
    assert {(str(crashed), "system"), (str(forgotten), "system")} <= set(audited)

    with maker() as s:  # the held one is taken the next time round, once free
        assert reap(s, staging_minutes=30, staged_hours=168) == [held]


def test_the_app_reaps_at_start_up(maker, url):
    crashed = add_upload(maker, UploadStatus.STAGING, "1 hour")
    app = create_app(Settings(database_url=url, upload_reap_interval_minutes=0))
    with TestClient(app):
        deadline = time.monotonic() + 30
        while state(maker, crashed)[0] == UploadStatus.STAGING and time.monotonic() < deadline:
            time.sleep(0.1)
    assert state(maker, crashed)[0] == UploadStatus.FAILED
