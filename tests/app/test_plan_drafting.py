"""The whole draft through the API: fields that can be cleared, the plan's FAR and renewal mode,
classification with reason, drawn / derived / uploaded boundaries, and the live preview (real PostGIS)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import shapely
from shapely.geometry import box, mapping
from sqlalchemy import func, select

import spatial
from app.models import Parcel
from app.workflow.models import BlockPlan, BlockVersion
from tests.app.workflow_site import FOUR, ORIGIN_X, ORIGIN_Y, SIDE_M, make_site

ROADS = [(0, 0), (SIDE_M + 15, 0), (0, SIDE_M + 12)]  # three 135 亩 boxes across 15 m and 12 m roads


@pytest.fixture()
def officer(login_as):
    return login_as("unit_officer", unit="wutong")


def _create(client, code, parcels, **extra):
    body = {"code": code, "name": f"{code} 试验区块", "year": 2023, "parcels": parcels, **FOUR, **extra}
    return client.post("/api/plans", json=body)


def _patch(client, code, body):
    etag = client.get(f"/api/plans/{code}").headers["ETag"]
    return client.patch(f"/api/plans/{code}/draft", json=body, headers={"If-Match": etag})


def _version(client, code, number=1) -> dict:
    return client.get(f"/api/plans/{code}/versions/{number}").json()


def _lonlat_box(dx0, dy0, dx1, dy1) -> dict:
    """A box in metres from the test site's origin, as a GeoJSON polygon in EPSG:4490."""
    geom = box(ORIGIN_X + dx0, ORIGIN_Y + dy0, ORIGIN_X + dx1, ORIGIN_Y + dy1)
    return mapping(spatial.reproject(geom, spatial.AREA_SRID, spatial.STORAGE_SRID))


def test_a_cleared_field_is_cleared_and_unsent_fields_stay(officer, db_session):
    parcels = make_site(db_session, "wutong", "WT-D1", ROADS[:2])
    assert _create(officer, "TX2023-WT-81", parcels, planned_far=2.4, renewal_mode="enterprise",
                   planned_new_floor_area_m2=120000, change_note="首版").status_code == 201
    r = _patch(officer, "TX2023-WT-81", {"four_west": None, "planned_far": None, "renewal_mode": None})
    assert r.status_code == 200, r.text
    p = _version(officer, "TX2023-WT-81")["properties"]
    assert p["four_west"] is None and p["planned_far"] is None and p["renewal_mode"] is None
    assert p["four_east"] == FOUR["four_east"] and p["planned_new_floor_area_m2"] == 120000.0
    assert p["change_note"] == "首版" and p["name"] == "TX2023-WT-81 试验区块"
    r = _patch(officer, "TX2023-WT-81", {"four_west": "西至新河", "renewal_mode": "social_capital", "planned_far": 2.2})
    p = _version(officer, "TX2023-WT-81")["properties"]
    assert (p["four_west"], p["renewal_mode"], p["renewal_mode_label"], p["planned_far"]) == (
        "西至新河", "social_capital", "社会资本参与改造", 2.2)
    # name and year cannot be emptied
    r = _patch(officer, "TX2023-WT-81", {"name": " "})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "name"
    r = _patch(officer, "TX2023-WT-81", {"year": None})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "year"
    # a cleared 四至 side fails the 四至 rule at the check
    _patch(officer, "TX2023-WT-81", {"four_north": ""})
    codes = {v["code"] for v in officer.get("/api/plans/TX2023-WT-81/check").json()["violations"]}
    assert "four_boundaries_missing" in codes


def test_declared_far_is_checked_and_published(officer, login_as, db_session):
    parcels = make_site(db_session, "wutong", "WT-D2", ROADS[:2], far=2.5)
    assert _create(officer, "TX2023-WT-82", parcels, planned_far=1.8).status_code == 201
    report = officer.get("/api/plans/TX2023-WT-82/check").json()
    far = [v for v in report["violations"] if v["code"] == "block_average_far_below_min"]
    assert far and far[0]["values"]["average_far"] == 1.8 and far[0]["severity"] == "warning"
    assert report["figures"]["far_planned"] == 1.8 and report["figures"]["far_planned_declared"] is True
    assert report["average_far"] == 2.5  # the parcels' own planned figure stays beside it
    _patch(officer, "TX2023-WT-82", {"planned_far": 2.6})
    assert officer.post("/api/plans/TX2023-WT-82/submit").status_code == 200
    r = login_as("reviewer").post("/api/plans/TX2023-WT-82/approve",
                                  json={"doc_no": "桐有更〔2023〕81号", "approval_date": "2023-05-01"})
    assert r.status_code == 200, r.text
    block = officer.get("/api/blocks/TX2023-WT-82").json()
    props = block["properties"] if "properties" in block else block["features"][0]["properties"]
    assert props["planned_far"] == 2.6


