"""POST /api/analysis and GET /api/blocks/{code}/analysis: the spatial report over HTTP."""

from __future__ import annotations

import pytest
from shapely import box
from shapely.geometry import mapping

import spatial

X0, Y0 = 520000.0, 3390000.0  # EPSG:4549 metres, inside Tongxiang


def _fc(features):
    return {"type": "FeatureCollection", "features": features}


def _feature(geom, **props):
    return {"type": "Feature", "geometry": mapping(geom), "properties": props}


def _two_parcels(gap_m=24.0, side_m=300.0, crs=spatial.AREA_SRID):
    """Two 300 m squares (135 亩 each) with a road of ``gap_m`` between them."""
    a = box(X0, Y0, X0 + side_m, Y0 + side_m)
    b = box(X0 + side_m + gap_m, Y0, X0 + 2 * side_m + gap_m, Y0 + side_m)
    if crs != spatial.AREA_SRID:
        a, b = (spatial.reproject(g, spatial.AREA_SRID, crs) for g in (a, b))
    return _fc(
        [
            _feature(a, code="A", planned_floor_area_m2=200_000, renewal_type="industrial_to_industrial",
                     classification="upgrade", enterprise="桐乡市甲公司"),
            _feature(b, code="B", planned_floor_area_m2=180_000, renewal_type="industrial_to_industrial",
                     classification="transform", enterprise="桐乡市乙公司"),
        ]
    )


def test_block_plan_in_gauss_kruger(client):
    r = client.post("/api/analysis", json={"crs": "EPSG:4549", "parcels": _two_parcels()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "block" and body["input_crs"] == "EPSG:4549"
    assert body["land_area_mu"] == 270.0
    assert [p["area_mu"] for p in body["parcels"]] == [135.0, 135.0]
    assert body["contiguity"]["is_contiguous"] is True
    assert body["average_far"] == pytest.approx(380_000 / 180_000, abs=1e-4)
    assert body["passed"] is True
    assert body["four_boundaries"]["text"].startswith("东至")


def test_the_same_plan_in_lon_lat_gives_the_same_figures(client):
    gk = client.post("/api/analysis", json={"crs": "EPSG:4549", "parcels": _two_parcels()}).json()
    lonlat = client.post("/api/analysis", json=_two_parcels(crs=spatial.STORAGE_SRID)).json()  # bare GeoJSON, CRS84
    assert lonlat["input_crs"] == "EPSG:4490"
    assert lonlat["land_area_mu"] == pytest.approx(gk["land_area_mu"], abs=0.01)


def test_a_road_wider_than_the_tolerance_splits_the_block(client):
    body = client.post(
        "/api/analysis", json={"crs": 4549, "parcels": _two_parcels(gap_m=40), "tolerance_m": 30}
    ).json()
    assert body["contiguity"]["is_contiguous"] is False
    assert body["passed"] is False
    assert "block_not_contiguous" in [v["code"] for v in body["violations"]]


@pytest.mark.parametrize(("side_m", "passes"), [(258.19, False), (258.2, True)])
def test_block_threshold_200_mu(client, side_m, passes):
    # Two squares of side s: 2 s² / 666.67 = 199.99 亩 (s = 258.19) vs 200.00 亩 (s = 258.2).
    body = client.post("/api/analysis", json={"crs": 4549, "parcels": _two_parcels(side_m=side_m)}).json()
    codes = [v["code"] for v in body["violations"]]
    assert ("block_area_below_min" not in codes) is passes


@pytest.mark.parametrize(
    ("height_m", "floor_m2", "expected"),
    [
        (400 / 3, 26_666.67, []),
        (400 / 3 - 0.1, 26_600.0, ["parcel_area_below_min"]),
        (400 / 3, 26_500.0, ["parcel_far_below_min"]),
    ],
)
def test_scattered_parcel_thresholds(client, height_m, floor_m2, expected):
    parcel = _feature(box(X0, Y0, X0 + 100, Y0 + height_m), code="Z1", planned_floor_area_m2=floor_m2,
                      renewal_type="zero_land", classification="upgrade", enterprise="桐乡市丙公司")
    body = client.post("/api/analysis", json={"kind": "scattered", "crs": "EPSG:4549", "parcels": _fc([parcel])}).json()
    assert [v["code"] for v in body["violations"]] == expected
    assert body["passed"] is (expected == [])


def test_four_boundaries_from_named_neighbours(client):
    road_east = _feature(box(X0 + 624, Y0 - 50, X0 + 644, Y0 + 350), name="东兴路")
    river_north = _feature(box(X0 - 50, Y0 + 310, X0 + 700, Y0 + 330), name="康泾塘")
    body = client.post(
        "/api/analysis",
        json={"crs": "EPSG:4549", "parcels": _two_parcels(), "neighbours": _fc([road_east, river_north])},
    ).json()
    fb = body["four_boundaries"]
    assert "东至东兴路" in fb["text"] and "北至康泾塘" in fb["text"]


def test_stored_block_report(client):
    blocks = client.get("/api/blocks").json()["features"]
    target = next(f for f in blocks if f["properties"]["name"] == "石门羔羊区块")
    r = client.get(f"/api/blocks/{target['id']}/analysis")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["block"]["name"] == "石门羔羊区块"
    assert body["boundary_area_mu"] == pytest.approx(target["properties"]["area_mu"], abs=0.01)
    assert len(body["parcels"]) == target["properties"]["parcel_count"]
    assert body["land_area_mu"] >= 200
    assert body["contiguity"]["is_contiguous"] is True
    assert body["four_boundaries"]["text"].startswith("东至")


def test_stored_block_unknown_is_404(client):
    r = client.get("/api/blocks/NOPE/analysis")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"crs": "EPSG:999999", "parcels": _two_parcels()}, 400, "crs"),
        ({"crs": "WGS84-ish", "parcels": _two_parcels()}, 400, "crs"),
        ({"parcels": {"type": "Point", "coordinates": [1, 2]}}, 400, "parcels"),
        ({"parcels": _fc([])}, 400, "parcels"),
        ({"crs": 4549}, 422, "parcels"),
        ({"crs": 4549, "parcels": _two_parcels(), "tolerance_m": -1}, 422, "tolerance_m"),
        ({"crs": 4549, "parcels": _two_parcels(), "kind": "other"}, 422, "kind"),
        ({"crs": 4549, "parcels": _fc([{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": "x"},
                                        "properties": {}}])}, 422, "geometry"),
        ({"crs": 4549, "parcels": _fc([_feature(box(0, 0, 1, 1), planned_floor_area_m2=-5)])}, 422,
         "planned_floor_area_m2"),
        ({"crs": 4549, "parcels": _two_parcels(), "neighbours": _fc([_feature(box(0, 0, 1, 1))])}, 422, "name"),
        ({"crs": 4549, "parcels": _two_parcels(), "unit": "nowhere", "year": 2022}, 400, "unit"),
    ],
)
def test_bad_requests_get_a_clear_4xx(client, payload, status, field):
    r = client.post("/api/analysis", json=payload)
    assert r.status_code == status, r.text
    body = r.json()
    assert field in [e["field"] for e in body["errors"]]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"])


