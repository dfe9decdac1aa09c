"""Uploads through the API: every kind of file clerks send imports with the right count and area, or is refused.

Each case asserts the count and the area in 亩 to 0.01 (parcels are 20.00 亩
rectangles, see upload_corpus), and for refusals the error code, the field and
that nothing was written.
"""

from __future__ import annotations

import json

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.core.db import get_session
from app.core.uow import unit_of_work
from app.main import create_app
from tests.app import upload_corpus as corpus


@pytest.fixture()
def upload_dir(tmp_path):
    return tmp_path / "upload-tmp"


@pytest.fixture()
def api(settings, db_session, upload_dir, sign_in):
    """The app as a logged-in GIS clerk (uploads need gis_staff or admin)."""
    app = create_app(settings.model_copy(update={"upload_tmp_dir": upload_dir}))
    app.dependency_overrides[get_session] = lambda: db_session
    with TestClient(app) as c:
        yield sign_in(c, "gis_staff")


def post(api, data: bytes, filename: str, **form):
    form = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v) for k, v in form.items()}
    return api.post("/api/uploads", files={"file": (filename, data)}, data=form)


def commit(api, upload_id: str, **options):
    """Commit; the corpus's owners (权利人) are not in the register, so unless a test says otherwise its
    parcels go in without an enterprise (test_upload_owners.py tests the choice itself)."""
    options.setdefault("unknown_owners", "none")
    return api.post(f"/api/uploads/{upload_id}/commit", json=options)


def db_state(session) -> tuple:
    """Row counts and the total stored area; the read ends its own (savepoint) transaction."""
    with unit_of_work(session):
        return _db_state(session)


def _db_state(session) -> tuple:
    return tuple(session.execute(text(
        "SELECT (SELECT count(*) FROM parcels), (SELECT coalesce(sum(land_area_mu), 0) FROM parcels),"
        " (SELECT count(*) FROM uploads), (SELECT count(*) FROM upload_features),"
        " (SELECT count(*) FROM feature_history), (SELECT count(*) FROM renewal_blocks)")).one())


def rows(session, sql: str, **params) -> list:
    with unit_of_work(session):
        return session.execute(text(sql), params).all()


def stored(session, codes: list[str]) -> tuple[int, float, float]:
    """(count, sum of stored land_area_mu, sum of the area PostGIS measures in EPSG:4549 in 亩)."""
    with unit_of_work(session):
        row = session.execute(text(
        "SELECT count(*), coalesce(sum(land_area_mu), 0), coalesce(sum(ST_Area(ST_Transform(geom, 4549))) / (10000.0/15), 0)"
        " FROM parcels WHERE code = ANY(:c)"), {"c": codes}).one()
    return int(row[0]), float(row[1]), float(row[2])


def assert_imported(api, db_session, body: dict, codes: list[str], mu: float, **commit_options) -> dict:
    key = "errors_after_repair" if commit_options.get("accept_repairs") else "errors"
    assert body["counts"][key] == 0, body["problems"]
    response = commit(api, body["id"], **commit_options)
    assert response.status_code == 200, response.json()
    count, area_mu, postgis_mu = stored(db_session, codes)
    assert count == len(codes)
    assert area_mu == pytest.approx(mu, abs=0.01)
    assert postgis_mu == pytest.approx(area_mu, abs=0.01 * max(count, 1))
    return response.json()


