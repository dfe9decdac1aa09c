"""MVT tiles in WebMercatorQuad: one ST_AsMVT statement per tile.

The rows are selected with ``geom && <tile envelope in EPSG:4490>`` (the envelope,
widened by the MVT buffer, is computed here and bound as four numbers), so the GiST
index on the stored geometry is used and the planner sees a selective, constant box:
no parallel sequential scan (checked with EXPLAIN in the tests). Only the selected rows
are transformed to EPSG:3857, simplified to half a tile pixel and clipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from geoalchemy2 import functions as gf
from sqlalchemy import Float, LargeBinary, Numeric, cast, func, literal, select
from sqlalchemy.orm import Session

from spatial import STORAGE_SRID

from .collections import Collection

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


def tile_statement(collection: Collection, z: int, x: int, y: int):
    table = collection.table
    m = mercator_bounds(z, x, y)
    # A little more than the MVT buffer, so features that only reach into the buffer count.
    ll = lonlat_bounds(z, x, y, margin=BUFFER / EXTENT * 1.01)
    envelope_3857 = gf.ST_MakeEnvelope(m.minx, m.miny, m.maxx, m.maxy, 3857)
    envelope_4490 = gf.ST_MakeEnvelope(ll.minx, ll.miny, ll.maxx, ll.maxy, STORAGE_SRID)
    pixel_m = (m.maxx - m.minx) / EXTENT
    geom = gf.ST_Transform(table.geom, 3857)
    if z < 16:  # simplification by zoom: drop detail finer than half a pixel
        geom = gf.ST_Simplify(geom, pixel_m / 2, True)
    mvt_geom = gf.ST_AsMVTGeom(geom, envelope_3857, EXTENT, BUFFER, True).label("geom")
    props = [
        (cast(col, Float) if isinstance(col.type, Numeric) else col).label(name)
        for name, col in collection.tile_properties
    ]
    rows = (
        select(table.id.label("id"), mvt_geom, *props)
        .where(table.geom.op("&&")(envelope_4490), *collection.where)
        .subquery("t")
    )
    inner = select(rows).where(rows.c.geom.is_not(None)).subquery("mvt")
    return select(
        func.coalesce(
            func.ST_AsMVT(inner.table_valued(), literal(collection.id), EXTENT, literal("geom"), literal("id")),
            cast(literal(b""), LargeBinary),
        )
    )


def render_tile(session: Session, collection: Collection, z: int, x: int, y: int) -> bytes:
    data = session.execute(tile_statement(collection, z, x, y)).scalar()
    return bytes(data or b"")
