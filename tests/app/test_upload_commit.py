"""Commit semantics on a database of its own (real commits): all or nothing, the CLI, async staging, blocks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.core.db import new_session
from app.main import create_app
from app.settings import PROJECT_ROOT, Settings
from tests.app import upload_corpus as corpus
from tests.conftest import TEST_PASSWORD
from tests.dbutil import demo_database


@pytest.fixture(scope="module")
def own_url():
    from app.auth.service import create_user

    with demo_database("txmap_test_upload") as url:
        engine = create_engine(url)
        with new_session(engine) as session:
            create_user(session, username="clerk", role="gis_staff", password=TEST_PASSWORD)
            session.commit()
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def own_engine(own_url):
    engine = create_engine(own_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def app_client(own_url, tmp_path):
    """A GIS clerk logged in through the real login (uploads need gis_staff or admin)."""
    app = create_app(Settings(database_url=own_url, upload_tmp_dir=tmp_path / "up"))
    with TestClient(app) as c:
        r = c.post("/api/auth/login", json={"username": "clerk", "password": TEST_PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        yield c


NO_OWNERS = {"unknown_owners": "none"}  # the corpus's owners are not in the register


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_a_failure_late_in_the_commit_rolls_everything_back(app_client, own_engine, tmp_path):
    first = app_client.post("/api/uploads", files={"file": ("a.zip", corpus.shapefile_zip(
        corpus.parcels(1, prefix="AON", row=3), tmp_path))}).json()
    assert app_client.post(f"/api/uploads/{first['id']}/commit", json=NO_OWNERS).status_code == 200
    gdf = corpus.parcels(3, prefix="AON", row=3)
    gdf.loc[0, "建筑面积"] = 30_000.0  # AON0001 changes: a replacement
    body = app_client.post("/api/uploads", files={"file": ("b.zip", corpus.shapefile_zip(gdf, tmp_path))}).json()
    assert body["counts"]["new"] == 2 and body["counts"]["existing"] == 1
    # sabotage the replacement, which runs after the INSERT of the two new parcels
    with own_engine.begin() as conn:
        conn.execute(text("UPDATE upload_features SET unit_id = 999999 WHERE upload_id = :id AND feature_no = 1"),
                     {"id": body["id"]})
    parcels_before = scalar(own_engine, "SELECT count(*) FROM parcels")
    r = app_client.post(f"/api/uploads/{body['id']}/commit", json={"on_existing": "replace", **NO_OWNERS})
    assert r.status_code == 409 and r.json()["code"] == "conflict", r.json()
    assert scalar(own_engine, "SELECT count(*) FROM parcels") == parcels_before
    assert scalar(own_engine, "SELECT count(*) FROM feature_history") == 0
    assert scalar(own_engine, "SELECT status FROM uploads WHERE id = :id", id=body["id"]) == "staged"
    assert scalar(own_engine, "SELECT floor_area_m2 FROM parcels WHERE code = 'AON0001'") == 20000


def test_staged_rows_lost_in_a_crash_are_never_committed_in_part(app_client, own_engine, tmp_path):
    body = app_client.post("/api/uploads", files={"file": ("lost.zip", corpus.shapefile_zip(
        corpus.parcels(3, prefix="LST", row=7), tmp_path))}).json()
    # upload_features is UNLOGGED: a crash empties it; here one staged row goes missing
    with own_engine.begin() as conn:
        conn.execute(text("DELETE FROM upload_features WHERE upload_id = :id AND feature_no = 2"), {"id": body["id"]})
    r = app_client.post(f"/api/uploads/{body['id']}/commit", json=NO_OWNERS)
    assert r.status_code == 409, r.text
    assert "应有 3 个，现有 2 个" in r.json()["detail"] and "重新上传" in r.json()["detail"]
    assert scalar(own_engine, "SELECT count(*) FROM parcels WHERE code LIKE 'LST%'") == 0
    assert scalar(own_engine, "SELECT status FROM uploads WHERE id = :id", id=body["id"]) == "staged"
    assert scalar(own_engine, "SELECT relpersistence FROM pg_class WHERE relname = 'upload_features'") == "u"


def _join_staging(upload_id: str) -> None:
    for t in threading.enumerate():
        if t.name == f"upload-{upload_id}":
            t.join(timeout=120)


def test_async_staging_reports_status_then_the_report(app_client, own_engine, tmp_path):
    data = corpus.shapefile_zip(corpus.parcels(4, prefix="ASY", row=5), tmp_path)
    r = app_client.post("/api/uploads", files={"file": ("async.zip", data)}, headers={"Prefer": "respond-async"})
    assert r.status_code == 202 and r.headers["Location"] == f"/api/uploads/{r.json()['id']}"
    upload_id = r.json()["id"]
    early = app_client.get(f"/api/uploads/{upload_id}").json()
    assert early["status"] in ("staging", "staged")
    if early["status"] == "staging":
        assert early["progress"]["phase"] in ("received", "reading", "checking", "saving")
    _join_staging(upload_id)
    done = app_client.get(f"/api/uploads/{upload_id}").json()
    assert done["status"] == "staged" and done["counts"]["features"] == 4 and done["progress"] is None
    assert app_client.post(f"/api/uploads/{upload_id}/commit", json=NO_OWNERS).status_code == 200
    assert float(scalar(own_engine, "SELECT sum(land_area_mu) FROM parcels WHERE code LIKE 'ASY%'")) == pytest.approx(
        80.0, abs=0.01)
    assert not (tmp_path / "up").exists() or list((tmp_path / "up").iterdir()) == []


def test_async_refusal_is_recorded_as_failed(app_client, tmp_path):
    r = app_client.post("/api/uploads", files={"file": ("bad.zip", b"not a zip at all")},
                        headers={"Prefer": "respond-async"})
    assert r.status_code == 202
    upload_id = r.json()["id"]
    _join_staging(upload_id)
    body = app_client.get(f"/api/uploads/{upload_id}").json()
    assert body["status"] == "failed" and body["outcome"]["error"]["code"] == "not_a_zip"
    assert app_client.post(f"/api/uploads/{upload_id}/commit").status_code == 409


def test_blocks_file(app_client, own_engine, tmp_path):
    gdf = corpus.parcels(geoms=[corpus.rectangles(1, row=7)[0]], prefix="QK")
    gdf = gdf.rename(columns={"宗地编号": "区块编号", "权利人": "区块名称"})[["区块编号", "区块名称", "geometry"]]
    body = app_client.post("/api/uploads", files={"file": ("blocks.zip", corpus.shapefile_zip(gdf, tmp_path))},
                           data={"target": "blocks"}).json()
    assert body["target"] == "blocks" and body["mapping"] == {"code": "区块编号", "name": "区块名称"}
    assert app_client.post(f"/api/uploads/{body['id']}/commit").status_code == 200
    row = None
    with own_engine.connect() as conn:
        row = conn.execute(text("SELECT name, area_mu, stage, unit_id IS NOT NULL FROM renewal_blocks"
                                " WHERE code = 'QK0001'")).one()
    assert row[0] == corpus.ENTERPRISES[0] and float(row[1]) == pytest.approx(20.0, abs=0.01) and row[3]


def _cli(url: str, *args: str, tmp) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "CLOUDMAP_UPLOAD_TMP_DIR": str(tmp)}
    return subprocess.run([sys.executable, "-m", "app.cli", "import", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_dry_run_then_import_then_again(own_url, own_engine, tmp_path):
    path = tmp_path / "宗地.zip"
    path.write_bytes(corpus.shapefile_zip(corpus.to_crs(corpus.parcels(5, prefix="CLI", row=9), 4528), tmp_path,
                                          epsg=None, cpg=False))
    uploads_before = scalar(own_engine, "SELECT count(*) FROM uploads")
    dry = _cli(own_url, str(path), "--dry-run", "--confirm-crs", "--unknown-owners", "none", tmp=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "EPSG:4528" in dry.stdout and "100.00 亩" in dry.stdout and "试运行" in dry.stdout
    assert "检查 [" in dry.stderr and "100.0%" in dry.stderr  # the progress bar
    assert scalar(own_engine, "SELECT count(*) FROM uploads") == uploads_before
    assert scalar(own_engine, "SELECT count(*) FROM parcels WHERE code LIKE 'CLI%'") == 0

    unconfirmed = _cli(own_url, str(path), "--unknown-owners", "none", tmp=tmp_path)
    assert unconfirmed.returncode == 1 and "确认坐标系" in unconfirmed.stderr and "--confirm-crs" in unconfirmed.stderr
    assert scalar(own_engine, "SELECT count(*) FROM parcels WHERE code LIKE 'CLI%'") == 0

    undecided = _cli(own_url, str(path), "--crs", "4528", tmp=tmp_path)  # the owners are not in the register
    assert undecided.returncode == 1 and "不在企业库中" in undecided.stderr and "--unknown-owners" in undecided.stderr
    done = _cli(own_url, str(path), "--crs", "4528", "--unknown-owners", "none", "--json", tmp=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["outcome"]["inserted"] == 5 and report["encoding"]["name"] == "gbk"
    assert float(scalar(own_engine, "SELECT sum(land_area_mu) FROM parcels WHERE code LIKE 'CLI%'")) == pytest.approx(
        100.0, abs=0.01)
    again = _cli(own_url, str(path), "--crs", "4528", "--replace", "--unknown-owners", "none", "--json", tmp=tmp_path)
    assert again.returncode == 0 and json.loads(again.stdout)["outcome"]["unchanged"] == 5
    assert scalar(own_engine, "SELECT count(*) FROM feature_history WHERE code LIKE 'CLI%'") == 0
    assert list(tmp_path.glob("cloudmap-import-*")) == []


def test_cli_refusal(own_url, tmp_path):
    path = tmp_path / "bad.zip"
    path.write_bytes(b"not a zip")
    r = _cli(own_url, str(path), tmp=tmp_path)
    assert r.returncode == 2 and "不是 zip 压缩包" in r.stderr
