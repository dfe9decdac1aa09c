"""MVT tiles in WebMercatorQuad: one ST_AsMVT statement per tile.

The rows are selected with ``geom && <tile envelope in EPSG:4490>`` (the envelope,
widened by the MVT buffer, is computed here and bound as four numbers), so the GiST
index on the stored geometry is used: no parallel sequential scan, also in the generic
plan of the prepared statement (checked with EXPLAIN in the tests). Only the selected
rows are transformed to EPSG:3857, simplified to half a tile pixel and clipped. The
statement is compiled once per collection (and simplified or not); the tile's numbers
are bound.
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


def _tile_select(collection: Layer, simplify: bool):
    """The tile statement with the tile's numbers as named bind parameters."""
    table = collection.table

    def number(name: str):
        return bindparam(name, type_=Float)

    envelope_3857 = gf.ST_MakeEnvelope(number("mx0"), number("my0"), number("mx1"), number("my1"), 3857)
    envelope_4490 = gf.ST_MakeEnvelope(number("lon0"), number("lat0"), number("lon1"), number("lat1"), STORAGE_SRID)
    geom = gf.ST_Transform(table.geom, 3857)
    if simplify:  # below z16: drop detail finer than half a pixel
        geom = gf.ST_Simplify(geom, number("tolerance"), True)
    mvt_geom = gf.ST_AsMVTGeom(geom, envelope_3857, EXTENT, BUFFER, True).label("geom")
    columns = [(name, collection.prop[name].column) for name in collection.tile_properties]
    props = [(cast(col, Float) if isinstance(col.type, Numeric) else col).label(name) for name, col in columns]
    # ST_AsMVT skips rows whose geometry is NULL (outside the tile after clipping). Filtering
    # them in SQL instead would make the planner run ST_AsMVTGeom twice per row.
    rows = (
        select(table.id.label("id"), mvt_geom, *props)
        .where(table.geom.op("&&")(envelope_4490), *collection.where)
        .subquery("mvt")
    )
    return select(
        func.coalesce(
            func.ST_AsMVT(rows.table_valued(), literal(collection.id), EXTENT, literal("geom"), literal("id")),
            cast(literal(b""), LargeBinary),
        )
    )


def tile_values(z: int, x: int, y: int) -> dict[str, float]:
    m = mercator_bounds(z, x, y)
    # A little more than the MVT buffer, so features that only reach into the buffer count.
    ll = lonlat_bounds(z, x, y, margin=BUFFER / EXTENT * 1.01)
    pixel_m = (m.maxx - m.minx) / EXTENT
    return {"mx0": m.minx, "my0": m.miny, "mx1": m.maxx, "my1": m.maxy,
            "lon0": ll.minx, "lat0": ll.miny, "lon1": ll.maxx, "lat1": ll.maxy, "tolerance": pixel_m / 2}


def simplified(z: int) -> bool:
    return z < 16


def tile_statement(collection: Layer, z: int, x: int, y: int):
    """The statement of one tile, values bound (for EXPLAIN and tests)."""
    values = tile_values(z, x, y)
    if not simplified(z):
        del values["tolerance"]
    return _tile_select(collection, simplified(z)).params(**values)


@lru_cache(maxsize=32)
def _tile_sql(collection_id: str, simplify: bool) -> Sql:
    return compile_sql(_tile_select(collections()[collection_id], simplify))


async def render_tile(reader: Reader, collection: Layer, z: int, x: int, y: int) -> bytes:
    values = tile_values(z, x, y)
    if not simplified(z):
        del values["tolerance"]
    row = await reader.one(_tile_sql(collection.id, simplified(z)), values)
    return bytes(row[0]) if row and row[0] else b""
