"""MVT tiles in WebMercatorQuad: one ST_AsMVT statement per tile.

The rows are selected with ``geom && <tile envelope in EPSG:4490>`` (the envelope,
widened by the MVT buffer, is computed here and bound as four numbers), so the GiST
index on the stored geometry is used: no parallel sequential scan, also in the generic
plan of the prepared statement (checked with EXPLAIN in the tests). Only the selected
rows are transformed to EPSG:3857, simplified to half a tile pixel and clipped. The
statement is compiled once per collection (and simplified or not); the tile's numbers
are bound.

The properties may come from joined tables (the layer's ``base``: a parcel's block stage,
its enterprise's 亩均税收). A layer with ``tile_labels`` has a second MVT layer,
``<id>_label``: one point per feature at ``ST_PointOnSurface``, emitted only in the one tile
whose half-open box ``[west, east) × [south, north)`` holds it, so that a client labels each
feature once however many tiles the feature crosses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from geoalchemy2 import functions as gf
from sqlalchemy import Float, LargeBinary, Numeric, bindparam, cast, func, literal, select

from spatial import STORAGE_SRID

from ..core.read.layers import Layer, collections
from ..core.read.pool import Reader, Sql, compile_sql

EXTENT = 4096
BUFFER = 64
TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
MAX_ZOOM = 22
LABEL_MINZOOM = 15  # label points from here on: below it a code is wider than its parcel
_R = 6378137.0
_HALF = math.pi * _R  # half the world's width in EPSG:3857 metres


@dataclass(frozen=True)
class TileBounds:
    minx: float
    miny: float
    maxx: float
    maxy: float


def mercator_bounds(z: int, x: int, y: int, margin: float = 0.0) -> TileBounds:
    """The tile's EPSG:3857 bounds, widened by ``margin`` (a fraction of the tile width)."""
    size = 2 * _HALF / (1 << z)
    pad = size * margin
    minx = -_HALF + x * size
    maxy = _HALF - y * size
    return TileBounds(minx - pad, maxy - size - pad, minx + size + pad, maxy + pad)


def _lon(mx: float) -> float:
    return max(-180.0, min(180.0, math.degrees(mx / _R)))


def _lat(my: float) -> float:
    my = max(-_HALF, min(_HALF, my))
    return math.degrees(math.atan(math.sinh(my / _R)))


def lonlat_bounds(z: int, x: int, y: int, margin: float = 0.0) -> TileBounds:
    """The tile (plus margin) in lon/lat. A Mercator rectangle is a lon/lat rectangle."""
    b = mercator_bounds(z, x, y, margin)
    return TileBounds(_lon(b.minx), _lat(b.miny), _lon(b.maxx), _lat(b.maxy))