def codes(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{k + 1:04d}" for k in range(n)]


# --- formats, encodings, CRSs, field-name styles, folder depths ------------------------------

def test_gbk_dbf_with_chinese_field_names_and_no_cpg(api, db_session, tmp_path, upload_dir):
    data = corpus.shapefile_zip(corpus.parcels(3, style="zh", prefix="GBK"), tmp_path, encoding="GBK", cpg=False)
    r = post(api, data, "宗地.zip")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["format"] == "shapefile" and body["uploader"] == "test_gis_staff"  # the logged-in clerk
    assert body["encoding"]["name"] == "gbk" and body["encoding"]["source"] == "detected"
    assert body["encoding"]["samples"][0]["权利人"] == corpus.ENTERPRISES[0]
    assert body["mapping"]["code"] == "宗地编号" and body["mapping"]["enterprise"] == "权利人"
    assert body["mapping"]["floor_area_m2"] == "建筑面积" and body["declared_area_unit"] == "mu"
    assert body["crs"]["epsg"] == 4549 and body["crs"]["source"] == "prj" and not body["crs"]["needs_confirmation"]
    assert body["counts"]["features"] == 3 and body["counts"]["area_mu"] == pytest.approx(60.0, abs=0.01)
    assert list(upload_dir.iterdir()) == []
    out = assert_imported(api, db_session, body, codes("GBK", 3), 60.0)
    assert out["outcome"]["inserted"] == 3 and out["status"] == "committed"
    row = rows(db_session, "SELECT far, floor_area_m2, classification FROM parcels WHERE code = 'GBK0001'")[0]
    assert float(row[0]) == pytest.approx(20_000 / (20 * 10000 / 15), abs=1e-4)
    assert row[2] == "upgrade"


def test_utf8_with_cpg_and_pinyin_initials(api, db_session, tmp_path):
    gdf = corpus.parcels(4, style="pinyin", prefix="PY")
    r = post(api, corpus.shapefile_zip(gdf, tmp_path, encoding="UTF-8", cpg=True), "zd.zip")
    body = r.json()
    assert r.status_code == 201, body
    assert body["encoding"] == {"name": "utf-8", "source": "cpg", "samples": body["encoding"]["samples"]}
    assert body["mapping"]["code"] == "ZDBH" and body["mapping"]["enterprise"] == "QLR"
    assert body["mapping"]["floor_area_m2"] == "JZMJ" and body["declared_area_unit"] == "m2"
    assert_imported(api, db_session, body, codes("PY", 4), 80.0)


def test_english_names_4528_zone_prefixed_x_with_prj(api, db_session, tmp_path):
    gdf = corpus.to_crs(corpus.parcels(2, style="en", prefix="EN"), 4528)
    body = post(api, corpus.shapefile_zip(gdf, tmp_path, epsg=4528), "en.zip").json()
    assert body["crs"]["epsg"] == 4528 and body["crs"]["source"] == "prj"
    assert body["mapping"]["code"] == "PARCEL_CD" and body["mapping"]["declared_area"] == "AREA_MU"
    assert_imported(api, db_session, body, codes("EN", 2), 40.0)


def test_no_prj_4528_is_guessed_and_must_be_confirmed(api, db_session, tmp_path):
    gdf = corpus.to_crs(corpus.parcels(2, prefix="NP"), 4528)
    body = post(api, corpus.shapefile_zip(gdf, tmp_path, epsg=None), "noprj.zip").json()
    assert body["crs"]["epsg"] == 4528 and body["crs"]["source"] == "guess"
    assert body["crs"]["needs_confirmation"] and "40 带号" in body["crs"]["explanation_zh"]
    before = db_state(db_session)
    r = commit(api, body["id"])
    assert r.status_code == 409 and "confirm_crs" in r.json()["errors"][0]["field"]
    assert db_state(db_session) == before
    assert_imported(api, db_session, body, codes("NP", 2), 40.0, confirm_crs=True)


def test_no_prj_4549_guess_and_crs_override(api, db_session, tmp_path):
    gdf = corpus.parcels(2, prefix="OV")
    data = corpus.shapefile_zip(gdf, tmp_path, epsg=None)
    body = post(api, data, "ov.zip", crs="EPSG:4549").json()
    assert body["crs"]["epsg"] == 4549 and body["crs"]["source"] == "override" and not body["crs"]["needs_confirmation"]
    assert_imported(api, db_session, body, codes("OV", 2), 40.0)


def test_crs_override_that_reads_metres_as_degrees_is_refused(api, db_session, tmp_path):
    before = db_state(db_session)
    r = post(api, corpus.shapefile_zip(corpus.parcels(1), tmp_path, epsg=None), "deg.zip", crs="4490")
    assert r.status_code == 400 and r.json()["code"] == "crs_mismatch" and r.json()["errors"][0]["field"] == "crs"
    assert "EPSG:4549" in r.json()["detail"]
    assert db_state(db_session) == before


def test_nested_folders_and_gbk_file_names_in_the_zip(api, db_session, tmp_path):
    gdf = corpus.parcels(2, prefix="NEST")
    data = corpus.shapefile_zip(gdf, tmp_path, folder="成果/2023年/第一批", stem="宗地图", encoding="GBK", cpg=True,
                                name_encoding="gbk")
    body = post(api, data, "批次.zip").json()
    assert body["layer"] == "成果/2023年/第一批/宗地图.shp"
    assert body["encoding"]["source"] == "cpg"
    assert_imported(api, db_session, body, codes("NEST", 2), 40.0)


def test_several_shapefiles_in_one_zip_the_clerk_picks(api, db_session, tmp_path):
    a = corpus.shapefile_zip(corpus.parcels(2, prefix="LA"), tmp_path, stem="a")
    b = corpus.shapefile_zip(corpus.parcels(3, prefix="LB", row=1), tmp_path, stem="b")
    import io
    import zipfile

    members = {}
    for blob, folder in ((a, "一期"), (b, "二期")):
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            for info in zf.infolist():
                members[f"{folder}/{info.filename}"] = zf.read(info)
    data = corpus.zip_bytes(members)
    before = db_state(db_session)
    r = post(api, data, "two.zip")
    assert r.status_code == 422 and r.json()["code"] == "layer_required"
    assert r.json()["errors"][0]["field"] == "layer" and "二期/b.shp" in r.json()["detail"]
    assert db_state(db_session) == before
    body = post(api, data, "two.zip", layer="二期/b.shp").json()
    assert body["layers"] == ["一期/a.shp", "二期/b.shp"]
    assert_imported(api, db_session, body, codes("LB", 3), 60.0)


def test_geopackage_with_several_layers(api, db_session, tmp_path):
    data = corpus.gpkg_bytes({"宗地": corpus.parcels(3, prefix="GP"), "区块": corpus.parcels(1, prefix="QK", row=2)},
                             tmp_path)
    r = post(api, data, "data.gpkg")
    assert r.status_code == 422 and r.json()["code"] == "layer_required"
    body = post(api, data, "data.gpkg", layer="宗地").json()
    assert body["format"] == "gpkg" and body["crs"]["epsg"] == 4549
    assert_imported(api, db_session, body, codes("GP", 3), 60.0)


def test_geojson_lonlat(api, db_session, tmp_path):
    body = post(api, corpus.geojson_bytes(corpus.parcels(3, prefix="GJ"), tmp_path), "parcels.geojson").json()
    assert body["format"] == "geojson" and body["crs"]["epsg"] in (4490, 4326)
    assert_imported(api, db_session, body, codes("GJ", 3), 60.0)


def test_geojson_in_projected_metres_is_never_read_as_degrees(api, db_session, tmp_path):
    data = corpus.geojson_bytes(corpus.parcels(2, prefix="GM"), tmp_path, epsg=4549, declare=False)
    body = post(api, data, "metres.geojson").json()
    assert body["crs"]["epsg"] == 4549 and body["crs"]["source"] == "guess"
    assert_imported(api, db_session, body, codes("GM", 2), 40.0, confirm_crs=True)


# --- the report ----------------------------------------------------------------------------

def test_self_intersecting_ring_is_offered_repaired_never_applied_silently(api, db_session, tmp_path):
    bowtie = shapely.Polygon([(corpus.E0, corpus.N0), (corpus.E0 + 100, corpus.N0 + 100),
                              (corpus.E0 + 100, corpus.N0), (corpus.E0, corpus.N0 + 100)])
    gdf = corpus.parcels(geoms=[bowtie] + corpus.rectangles(1, start=2), prefix="BT")
    body = post(api, corpus.shapefile_zip(gdf, tmp_path), "bowtie.zip").json()
    assert body["counts"]["errors"] == 1 and body["counts"]["repairable"] == 1
    assert body["counts"]["errors_after_repair"] == 0 and not body["can_commit"] is False
    problem = next(p for p in body["problems"] if p["code"] == "invalid_geometry")
    assert problem["feature"] == 1 and problem["feature_code"] == "BT0001" and problem["repairable"]
    assert len(problem["location"]) == 2 and 120 < problem["location"][0] < 121
    before = db_state(db_session)
    r = commit(api, body["id"])
    assert r.status_code == 422 and r.json()["code"] == "invalid_features"
    assert r.json()["errors"][0]["feature"] == 1 and "一条也没有写入" in r.json()["detail"]
    assert db_state(db_session) == before
    # the repaired bow-tie is two triangles of 2500 m² each: 7.50 亩
    assert_imported(api, db_session, body, codes("BT", 2), 20.0 + 5000 / (10000 / 15), accept_repairs=[1])


def test_overlapping_pair_blocks_the_commit(api, db_session, tmp_path):
    g = corpus.rectangles(2)
    shifted = shapely.affinity.translate(g[1], xoff=-100)  # overlaps the first by 50 m × 133 m
    body = post(api, corpus.shapefile_zip(corpus.parcels(geoms=[g[0], shifted], prefix="OL"), tmp_path),
                "ol.zip").json()
    overlaps = [p for p in body["problems"] if p["code"] == "overlap_in_file"]
    assert sorted(p["feature"] for p in overlaps) == [1, 2] and "6666.67" in overlaps[0]["message"]
    before = db_state(db_session)
    assert commit(api, body["id"], accept_repairs=True).status_code == 422
    assert db_state(db_session) == before


def test_duplicate_codes_are_errors_on_every_copy(api, db_session, tmp_path):
    gdf = corpus.parcels(3, prefix="DUP")
    gdf.loc[2, "宗地编号"] = "DUP0001"
    body = post(api, corpus.shapefile_zip(gdf, tmp_path), "dup.zip").json()
    dups = [p for p in body["problems"] if p["code"] == "duplicate_code"]
    assert sorted(p["feature"] for p in dups) == [1, 3] and dups[0]["other_features"] == [3]
    assert body["counts"]["errors"] == 2
    before = db_state(db_session)
    assert commit(api, body["id"]).status_code == 422
    assert db_state(db_session) == before


def test_all_problems_are_reported_not_the_first(api, db_session, tmp_path):
    far_away = shapely.affinity.translate(corpus.rectangles(1)[0], xoff=-200_000)
    gdf = corpus.parcels(geoms=corpus.rectangles(3) + [far_away], prefix="ALL")
    gdf.loc[0, "面积亩"] = 25.0  # declared 25 亩 for a 20 亩 polygon: warning
    gdf.loc[1, "建筑面积"] = 20 * 10000 / 15 * 12  # FAR 12: error
    gdf.loc[2, "分类"] = "拆了"  # not a classification: error
    body = post(api, corpus.shapefile_zip(gdf, tmp_path), "all.zip").json()
    found = {(p["feature"], p["code"], p["severity"]) for p in body["problems"]}
    assert (1, "area_mismatch", "warning") in found
    assert (2, "far_out_of_range", "error") in found
    assert (3, "bad_value", "error") in found
    assert (4, "outside_tongxiang", "error") in found
    assert body["counts"]["errors"] == 3 and body["counts"]["warnings"] == 1


def test_existing_codes_keep_or_replace_with_history(api, db_session, tmp_path):
    first = post(api, corpus.shapefile_zip(corpus.parcels(2, prefix="RP"), tmp_path), "v1.zip").json()
    assert_imported(api, db_session, first, codes("RP", 2), 40.0)
    # version 2: parcel 1 is 10 m narrower (18.00 亩), parcel 2 unchanged
    g = corpus.rectangles(2)
    narrower = shapely.box(*(g[0].bounds[:2]), g[0].bounds[2] - 10, g[0].bounds[3])
    gdf = corpus.parcels(geoms=[narrower, g[1]], prefix="RP")
    second = post(api, corpus.shapefile_zip(gdf, tmp_path), "v2.zip").json()
    assert second["counts"]["existing"] == 2 and second["counts"]["unchanged"] == 1
    kept = commit(api, second["id"], on_existing="keep").json()
    assert kept["outcome"] == {**kept["outcome"], "inserted": 0, "kept": 1, "unchanged": 1, "replaced": 0}
    assert stored(db_session, codes("RP", 2))[1] == pytest.approx(40.0, abs=0.01)
    third = post(api, corpus.shapefile_zip(gdf, tmp_path), "v2.zip").json()
    replaced = commit(api, third["id"], on_existing="replace").json()
    assert replaced["outcome"]["replaced"] == 1 and replaced["outcome"]["unchanged"] == 1
    count, area, postgis = stored(db_session, codes("RP", 2))
    assert area == pytest.approx(38.0, abs=0.01) and postgis == pytest.approx(38.0, abs=0.02)
    history = rows(db_session, "SELECT code, area_mu, attributes->>'floor_area_m2', upload_id::text"
                   " FROM feature_history WHERE code = 'RP0001'")
    assert len(history) == 1 and float(history[0][1]) == pytest.approx(20.0, abs=0.01)
    assert history[0][3] == third["id"]


def test_same_file_twice_changes_nothing_the_second_time(api, db_session, tmp_path):
    data = corpus.shapefile_zip(corpus.parcels(3, prefix="TW"), tmp_path)
    first = post(api, data, "twice.zip").json()
    assert_imported(api, db_session, first, codes("TW", 3), 60.0)
    again = commit(api, first["id"])
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    before = db_state(db_session)
    stamps = rows(db_session, "SELECT array_agg(updated_at ORDER BY code) FROM parcels WHERE code LIKE 'TW%'")
    second = post(api, data, "twice.zip").json()
    assert second["previous_upload"] == first["id"] and second["counts"]["unchanged"] == 3
    out = commit(api, second["id"], on_existing="replace").json()["outcome"]
    assert out["inserted"] == 0 and out["replaced"] == 0 and out["unchanged"] == 3
    after = db_state(db_session)
    assert after[:2] == before[:2] and after[4] == before[4]  # parcels and history untouched
    assert rows(db_session, "SELECT array_agg(updated_at ORDER BY code) FROM parcels WHERE code LIKE 'TW%'") == stamps


def test_overlap_with_stored_parcels(api, db_session, tmp_path):
    first = post(api, corpus.shapefile_zip(corpus.parcels(1, prefix="ST"), tmp_path), "st.zip").json()
    assert_imported(api, db_session, first, ["ST0001"], 20.0)
    moved = shapely.affinity.translate(corpus.rectangles(1)[0], xoff=50)
    body = post(api, corpus.shapefile_zip(corpus.parcels(geoms=[moved], prefix="SX"), tmp_path), "sx.zip").json()
    p = next(p for p in body["problems"] if p["code"] == "overlap_stored")
    assert "ST0001" in p["message"] and p["severity"] == "error"


def test_get_returns_report_and_geojson(api, db_session, tmp_path):
    body = post(api, corpus.shapefile_zip(corpus.parcels(3, prefix="GET"), tmp_path), "get.zip").json()
    r = api.get(f"/api/uploads/{body['id']}", params={"limit": 2})
    assert r.status_code == 200
    got = r.json()
    assert got["counts"] == body["counts"] and got["mapping"] == body["mapping"]
    fc = got["features"]
    assert fc["numberMatched"] == 3 and len(fc["features"]) == 2
    f = fc["features"][0]
    assert f["geometry"]["type"] == "MultiPolygon" and f["properties"]["code"] == "GET0001"
    assert f["properties"]["area_mu"] == pytest.approx(20.0, abs=0.01)
    # the row as the file has it, decoded, for the clerk to compare with the mapped values
    assert f["properties"]["source"]["宗地编号"] == "GET0001" and f["properties"]["source"]["用地性质"] == "工业用地"
    assert f["properties"]["source"]["面积亩"] == pytest.approx(20.0)
    lon, lat = f["geometry"]["coordinates"][0][0][0]
    assert 120.2 < lon < 120.8 and 30.4 < lat < 30.9
    assert api.get("/api/uploads/not-a-uuid").status_code == 400
    assert api.get("/api/uploads/00000000-0000-0000-0000-000000000000").status_code == 404


def test_mapping_edit_is_applied_and_remembered(api, db_session, tmp_path):
    gdf = corpus.parcels(2, style="zh", prefix="MP").rename(columns={"宗地编号": "地号X"})
    data = corpus.shapefile_zip(gdf, tmp_path)
    r = post(api, data, "mp.zip")  # no 宗地编号: staged, every feature blocked (see test_upload_recheck.py)
    assert r.status_code == 201 and r.json()["mapping_missing"] == ["code"] and not r.json()["can_commit"]
    assert {p["code"] for p in r.json()["problems"]} >= {"field_unmapped"}
    bad = post(api, data, "mp.zip", mapping={"code": "没有这个字段"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "mapping.code"
    body = post(api, data, "mp.zip", mapping={"code": "地号X", "land_use": None}).json()
    assert body["mapping"]["code"] == "地号X" and "land_use" not in body["mapping"]
    again = post(api, data, "mp.zip").json()
    assert again["mapping_remembered"] and again["mapping"] == body["mapping"]
    assert_imported(api, db_session, again, codes("MP", 2), 40.0)


def test_encoding_override(api, db_session, tmp_path):
    gdf = corpus.parcels(2, prefix="EO")
    parts = corpus.write_shapefile(gdf, tmp_path / "eo", encoding="GBK", cpg=False)
    parts[".cpg"] = b"UTF-8"  # a wrong .cpg, as some tools write
    data = corpus.zip_bytes({f"eo{k}": v for k, v in parts.items()})
    before = db_state(db_session)
    r = post(api, data, "eo.zip")
    assert r.status_code == 400 and r.json()["code"] == "encoding_mismatch"
    assert r.json()["errors"][0]["field"] == "encoding"
    assert db_state(db_session) == before
    body = post(api, data, "eo.zip", encoding="GBK").json()
    assert body["encoding"]["source"] == "override" and body["encoding"]["samples"][1]["权利人"] == corpus.ENTERPRISES[1]
    assert_imported(api, db_session, body, codes("EO", 2), 40.0)


def test_reports_match_their_documented_schema(api, db_session, tmp_path):
    """What POST, GET and commit answer is what the OpenAPI document says (app/ingest/schemas.py)."""
    from app.ingest.schemas import UploadReport

    gdf = corpus.parcels(3, style="zh", prefix="DOC")
    gdf.loc[1, "宗地编号"] = gdf.loc[0, "宗地编号"]  # a duplicate code: problems in the report
    staged = post(api, corpus.shapefile_zip(gdf, tmp_path, encoding="GBK", cpg=False), "宗地.zip")
    assert staged.status_code == 201, staged.json()
    report = UploadReport.model_validate(staged.json())
    assert report.problems and {p.code for p in report.problems} >= {"duplicate_code"}
    full = UploadReport.model_validate(api.get(f"/api/uploads/{report.id}").json())
    assert full.features is not None and len(full.features.features) == 3
    assert full.features.features[0].properties["feature"] == 1
    clean = post(api, corpus.shapefile_zip(corpus.parcels(2, style="zh", prefix="DOK"), tmp_path / "ok",
                                           encoding="GBK", cpg=False), "宗地.zip")
    done = commit(api, clean.json()["id"])
    assert done.status_code == 200 and UploadReport.model_validate(done.json()).status == "committed"