@pytest.mark.parametrize(("unit", "over_limit"), [("chongfu", True), ("wutong", False)])
def test_unit_year_limit_counts_designated_blocks(client, unit, over_limit):
    # 崇福镇 has two blocks designated in 2022, so a third plan for that year breaks the limit;
    # 梧桐街道 has one, so a second is fine.
    body = client.post(
        "/api/analysis",
        json={"crs": 4549, "parcels": _two_parcels(), "unit": unit, "year": 2022, "code": "NEW-PLAN"},
    ).json()
    limit = [v for v in body["violations"] if v["code"] == "unit_year_block_limit_exceeded"]
    assert bool(limit) is over_limit
    if over_limit:
        assert "NEW-PLAN" in limit[0]["feature_ids"]
        assert body["passed"] is False


def test_parcels_across_roads_make_their_own_boundary(client):
    """No block given: the boundary is derived from the parcels, closing the roads up to 30 m."""
    side = 165.0  # 7 squares of 40.8 亩: 285 亩 of land
    feats = []
    for k, (col, row) in enumerate([(0, 0), (1, 0), (2, 0), (3, 0), (0, 1), (1, 1), (2, 1)]):
        x, y = X0 + col * (side + 15), Y0 + row * (side + 12)
        feats.append(_feature(box(x, y, x + side, y + side), code=f"R{k}", planned_floor_area_m2=2.2 * side * side,
                              renewal_type="industrial_to_industrial", classification="upgrade"))
    r = client.post("/api/analysis", json={"crs": "EPSG:4549", "parcels": _fc(feats)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["passed"] is True and body["boundary_derived"] is True
    assert body["boundary"]["type"] == "Polygon" and body["contiguity"]["is_contiguous"] is True
    assert not [v for v in body["violations"] if v["severity"] == "error"]
    assert body["land_area_mu"] == pytest.approx(7 * side * side / spatial.M2_PER_MU, abs=0.01)
    lon, lat = body["boundary"]["coordinates"][0][0]
    assert 120 < lon < 121 and 30 < lat < 31  # EPSG:4490 lon/lat


def test_a_gap_beyond_the_tolerance_is_named(client):
    r = client.post("/api/analysis", json={"crs": "EPSG:4549", "parcels": _two_parcels(gap_m=45.0)})
    body = r.json()
    assert body["passed"] is False
    v = next(v for v in body["violations"] if v["code"] == "block_not_contiguous")
    assert "最近处相距 45.00 米" in v["message_zh"] and v["values"]["separation_m"] == 45.0
    assert body["contiguity"]["separations"][0]["distance_m"] == 45.0
