"""Hostile and broken uploads: each gets a 4xx with a clerk-readable reason naming the field, nothing is
written to the database, nothing lands outside the upload's own temporary folder, and that folder is removed.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient

from app.core.db import get_session
from app.main import create_app
from tests.app import upload_corpus as corpus
from tests.app.test_upload import db_state

CAP_MB = 2


@pytest.fixture()
def upload_dir(tmp_path):
    return tmp_path / "upload-tmp"


@pytest.fixture()
def api(settings, db_session, upload_dir, sign_in):
    """The app as a logged-in GIS clerk, with small caps."""
    app = create_app(settings.model_copy(update={
        "upload_tmp_dir": upload_dir, "upload_max_mb": CAP_MB, "upload_max_unpacked_mb": 20,
    }))
    app.dependency_overrides[get_session] = lambda: db_session
    with TestClient(app) as c:
        yield sign_in(c, "gis_staff")


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("planner", 403), ("reviewer", 403), ("gis_staff", 201)])
def test_only_gis_staff_and_admins_upload(settings, db_session, upload_dir, sign_in, tmp_path, role, status):
    app = create_app(settings.model_copy(update={"upload_tmp_dir": upload_dir}))
    app.dependency_overrides[get_session] = lambda: db_session
    before = db_state(db_session)
    data = corpus.geojson_bytes(corpus.parcels(1, prefix="AUTH", row=9), tmp_path)
    with TestClient(app) as c:
        if role:
            sign_in(c, role)
        r = c.post("/api/uploads", files={"file": ("a.geojson", data)})
        assert r.status_code == status, r.text
        if status != 201:
            assert r.json()["code"] == ("unauthenticated" if status == 401 else "forbidden")
            assert db_state(db_session) == before
            assert c.get("/api/uploads/00000000-0000-0000-0000-000000000000").status_code == status
        else:
            assert r.json()["uploader"] == "test_gis_staff"


def _shapefile_parts(tmp: Path, n: int = 3) -> dict[str, bytes]:
    return corpus.write_shapefile(corpus.parcels(n, prefix="HX"), tmp / "hostile", encoding="GBK")


def _zip_of(parts: dict[str, bytes], stem: str = "宗地", **kw) -> bytes:
    return corpus.zip_bytes({f"{stem}{k}": v for k, v in parts.items()}, **kw)


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("bomb.dbf", b"\0" * (30 * 2**20))  # 30 MB of zeros: ~1000× ratio, over the 20 MB unpacked cap
    return buf.getvalue()


def _ratio_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("a/bomb.shp", b" " * (8 * 2**20))  # under the total cap, but ~1000×
    return buf.getvalue()


def _truncate(parts: dict[str, bytes], suffix: str, keep: float = 0.6) -> dict[str, bytes]:
    out = dict(parts)
    out[suffix] = parts[suffix][: int(len(parts[suffix]) * keep)]
    return out


def _empty_layer(tmp: Path) -> bytes:
    gdf = corpus.parcels(1).iloc[0:0]
    gdf = gpd.GeoDataFrame(gdf, geometry=gpd.GeoSeries([], crs=None))
    return _zip_of(corpus.write_shapefile(gdf, tmp / "empty", encoding="GBK"))


CASES = {
    # name: (builder(tmp) -> bytes, filename, status, code, field)
    "oversize": (lambda t: b"PK\x03\x04" + b"\0" * (CAP_MB * 2**20 + 10), "big.zip", 413, "payload_too_large", "file"),
    "zip bomb (total)": (lambda t: _bomb(), "bomb.zip", 413, "zip_bomb", "file"),
    "zip bomb (ratio)": (lambda t: _ratio_bomb(), "ratio.zip", 413, "zip_bomb", "file"),
    "zip-slip": (lambda t: corpus.zip_bytes({"../../evil.shp": b"x", "ok.dbf": b"y"}), "slip.zip", 400,
                 "zip_unsafe_path", "file"),
    "absolute path": (lambda t: corpus.zip_bytes({"/tmp/evil.shp": b"x"}), "abs.zip", 400, "zip_unsafe_path", "file"),
    "windows drive path": (lambda t: corpus.zip_bytes({"C:\\evil\\a.shp": b"x"}), "drive.zip", 400, "zip_unsafe_path",
                           "file"),
    "symlink": (lambda t: corpus.zip_bytes({"link.shp": b"/etc/passwd"}, symlinks={"link.shp"}), "link.zip", 400,
                "zip_symlink", "file"),
    "non-zip bytes named .zip": (lambda t: "这不是压缩包".encode("gbk") * 100, "宗地.zip", 400, "not_a_zip", "file"),
    "corrupt zip": (lambda t: b"PK\x03\x04" + b"\x13" * 500, "broken.zip", 400, "zip_corrupt", "file"),
    "empty file": (lambda t: b"", "empty.zip", 400, "empty_file", "file"),
    "bare .shp": (lambda t: _shapefile_parts(t)[".shp"], "宗地.shp", 400, "shapefile_not_zipped", "file"),
    "unsupported format": (lambda t: b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "map.png", 400, "unsupported_format", "file"),
    "truncated .shp": (lambda t: _zip_of(_truncate(_shapefile_parts(t), ".shp")), "tshp.zip", 400,
                       "shapefile_truncated", "layer"),
    "truncated .dbf": (lambda t: _zip_of(_truncate(_shapefile_parts(t), ".dbf")), "tdbf.zip", 400,
                       "shapefile_truncated", "layer"),
    "truncated .shx": (lambda t: _zip_of(_truncate(_shapefile_parts(t), ".shx")), "tshx.zip", 400,
                       "shapefile_truncated", "layer"),
    "missing .dbf": (lambda t: _zip_of({k: v for k, v in _shapefile_parts(t).items() if k != ".dbf"}), "nodbf.zip",
                     400, "shapefile_incomplete", "layer"),
    "missing .shx": (lambda t: _zip_of({k: v for k, v in _shapefile_parts(t).items() if k != ".shx"}), "noshx.zip",
                     400, "shapefile_incomplete", "layer"),
    "missing .shp": (lambda t: _zip_of({k: v for k, v in _shapefile_parts(t).items() if k != ".shp"}), "noshp.zip",
                     400, "shapefile_incomplete", "layer"),
    "no data in zip": (lambda t: corpus.zip_bytes({"说明.txt": "宗地".encode()}), "doc.zip", 400, "no_layer", "file"),
    "empty layer": (_empty_layer, "empty-layer.zip", 400, "empty_layer", "layer"),
    "truncated JSON": (lambda t: corpus.geojson_bytes(corpus.parcels(3), t)[:-40], "cut.geojson", 400,
                       "invalid_json", "file"),
    "unknown layer asked for": (lambda t: _zip_of(_shapefile_parts(t)), "layer.zip", 422, "layer_unknown", "layer"),
    "unknown encoding name": (lambda t: _zip_of(_shapefile_parts(t)), "enc.zip", 400, "invalid_encoding", "encoding"),
    "unknown CRS name": (lambda t: _zip_of(_shapefile_parts(t)), "crs.zip", 400, "invalid_crs", "crs"),
}
FORM = {
    "unknown layer asked for": {"layer": "不存在的图层"},
    "unknown encoding name": {"encoding": "KLINGON-8"},
    "unknown CRS name": {"crs": "EPSG:99999999"},
}


@pytest.mark.parametrize("case", list(CASES))
def test_refused_with_reason_and_nothing_written(api, db_session, tmp_path, upload_dir, case):
    build, filename, status, code, field = CASES[case]
    data = build(tmp_path)
    before = db_state(db_session)
    outside_before = set(tmp_path.parent.iterdir())
    r = api.post("/api/uploads", files={"file": (filename, data)}, data=FORM.get(case, {}))
    body = r.json()
    assert r.status_code == status, body
    assert body["code"] == code, body
    assert body["errors"] and body["errors"][0]["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), body["detail"]  # a Chinese sentence
    assert "Traceback" not in body["detail"] and "GDAL" not in body["detail"]
    assert db_state(db_session) == before
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []
    assert set(tmp_path.parent.iterdir()) == outside_before
    assert not Path("/tmp/evil.shp").exists() and not (tmp_path.parent.parent / "evil.shp").exists()


def test_oversize_is_refused_from_content_length_before_reading(api, db_session):
    """A declared body over the cap is refused before any byte of it is read."""
    before = db_state(db_session)
    body = b"--x\r\n" + b"a" * 10
    r = api.post("/api/uploads", content=body, headers={
        "content-type": "multipart/form-data; boundary=x", "content-length": str(CAP_MB * 2**20 + 10**6)})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    assert f"{CAP_MB} MB" in r.json()["detail"]
    assert db_state(db_session) == before


def test_not_multipart_and_missing_file(api):
    r = api.post("/api/uploads", json={"file": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = api.post("/api/uploads", data={"layer": "x"}, files={"other": ("a.txt", b"a")})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"


def test_commit_options_are_checked(api):
    r = api.post("/api/uploads/00000000-0000-0000-0000-000000000000/commit", json={"on_existing": "merge"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    r = api.post("/api/uploads/00000000-0000-0000-0000-000000000000/commit", json={})
    assert r.status_code == 404
