"""The OGC API against a live server on 127.0.0.1, read by real clients.

GDAL's OGC API – Features driver (ogrinfo from Debian's gdal-bin, and pyogrio's bundled
GDAL) and OWSLib list the collections and page through every feature; the tests then
compare count, codes and geometries with the database. Tiles are decoded with
mapbox-vector-tile; the tile cache is checked against committed edits; API keys are
made with the CLI. This module writes, so it has its own database (not the shared,
rolled-back one).
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import time

import httpx
import mapbox_vector_tile
import pytest
import shapely
from shapely.geometry import shape
from sqlalchemy import create_engine, select, text, update

from app.core.db import new_session
from app.models import Parcel, RenewalBlock, Unit
from app.ogc import tiles
from app.core.read.layers import collections
from app.settings import PROJECT_ROOT, Settings
from tests.app.live_server import Live
from tests.dbutil import demo_database

MODELS = {"units": Unit, "blocks": RenewalBlock, "parcels": Parcel}


@pytest.fixture(scope="module")
def ogc_db():
    with demo_database("txmap_test_ogc") as url:
        yield url


@pytest.fixture(scope="module")
def db_engine(ogc_db):
    engine = create_engine(ogc_db)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def live(ogc_db):
    with Live(Settings(database_url=ogc_db)) as server:
        yield server


def _db_features(engine, cid: str) -> dict[str, shapely.Geometry]:
    model = MODELS[cid]
    with new_session(engine) as s:
        rows = s.execute(select(model.code, model.geom.ST_AsBinary())).all()
    return {code: shapely.from_wkb(bytes(wkb)) for code, wkb in rows}


def _same_geometry(a, b) -> bool:
    # output is rounded to 7 decimals (~1 cm): equal within 1e-6 degrees
    return a.equals_exact(b, 1e-6) or a.symmetric_difference(b).area < 1e-12


# -- GDAL -----------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin is not installed (scripts/setup.sh installs it)")
def test_ogrinfo_lists_collections_and_counts(live, db_engine):
    out = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{live.url}/ogc"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for cid in ("units", "blocks", "approved_blocks", "parcels"):
        assert cid in out.stdout
    out = subprocess.run(
        ["ogrinfo", "-ro", "-so", "--config", "OAPIF_PAGE_SIZE", "100", f"OAPIF:{live.url}/ogc/collections/parcels", "parcels"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    with new_session(db_engine) as s:
        n = s.scalar(text("SELECT count(*) FROM parcels"))
    assert f"Feature Count: {n}" in out.stdout


# pyogrio runs in a child process: GDAL's HTTP calls hold the GIL, and the server is a thread here.
_PYOGRIO_READ = """
import json, sys, pyogrio, shapely
pyogrio.set_gdal_config_options({"OAPIF_PAGE_SIZE": sys.argv[3]})
gdf = pyogrio.read_dataframe("OAPIF:" + sys.argv[1], layer=sys.argv[2])
print(json.dumps({"codes": gdf["code"].tolist(), "wkb": [shapely.to_wkb(g, hex=True) for g in gdf.geometry.values]}))
"""


@pytest.mark.parametrize(("cid", "page_size"), [("units", "4"), ("blocks", "1000"), ("parcels", "37")])
def test_gdal_reads_every_feature_like_the_database(live, db_engine, cid, page_size):
    """pyogrio's GDAL pages through the collection (small pages: many "next" links) and gets what PostGIS has."""
    out = subprocess.run([sys.executable, "-c", _PYOGRIO_READ, f"{live.url}/ogc/collections/{cid}", cid, page_size],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    want = _db_features(db_engine, cid)
    assert len(got["codes"]) == len(want)
    assert sorted(got["codes"]) == sorted(want)
    for code, wkb in zip(got["codes"], got["wkb"], strict=True):
        assert _same_geometry(shapely.from_wkb(wkb), want[code]), code


# -- OWSLib ---------------------------------------------------------------------------
def test_owslib_lists_collections_and_pages_all_parcels(live, db_engine):
    from owslib.ogcapi.features import Features

    api = Features(live.url + "/ogc")
    assert {c["id"] for c in api.collections()["collections"]} == {"units", "blocks", "approved_blocks", "parcels", "parks"}
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    queryables = api.collection_queryables("parcels")
    assert "classification" in queryables["properties"]
    want = _db_features(db_engine, "parcels")
    got: dict[str, shapely.Geometry] = {}
    page = api.collection_items("parcels", limit=150)
    while True:
        for f in page["features"]:
            assert f["id"] not in got
            got[f["id"]] = shape(f["geometry"])
        nxt = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        if nxt is None:
            break
        page = httpx.get(nxt, timeout=30).json()
    assert page["numberMatched"] == len(want) == len(got)
    assert all(_same_geometry(got[c], want[c]) for c in want)


def test_qgis_style_requests(live):
    """What QGIS sends: f=json, limit=1000, bbox and crs EPSG:4490 (lat/lon axis order)."""
    r = httpx.get(f"{live.url}/ogc/collections/parcels/items", params={
        "f": "json", "limit": 1000, "crs": "http://www.opengis.net/def/crs/EPSG/0/4490",
        "bbox": "30.0,120.0,31.5,121.5", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4490",
    }, headers={"Accept": "application/geo+json, application/json"}, timeout=30)
    assert r.status_code == 200
    body = r.json()
    assert body["numberReturned"] == 419
    lat, lon = shapely.get_coordinates(shape(body["features"][0]["geometry"]))[0]
    assert 30 < lat < 31 and 120 < lon < 121


# -- tiles ----------------------------------------------------------------------------
def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    import math

    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def _some_parcel(engine) -> tuple[str, shapely.Geometry]:
    with new_session(engine) as s:
        p = s.scalars(select(Parcel).order_by(Parcel.code)).first()
        return p.code, p.shape


def test_tile_decodes_and_holds_the_parcels(live, db_engine):
    code, geom = _some_parcel(db_engine)
    c = geom.representative_point()
    z, x, y = _tile_of(c.x, c.y, 15)
    r = httpx.get(f"{live.url}/ogc/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}", timeout=30)
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert r.headers["etag"] and "max-age" in r.headers["cache-control"]
    layer = mapbox_vector_tile.decode(r.content)["parcels"]
    codes = {f["properties"]["code"] for f in layer["features"]}
    assert code in codes
    carried = set().union(*(f["properties"] for f in layer["features"]))  # MVT leaves out NULL values
    assert {"code", "classification_label"} <= carried <= set(collections()["parcels"].tile_properties)
    # conditional GET
    again = httpx.get(r.url, headers={"If-None-Match": r.headers["etag"]}, timeout=30)
    assert again.status_code == 304


def test_tilejson_and_tile_errors(live):
    doc = httpx.get(f"{live.url}/ogc/collections/parcels/tiles/WebMercatorQuad/tilejson.json", timeout=30).json()
    assert doc["tilejson"] == "3.0.0" and doc["tiles"][0].endswith("/{z}/{x}/{y}")
    assert [v["id"] for v in doc["vector_layers"]] == ["parcels", "parcels_label"]
    assert {"classification_label", "tax_per_mu", "block_code"} <= set(doc["vector_layers"][0]["fields"])
    assert doc["vector_layers"][1]["minzoom"] == tiles.LABEL_MINZOOM
    r = httpx.get(f"{live.url}/ogc/collections/parcels/tiles/WebMercatorQuad/3/1/1", timeout=30)
    assert r.status_code == 404 and "12" in r.json()["detail"]
    r = httpx.get(f"{live.url}/ogc/collections/parcels/tiles/WebMercatorQuad/14/99999/1", timeout=30)
    assert r.status_code == 404


def test_tile_plan_uses_the_index_without_parallel_scan(db_engine):
    code, geom = _some_parcel(db_engine)
    c = geom.representative_point()
    for cid, z in (("parcels", 14), ("parcels", 16), ("blocks", 10), ("units", 8)):
        stmt = tiles.tile_statement(collections()[cid], *_tile_of(c.x, c.y, z))
        compiled = stmt.compile(db_engine)
        with db_engine.connect() as conn:
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
        assert "Parallel" not in plan, plan
        if cid == "parcels":
            assert "idx_parcels_geom" in plan, plan


def test_editing_a_parcel_shows_in_the_next_tile(live, db_engine):
    """Through the app's own sessions: the commit evicts the tile before the next read."""
    code, geom = _some_parcel(db_engine)
    c = geom.representative_point()
    z, x, y = _tile_of(c.x, c.y, 16)
    url = f"{live.url}/ogc/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}"
    far_z, far_x, far_y = _tile_of(c.x + 0.2, c.y, 16)
    far_url = f"{live.url}/ogc/collections/parcels/tiles/WebMercatorQuad/{far_z}/{far_x}/{far_y}"

    def classification_in_tile() -> str:
        layer = mapbox_vector_tile.decode(httpx.get(url, timeout=30).content)["parcels"]
        return next(f["properties"]["classification"] for f in layer["features"] if f["properties"]["code"] == code)

    before = classification_in_tile()
    httpx.get(far_url, timeout=30)
    assert live.runtime.cache.get(("parcels", z, x, y)) is not None  # warm
    assert live.runtime.cache.get(("parcels", far_z, far_x, far_y)) is not None
    new = "clear_out" if before != "clear_out" else "upgrade"
    with live.app.state.sessionmaker() as session, session.begin():
        session.execute(update(Parcel).where(Parcel.code == code).values(classification=new))
    # evicted exactly: this tile, not a tile 20 km away
    assert live.runtime.cache.get(("parcels", z, x, y)) is None
    assert live.runtime.cache.get(("parcels", far_z, far_x, far_y)) is not None
    assert classification_in_tile() == new


def test_external_bulk_write_invalidates_through_notify(live, db_engine):
    """A write from another process (psql, the upload's INSERT … SELECT) reaches the cache by NOTIFY."""
    code, geom = _some_parcel(db_engine)
    c = geom.representative_point()
    z, x, y = _tile_of(c.x, c.y, 16)
    url = f"{live.url}/ogc/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}"
    httpx.get(url, timeout=30)
    assert live.runtime.cache.get(("parcels", z, x, y)) is not None
    moved = shapely.affinity.translate(geom, 0.0003, 0)
    with db_engine.begin() as conn:  # a plain connection: no ORM, no hook
        conn.execute(
            text("INSERT INTO parcels (code, unit_id, geom, land_area_mu, status) "
                 "SELECT 'BULK-' || code, unit_id, ST_GeomFromWKB(:wkb, 4490), land_area_mu, status "
                 "FROM parcels WHERE code = :code"),
            {"wkb": shapely.to_wkb(shapely.MultiPolygon([moved]) if moved.geom_type == "Polygon" else moved),
             "code": code},
        )
        batch = conn.execute(text("SELECT max(id) FROM tile_invalidations")).scalar()
    assert live.runtime.cache.wait_processed(batch, timeout=10)
    assert live.runtime.cache.get(("parcels", z, x, y)) is None
    layer = mapbox_vector_tile.decode(httpx.get(url, timeout=30).content)["parcels"]
    assert f"BULK-{code}" in {f["properties"]["code"] for f in layer["features"]}
    with db_engine.begin() as conn:
        conn.execute(text("DELETE FROM parcels WHERE code = :c"), {"c": f"BULK-{code}"})


def test_trigger_columns_match_tile_properties(db_engine):
    """Every table and column a collection's tiles depend on has its trigger (migrations 0003, 0016)."""
    with db_engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname IN ('tiles_dirty_update', 'parcel_tiles_dirty_update')")).all()
    defs = {(name, table): d for name, table, d in rows}
    for c in collections().values():
        for source in c.tile_dependencies:
            if source.via is None:
                d = defs[("tiles_dirty_update", source.table)]
            else:
                d = defs[("parcel_tiles_dirty_update", source.table)]
                assert f"parcel_tiles_dirty('{source.via}'" in d, (c.id, source)
            for name in source.columns:
                assert f"'{name}'" in d, (c.id, source.table, name)


# -- API keys -------------------------------------------------------------------------
def _cli(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PROJECT_ROOT / ".venv/bin/cloudmap"), "apikeys", *args], capture_output=True, text=True, timeout=60,
        env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
    )


