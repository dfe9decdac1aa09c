"""Coordinate reference systems used by the product.

Storage is CGCS2000 geographic (EPSG:4490, always lon/lat order in code);
official areas are plane areas in CGCS2000 3-degree Gauss-Krüger, central
meridian 120°E (EPSG:4549), the zone that covers Tongxiang.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from pyproj import CRS, Transformer
from shapely import transform
from shapely.geometry.base import BaseGeometry

STORAGE_SRID = 4490  # CGCS2000 geographic, lon/lat
AREA_SRID = 4549  # CGCS2000 / 3-degree Gauss-Kruger CM 120E (no zone prefix in X)
ZONE_PREFIXED_AREA_SRID = 4528  # same projection, X carries the zone number 40
WGS84_SRID = 4326
WEB_MERCATOR_SRID = 3857


@lru_cache(maxsize=64)
def transformer(src: int | str, dst: int | str) -> Transformer:
    """Cached pyproj transformer from ``src`` to ``dst`` with x=lon/easting, y=lat/northing.

    ``always_xy=True`` is essential: EPSG:4490's official axis order is lat/lon.
    """
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def reproject(geom: BaseGeometry, src: int | str, dst: int | str) -> BaseGeometry:
    """Reproject a shapely geometry between two CRSs (x/y = lon/lat or easting/northing).

    Examples
    --------
    >>> from shapely import Point
    >>> p = reproject(Point(120.0, 30.0), 4490, 4549)
    >>> round(p.x, 3)
    500000.0
    """
    if src == dst:
        return geom
    t = transformer(src, dst)
    return transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def to_area_crs(geom_4490: BaseGeometry) -> BaseGeometry:
    """Project a geometry from storage CRS EPSG:4490 (lon/lat) to EPSG:4549 metres."""
    return reproject(geom_4490, STORAGE_SRID, AREA_SRID)


def to_storage_crs(geom: BaseGeometry, src: int | str) -> BaseGeometry:
    """Project a geometry in CRS ``src`` to storage CRS EPSG:4490 (lon/lat)."""
    return reproject(geom, src, STORAGE_SRID)


# --- GCJ-02 (the Amap / 高德 offset datum) ---------------------------------
# The public forward algorithm; the inverse is iterated to sub-millimetre
# convergence. GCJ-02 is defined relative to WGS84; CGCS2000 and WGS84 agree
# to a few centimetres, well under this conversion's own accuracy.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lon - 105.0
    y = lat - 35.0
    dlat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * math.pi
    magic = 1 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02_xy(lon, lat):
    """Offset WGS84 / CGCS2000 lon/lat arrays to GCJ-02 (forward algorithm, inside China)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84_xy(lon, lat, tol_deg: float = 1e-10, max_iter: int = 20):
    """Invert the GCJ-02 offset by fixed-point iteration; converges to < 1 mm.

    Accuracy relative to true WGS84 is that of the forward algorithm itself
    (the published formula, exact by construction); the inversion adds < 1 mm.
    """
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02_xy(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < tol_deg) and np.all(np.abs(elat) < tol_deg):
            break
    return wlon, wlat


def gcj02_to_storage(geom_gcj02: BaseGeometry) -> BaseGeometry:
    """Convert a GCJ-02 lon/lat geometry (Amap sources) to CGCS2000 EPSG:4490 lon/lat.

    Examples
    --------
    >>> from shapely import Point
    >>> p = gcj02_to_storage(Point(120.565, 30.63))
    >>> 0.003 < 120.565 - p.x < 0.006
    True
    """
    return transform(geom_gcj02, lambda xy: np.column_stack(gcj02_to_wgs84_xy(xy[:, 0], xy[:, 1])))


def storage_to_gcj02(geom_4490: BaseGeometry) -> BaseGeometry:
    """Convert a CGCS2000 EPSG:4490 lon/lat geometry to GCJ-02 lon/lat (for Amap basemaps)."""
    return transform(geom_4490, lambda xy: np.column_stack(wgs84_to_gcj02_xy(xy[:, 0], xy[:, 1])))