def is_valid_tile(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < (1 << z) and 0 <= y < (1 << z)


def _number(name: str):
    return bindparam(name, type_=Float)


def _props(collection: Layer, names: tuple[str, ...]) -> list:
    """The properties as columns; numbers as float8 (MVT has no decimal type)."""
    props = [collection.prop[name] for name in names]
    return [(cast(p.column, Float) if p.type == "number" or isinstance(p.column.type, Numeric) else p.column)
            .label(p.name) for p in props]


def _mvt(rows, name: str):
    """One MVT layer of ``rows``, as a scalar subquery (two layers in one FROM would multiply)."""
    return select(func.coalesce(
        func.ST_AsMVT(rows.table_valued(), literal(name), EXTENT, literal("geom"), literal("id")),
        cast(literal(b""), LargeBinary),
    )).scalar_subquery()


def _envelope_3857():
    return gf.ST_MakeEnvelope(_number("mx0"), _number("my0"), _number("mx1"), _number("my1"), 3857)


def _label_mvt(collection: Layer):
    """The label layer: the features' points on surface that lie in the tile's half-open box."""
    table = collection.table
    box = gf.ST_MakeEnvelope(_number("e_lon0"), _number("e_lat0"), _number("e_lon1"), _number("e_lat1"), STORAGE_SRID)
    # MATERIALIZED: the point is computed once per row, not once per use below.
    points = (
        collection.base.add_columns(table.id.label("id"), func.ST_PointOnSurface(table.geom).label("pt"),
                                    *_props(collection, collection.tile_labels))
        .where(table.geom.op("&&")(box), *collection.where)
        .cte(f"{collection.id}_label_points")
        .prefix_with("MATERIALIZED")
    )
    x, y = func.ST_X(points.c.pt), func.ST_Y(points.c.pt)
    rows = (
        select(points.c.id, gf.ST_AsMVTGeom(gf.ST_Transform(points.c.pt, 3857), _envelope_3857(), EXTENT, 0, False)
               .label("geom"), *[points.c[name] for name in collection.tile_labels])
        .where(x >= _number("e_lon0"), x < _number("e_lon1"), y >= _number("e_lat0"), y < _number("e_lat1"))
        .subquery("mvt_label")
    )
    return _mvt(rows, f"{collection.id}_label")


def _tile_select(collection: Layer, simplify: bool, labels: bool = False):
    """The tile statement with the tile's numbers as named bind parameters."""
    table = collection.table
    envelope_4490 = gf.ST_MakeEnvelope(_number("lon0"), _number("lat0"), _number("lon1"), _number("lat1"), STORAGE_SRID)
    geom = gf.ST_Transform(table.geom, 3857)
    if simplify:  # below z16: drop detail finer than half a pixel
        geom = gf.ST_Simplify(geom, _number("tolerance"), True)
    mvt_geom = gf.ST_AsMVTGeom(geom, _envelope_3857(), EXTENT, BUFFER, True).label("geom")
    # ST_AsMVT skips rows whose geometry is NULL (outside the tile after clipping). Filtering
    # them in SQL instead would make the planner run ST_AsMVTGeom twice per row.
    rows = (
        collection.base.add_columns(table.id.label("id"), mvt_geom, *_props(collection, collection.tile_properties))
        .where(table.geom.op("&&")(envelope_4490), *collection.where)
        .subquery("mvt")
    )
    body = _mvt(rows, collection.id)
    if labels:
        body = body.op("||")(_label_mvt(collection))
    return select(body)


def edge_lon(z: int, x: int) -> float:
    """The longitude of tile column ``x``'s west edge (and of column ``x - 1``'s east edge)."""
    return _lon(-_HALF + x * (2 * _HALF / (1 << z)))


def edge_lat(z: int, y: int) -> float:
    """The latitude of tile row ``y``'s north edge (and of row ``y - 1``'s south edge)."""
    return _lat(_HALF - y * (2 * _HALF / (1 << z)))


def tile_values(z: int, x: int, y: int, labels: bool = False) -> dict[str, float]:
    m = mercator_bounds(z, x, y)
    # A little more than the MVT buffer, so features that only reach into the buffer count.
    ll = lonlat_bounds(z, x, y, margin=BUFFER / EXTENT * 1.01)
    pixel_m = (m.maxx - m.minx) / EXTENT
    values = {"mx0": m.minx, "my0": m.miny, "mx1": m.maxx, "my1": m.maxy,
              "lon0": ll.minx, "lat0": ll.miny, "lon1": ll.maxx, "lat1": ll.maxy}
    if simplified(z):
        values["tolerance"] = pixel_m / 2
    if labels:
        # Each edge computed by one formula from its index, so that neighbours share it exactly.
        values.update(e_lon0=edge_lon(z, x), e_lon1=edge_lon(z, x + 1), e_lat0=edge_lat(z, y + 1), e_lat1=edge_lat(z, y))
    return values


def simplified(z: int) -> bool:
    return z < 16


def labelled(collection: Layer, z: int) -> bool:
    return bool(collection.tile_labels) and z >= LABEL_MINZOOM


def tile_statement(collection: Layer, z: int, x: int, y: int):
    """The statement of one tile, values bound (for EXPLAIN and tests)."""
    labels = labelled(collection, z)
    return _tile_select(collection, simplified(z), labels).params(**tile_values(z, x, y, labels))


@lru_cache(maxsize=32)
def _tile_sql(collection_id: str, simplify: bool, labels: bool) -> Sql:
    return compile_sql(_tile_select(collections()[collection_id], simplify, labels))


async def render_tile(reader: Reader, collection: Layer, z: int, x: int, y: int) -> bytes:
    labels = labelled(collection, z)
    row = await reader.one(_tile_sql(collection.id, simplified(z), labels), tile_values(z, x, y, labels))
    return bytes(row[0]) if row and row[0] else b""