def test_api_keys_create_use_revoke(live, ogc_db):
    made = _cli(ogc_db, "create", "市场监管局 企业画像系统", "--rate", "1000")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout.splitlines()[0])["key"]
    listed = _cli(ogc_db, "list")
    assert "市场监管局" in listed.stdout and key not in listed.stdout  # the secret is never shown again
    url = f"{live.url}/ogc/collections/parcels/items?limit=1"
    assert httpx.get(url, headers={"X-API-Key": key}, timeout=30).status_code == 200
    wrong = httpx.get(url, headers={"X-API-Key": key[:-2] + "xx"}, timeout=30)
    assert wrong.status_code == 401 and wrong.json()["code"] == "unauthorized" and "features" not in wrong.text
    assert httpx.get(url, headers={"X-API-Key": "garbage"}, timeout=30).status_code == 401
    with new_session(create_engine(ogc_db)) as s:
        stored = s.execute(text("SELECT secret_hash FROM api_keys")).scalars().all()
    assert all(key.split("_", 2)[2] not in h for h in stored)  # hashed, never the secret
    live.runtime.ensure_listener()
    assert live.runtime.listener.ready.wait(10)
    revoked = _cli(ogc_db, "revoke", key)
    assert revoked.returncode == 0, revoked.stderr
    # the revocation reaches the server by NOTIFY; until then the key is looked up anew
    deadline = time.monotonic() + 10
    while True:
        r = httpx.get(url, headers={"X-API-Key": key}, timeout=30)
        if r.status_code == 401 or time.monotonic() > deadline:
            break
    assert r.status_code == 401 and "吊销" in r.json()["detail"]
    assert _cli(ogc_db, "revoke", key).returncode == 1