def test_classification_with_reason(officer, db_session):
    parcels = make_site(db_session, "wutong", "WT-D3", ROADS[:2], classification="upgrade")
    codes = [db_session.scalar(select(Parcel).where(Parcel.code == c)).enterprise.credit_code for c in parcels]
    body = [{"credit_code": codes[0], "classification": "clear_out"}, {"credit_code": codes[1]}]
    r = _create(officer, "TX2023-WT-83", parcels, enterprises=body)
    assert r.status_code == 422
    assert r.json()["errors"][0]["feature"] == 1 and "请写明分类理由" in r.json()["errors"][0]["message"]
    body[0]["reason"] = "亩均税收连续两年低于 5 万元"
    assert _create(officer, "TX2023-WT-83", parcels, enterprises=body).status_code == 201
    listed = {e["credit_code"]: e for e in _version(officer, "TX2023-WT-83")["properties"]["enterprises"]}
    assert listed[codes[0]]["classification"] == "clear_out" and listed[codes[0]]["reason"].startswith("亩均税收")
    assert listed[codes[1]]["classification"] == "upgrade" and listed[codes[1]]["reason"] is None
    # the same enterprise twice is named
    r = _patch(officer, "TX2023-WT-83", {"enterprises": [{"credit_code": codes[1]}, {"credit_code": codes[1]}]})
    assert r.status_code == 422 and r.json()["errors"][0]["feature"] == 2
    # parcels changed without a list: the classification and its reason are kept
    more = make_site(db_session, "wutong", "WT-D3B", [(0, SIDE_M + 12)])
    assert _patch(officer, "TX2023-WT-83", {"parcels": [*parcels, *more]}).status_code == 200
    listed = {e["credit_code"]: e for e in _version(officer, "TX2023-WT-83")["properties"]["enterprises"]}
    assert len(listed) == 3 and listed[codes[0]]["reason"].startswith("亩均税收")
    # null puts the list back to the parcels' enterprises and their current classification
    assert _patch(officer, "TX2023-WT-83", {"enterprises": None}).status_code == 200
    listed = _version(officer, "TX2023-WT-83")["properties"]["enterprises"]
    assert {e["classification"] for e in listed} == {"upgrade"} and all(e["reason"] is None for e in listed)


def test_drawn_boundary_stays_derived_follows(officer, db_session):
    parcels = make_site(db_session, "wutong", "WT-D4", ROADS)
    assert _create(officer, "TX2023-WT-84", parcels[:2]).status_code == 201
    p = _version(officer, "TX2023-WT-84")["properties"]
    assert p["boundary_source"] == "derived" and p["boundary_source_label"] == "由宗地推导"
    # a derived boundary follows the parcels
    assert _patch(officer, "TX2023-WT-84", {"parcels": parcels}).status_code == 200
    derived = _version(officer, "TX2023-WT-84")
    assert derived["properties"]["area_mu"] > 3 * 135
    # a drawn one stays when the parcels change
    drawn = _lonlat_box(-5, -5, 2 * SIDE_M + 20, 2 * SIDE_M + 20)
    assert _patch(officer, "TX2023-WT-84", {"boundary": drawn}).status_code == 200
    assert _patch(officer, "TX2023-WT-84", {"parcels": parcels[:2]}).status_code == 200
    v = _version(officer, "TX2023-WT-84")
    assert v["properties"]["boundary_source"] == "drawn"
    assert shapely.equals_exact(shapely.geometry.shape(v["geometry"]).geoms[0], shapely.geometry.shape(drawn), 1e-7)
    # the check of a drawn boundary warns about land inside it that is in no parcel
    report = officer.get("/api/plans/TX2023-WT-84/check").json()
    assert report["boundary_derived"] is False and report["boundary_area_mu"] > report["land_area_mu"]
    # null goes back to the derived boundary
    assert _patch(officer, "TX2023-WT-84", {"boundary": None}).status_code == 200
    assert _version(officer, "TX2023-WT-84")["properties"]["boundary_source"] == "derived"
    assert officer.get("/api/plans/TX2023-WT-84/check").json()["boundary_derived"] is True


