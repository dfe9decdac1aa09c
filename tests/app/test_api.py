"""The read API: valid RFC 7946 GeoJSON, exact bbox filtering, paging, clear 4xx errors."""

from __future__ import annotations

import pytest
from shapely import box
from shapely.geometry import shape
from shapely.geometry.polygon import orient

from app.messages import field_label

GEOJSON = "application/geo+json"


def _assert_rfc7946_collection(body: dict) -> None:
    assert body["type"] == "FeatureCollection"
    assert body["numberReturned"] == len(body["features"])
    assert "crs" not in body  # RFC 7946 removed it: always lon/lat WGS84-compatible (CGCS2000 here)
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        assert isinstance(feature["id"], str)
        assert isinstance(feature["properties"], dict)
        geom = feature["geometry"]
        assert geom["type"] == "MultiPolygon"
        assert set(geom) == {"type", "coordinates"}  # no legacy "crs" member
        for polygon in geom["coordinates"]:
            for ring in polygon:
                assert ring[0] == ring[-1] and len(ring) >= 4
                for lon, lat in ring:
                    assert 120.0 < lon < 121.0 and 30.0 < lat < 31.0  # lon first, Tongxiang
        shp = shape(geom)
        assert shp.is_valid
        for polygon in shp.geoms:  # exterior counter-clockwise, holes clockwise (§3.1.6)
            assert orient(polygon, 1.0).equals_exact(polygon, 0)


@pytest.mark.parametrize("layer", ["units", "blocks", "parcels"])
def test_layers_are_geojson(client, layer):
    r = client.get(f"/api/{layer}", params={"limit": 5000})
    assert r.status_code == 200
    assert r.headers["content-type"] == GEOJSON
    body = r.json()
    _assert_rfc7946_collection(body)
    assert body["numberMatched"] == body["numberReturned"] > 0


def test_counts_match_the_database(client, db_session):
    from sqlalchemy import func, select

    from app.models import Parcel, RenewalBlock, Unit

    for layer, model in (("units", Unit), ("blocks", RenewalBlock), ("parcels", Parcel)):
        body = client.get(f"/api/{layer}", params={"limit": 1}).json()
        assert body["numberMatched"] == db_session.scalar(select(func.count()).select_from(model))


def test_parcel_properties(client):
    body = client.get("/api/parcels", params={"limit": 5000}).json()
    props = body["features"][0]["properties"]
    for key in ("code", "unit_code", "unit_name", "enterprise_name", "land_area_mu", "far", "classification", "classification_label"):
        assert key in props
    labels = {f["properties"]["classification"]: f["properties"]["classification_label"] for f in body["features"]}
    assert labels.get("upgrade") == "改造提升"
    assert labels.get("clear_out") == "整治清退"


BBOXES = [
    (120.40, 30.50, 120.50, 30.60),
    (120.55, 30.60, 120.60, 30.65),
    (120.0, 30.0, 120.1, 30.1),  # outside the city: nothing
]


@pytest.mark.parametrize("bbox", BBOXES)
@pytest.mark.parametrize("layer", ["units", "blocks", "parcels"])
def test_bbox_returns_exactly_the_intersecting_features(client, layer, bbox):
    everything = client.get(f"/api/{layer}", params={"limit": 5000}).json()["features"]
    query = box(*bbox)
    expected = {f["id"] for f in everything if shape(f["geometry"]).intersects(query)}
    got = client.get(f"/api/{layer}", params={"limit": 5000, "bbox": ",".join(map(str, bbox))}).json()
    assert {f["id"] for f in got["features"]} == expected
    assert got["numberMatched"] == len(expected)


def test_paging_walks_every_parcel_once(client):
    first = client.get("/api/parcels", params={"limit": 5000}).json()
    all_ids = [f["id"] for f in first["features"]]
    seen: list[str] = []
    url = "/api/parcels?limit=97"
    while url:
        page = client.get(url).json()
        seen.extend(f["id"] for f in page["features"])
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nxt[0] if nxt else None
    assert seen == all_ids