def test_rate_limit_per_key(live, ogc_db):
    key = json.loads(_cli(ogc_db, "create", "限流测试", "--rate", "3").stdout.splitlines()[0])["key"]
    url = f"{live.url}/ogc/conformance"
    codes = [httpx.get(url, headers={"X-API-Key": key}, timeout=30).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    r = httpx.get(url, headers={"X-API-Key": key}, timeout=30)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and r.json()["code"] == "rate_limited"
    assert httpx.get(url, timeout=30).status_code == 200  # anonymous is another bucket (allowed by default)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _fetches(stderr: str) -> list[str]:
    """The URLs GDAL fetched (its HTTP debug log: ``HTTP: Fetch(<url>)``)."""
    return [line.split("Fetch(", 1)[1].rstrip(")") for line in stderr.splitlines() if "HTTP: Fetch(" in line]


def test_anonymous_refused_when_setting_off(ogc_db, db_engine):
    access = _Records()
    log = logging.getLogger("uvicorn.access")
    with Live(Settings(database_url=ogc_db, ogc_allow_anonymous=False)) as server:
        log.addHandler(access)
        log.setLevel(logging.INFO)
        try:
            r = httpx.get(f"{server.url}/ogc/collections", timeout=30)
            assert r.status_code == 401 and "X-API-Key" in r.json()["detail"] and "apikey" in r.json()["detail"]
            challenges = r.headers.get_list("www-authenticate")
            assert challenges[0].startswith("Basic") and any(c.startswith("ApiKey") for c in challenges)
            key = json.loads(_cli(ogc_db, "create", "经信局").stdout.splitlines()[0])["key"]
            url = f"{server.url}/ogc/collections"
            assert httpx.get(url, headers={"X-API-Key": key}, timeout=30).status_code == 200
            # QGIS and GDAL: the key in the layer's URL, or as the password of HTTP Basic authentication
            assert httpx.get(url, params={"apikey": key}, timeout=30).status_code == 200
            assert httpx.get(url, auth=("qgis", key), timeout=30).status_code == 200
            assert httpx.get(url, auth=(key, ""), timeout=30).status_code == 200
            assert httpx.get(url, params={"apikey": key[:-2] + "xx"}, timeout=30).status_code == 401
            assert httpx.get(url, auth=("qgis", "wrong"), timeout=30).status_code == 401
            # the key from the query is carried into every link, and the routes never see it as a parameter
            page = httpx.get(f"{server.url}/ogc/collections/parcels/items", params={"apikey": key, "limit": 5},
                             timeout=30).json()
            hrefs = [link["href"] for link in page["links"]]
            assert all(f"apikey={key}" in h for h in hrefs) and any("cursor=" in h for h in hrefs)
            nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
            assert httpx.get(nxt, timeout=30).status_code == 200
            collection = httpx.get(url, params={"apikey": key}, timeout=30).json()["collections"][0]
            assert all(f"apikey={key}" in link["href"] for link in collection["links"])
            # GDAL with the key in the URL, and a -where it sends to the server
            with new_session(db_engine) as s:
                clear_out = s.scalar(text("SELECT count(*) FROM parcels WHERE classification = 'clear_out'"))
            if shutil.which("ogr2ogr"):
                out = subprocess.run(
                    ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", f"OAPIF:{server.url}/ogc?apikey={key}", "parcels",
                     "-where", "classification = 'clear_out'", "--config", "CPL_DEBUG", "ON", "-oo", "PAGE_SIZE=100"],
                    capture_output=True, text=True, timeout=120)
                assert out.returncode == 0, out.stderr[-2000:]
                assert len(json.loads(out.stdout)["features"]) == clear_out > 0
                items = [u for u in _fetches(out.stderr) if "/items" in u]
                filtered = [u for u in items if "filter=" in u and "filter-lang=cql-text" in u]
                # one unfiltered probe (GDAL reads the first page for the layer's fields), then filtered pages only
                assert filtered and len(items) - len(filtered) <= 1, items
                assert len(filtered) <= clear_out // 100 + 1  # the filtered parcels only, not every parcel
            # the access log never shows a key
            assert access.lines and not any(key in line for line in access.lines)
            assert any("/ogc/collections" in line for line in access.lines)
        finally:
            log.removeHandler(access)
        # the map's own API is not behind the key
        assert httpx.get(f"{server.url}/api/units", timeout=30).status_code == 200