@pytest.mark.parametrize(("boundary", "text"), [
    ({"type": "Polygon", "coordinates": [[[40000, 3380000], [40300, 3380000], [40300, 3380300], [40000, 3380000]]]},
     "不是经纬度"),
    ({"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.01, 30.0], [120.01, 30.01], [120.0, 30.0]]]}, "太远"),
    ({"type": "Point", "coordinates": [120.5, 30.6]}, "GeoJSON 面"),
    ({"type": "Polygon", "coordinates": "x"}, "GeoJSON 面"),
])
def test_a_wrong_boundary_is_named(officer, db_session, boundary, text):
    parcels = make_site(db_session, "wutong", "WT-D5", ROADS[:2])
    r = _create(officer, "TX2023-WT-85", parcels, boundary=boundary)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "boundary"
    assert text in r.json()["errors"][0]["message"]


def test_preview_reports_without_writing(officer, db_session):
    parcels = make_site(db_session, "wutong", "WT-D6", ROADS)
    lonely = db_session.scalar(select(Parcel).where(Parcel.code == parcels[2]))
    lonely.enterprise_id = None
    db_session.commit()
    before = (db_session.scalar(select(func.count()).select_from(BlockPlan)),
              db_session.scalar(select(func.count()).select_from(BlockVersion)))
    r = officer.post("/api/plans/preview", json={"parcels": parcels, "year": 2023})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["boundary_derived"] is True and report["boundary"]["type"] in ("Polygon", "MultiPolygon")
    assert report["contiguity"]["is_contiguous"] is True and len(report["contiguity"]["gaps"]) == 2
    assert report["land_area_mu"] == pytest.approx(405.0, abs=0.01)
    codes = {v["code"] for v in report["violations"]}
    assert "parcels_without_enterprise" in codes and "four_boundaries_missing" in codes
    assert "block_area_below_min" not in codes and "block_not_contiguous" not in codes
    fig = report["figures"]
    assert fig["parcels_without_enterprise"] == 1 and fig["parcel_count"] == 3 and fig["enterprise_count"] == 2
    assert {c["label"]: c["area_mu"] for c in fig["classification_mu"]} == {"改造提升": 270.0, "无登记企业": 135.0}
    assert [e["classification_label"] for e in report["enterprises"]] == ["改造提升", "改造提升"]
    assert set(report["four_boundaries"]) >= {"east", "south", "west", "north"}
    after = (db_session.scalar(select(func.count()).select_from(BlockPlan)),
             db_session.scalar(select(func.count()).select_from(BlockVersion)))
    assert after == before
    # a gap above the tolerance is named
    far = make_site(db_session, "wutong", "WT-D6F", [(0, 2 * SIDE_M + 60)])
    r = officer.post("/api/plans/preview", json={"parcels": [parcels[0], far[0]]})
    v = [v for v in r.json()["violations"] if v["code"] == "block_not_contiguous"]
    assert v and "最近处相距" in v[0]["message_zh"]


def test_preview_reports_a_missing_classification_reason_as_a_failed_rule(officer, db_session):
    """While drafting, a classification that differs from the register without a reason is a failed
    rule in the live report (the draft is still judged); saving it is refused, naming the enterprise."""
    parcels = make_site(db_session, "wutong", "WT-D8", ROADS[:2])
    ent = db_session.scalar(select(Parcel).where(Parcel.code == parcels[0])).enterprise
    body = {"parcels": parcels, "year": 2023, **FOUR,
            "enterprises": [{"credit_code": ent.credit_code, "classification": "clear_out"}]}
    r = officer.post("/api/plans/preview", json=body)
    assert r.status_code == 200, r.text
    report = r.json()
    missing = [v for v in report["violations"] if v["code"] == "classification_reason_missing"]
    assert [v["message_zh"] for v in missing] == [f"企业“{ent.name}”的分类与企业库中的“改造提升”不同，请写明分类理由"]
    assert report["passed"] is False
    assert {c["label"] for c in report["figures"]["classification_mu"]} >= {"整治清退"}
    r = officer.post("/api/plans", json={"code": "TX2023-WT-D8", "name": "理由测试", **body})
    assert r.status_code == 422
    err = r.json()["errors"][0]
    assert (err["field"], err["feature"], err["message"]) == ("enterprises", 1, missing[0]["message_zh"])
    body["enterprises"][0]["reason"] = "亩均税收连续三年排名末位"
    r = officer.post("/api/plans/preview", json=body)
    assert not [v for v in r.json()["violations"] if v["code"] == "classification_reason_missing"]


def test_preview_refusals_name_the_parcel(officer, login_as, db_session):
    parcels = make_site(db_session, "wutong", "WT-D7", ROADS[:1])
    r = officer.post("/api/plans/preview", json={"parcels": [parcels[0], "NO-SUCH"]})
    assert r.status_code == 422 and r.json()["errors"][0]["feature"] == 2
    other = login_as("unit_officer", unit="chongfu")
    r = other.post("/api/plans/preview", json={"parcels": parcels})
    assert r.status_code == 422 and "不在本单位辖区内" in r.json()["detail"]
    assert login_as("planner").post("/api/plans/preview", json={"parcels": parcels, "unit": "wutong"}).status_code == 403
    r = officer.post("/api/plans/preview", json={"parcels": []})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "parcels"


def _zip_shapefile(tmp_path, geoms, crs="EPSG:4549") -> bytes:
    import geopandas as gpd

    path = tmp_path / "boundary.shp"
    gpd.GeoDataFrame({"name": [f"b{k}" for k in range(len(geoms))]}, geometry=geoms, crs=crs).to_file(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in tmp_path.glob("boundary.*"):
            z.write(f, f.name)
    return buf.getvalue()


def test_boundary_file_is_read_in_any_crs(officer, tmp_path):
    drawn = box(ORIGIN_X, ORIGIN_Y, ORIGIN_X + 600, ORIGIN_Y + 300)
    data = _zip_shapefile(tmp_path, [drawn])
    r = officer.post("/api/boundaries/read", files={"file": ("边界.zip", data, "application/zip")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["crs"] == "EPSG:4549" and body["area_mu"] == pytest.approx(270.0, abs=0.01)
    back = spatial.reproject(shapely.geometry.shape(body["geometry"]), spatial.STORAGE_SRID, spatial.AREA_SRID)
    assert back.symmetric_difference(drawn).area < 0.01
    # GeoJSON in lon/lat too
    gj = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                                                     "geometry": body["geometry"]}]}
    r = officer.post("/api/boundaries/read", files={"file": ("b.geojson", json.dumps(gj).encode(), "application/geo+json")})
    assert r.status_code == 200 and r.json()["area_mu"] == pytest.approx(270.0, abs=0.01)


@pytest.mark.parametrize(("geoms", "text"), [
    ([box(ORIGIN_X, ORIGIN_Y, ORIGIN_X + 9, ORIGIN_Y + 9), box(ORIGIN_X + 20, ORIGIN_Y, ORIGIN_X + 29, ORIGIN_Y + 9)],
     "只含一个面要素"),
    ([shapely.LineString([(ORIGIN_X, ORIGIN_Y), (ORIGIN_X + 100, ORIGIN_Y)])], "不是面"),
])
def test_a_wrong_boundary_file_is_named(officer, tmp_path, geoms, text):
    r = officer.post("/api/boundaries/read", files={"file": ("b.zip", _zip_shapefile(tmp_path, geoms), "application/zip")})
    assert r.status_code == 422 and text in r.json()["detail"]
    r = officer.post("/api/boundaries/read", files={"file": ("b.txt", b"not a file", "text/plain")})
    assert 400 <= r.status_code < 500 and r.json()["detail"]


def test_version_parcels_carry_the_plans_classification(officer, login_as, db_session):
    parcels = make_site(db_session, "wutong", "WT-D8", ROADS, classification="upgrade")
    lonely = db_session.scalar(select(Parcel).where(Parcel.code == parcels[2]))
    lonely.enterprise_id = None
    db_session.commit()
    first = db_session.scalar(select(Parcel).where(Parcel.code == parcels[0])).enterprise.credit_code
    second = db_session.scalar(select(Parcel).where(Parcel.code == parcels[1])).enterprise.credit_code
    enterprises = [{"credit_code": first, "classification": "transform", "reason": "回购后转型"},
                   {"credit_code": second}]
    assert _create(officer, "TX2023-WT-88", parcels, enterprises=enterprises).status_code == 201
    r = login_as("reviewer").get("/api/plans/TX2023-WT-88/versions/1/parcels")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    rows = {f["id"]: f["properties"] for f in r.json()["features"]}
    assert [rows[c]["classification"] for c in parcels] == ["transform", "upgrade", "upgrade"]
    assert rows[parcels[2]]["enterprise_name"] is None and rows[parcels[0]]["land_area_mu"] == 135.0
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in r.json()["features"])
    assert login_as("unit_officer", unit="chongfu").get("/api/plans/TX2023-WT-88/versions/1/parcels").status_code == 404
    assert officer.get("/api/plans/TX2023-WT-88/versions/9/parcels").status_code == 404
