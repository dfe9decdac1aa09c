"""The read path without an ORM session: compiled SQL on a psycopg_pool of async connections.

``app/core/read/pool.py``: the pool (reuse, statement errors, killed connections, a database that
is gone, its size, a new event loop), the compiled-statement caches, and that the pool
path and the session path (which the other OGC tests use) answer the same. Reads only:
the shared demo database (11 units, 6 blocks, 419 parcels) is not changed.
"""

from __future__ import annotations

import asyncio
import math
import socket

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import String, bindparam, func, select, text
from sqlalchemy.engine import make_url

from app.errors import ServiceUnavailable
from app.main import create_app
from app.models import Parcel, Unit
from app.core.read import sql as features
from app.core.read.layers import collections
from app.core.read.pool import APPLICATION_NAME, POOL_SIZE, ReadPool, Sql, bind_statement, compile_sql
from app.ogc import tiles
from tests.asyncrun import run as run_async

EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"


def _conninfo(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sql(statement: str) -> Sql:
    return Sql(statement, {}, {})


@pytest.fixture()
def pool_client(settings):
    """The app as it runs in production: no session override, so /ogc reads go through the pool."""
    app = create_app(settings)
    with TestClient(app) as c:
        yield c


# -- the pool -------------------------------------------------------------------------
def test_pool_reuses_a_connection_and_survives_statement_errors(database_url):
    pool = ReadPool(_conninfo(database_url))

    async def run():
        try:
            assert await pool.one(_sql("SELECT 1")) == (1,)
            with pytest.raises(psycopg.errors.DivisionByZero):
                await pool.one(_sql("SELECT 1 / 0"))
            assert await pool.one(_sql("SELECT %(n)s::int + 1"), {"n": 41}) == (42,)
            # each connection runs without parallel workers and without JIT
            settings = await pool.one(_sql("SELECT current_setting('max_parallel_workers_per_gather'), "
                                           "current_setting('jit'), current_setting('application_name')"))
            assert settings == ("0", "off", APPLICATION_NAME)
        finally:
            await pool.close()

    run_async(run())
    assert pool.connects == POOL_SIZE  # the pool's own connections, reused: none opened again


def test_the_connection_returned_last_is_used_first(database_url):
    """Last in, first out: sequential reads stay on one warm backend, the other connections idle."""
    pool = ReadPool(_conninfo(database_url))

    async def run():
        try:
            return [(await pool.one(_sql("SELECT pg_backend_pid()")))[0] for _ in range(3 * POOL_SIZE)]
        finally:
            await pool.close()

    pids = run_async(run())
    assert len(set(pids)) == 1 and pool.connects == POOL_SIZE


def test_a_cancelled_statement_is_a_503_without_retry(database_url):
    """An OperationalError of the statement (here a timeout), not of the connection: 503, the connection kept."""
    pool = ReadPool(_conninfo(database_url), size=1)

    async def run():
        try:
            await pool.one(_sql("SELECT set_config('statement_timeout', '50', false)"))
            with pytest.raises(ServiceUnavailable):
                await pool.one(_sql("SELECT pg_sleep(2)"))
            await pool.one(_sql("SELECT set_config('statement_timeout', '0', false)"))
        finally:
            await pool.close()

    run_async(run())
    assert pool.connects == 1


def test_pool_reconnects_when_its_connections_are_killed(database_url, engine):
    pool = ReadPool(_conninfo(database_url))

    async def run():
        try:
            pid = (await pool.one(_sql("SELECT pg_backend_pid()")))[0]
            with engine.connect() as conn:  # every connection of the pool, as a server restart would
                killed = conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"
                    " AND datname = current_database()"), {"name": APPLICATION_NAME}).scalars().all()
            assert killed == [True] * POOL_SIZE
            assert (await pool.one(_sql("SELECT pg_backend_pid()")))[0] != pid
        finally:
            await pool.close()

    run_async(run())
    assert pool.connects == 2 * POOL_SIZE  # each killed connection replaced once


