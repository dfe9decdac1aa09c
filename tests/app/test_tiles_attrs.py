"""The parcel vector tiles carry what the map colours and filters by, stay right after writes, label once.

Against a live server (the tile gate and its cache) on a private demo database: decoded
features carry the database's values of every tile attribute (the registry's
``tile_properties``); a change of an enterprise's tax, of a block's stage or of a co-held
parcel's area evicts the parcel tiles it shows in (migration 0016's triggers, through
NOTIFY and through the app's own commit); the ``parcels_label`` layer holds each parcel
once across a 2×2 block of tiles.
"""

from __future__ import annotations

import math
from collections import Counter

import httpx
import mapbox_vector_tile
import pytest
import shapely
from sqlalchemy import create_engine, text

from app.core.read.layers import collections
from app.ogc import tiles
from app.settings import Settings
from tests.app.live_server import Live
from tests.dbutil import demo_database

TILE = "/ogc/collections/parcels/tiles/WebMercatorQuad/{}/{}/{}"

# What the tiles must carry, as SQL of the database's own tables.
EXPECTED_SQL = """
SELECT p.code, p.classification::text AS classification, p.status::text AS status,
       p.renewal_mode::text AS renewal_mode, p.land_area_mu::float8 AS land_area_mu, p.far::float8 AS far,
       p.planned_far::float8 AS planned_far, u.code AS unit_code, b.code AS block_code, b.stage::text AS stage,
       b.designated_year, e.evaluation_grade,
       round(e.tax_10k_yuan / nullif((SELECT sum(h.land_area_mu) FROM parcels h WHERE h.enterprise_id = e.id), 0),
             2)::float8 AS tax_per_mu
FROM parcels p JOIN units u ON u.id = p.unit_id
LEFT JOIN renewal_blocks b ON b.id = p.block_id LEFT JOIN enterprises e ON e.id = p.enterprise_id
WHERE p.code = ANY(:codes)
"""
LABELS = {"upgrade": "改造提升", "transform": "优化转型", "clear_out": "整治清退"}


@pytest.fixture(scope="module")
def db_url():
    with demo_database("txmap_test_tiles") as url:
        yield url


@pytest.fixture(scope="module")
def engine(db_url):
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def live(db_url):
    with Live(Settings(database_url=db_url)) as server:
        server.runtime.ensure_listener()
        assert server.runtime.listener.ready.wait(10)
        yield server


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 1 << z
    return z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def fetch(live, z: int, x: int, y: int) -> dict:
    r = httpx.get(live.url + TILE.format(z, x, y), timeout=30)
    assert r.status_code == 200
    return mapbox_vector_tile.decode(r.content) if r.content else {}


def parcels_in(decoded: dict) -> dict[str, dict]:
    return {f["properties"]["code"]: f["properties"] for f in decoded.get("parcels", {}).get("features", [])}


def point_of(engine, where: str) -> tuple[str, float, float]:
    """A parcel's code and a point inside it (the first parcel matching ``where``)."""
    with engine.connect() as conn:
        code, wkb = conn.execute(text(
            f"SELECT code, ST_AsBinary(ST_PointOnSurface(geom)) FROM parcels p WHERE {where} ORDER BY code LIMIT 1")).one()
    pt = shapely.from_wkb(bytes(wkb))
    return code, pt.x, pt.y


def write(engine, sql: str, **params) -> int:
    """A write on a plain connection (no ORM, no hook): it reaches the server by NOTIFY. The last batch id."""
    with engine.begin() as conn:
        conn.execute(text(sql), params)
        return conn.execute(text("SELECT max(id) FROM tile_invalidations")).scalar()


def test_tile_features_carry_every_attribute_with_the_databases_values(live, engine):
    code, lon, lat = point_of(engine, "block_id IS NOT NULL AND enterprise_id IS NOT NULL")
    z, x, y = tile_of(lon, lat, 14)
    got = parcels_in(fetch(live, z, x, y))
    assert code in got
    with engine.connect() as conn:
        rows = conn.execute(text(EXPECTED_SQL), {"codes": list(got)}).mappings().all()
    assert len(rows) == len(got) > 10
    names = set(collections()["parcels"].tile_properties)
    kinds = Counter()
    for row in rows:
        props = got[row["code"]]
        assert set(props) <= names
        expected = {k: v for k, v in row.items() if v is not None}
        if row["classification"]:
            expected["classification_label"] = LABELS[row["classification"]]
        for k, v in expected.items():
            assert props.get(k) == pytest.approx(v, abs=1e-6) if isinstance(v, float) else props.get(k) == v, (k, row)
        assert set(props) == set(expected)  # a NULL in the database is no property in the tile
        kinds["contiguous" if "block_code" in props else "scattered"] += 1
        kinds["tax" if "tax_per_mu" in props else "no tax"] += 1
    assert kinds["contiguous"] and kinds["tax"]  # the tile shows both kinds of parcel


