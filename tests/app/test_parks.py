"""Parks (issue 19 part 1): the rule that a 连片 block lies inside a 开发区 or 镇街工业园区 (spatial and in the
plan check), the threshold in the plan record, the park upload (good file stored, bad file refused with a
Chinese message per feature and nothing stored), and the layer on /api/parks, /ogc and the attribute edits."""

from __future__ import annotations

import pytest
import shapely
from shapely import box
from sqlalchemy import func, select, text

import spatial
from app.core.uow import unit_of_work
from app.enums import ParkKind
from app.models import Park
from tests.app import upload_corpus as corpus
from tests.app.test_upload import api, commit, post, upload_dir  # noqa: F401 (fixtures)
from tests.app.workflow_site import FOUR, ORIGIN_Y, SIDE_M, make_site

ADJACENT = [(0, 0), (SIDE_M, 0)]  # two 135 亩 boxes side by side: a contiguous 270 亩 block
DEMO_BLOCKS = ("TX2022-CF-01", "TX2022-CF-02", "TX2022-HS-01", "TX2022-SM-01", "TX2022-TD-01", "TX2022-WT-01")


# -- spatial: the pure rule --------------------------------------------------------------
PARK = [("崇福镇工业园区", box(0, 0, 1000, 1000))]


def test_inside_a_park_passes():
    assert spatial.check_inside_parks(box(100, 100, 900, 900), PARK, crs=spatial.AREA_SRID) == []
    two = [("开发区", box(0, 0, 500, 1000)), ("工业园区", box(500, 0, 1000, 1000))]  # across two parks
    assert spatial.check_inside_parks(box(100, 100, 900, 900), two, crs=spatial.AREA_SRID) == []


def test_outside_every_park_fails_naming_the_mu_outside():
    block = box(2000, 0, 2300, 300)  # 135 亩, nowhere near the park
    (v,) = spatial.check_inside_parks(block, [], crs=spatial.AREA_SRID, feature_id="B")
    assert (v.code, v.severity, v.feature_ids) == ("block_outside_parks", "error", ("B",))
    assert v.values["outside_mu"] == 135.0 and v.values["share_pct"] == 100.0
    assert v.message_zh.startswith("区块有 135.00 亩位于开发区和工业园区之外")


def test_partly_outside_names_the_part_outside():
    (v,) = spatial.check_inside_parks(box(850, 0, 1150, 300), PARK, crs=spatial.AREA_SRID)
    assert v.values["outside_mu"] == pytest.approx(67.5) and v.values["share_pct"] == 50.0
    assert v.values["parks"] == ["崇福镇工业园区"] and "67.50 亩" in v.message_zh


def test_a_sliver_up_to_the_plans_threshold_passes():
    sliver = box(0, 0, 1000, 1000.6)  # 600 m² = 0.9 亩 outside
    assert [v.code for v in spatial.check_inside_parks(sliver, PARK, crs=spatial.AREA_SRID)] == ["block_outside_parks"]
    wide = spatial.PlanThresholds(max_outside_park_mu=1.0)
    assert spatial.check_inside_parks(sliver, PARK, crs=spatial.AREA_SRID, thresholds=wide) == []


def test_in_storage_crs_the_area_is_measured_in_4549():
    block = spatial.reproject(box(500_000, 3_400_000, 500_300, 3_400_300), spatial.AREA_SRID, spatial.STORAGE_SRID)
    (v,) = spatial.check_inside_parks(block, [], crs=spatial.STORAGE_SRID)
    assert v.values["outside_mu"] == 135.0


def test_no_park_layer_is_a_warning_not_a_failure():
    (v,) = spatial.check_inside_parks(box(0, 0, 10, 10), None, crs=spatial.AREA_SRID)
    assert (v.code, v.severity) == ("parks_not_loaded", "warning")
    assert v.message_zh == "尚未导入开发区和工业园区范围，未检查是否位于园区内"


# -- the plan check ----------------------------------------------------------------------
@pytest.fixture()
def officer(login_as):
    return login_as("unit_officer", unit="wutong")


def _draft(officer, code, parcels):
    r = officer.post("/api/plans", json={"code": code, "name": f"{code} 园区试验", "year": 2023, "parcels": parcels,
                                         **FOUR})
    assert r.status_code == 201, r.text


def _park_violations(report) -> list[dict]:
    return [v for v in report["violations"] if v["code"] in ("block_outside_parks", "parks_not_loaded")]


