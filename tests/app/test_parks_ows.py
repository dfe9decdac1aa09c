"""The parks on /ows (issue 19 part 1): WMS GetMap draws a park's outline in its kind's colour where the park
lies, WFS GetFeature returns every park with the /ogc properties; the colours are the map's legend."""

from __future__ import annotations

import json

import pytest
import shapely
from sqlalchemy import text

from app.core.db import new_session
from app.core.read.layers import collections
from app.ows import styles
from tests.app.test_ows_live import (  # noqa: F401 (fixtures)
    SIZE, _js_colours, _pixel, _png, _rgb, _window, engine, live, needs_mapserv, ows_db, wfs, wms)


def test_park_colours_are_the_map_legend():
    assert styles.PARK_COLOURS == _js_colours("PARK_COLOURS")


@pytest.fixture(scope="module")
def parks(engine):  # noqa: F811
    with new_session(engine) as s:
        rows = s.execute(text("SELECT code, kind, ST_AsBinary(geom) FROM parks ORDER BY code")).all()
    return {code: (kind, shapely.from_wkb(bytes(wkb))) for code, kind, wkb in rows}


@needs_mapserv
def test_getmap_draws_the_park_outline(wms, parks):  # noqa: F811
    kind, geom = parks["YQ-chongfu"]
    minx, miny, maxx, maxy = geom.bounds
    pad = max(maxx - minx, maxy - miny) * 0.2
    window = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    box, pixel = _window(window, 4490)
    image = wms.getmap(layers=["parks"], styles=[""], srs="EPSG:4490", bbox=box, size=(SIZE, SIZE),
                       format="image/png", transparent=True)
    png = _png(image.read())
    want = _rgb(styles.PARK_COLOURS[kind])
    ring = shapely.segmentize(geom.geoms[0].exterior, geom.length / 400)
    coloured = sum(1 for x, y in ring.coords
                   if 0 <= pixel(x, y)[0] < SIZE and 0 <= pixel(x, y)[1] < SIZE
                   and _pixel(png, *pixel(x, y)) == want)
    assert coloured >= len(ring.coords) // 3, coloured  # dashed: the dashes carry the colour
    cx, cy = geom.centroid.x, geom.centroid.y
    assert _pixel(png, *pixel(cx, cy)) != want  # an outline, not a fill


@needs_mapserv
def test_getfeature_lists_the_parks(wfs, parks):  # noqa: F811
    assert wfs.contents["ms:parks"].title == collections()["parks"].title
    doc = json.loads(wfs.getfeature(typename=["ms:parks"], outputFormat="application/json; subtype=geojson").read())
    assert doc["numberMatched"] == len(parks) == 10
    props = {f["properties"]["code"]: f["properties"] for f in doc["features"]}
    assert set(props) == set(parks)
    assert set(props["TXKFQ"]) == {p.name for p in collections()["parks"].properties}  # as /ogc
    assert props["TXKFQ"]["kind_label"] == "开发区" and props["YQ-heshan"]["kind_label"] == "镇街工业园区"