def test_enterprise_tax_change_invalidates_the_tiles_of_its_parcels(live, engine):
    code, lon, lat = point_of(engine, "enterprise_id IS NOT NULL")
    key = ("parcels", *tile_of(lon, lat, 16))
    before = parcels_in(fetch(live, *key[1:]))[code]
    far = ("parcels", *tile_of(lon + 0.2, lat, 16))
    fetch(live, *far[1:])
    assert live.runtime.cache.get(key) is not None and live.runtime.cache.get(far) is not None
    batch = write(engine, "UPDATE enterprises SET tax_10k_yuan = coalesce(tax_10k_yuan, 0) + 1000, "
                  "evaluation_grade = 'A' WHERE id = (SELECT enterprise_id FROM parcels WHERE code = :c)", c=code)
    assert live.runtime.cache.wait_processed(batch, timeout=10)
    assert live.runtime.cache.get(key) is None  # evicted: the parcel's tile
    assert live.runtime.cache.get(far) is not None  # kept: a tile 20 km away
    after = parcels_in(fetch(live, *key[1:]))[code]
    assert after["tax_per_mu"] > before.get("tax_per_mu", 0) and after["evaluation_grade"] == "A"
    # a write of a column the tiles do not carry invalidates nothing
    fetch(live, *key[1:])
    with engine.begin() as conn:
        before_id = conn.execute(text("SELECT max(id) FROM tile_invalidations")).scalar()
        conn.execute(text("UPDATE enterprises SET employees = coalesce(employees, 0) + 1 "
                          "WHERE id = (SELECT enterprise_id FROM parcels WHERE code = :c)"), {"c": code})
        assert conn.execute(text("SELECT max(id) FROM tile_invalidations")).scalar() == before_id


def test_block_stage_change_through_the_apps_session_shows_in_the_next_tile(live, engine):
    code, lon, lat = point_of(engine, "block_id IS NOT NULL")
    key = ("parcels", *tile_of(lon, lat, 16))
    before = parcels_in(fetch(live, *key[1:]))[code]["stage"]
    new = "completed" if before != "completed" else "started"
    with live.app.state.sessionmaker() as session, session.begin():
        session.execute(text("UPDATE renewal_blocks SET stage = :s "
                             "WHERE id = (SELECT block_id FROM parcels WHERE code = :c)"), {"s": new, "c": code})
    assert live.runtime.cache.get(key) is None  # evicted before the commit returned
    assert parcels_in(fetch(live, *key[1:]))[code]["stage"] == new


def test_a_parcels_new_area_reaches_the_tax_per_mu_of_its_coheld_parcels(live, engine):
    """亩均税收 is the enterprise's tax over all its land: another parcel's area moves it."""
    with engine.connect() as conn:
        pair = conn.execute(text(
            "SELECT a.code, b.code FROM parcels a JOIN parcels b ON a.enterprise_id = b.enterprise_id AND a.id <> b.id "
            "JOIN enterprises e ON e.id = a.enterprise_id WHERE e.tax_10k_yuan > 0 ORDER BY a.code LIMIT 1")).first()
    if pair is None:
        pytest.skip("the demo has no enterprise with two parcels and a tax figure")
    shown, changed = pair
    _, lon, lat = point_of(engine, f"code = '{shown}'")
    key = ("parcels", *tile_of(lon, lat, 17))
    before = parcels_in(fetch(live, *key[1:]))[shown]["tax_per_mu"]
    batch = write(engine, "UPDATE parcels SET land_area_mu = land_area_mu * 3 WHERE code = :c", c=changed)
    assert live.runtime.cache.wait_processed(batch, timeout=10)
    assert live.runtime.cache.get(key) is None
    lower = parcels_in(fetch(live, *key[1:]))[shown]["tax_per_mu"]
    assert lower < before
    # a new parcel of the enterprise 20 km away, then its deletion: each moves the figure here
    batch = write(engine, "INSERT INTO parcels (code, unit_id, enterprise_id, geom, land_area_mu, status) "
                  "SELECT 'COHELD-' || code, unit_id, enterprise_id, ST_Translate(geom, 0.2, 0), land_area_mu, status "
                  "FROM parcels WHERE code = :c", c=changed)
    assert live.runtime.cache.wait_processed(batch, timeout=10)
    assert live.runtime.cache.get(key) is None
    assert parcels_in(fetch(live, *key[1:]))[shown]["tax_per_mu"] < lower
    batch = write(engine, "DELETE FROM parcels WHERE code = :c", c=f"COHELD-{changed}")
    assert live.runtime.cache.wait_processed(batch, timeout=10)
    assert live.runtime.cache.get(key) is None
    assert parcels_in(fetch(live, *key[1:]))[shown]["tax_per_mu"] == lower