def test_a_block_outside_every_park_fails_the_plan_check(officer, db_session):
    parcels = make_site(db_session, "wutong", "PK-OUT", ADJACENT, in_park=False, origin=(70_000.0, ORIGIN_Y))
    _draft(officer, "TX2023-WT-P1", parcels)
    report = officer.get("/api/plans/TX2023-WT-P1/check").json()
    (v,) = _park_violations(report)
    assert report["passed"] is False and v["code"] == "block_outside_parks" and v["severity"] == "error"
    assert v["values"]["outside_mu"] == pytest.approx(270.0, abs=0.01)
    assert "270.00 亩位于开发区和工业园区之外" in v["message_zh"]
    r = officer.post("/api/plans/TX2023-WT-P1/submit")
    assert r.status_code == 422 and "270.00 亩" in r.json()["detail"]


def test_a_block_partly_outside_names_the_part_outside(officer, db_session):
    parcels = make_site(db_session, "wutong", "PK-HALF", ADJACENT, in_park=False, origin=(80_000.0, ORIGIN_Y))
    first = spatial.reproject(box(80_000.0 - 500, ORIGIN_Y - 500, 80_000.0 + SIDE_M, ORIGIN_Y + SIDE_M + 500),
                              spatial.AREA_SRID, spatial.STORAGE_SRID)  # covers the first box only
    with unit_of_work(db_session):
        park = Park(code="PK-HALF-PARK", name="半覆盖园区", kind=ParkKind.DEVELOPMENT_ZONE)
        park.set_geometry(first)
        db_session.add(park)
    _draft(officer, "TX2023-WT-P2", parcels)
    (v,) = _park_violations(officer.get("/api/plans/TX2023-WT-P2/check").json())
    assert v["values"]["outside_mu"] == pytest.approx(135.0, abs=0.01) and v["values"]["parks"] == ["半覆盖园区"]


def test_a_block_inside_a_park_passes(officer, db_session):
    parcels = make_site(db_session, "wutong", "PK-IN", ADJACENT, origin=(90_000.0, ORIGIN_Y))  # in a test park
    _draft(officer, "TX2023-WT-P3", parcels)
    report = officer.get("/api/plans/TX2023-WT-P3/check").json()
    assert report["passed"] is True and _park_violations(report) == []
    assert officer.post("/api/plans/TX2023-WT-P3/submit").status_code == 200


def test_the_demo_blocks_lie_in_their_schematic_parks(client):
    for code in DEMO_BLOCKS:
        report = client.get(f"/api/blocks/{code}/analysis").json()
        assert report["passed"] is True and _park_violations(report) == [], code
        assert report["action_plan"]["thresholds"]["max_outside_park_mu"] == 0.5


def test_the_threshold_comes_from_the_plan_in_force(officer, db_session):
    parcels = make_site(db_session, "wutong", "PK-THR", ADJACENT, in_park=False, origin=(100_000.0, ORIGIN_Y))
    with unit_of_work(db_session):
        db_session.execute(text("UPDATE action_plans SET max_outside_park_mu = 300 WHERE 2023 BETWEEN start_year"
                                " AND end_year"))
    _draft(officer, "TX2023-WT-P4", parcels)
    assert _park_violations(officer.get("/api/plans/TX2023-WT-P4/check").json()) == []


def test_without_any_park_the_rule_only_warns(client, db_session):
    with unit_of_work(db_session):
        db_session.execute(text("DELETE FROM parks"))
    report = client.get("/api/blocks/TX2022-CF-01/analysis").json()
    (v,) = _park_violations(report)
    assert (v["code"], v["severity"]) == ("parks_not_loaded", "warning") and report["passed"] is True