def test_pool_gives_the_503_envelope_when_the_database_is_gone(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # nothing listens here once the socket is closed
    pool = ReadPool(f"host=127.0.0.1 port={dead} dbname=x user=x connect_timeout=2")

    async def run():
        with pytest.raises(ServiceUnavailable):
            await pool.one(_sql("SELECT 1"))

    run_async(run())
    app = create_app(settings)
    with TestClient(app) as c:
        app.state.reads = pool
        r = c.get("/ogc/collections/parcels/items/ANY")
    assert r.status_code == 503 and r.json()["code"] == "database_unavailable"


def test_pool_never_holds_more_connections_than_its_size(database_url):
    pool = ReadPool(_conninfo(database_url))

    async def run():
        try:
            rows = await asyncio.gather(*(pool.one(_sql("SELECT pg_sleep(0.05), %(i)s::int"), {"i": i})
                                          for i in range(4 * POOL_SIZE)))
        finally:
            await pool.close()
        return [r[1] for r in rows]

    assert run_async(run()) == list(range(4 * POOL_SIZE))
    assert pool.connects == POOL_SIZE


def test_pool_follows_a_new_event_loop(database_url):
    """A test client started again runs a new loop: the old loop's connections are dropped."""
    pool = ReadPool(_conninfo(database_url))
    assert run_async(pool.one(_sql("SELECT 1"))) == (1,)
    assert run_async(pool.one(_sql("SELECT 2"))) == (2,)

    async def close():
        await pool.close()

    run_async(close())
    assert pool.connects == 2 * POOL_SIZE


# -- compiled statements --------------------------------------------------------------
def test_page_shapes_are_compiled_once_and_bind_each_requests_values(pool_client, db_session):
    counts = dict(db_session.execute(
        select(Unit.code, func.count(Parcel.id)).join(Parcel, Parcel.unit_id == Unit.id).group_by(Unit.code)
    ).all())
    before = features._page_sql.cache_info()
    for unit, n in counts.items():
        body = pool_client.get("/ogc/collections/parcels/items", params={"unit_code": unit, "limit": 5000}).json()
        assert body["numberMatched"] == n
        assert {f["properties"]["unit_code"] for f in body["features"]} == {unit}
    after = features._page_sql.cache_info()
    assert after.misses - before.misses <= 1  # one shape: unit_code = :f0
    assert after.hits - before.hits >= len(counts) - 1


def test_cql2_statements_reuse_their_compiled_sql(pool_client, db_session):
    """A CQL2 filter is keyed by SQLAlchemy's cache key: same shape, other literals, other rows."""
    for low, high in ((0, 10), (10, 20), (20, 1000)):
        want = set(db_session.scalars(select(Parcel.code).where(Parcel.land_area_mu.between(low, high))))
        body = pool_client.get("/ogc/collections/parcels/items", params={
            "filter": f"land_area_mu BETWEEN {low} AND {high}", "limit": 5000}).json()
        assert {f["id"] for f in body["features"]} == want and body["numberMatched"] == len(want)
    for classes in (("upgrade",), ("upgrade", "clear_out"), ("transform", "clear_out")):
        want = set(db_session.scalars(select(Parcel.code).where(Parcel.classification.in_(classes))))
        listed = ",".join(f"'{c}'" for c in classes)
        body = pool_client.get("/ogc/collections/parcels/items", params={
            "filter": f"classification IN ({listed})", "limit": 5000}).json()
        assert {f["id"] for f in body["features"]} == want


@pytest.mark.parametrize("params", [
    {"limit": 50},
    {"limit": 30, "sortby": "-far"},
    {"bbox": "120.45,30.55,120.65,30.75", "limit": 100},
    {"bbox": "3386700,40547900,3395700,40559400", "bbox-crs": EPSG.format(4528), "crs": EPSG.format(4549)},
    {"classification": "upgrade", "crs": EPSG.format(4490), "limit": 40},
    {"filter": "code LIKE '330483-CF-%' AND far > 0.5", "sortby": "land_area_mu"},
    {"filter": "S_INTERSECTS(geometry, BBOX(120.45,30.55,120.65,30.75))", "limit": 20},
])
def test_pool_and_session_paths_answer_the_same(pool_client, client, params):
    """Page by page, following "next" and then "prev": the same features, counts and links."""
    def walk(c, url, query):
        pages = []
        r = c.get(url, params=query)
        while True:
            assert r.status_code == 200, r.text
            body = r.json()
            pages.append(body)
            nxt = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
            if nxt is None or len(pages) > 20:
                break
            r = c.get(nxt)
        prev = next((link["href"] for link in pages[-1]["links"] if link["rel"] == "prev"), None)
        if prev is not None:
            pages.append(c.get(prev).json())
        return pages

    url = "/ogc/collections/parcels/items"
    ours, theirs = walk(pool_client, url, params), walk(client, url, params)
    assert ours[0]["numberMatched"] > 0
    assert [p["features"] for p in ours] == [p["features"] for p in theirs]
    assert [p["numberMatched"] for p in ours] == [p["numberMatched"] for p in theirs]
    assert [[link["rel"] for link in p["links"]] for p in ours] == [[link["rel"] for link in p["links"]] for p in theirs]


def test_pool_item_tile_and_html_match_the_session_path(pool_client, client, db_session):
    code = db_session.scalars(select(Parcel.code).order_by(Parcel.code)).first()
    for query in ({}, {"crs": EPSG.format(4549)}):
        a = pool_client.get(f"/ogc/collections/parcels/items/{code}", params=query)
        b = client.get(f"/ogc/collections/parcels/items/{code}", params=query)
        assert a.status_code == b.status_code == 200
        assert a.headers["content-crs"] == b.headers["content-crs"]
        assert a.json() == b.json()
    assert pool_client.get("/ogc/collections/parcels/items/NO-SUCH").status_code == 404
    html = pool_client.get(f"/ogc/collections/parcels/items/{code}", params={"f": "html"})
    assert html.status_code == 200 and code in html.text
    blocks_html = "/ogc/collections/blocks/items?f=html"
    assert pool_client.get(blocks_html).text == client.get(blocks_html).text
    tile = _tile_url(db_session, 16)
    assert pool_client.get(tile).content == client.get(tile).content != b""


def test_bind_statement_fills_named_values_and_expanding_lists(database_url, db_session):
    """Named parameters come from ``values``; literals from the statement, even an expanding IN list."""
    pool = ReadPool(_conninfo(database_url))
    unit = db_session.scalars(select(Unit.code).order_by(Unit.code)).first()

    def count(classes, unit_code):
        stmt = select(func.count()).select_from(Parcel).join(Unit, Parcel.unit_id == Unit.id).where(
            Parcel.classification.in_(classes), Unit.code == bindparam("unit", type_=String))
        return stmt, {"unit": unit_code}

    async def run():
        try:
            out = []
            for classes in (["upgrade"], ["upgrade", "clear_out"]):
                stmt, values = count(classes, unit)
                out.append((await pool.one(*bind_statement(stmt, values)))[0])
            return out
        finally:
            await pool.close()

    want = [db_session.scalar(select(func.count()).select_from(Parcel).join(Unit, Parcel.unit_id == Unit.id)
                              .where(Parcel.classification.in_(classes), Unit.code == unit))
            for classes in (["upgrade"], ["upgrade", "clear_out"])]
    assert run_async(run()) == want and want[1] > 0


def _tile_url(db_session, z: int) -> str:
    """The tile at zoom ``z`` that holds the first parcel."""
    point = db_session.scalars(select(Parcel).order_by(Parcel.code)).first().shape.representative_point()
    n = 1 << z
    x = int((point.x + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(point.y))) / math.pi) / 2 * n)
    return f"/ogc/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}"