def test_label_layer_holds_each_parcel_once_across_a_2x2_block(live, engine):
    _code, lon, lat = point_of(engine, "true")
    z, x0, y0 = tile_of(lon, lat, 17)
    label_codes: list[str] = []
    polygon_codes: Counter = Counter()
    for dx in (0, 1):
        for dy in (0, 1):
            decoded = fetch(live, z, x0 + dx, y0 + dy)
            label_codes += [f["properties"]["code"] for f in decoded.get("parcels_label", {}).get("features", [])]
            polygon_codes.update(list(parcels_in(decoded)))
            for f in decoded.get("parcels_label", {}).get("features", []):
                assert f["geometry"]["type"] == "Point" and f["properties"]["classification_label"]
    assert label_codes and len(label_codes) == len(set(label_codes))  # once, never repeated
    assert any(n > 1 for n in polygon_codes.values())  # some parcels do cross the block's inner edges
    # exactly the parcels whose point on surface lies in the block's half-open box
    west, east = tiles.edge_lon(z, x0), tiles.edge_lon(z, x0 + 2)
    north, south = tiles.edge_lat(z, y0), tiles.edge_lat(z, y0 + 2)
    with engine.connect() as conn:
        inside = set(conn.execute(text(
            "SELECT code FROM parcels, ST_PointOnSurface(geom) AS pt WHERE ST_X(pt) >= :w AND ST_X(pt) < :e "
            "AND ST_Y(pt) >= :s AND ST_Y(pt) < :n"), {"w": west, "e": east, "s": south, "n": north}).scalars())
    assert set(label_codes) == inside
    # neighbours share their edges exactly, so a point on an edge is in one tile only
    v, right, below = (tiles.tile_values(z, x0, y0, True), tiles.tile_values(z, x0 + 1, y0, True),
                       tiles.tile_values(z, x0, y0 + 1, True))
    assert v["e_lon1"] == right["e_lon0"] and v["e_lat0"] == below["e_lat1"]
    # below the label zoom, no label layer
    assert "parcels_label" not in fetch(live, *tile_of(lon, lat, tiles.LABEL_MINZOOM - 1))


def test_labelled_tile_statement_keeps_the_index_as_a_prepared_generic_plan(engine):
    """Both layers of a z16 tile (polygons with their joins, label points) select through the GiST index."""
    from app.core.read.pool import compile_sql

    sql = compile_sql(tiles._tile_select(collections()["parcels"], False, True))
    values = sql.params(tiles.tile_values(16, 54696, 26908, True))
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        raw.execute("SET plan_cache_mode = force_generic_plan")
        raw.execute(sql.text, values, prepare=True)
        name = raw.execute("SELECT name FROM pg_prepared_statements ORDER BY prepare_time DESC LIMIT 1").fetchone()[0]
        plan = "\n".join(r[0] for r in raw.execute(f'EXPLAIN EXECUTE "{name}"({", ".join(["NULL"] * len(values))})'))
        raw.execute("RESET plan_cache_mode")
    assert plan.count("idx_parcels_geom") == 2 and "Parallel" not in plan and "Seq Scan on parcels" not in plan, plan


def test_an_attribute_change_sends_its_shape_once_a_move_sends_both(db_session):
    """tiles_dirty (migration 0022): an unchanged geometry is collected once, a moved one old and new."""
    code = db_session.scalar(text("SELECT code FROM parcels ORDER BY code LIMIT 1"))

    def last_shapes() -> int:
        return db_session.scalar(text("SELECT ST_NumGeometries(geom) FROM tile_invalidations "
                                      "WHERE source_table = 'parcels' ORDER BY id DESC LIMIT 1"))

    db_session.execute(text("UPDATE parcels SET far = coalesce(far, 0) + 0.1 WHERE code = :c"), {"c": code})
    assert last_shapes() == 1
    db_session.execute(text("UPDATE parcels SET geom = ST_Multi(ST_Translate(geom, 0.0001, 0)) WHERE code = :c"),
                       {"c": code})
    assert last_shapes() == 2
