"""OGC API – Features at /ogc: Core, GeoJSON, HTML, OpenAPI 3.0, CRS (Part 2), CQL2 (Part 3).

Every test runs in the rolled-back transaction of ``client`` on the demo data
(11 units, 6 blocks, 419 parcels).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from sqlalchemy import func, select

from app.models import Parcel, RenewalBlock, Unit
from app.ogc.routes import CONFORMANCE

GEOJSON = "application/geo+json"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def test_landing_links_and_conformance(client):
    r = client.get("/ogc")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    rels = {link["rel"] for link in r.json()["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= rels
    conf = client.get("/ogc/conformance").json()["conformsTo"]
    assert conf == CONFORMANCE
    for cls in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                "ogcapi-features-1/1.0/conf/oas30", "ogcapi-features-2/1.0/conf/crs",
                "ogcapi-features-3/1.0/conf/filter", "cql2/1.0/conf/cql2-text", "cql2/1.0/conf/cql2-json"):
        assert any(c.endswith(cls) for c in conf), cls


def test_html_by_accept_and_f(client):
    r = client.get("/ogc/collections", headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "宗地" in r.text
    r = client.get("/ogc/collections/parcels/items", params={"f": "html", "limit": 3})
    assert r.headers["content-type"].startswith("text/html") and "下一页" in r.text
    code = client.get("/ogc/collections/parcels/items", params={"limit": 1}).json()["features"][0]["id"]
    r = client.get(f"/ogc/collections/parcels/items/{code}", params={"f": "html"})
    assert r.status_code == 200 and code in r.text
    assert client.get("/ogc", params={"f": "xml"}).status_code == 400


def test_html_escapes_values(client, db_session):
    parcel = db_session.scalars(select(Parcel).order_by(Parcel.code)).first()
    parcel.land_use = "<script>alert(1)</script>"
    db_session.flush()
    r = client.get(f"/ogc/collections/parcels/items/{parcel.code}", params={"f": "html"})
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text


def test_openapi_document_validates(client):
    from openapi_spec_validator import validate

    r = client.get("/ogc/api")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    doc = r.json()
    assert doc["openapi"].startswith("3.0")
    validate(doc)
    # paths relative to the server URL (…/ogc), as GDAL's OAPIF driver reads them
    assert doc["servers"][0]["url"].endswith("/ogc")
    assert "/collections/{collectionId}/items" in doc["paths"] and not any(p.startswith("/ogc") for p in doc["paths"])
    # each collection's items operation: its queryables as parameters, filter-lang with the draft's cql-text
    parcels = {p["name"]: p for p in doc["paths"]["/collections/parcels/items"]["get"]["parameters"]}
    assert "collectionId" not in parcels and "clear_out" in parcels["classification"]["schema"]["enum"]
    assert "分类" in parcels["classification"]["description"]
    assert {"cql2-text", "cql2-json", "cql-text"} <= set(parcels["filter-lang"]["schema"]["enum"])
    units = {p["name"] for p in doc["paths"]["/collections/units/items"]["get"]["parameters"]}
    assert "kind" in units and "classification" not in units


def test_filter_lang_cql_text_is_cql2_text(client):
    base = "/ogc/collections/parcels/items"
    a = client.get(base, params={"filter": "classification = 'clear_out'", "filter-lang": "cql-text", "limit": 1})
    b = client.get(base, params={"filter": "classification = 'clear_out'", "filter-lang": "cql2-text", "limit": 1})
    assert a.status_code == b.status_code == 200 and a.json()["numberMatched"] == b.json()["numberMatched"] > 0
    bad = client.get(base, params={"filter": "code = 'x'", "filter-lang": "sql"})
    assert bad.status_code == 400 and "cql-text" in bad.json()["detail"]


def test_collections_advertise_their_crs(client):
    doc = client.get("/ogc/collections/parcels").json()
    assert doc["storageCrs"] == "http://www.opengis.net/def/crs/EPSG/0/4490" and doc["storageCrs"] in doc["crs"]
    assert {f"http://www.opengis.net/def/crs/EPSG/0/{code}" for code in (4549, 4528)} <= set(doc["crs"])


def test_approved_blocks_are_the_approved_ones_only(client, db_session):
    from app.enums import ReviewStatus
    from app.models import RenewalBlock

    everything = client.get("/ogc/collections/approved_blocks/items", params={"f": "json"}).json()
    assert everything["numberMatched"] == 6  # every demo block is approved (认定) in 2022
    block = db_session.scalar(select(RenewalBlock).where(RenewalBlock.code == everything["features"][0]["id"]))
    block.review_status = ReviewStatus.SUBMITTED
    db_session.flush()
    after = client.get("/ogc/collections/approved_blocks/items", params={"f": "json"}).json()
    assert after["numberMatched"] == 5
    assert block.code not in {f["id"] for f in after["features"]}
    assert {f["properties"]["review_status"] for f in after["features"]} == {"approved"}
    assert client.get(f"/ogc/collections/approved_blocks/items/{block.code}", params={"f": "json"}).status_code == 404
    assert client.get(f"/ogc/collections/blocks/items/{block.code}", params={"f": "json"}).status_code == 200


def test_collections_and_extent(client, db_session):
    doc = client.get("/ogc/collections").json()
    ids = [c["id"] for c in doc["collections"]]
    assert ids == ["units", "blocks", "approved_blocks", "parcels", "parks"]
    parcels = next(c for c in doc["collections"] if c["id"] == "parcels")
    assert parcels["storageCrs"] == EPSG.format(4490)
    assert {CRS84, EPSG.format(4490), EPSG.format(4549), EPSG.format(4528), EPSG.format(3857)} <= set(parcels["crs"])
    minx, miny, maxx, maxy = parcels["extent"]["spatial"]["bbox"][0]
    ext = db_session.execute(select(func.ST_Extent(Parcel.geom))).scalar()
    assert 120.3 < minx < maxx < 120.8 and 30.4 < miny < maxy < 30.9, ext
    assert client.get("/ogc/collections/nope").status_code == 404
    assert client.get("/ogc/collections/nope").json()["code"] == "not_found"


@pytest.mark.parametrize(("cid", "model", "count"), [("units", Unit, 11), ("blocks", RenewalBlock, 6), ("parcels", Parcel, 419)])
def test_items_counts_and_media_type(client, db_session, cid, model, count):
    r = client.get(f"/ogc/collections/{cid}/items", params={"limit": 5000})
    assert r.status_code == 200
    assert r.headers["content-type"] == GEOJSON
    assert r.headers["content-crs"] == f"<{CRS84}>"
    body = r.json()
    assert body["numberMatched"] == body["numberReturned"] == count == db_session.scalar(select(func.count(model.id)))
    assert not any(link["rel"] == "next" for link in body["links"])


def test_limit_default_and_maximum(client, settings):
    body = client.get("/ogc/collections/parcels/items").json()
    assert body["numberReturned"] == min(settings.page_default_limit, 419)
    r = client.get("/ogc/collections/parcels/items", params={"limit": settings.page_max_limit + 1})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "limit"
    assert client.get("/ogc/collections/parcels/items", params={"limit": 0}).status_code == 422


def _walk(client, url, params=None):
    seen, pages = [], 0
    r = client.get(url, params=params)
    while True:
        body = r.json()
        pages += 1
        seen.extend(f["id"] for f in body["features"])
        nxt = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        if nxt is None:
            return seen, pages, body
        r = client.get(nxt)


def test_next_and_prev_links_walk_everything(client, db_session):
    codes = db_session.scalars(select(Parcel.code).order_by(Parcel.code)).all()
    seen, pages, last = _walk(client, "/ogc/collections/parcels/items", {"limit": 50})
    assert seen == codes and pages == 9
    # walk back from the last page with "prev"
    back = []
    body = last
    while True:
        back = [f["id"] for f in body["features"]] + back
        prev = next((link["href"] for link in body["links"] if link["rel"] == "prev"), None)
        if prev is None:
            break
        body = client.get(prev).json()
    assert back == codes


def test_paging_stays_correct_while_rows_are_added(client, db_session):
    """Rows inserted before and after the cursor neither shift nor repeat a page."""
    before = db_session.scalars(select(Parcel.code).order_by(Parcel.code)).all()
    first = client.get("/ogc/collections/parcels/items", params={"limit": 100}).json()
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    # New parcels sorting at the very start (already passed) and at the very end.
    template = db_session.scalars(select(Parcel).order_by(Parcel.code)).first()
    for code in ("000-NEW-A", "000-NEW-B", "ZZZ-NEW-C"):
        p = Parcel(code=code, unit_id=template.unit_id)
        p.set_geometry(template.shape)
        db_session.add(p)
    db_session.flush()
    seen = [f["id"] for f in first["features"]]
    rest, _, _ = _walk(client, nxt)
    seen += rest
    assert len(seen) == len(set(seen))
    assert [c for c in seen if "NEW" not in c] == before  # nothing skipped, nothing repeated
    assert "ZZZ-NEW-C" in seen and "000-NEW-A" not in seen


def test_bbox_and_property_filters(client, db_session):
    bbox = (120.45, 30.55, 120.65, 30.75)
    env = func.ST_MakeEnvelope(*bbox, 4490)
    expected = db_session.scalar(select(func.count()).where(func.ST_Intersects(Parcel.geom, env)))
    body = client.get("/ogc/collections/parcels/items", params={"bbox": ",".join(map(str, bbox)), "limit": 5000}).json()
    assert body["numberMatched"] == expected > 0
    upgrade = db_session.scalar(select(func.count()).where(Parcel.classification == "upgrade"))
    body = client.get("/ogc/collections/parcels/items", params={"classification": "upgrade", "limit": 5000}).json()
    assert body["numberMatched"] == upgrade
    assert {f["properties"]["classification"] for f in body["features"]} == {"upgrade"}
    r = client.get("/ogc/collections/parcels/items", params={"classification": "大拆"})
    assert r.status_code == 400 and "upgrade" in r.json()["detail"]
    r = client.get("/ogc/collections/parcels/items", params={"far": "abc"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "far"
    r = client.get("/ogc/collections/parcels/items", params={"bbox": "1,2,3"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_parameter"


def test_sortby(client, db_session):
    body = client.get("/ogc/collections/parcels/items", params={"sortby": "-land_area_mu", "limit": 5}).json()
    areas = [f["properties"]["land_area_mu"] for f in body["features"]]
    top = db_session.scalars(select(Parcel.land_area_mu).order_by(Parcel.land_area_mu.desc(), Parcel.code).limit(5)).all()
    assert [Decimal(str(a)) for a in areas] == top
    # walking a sorted, nullable key visits everything once
    seen, _, _ = _walk(client, "/ogc/collections/parcels/items", {"sortby": "far", "limit": 60})
    assert sorted(seen) == sorted(db_session.scalars(select(Parcel.code)).all())
    assert client.get("/ogc/collections/parcels/items", params={"sortby": "nope"}).status_code == 400


def test_cursor_tampering_is_a_400(client):
    r = client.get("/ogc/collections/parcels/items", params={"cursor": "not-a-cursor"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "cursor"


def test_single_item_and_404(client, db_session):
    code = db_session.scalars(select(Parcel.code).order_by(Parcel.code)).first()
    r = client.get(f"/ogc/collections/parcels/items/{code}")
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    body = r.json()
    assert body["type"] == "Feature" and body["id"] == code
    assert {"self", "collection"} <= {link["rel"] for link in body["links"]}
    r = client.get("/ogc/collections/parcels/items/NO-SUCH")
    assert r.status_code == 404 and "NO-SUCH" in r.json()["detail"]


# -- Part 2: CRS ----------------------------------------------------------------------
@pytest.mark.parametrize("epsg", [4490, 4549, 4528, 3857])
def test_output_crs_axis_order_matches_pyproj(client, db_session, epsg):
    """Coordinates come in the CRS's official axis order: compare with pyproj (always_xy=False)."""
    parcel = db_session.scalars(select(Parcel).order_by(Parcel.code)).first()
    lonlat = shapely.get_coordinates(parcel.shape)[0]
    uri = EPSG.format(epsg)
    r = client.get(f"/ogc/collections/parcels/items/{parcel.code}", params={"crs": uri})
    assert r.headers["content-crs"] == f"<{uri}>"
    got = shape(r.json()["geometry"])
    # pyproj in the authority's axis order: EPSG:4490 input is (lat, lon).
    t = Transformer.from_crs("EPSG:4490", f"EPSG:{epsg}", always_xy=False)
    a, b = t.transform(lonlat[1], lonlat[0])
    first = shapely.get_coordinates(got)
    assert any(abs(x - a) < 0.02 and abs(y - b) < 0.02 for x, y in first), (first[:2], (a, b))
    if epsg in (4549, 4528):
        assert first[0][0] > 3_000_000  # northing first (X axis points north)