def test_the_threshold_is_a_field_of_the_action_plan(login_as):
    admin = login_as("admin")
    plan = admin.get("/api/action-plans/in-force", params={"year": 2023}).json()["plan"]
    assert plan["thresholds"]["max_outside_park_mu"] == 0.5
    body = {"doc_no": "桐政办发〔2024〕1号", "title": "2024—2025 行动计划（测试）", "start_year": 2090, "end_year": 2091,
            "target_total_mu": 5000, "target_new_floor_area_m2": 1_000_000, "target_average_far": 2.0,
            "thresholds": {**plan["thresholds"], "max_outside_park_mu": 2}}
    r = admin.post("/api/action-plans", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["thresholds"]["max_outside_park_mu"] == 2.0
    bad = admin.put(f"/api/action-plans/{r.json()['id']}", json={"max_outside_park_mu": -1},
                    headers={"If-Match": r.headers["ETag"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "max_outside_park_mu"
    assert "园区外面积容差" in bad.json()["errors"][0]["message"]


# -- the upload ----------------------------------------------------------------------------
def _parks_file(tmp_path, rows: list[dict], geoms: list) -> bytes:
    import geopandas as gpd

    gdf = gpd.GeoDataFrame({k: [r.get(k) for r in rows] for k in rows[0]}, geometry=geoms, crs=None)
    return corpus.geojson_bytes(gdf.set_crs(spatial.AREA_SRID), tmp_path)


def _stored(db_session, prefix: str) -> list[tuple]:
    with unit_of_work(db_session):
        return db_session.execute(
            select(Park.code, Park.name, Park.kind, Park.unit_id.is_not(None), Park.area_mu)
            .where(Park.code.like(f"{prefix}%")).order_by(Park.code)).all()


def test_park_upload_stores_the_parks(api, db_session, tmp_path):  # noqa: F811
    geoms = corpus.rectangles(2, row=20)  # 20.00 亩 each, in 濮院镇
    rows = [{"园区编号": "UPK-1", "园区名称": "濮院镇工业园区（试验）", "类型": "镇街工业园区", "批准文件": "桐政〔2020〕1号"},
            {"园区编号": "UPK-2", "园区名称": "试验开发区", "类型": "开发区", "批准文件": None}]
    r = post(api, _parks_file(tmp_path, rows, geoms), "园区.geojson", target="parks")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["target"] == "parks" and body["counts"]["errors"] == 0, body["problems"]
    assert {"code": "园区编号", "name": "园区名称", "kind": "类型", "approval": "批准文件"}.items() <= body["mapping"].items()
    assert commit(api, body["id"]).status_code == 200
    stored = _stored(db_session, "UPK-")
    assert [(c, k, has_unit) for c, _n, k, has_unit, _a in stored] == [
        ("UPK-1", ParkKind.TOWN_PARK, True), ("UPK-2", ParkKind.DEVELOPMENT_ZONE, False)]
    assert [float(a) for *_x, a in stored] == [pytest.approx(20.0, abs=0.01)] * 2
    assert api.get("/api/parks", params={"kind": "development_zone"}).json()["numberMatched"] >= 2


def test_a_park_uploaded_again_replaces_the_stored_one(api, db_session, tmp_path):  # noqa: F811
    geoms = corpus.rectangles(2, row=26)
    rows = [{"园区编号": "RPK-1", "园区名称": "重传园区", "类型": "镇街工业园区"}]
    first = post(api, _parks_file(tmp_path, rows, geoms[:1]), "v1.geojson", target="parks").json()
    assert commit(api, first["id"]).status_code == 200
    wider = shapely.union_all(geoms).envelope  # the park grows to cover both rectangles
    again = [{"园区编号": "RPK-1", "园区名称": "重传园区（扩区）", "类型": "开发区"}]
    second = post(api, _parks_file(tmp_path, again, [wider]), "v2.geojson", target="parks").json()
    assert {p["code"] for p in second["problems"]} == {"existing_code"}
    out = commit(api, second["id"], on_existing="replace").json()["outcome"]
    assert (out["replaced"], out["inserted"]) == (1, 0)
    ((code, name, kind, has_unit, area),) = _stored(db_session, "RPK-")
    assert (name, kind, has_unit) == ("重传园区（扩区）", ParkKind.DEVELOPMENT_ZONE, False)
    assert float(area) == pytest.approx(spatial.area_mu(wider), abs=0.01)
    with unit_of_work(db_session):
        history = db_session.execute(text("SELECT layer, code FROM feature_history WHERE upload_id = :u"),
                                     {"u": second["id"]}).all()
    assert history == [("parks", "RPK-1")]


def test_a_bad_park_file_is_refused_per_feature_and_nothing_is_stored(api, db_session, tmp_path):  # noqa: F811
    geoms = corpus.rectangles(3, row=22)
    geoms[2] = shapely.Polygon([(geoms[2].bounds[0], geoms[2].bounds[1]), (geoms[2].bounds[2], geoms[2].bounds[3]),
                                (geoms[2].bounds[2], geoms[2].bounds[1]), (geoms[2].bounds[0], geoms[2].bounds[3])])
    rows = [{"园区编号": "BPK-1", "名称": "甲园区", "类型": "商业区"},
            {"园区编号": "BPK-2", "名称": None, "类型": "开发区"},
            {"园区编号": "BPK-3", "名称": "丙园区", "类型": "工业园区"}]  # a bow-tie: self-intersecting
    body = post(api, _parks_file(tmp_path, rows, geoms), "bad.geojson", target="parks").json()
    by_feature = {}
    for p in body["problems"]:
        by_feature.setdefault(p["feature"], []).append(p)
    assert "商业区" in by_feature[1][0]["message"] and "开发区、镇街工业园区" in by_feature[1][0]["message"]
    assert any(p["code"] == "value_missing" and "园区名称" in p["message"] for p in by_feature[2])
    assert any(p["severity"] == "error" for p in by_feature[3])
    r = commit(api, body["id"])
    assert r.status_code == 422 and r.json()["errors"], r.text
    assert {e["feature"] for e in r.json()["errors"]} >= {1, 2}
    assert _stored(db_session, "BPK-") == []


# -- the layer -----------------------------------------------------------------------------
def test_parks_on_the_api_and_ogc(client):
    parks = client.get("/api/parks").json()
    assert parks["numberMatched"] == 10
    props = {f["id"]: f["properties"] for f in parks["features"]}
    assert props["TXKFQ"]["kind_label"] == "开发区" and props["TXKFQ"]["unit_code"] is None
    assert props["YQ-chongfu"]["unit_name"] == "崇福镇" and all(p["is_schematic"] for p in props.values())
    assert all(p["name"].endswith("（示意）") for p in props.values())
    assert client.get("/api/parks", params={"unit": "chongfu"}).json()["numberMatched"] == 1
    assert client.get("/api/parks", params={"unit": "nowhere"}).status_code == 400
    items = client.get("/ogc/collections/parks/items").json()
    assert items["numberMatched"] == 10
    assert "parks" in {c["id"] for c in client.get("/ogc/collections").json()["collections"]}
    one = client.get("/api/parks/YQ-chongfu")
    assert one.status_code == 200 and one.headers["ETag"] == '"1"'
    missing = client.get("/api/parks/NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.json()["detail"]


def test_park_edits_need_if_match_and_are_audited(login_as, db_session):
    gis = login_as("gis_staff")
    etag = gis.get("/api/parks/YQ-heshan").headers["ETag"]
    assert gis.patch("/api/parks/YQ-heshan", json={"approval": "桐政〔2021〕3号"}).status_code == 428
    r = gis.patch("/api/parks/YQ-heshan", json={"approval": "桐政〔2021〕3号"}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.json()["properties"]["approval"] == "桐政〔2021〕3号"
    assert gis.patch("/api/parks/YQ-heshan", json={"name": "x"}, headers={"If-Match": etag}).status_code == 409
    bad = gis.patch("/api/parks/YQ-heshan", json={"kind": "development_zone", "unit": "heshan"},
                    headers={"If-Match": r.headers["ETag"]})
    assert bad.status_code == 400 and "开发区" in bad.json()["detail"]
    with unit_of_work(db_session):
        actions = db_session.execute(text("SELECT action FROM audit_log WHERE object_type = 'parks'"
                                          " ORDER BY id DESC LIMIT 1")).scalars().all()
    assert actions == ["update_park"]


@pytest.mark.parametrize(("fmt", "params", "filename"), [
    ("shp", {"encoding": "gbk"}, "园区.zip"), ("geojson", {}, "园区.geojson"), ("gpkg", {"crs": "EPSG:4549"}, "园区.gpkg")])
def test_the_parks_export_uploads_back_unchanged(api, db_session, fmt, params, filename):  # noqa: F811
    """GET /api/export?layer=parks writes the park upload's own column names (园区编号, 园区名称, 类型 …): the file
    goes back through the upload as target parks and every park is recognised, unchanged."""
    with unit_of_work(db_session):
        n = db_session.scalar(select(func.count()).select_from(Park))
        zones = db_session.scalar(select(func.count()).select_from(Park).where(Park.kind == ParkKind.DEVELOPMENT_ZONE))
    assert n > 5
    r = api.get("/api/export", params={"layer": "parks", "format": fmt, **params})
    assert r.status_code == 200, r.text
    body = post(api, r.content, filename, target="parks").json()
    assert {"code", "name", "kind", "approval"} <= set(body["mapping"]), body["mapping"]
    assert [body["counts"][k] for k in ("features", "unchanged", "errors")] == [n, n, 0], body["problems"][:3]
    r = api.get("/api/export", params={"layer": "parks", "format": "geojson", "kind": "development_zone"})
    assert len(r.json()["features"]) == zones
    r = api.get("/api/export", params={"layer": "parks", "kind": "town"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "kind" and "开发区" in r.json()["detail"]