def test_filters(client):
    body = client.get("/api/parcels", params={"unit": "chongfu", "limit": 5000}).json()
    assert body["numberMatched"] > 0
    assert {f["properties"]["unit_code"] for f in body["features"]} == {"chongfu"}
    scattered = client.get("/api/parcels", params={"block": "scattered", "limit": 5000}).json()
    assert all(f["properties"]["block_code"] is None for f in scattered["features"])
    clear = client.get("/api/parcels", params={"classification": "clear_out", "limit": 5000}).json()
    assert {f["properties"]["classification_label"] for f in clear["features"]} == {"整治清退"}
    started = client.get("/api/blocks", params={"stage": "started"}).json()
    assert started["numberMatched"] == 4


def test_block_with_its_parcels(client):
    blocks = client.get("/api/blocks").json()["features"]
    target = next(f for f in blocks if f["properties"]["name"] == "崇福东兴羽绒区块")
    r = client.get(f"/api/blocks/{target['id']}")
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    body = r.json()
    assert body["type"] == "Feature" and body["id"] == target["id"]
    assert body["properties"]["area_mu"] >= 200
    parcels = body["parcels"]
    assert parcels["type"] == "FeatureCollection"
    assert parcels["numberReturned"] == body["properties"]["parcel_count"] >= 10
    assert {p["properties"]["block_code"] for p in parcels["features"]} == {target["id"]}
    block_shape = shape(body["geometry"])
    for p in parcels["features"]:
        assert block_shape.buffer(1e-6).contains(shape(p["geometry"]))


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/api/parcels?bbox=120.5,30.6", 400, "bbox"),
        ("/api/parcels?bbox=a,b,c,d", 400, "bbox"),
        ("/api/parcels?bbox=120.6,30.6,120.5,30.7", 400, "bbox"),
        ("/api/parcels?bbox=200,30,201,31", 400, "bbox"),
        ("/api/parcels?bbox=nan,30,120,31", 400, "bbox"),
        ("/api/parcels?limit=0", 422, "limit"),
        ("/api/parcels?limit=abc", 422, "limit"),
        ("/api/parcels?limit=999999", 400, "limit"),
        ("/api/parcels?offset=-1", 422, "offset"),
        ("/api/parcels?unit=nowhere", 400, "unit"),
        ("/api/parcels?block=NOPE", 400, "block"),
        ("/api/parcels?classification=good", 422, "classification"),
        ("/api/blocks?stage=done", 422, "stage"),
    ],
)
def test_bad_parameters_get_a_clear_4xx(client, url, status, field):
    r = client.get(url)
    assert r.status_code == status
    body = r.json()
    assert body["code"] in {"invalid_parameter", "invalid_request"}
    assert field_label(field) in body["detail"] and field not in body["detail"]  # named in Chinese for people…
    assert [e["field"] for e in body["errors"]] == [field]  # …and by the API's own name for other systems
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"])  # a sentence in Chinese


def test_unknown_block_is_404(client):
    r = client.get("/api/blocks/NO-SUCH-BLOCK")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    assert "NO-SUCH-BLOCK" in r.json()["detail"]


def test_healthz_checks_the_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["database"] == "ok" and r.json()["postgis"].startswith("3.")


def test_healthz_reports_a_dead_database_as_503(settings):
    from fastapi.testclient import TestClient

    from app.main import create_app

    dead = settings.model_copy(update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:9/none"})
    with TestClient(create_app(dead)) as c:
        r = c.get("/healthz")
    assert r.status_code == 503
    assert r.json()["code"] == "database_unavailable"
    assert "nobody" not in r.text


def test_openapi_and_docs(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/units", "/api/blocks", "/api/parcels", "/api/blocks/{code}", "/healthz"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


def test_map_page_and_vendored_leaflet(client):
    r = client.get("/")
    assert r.status_code == 200 and "桐乡工业全域治理云图" in r.text
    assert "/vendor/leaflet/leaflet.js" in r.text and "//unpkg" not in r.text and "cdn" not in r.text.lower()
    assert client.get("/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/static/app.js").status_code == 200