def test_crs84_is_lon_lat_and_default(client, db_session):
    parcel = db_session.scalars(select(Parcel).order_by(Parcel.code)).first()
    r = client.get(f"/ogc/collections/parcels/items/{parcel.code}", params={"crs": CRS84})
    x, y = shapely.get_coordinates(shape(r.json()["geometry"]))[0]
    assert 120 < x < 121 and 30 < y < 31


@pytest.mark.parametrize("epsg", [4490, 4549, 4528, 3857])
def test_bbox_crs_axis_order(client, db_session, epsg):
    """A bbox given in each CRS (its axis order) selects the same parcels as the lon/lat box."""
    lon0, lat0, lon1, lat1 = 120.50, 30.60, 120.56, 30.66
    expected = client.get("/ogc/collections/parcels/items",
                          params={"bbox": f"{lon0},{lat0},{lon1},{lat1}", "limit": 5000}).json()
    t = Transformer.from_crs("EPSG:4490", f"EPSG:{epsg}", always_xy=False)
    a0, b0 = t.transform(lat0, lon0)
    a1, b1 = t.transform(lat1, lon1)
    # the projected box of the corners is a bit larger/smaller than the lon/lat box: use inner margins
    got = client.get("/ogc/collections/parcels/items", params={
        "bbox": f"{min(a0, a1)},{min(b0, b1)},{max(a0, a1)},{max(b0, b1)}", "bbox-crs": EPSG.format(epsg), "limit": 5000,
    })
    assert got.status_code == 200
    ids = {f["id"] for f in got.json()["features"]}
    ref = {f["id"] for f in expected["features"]}
    assert len(ref) > 5
    assert len(ids ^ ref) <= max(2, len(ref) // 20)  # equal but for parcels on the curved edges


def test_unsupported_crs_is_a_400(client):
    r = client.get("/ogc/collections/parcels/items", params={"crs": EPSG.format(2385)})
    assert r.status_code == 400 and "EPSG/0/4549" in r.json()["detail"]


# -- Part 3: queryables and CQL2 ------------------------------------------------------
def test_queryables(client):
    r = client.get("/ogc/collections/parcels/queryables")
    assert r.status_code == 200 and r.headers["content-type"] == "application/schema+json"
    props = r.json()["properties"]
    assert props["classification"]["enum"] == ["upgrade", "transform", "clear_out"]
    assert props["far"]["type"] == "number" and "geometry" in props


def _ids(client, cid, **params):
    r = client.get(f"/ogc/collections/{cid}/items", params={"limit": 5000, **params})
    assert r.status_code == 200, r.text
    return {f["id"] for f in r.json()["features"]}


def test_cql2_text_comparisons(client, db_session):
    want = set(db_session.scalars(select(Parcel.code).where(Parcel.classification == "upgrade", Parcel.far < 1.0)))
    assert _ids(client, "parcels", filter="classification = 'upgrade' AND far < 1.0") == want
    want = set(db_session.scalars(select(Parcel.code).where(Parcel.land_area_mu.between(20, 40))))
    assert _ids(client, "parcels", filter="land_area_mu BETWEEN 20 AND 40") == want
    want = set(db_session.scalars(select(Parcel.code).where(Parcel.far.is_(None))))
    assert _ids(client, "parcels", filter="far IS NULL") == want
    want = set(db_session.scalars(select(Parcel.code).where(Parcel.classification.in_(["upgrade", "clear_out"]))))
    assert _ids(client, "parcels", filter="classification IN ('upgrade','clear_out')") == want
    want = set(db_session.scalars(select(Parcel.code).where(Parcel.code.like("330483-CF-%"))))
    assert _ids(client, "parcels", filter="code LIKE '330483-CF-%'") == want and want
    assert _ids(client, "parcels", filter="CASEI(unit_code) = casei('CHONGFU')") == _ids(
        client, "parcels", unit_code="chongfu")
    want = set(db_session.scalars(select(Parcel.code).where(Parcel.land_area_mu * 2 > 100)))
    assert _ids(client, "parcels", filter="land_area_mu * 2 > 100") == want


def test_cql2_json_equals_text(client):
    text = _ids(client, "parcels", filter="classification = 'transform' OR NOT (far >= 1.2)")
    cql_json = {"op": "or", "args": [
        {"op": "=", "args": [{"property": "classification"}, "transform"]},
        {"op": "not", "args": [{"op": ">=", "args": [{"property": "far"}, 1.2]}]},
    ]}
    assert _ids(client, "parcels", filter=json.dumps(cql_json), **{"filter-lang": "cql2-json"}) == text


def test_cql2_spatial_predicates(client, db_session):
    # a ~1 km box centred on a parcel: it cuts through some parcels and holds others whole
    centre = db_session.scalars(select(Parcel).order_by(Parcel.code)).first().shape.representative_point()
    box = (round(centre.x - 0.005, 6), round(centre.y - 0.0045, 6), round(centre.x + 0.005, 6), round(centre.y + 0.0045, 6))
    env = func.ST_MakeEnvelope(*box, 4490)
    inter = set(db_session.scalars(select(Parcel.code).where(func.ST_Intersects(Parcel.geom, env))))
    within = set(db_session.scalars(select(Parcel.code).where(func.ST_Within(Parcel.geom, env))))
    assert inter and within < inter
    wkt = f"POLYGON(({box[0]} {box[1]},{box[2]} {box[1]},{box[2]} {box[3]},{box[0]} {box[3]},{box[0]} {box[1]}))"
    assert _ids(client, "parcels", filter=f"S_INTERSECTS(geometry, {wkt})") == inter
    assert _ids(client, "parcels", filter=f"S_WITHIN(geometry, {wkt})") == within
    assert _ids(client, "parcels", filter=f"S_INTERSECTS(geometry, BBOX({','.join(map(str, box))}))") == inter
    as_json = {"op": "s_within", "args": [{"property": "geometry"}, {"bbox": list(box)}]}
    assert _ids(client, "parcels", filter=json.dumps(as_json), **{"filter-lang": "cql2-json"}) == within
    # the same box in EPSG:4490's own axis order (lat, lon) via filter-crs
    wkt_latlon = f"POLYGON(({box[1]} {box[0]},{box[1]} {box[2]},{box[3]} {box[2]},{box[3]} {box[0]},{box[1]} {box[0]}))"
    assert _ids(client, "parcels", filter=f"S_INTERSECTS(geometry, {wkt_latlon})",
                **{"filter-crs": EPSG.format(4490)}) == inter
    # blocks that contain a parcel's centroid
    parcel = db_session.scalars(select(Parcel).where(Parcel.block_id.is_not(None)).order_by(Parcel.code)).first()
    c = parcel.shape.representative_point()
    assert parcel.block.code in _ids(client, "blocks", filter=f"S_CONTAINS(geometry, POINT({c.x} {c.y}))")


@pytest.mark.parametrize("attack", [
    "code = 'x'' OR 1=1 --'",
    "code = 'x'); DROP TABLE parcels; --",
    "\"code; DROP TABLE parcels\" = 'x'",
    "pg_sleep(5) = 1",
    "code = 'a' UNION SELECT password FROM users",
    "S_INTERSECTS(geometry, POLYGON((0 0, 1 1)))",
])
def test_cql2_injection_attempts_are_harmless(client, db_session, attack):
    r = client.get("/ogc/collections/parcels/items", params={"filter": attack})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert r.json()["numberMatched"] == 0  # a literal string, never SQL
    else:
        assert r.json()["code"] == "invalid_parameter" and r.json()["errors"][0]["field"] == "filter"
    assert db_session.scalar(select(func.count(Parcel.id))) == 419


@pytest.mark.parametrize(("bad", "hint"), [
    ("nope = 1", "nope"),
    ("far = 'high'", "far"),
    ("classification > ", "语法"),
    ("code LIKE 5", "LIKE"),
    ("S_INTERSECTS(far, POINT(1 2))", "几何"),
])
def test_cql2_errors_name_the_problem(client, bad, hint):
    r = client.get("/ogc/collections/parcels/items", params={"filter": bad})
    assert r.status_code == 400
    assert hint in r.json()["detail"]


def test_cql2_json_bad_document(client):
    r = client.get("/ogc/collections/parcels/items", params={"filter": "{not json", "filter-lang": "cql2-json"})
    assert r.status_code == 400 and "JSON" in r.json()["detail"]
    r = client.get("/ogc/collections/parcels/items", params={"filter": "far > 1", "filter-lang": "sql"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "filter-lang"


def test_write_methods_are_refused(client):
    r = client.post("/ogc/collections/parcels/items", json={"type": "Feature"})
    assert r.status_code == 405 and r.json()["code"] == "read_only"


def test_existing_api_still_works(client):
    r = client.get("/api/parcels", params={"limit": 5})
    assert r.status_code == 200 and r.json()["numberMatched"] == 419
