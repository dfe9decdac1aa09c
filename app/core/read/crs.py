"""OGC API – Features Part 2 (CRS by reference): the CRSs served and their axis order.

Geometry is stored in EPSG:4490 with lon/lat order (the PostGIS convention). A CRS
identified by an EPSG URI is served in its *official* axis order, as Part 2 requires:
EPSG:4490 is latitude, longitude; EPSG:4549 and EPSG:4528 (CGCS2000 3° Gauss-Krüger)
are northing (X), easting (Y); EPSG:3857 is easting, northing. CRS84 is lon/lat.
The order is read from the EPSG database (``spatial.first_axis_is_north``), not typed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from pyproj import CRS, Transformer

from spatial import CRS84 as SPATIAL_CRS84
from spatial import STORAGE_SRID, crs_name, first_axis_is_north, parse_crs_identifier

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"


MAX_IDENTIFIER = 200  # characters of a CRS parameter value


@dataclass(frozen=True)
class ServedCrs:
    uri: str
    srid: int  # PostGIS SRID used with ST_Transform (CRS84 → 4326, lon/lat)
    name: str
    flip: bool  # the CRS's first axis is north: swap PostGIS's x/y on the way out and in
    decimals: int  # output precision: ~1 cm


def _served(uri: str, srid: int, identifier: str, decimals: int) -> ServedCrs:
    return ServedCrs(uri, srid, crs_name(identifier), flip=first_axis_is_north(identifier), decimals=decimals)


@lru_cache(maxsize=1)
def served_crs() -> dict[str, ServedCrs]:
    """URI → CRS, in the order listed in each collection's ``crs`` member."""
    items = [
        _served(CRS84, 4326, SPATIAL_CRS84, 7),
        _served(EPSG_URI.format(code=STORAGE_SRID), STORAGE_SRID, f"EPSG:{STORAGE_SRID}", 7),
        _served(EPSG_URI.format(code=4549), 4549, "EPSG:4549", 2),
        _served(EPSG_URI.format(code=4528), 4528, "EPSG:4528", 2),
        _served(EPSG_URI.format(code=3857), 3857, "EPSG:3857", 2),
    ]
    return {c.uri: c for c in items}


def resolve(raw: str) -> ServedCrs | None:
    """The served CRS a parameter value names, or None (the caller says what is allowed).

    Accepts the URI (``http://www.opengis.net/def/crs/EPSG/0/4549``), the URN, a safe
    CURIE (``[EPSG:4549]``) and ``EPSG:4549``.
    """
    if len(raw) > MAX_IDENTIFIER:  # no served CRS is named at length; int() of 5000 digits is refused
        return None
    identifier = parse_crs_identifier(raw)
    if identifier is None:
        return None
    if identifier == SPATIAL_CRS84:
        return served_crs()[CRS84]
    return served_crs().get(EPSG_URI.format(code=int(identifier.split(":")[1])))


def storage() -> ServedCrs:
    return served_crs()[EPSG_URI.format(code=STORAGE_SRID)]


def crs84() -> ServedCrs:
    return served_crs()[CRS84]


@lru_cache(maxsize=16)
def domain(srid: int) -> tuple[float, float, float, float]:
    """Where coordinates in ``srid`` (PostGIS x/y order: lon/lat or easting/northing) may lie: the CRS's
    EPSG area of use in its own units, widened by a tenth of its size on each side (a box drawn a little
    past the edge still works). Outside it a transformation is meaningless, or fails in the database."""
    if srid in (STORAGE_SRID, 4326):
        return -180.0, -90.0, 180.0, 90.0
    west, south, east, north = CRS.from_epsg(srid).area_of_use.bounds
    to_crs = Transformer.from_crs(4326, srid, always_xy=True)
    minx, miny, maxx, maxy = to_crs.transform_bounds(west, south, east, north)
    dx, dy = (maxx - minx) / 10, (maxy - miny) / 10
    return minx - dx, miny - dy, maxx + dx, maxy + dy


def within_domain(srid: int, minx: float, miny: float, maxx: float, maxy: float) -> bool:
    """Whether a box in ``srid``'s x/y order is finite and inside the CRS's domain (``domain``)."""
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        return False
    x1, y1, x2, y2 = domain(srid)
    return x1 <= minx and maxx <= x2 and y1 <= miny and maxy <= y2
