"""The read parameters every GeoJSON endpoint shares — ``bbox``, ``limit``, ``offset``, ``cursor`` —
parsed once, with one set of messages."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Query

from spatial import STORAGE_SRID

from ...errors import InvalidParameter
from ...messages import message
from ...settings import Settings
from .crs import ServedCrs, crs84, within_domain
from .sql import Box

MAX_OFFSET = 10_000_000  # far beyond any layer; keeps the value a bigint

BBoxQuery = Annotated[
    str | None,
    Query(description="范围：最小经度,最小纬度,最大经度,最大纬度（CGCS2000 经纬度）；/ogc 按 bbox-crs 的轴序",
          examples=["120.50,30.60,120.60,30.70"]),
]
LimitQuery = Annotated[int | None, Query(ge=1, description="每页要素数（默认 1000，最大 5000，可配置）")]
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="跳过的要素数")]
CursorQuery = Annotated[str | None, Query(description="翻页标记（由 next/prev 链接给出）")]


def parse_bbox(raw: str | None, crs: ServedCrs | None = None) -> Box | None:
    """``bbox`` in ``crs``'s axis order (lon/lat by default) → the box in east/north order, or a 400.

    Four numbers, or six (a 3D box: the heights are dropped). Lon/lat boxes must lie within
    ±180° / ±90°; no box may be reversed (nothing here crosses the antimeridian).
    """
    if raw is None or raw == "":
        return None
    crs = crs or crs84()
    geographic = crs.srid in (STORAGE_SRID, 4326)
    try:
        values = [float(p) for p in raw.split(",")]
    except ValueError:
        values = []
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        key = "bbox_format" if geographic and not crs.flip else "bbox_format_axes"
        raise InvalidParameter("bbox", message(key, crs=crs.name))
    a1, b1, a2, b2 = values
    if crs.flip:  # (north, east) order: lat,lon or X(north),Y(east)
        a1, b1, a2, b2 = b1, a1, b2, a2
    minx, miny, maxx, maxy = a1, b1, a2, b2
    if geographic and not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidParameter("bbox", message("bbox_range"))
    if minx > maxx or miny > maxy:
        raise InvalidParameter("bbox", message("bbox_order"))
    if not geographic and not within_domain(crs.srid, minx, miny, maxx, maxy):
        raise InvalidParameter("bbox", message("coordinates_outside_crs", crs=crs.name))
    return Box(minx, miny, maxx, maxy, STORAGE_SRID if geographic else crs.srid)


def page_limit(settings: Settings, limit: int | None) -> int:
    """``limit``, or the configured default; above the configured maximum is a 400."""
    if limit is not None and limit > settings.page_max_limit:
        raise InvalidParameter("limit", message("limit_max", max=settings.page_max_limit))
    return limit or settings.page_default_limit