def test_tiles_not_cached_are_rendered_by_the_gate(pool_client, client, db_session):
    """Without a session override the gate renders a tile itself; what is not an ordinary tile goes to the route."""
    url = _tile_url(db_session, 14)
    ours = pool_client.get(url)
    theirs = client.get(url)  # the route, through the test's session
    assert ours.status_code == theirs.status_code == 200 and len(ours.content) > 100
    assert ours.content == theirs.content and ours.headers["etag"] == theirs.headers["etag"]
    for name in ("content-type", "cache-control", "vary", "content-length"):
        assert ours.headers[name] == theirs.headers[name], name
    assert pool_client.get(url, headers={"If-None-Match": ours.headers["etag"]}).status_code == 304
    for bad in ("/ogc/collections/nope/tiles/WebMercatorQuad/14/1/1",
                "/ogc/collections/parcels/tiles/WebMercatorQuad/3/1/1",
                "/ogc/collections/parcels/tiles/WebMercatorQuad/14/99999/1"):
        a, b = pool_client.get(bad), client.get(bad)
        assert a.status_code == b.status_code == 404 and a.json() == b.json()


def test_the_gate_gives_the_503_envelope_for_a_tile_when_the_database_is_gone(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    app = create_app(settings)
    with TestClient(app) as c:
        app.state.reads = ReadPool(f"host=127.0.0.1 port={dead} dbname=x user=x connect_timeout=2")
        r = c.get("/ogc/collections/parcels/tiles/WebMercatorQuad/14/13674/6727")
    assert r.status_code == 503 and r.json()["code"] == "database_unavailable"


def test_tile_statement_keeps_the_index_as_a_prepared_generic_plan(engine):
    """The pool prepares tile statements; PostgreSQL may then use a generic plan (values unknown)."""
    sql = compile_sql(tiles._tile_select(collections()["parcels"], True))
    values = sql.params(tiles.tile_values(14, 13674, 6727))
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        raw.execute("SET plan_cache_mode = force_generic_plan")
        raw.execute(sql.text, values, prepare=True)  # prepares it on this connection
        name = raw.execute("SELECT name FROM pg_prepared_statements ORDER BY prepare_time DESC LIMIT 1").fetchone()[0]
        args = ", ".join(["NULL"] * len(values))
        plan = "\n".join(r[0] for r in raw.execute(f'EXPLAIN EXECUTE "{name}"({args})'))
        raw.execute("RESET plan_cache_mode")
    assert "idx_parcels_geom" in plan and "Parallel" not in plan, plan
