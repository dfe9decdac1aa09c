"""OGC API – Features Part 2 (CRS by reference): the CRSs served and their axis order.

Geometry is stored in EPSG:4490 with lon/lat order (the PostGIS convention). A CRS
identified by an EPSG URI is served in its *official* axis order, as Part 2 requires:
EPSG:4490 is latitude, longitude; EPSG:4549 and EPSG:4528 (CGCS2000 3° Gauss-Krüger)
are northing (X), easting (Y); EPSG:3857 is easting, northing. CRS84 is lon/lat.
The order is read from the EPSG database through pyproj once, not typed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyproj

from spatial import STORAGE_SRID

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"


@dataclass(frozen=True)
class ServedCrs:
    uri: str
    srid: int  # PostGIS SRID used with ST_Transform (CRS84 → 4326, lon/lat)
    name: str
    flip: bool  # the CRS's first axis is north: swap PostGIS's x/y on the way out and in
    decimals: int  # output precision: ~1 cm


def _served(uri: str, srid: int, authority: str, decimals: int) -> ServedCrs:
    crs = pyproj.CRS.from_user_input(authority)
    first = crs.axis_info[0].direction.lower()
    return ServedCrs(uri, srid, crs.name, flip=first == "north", decimals=decimals)


@lru_cache(maxsize=1)
def served_crs() -> dict[str, ServedCrs]:
    """URI → CRS, in the order listed in each collection's ``crs`` member."""
    items = [
        _served(CRS84, 4326, "OGC:CRS84", 7),
        _served(EPSG_URI.format(code=STORAGE_SRID), STORAGE_SRID, f"EPSG:{STORAGE_SRID}", 7),
        _served(EPSG_URI.format(code=4549), 4549, "EPSG:4549", 2),
        _served(EPSG_URI.format(code=4528), 4528, "EPSG:4528", 2),
        _served(EPSG_URI.format(code=3857), 3857, "EPSG:3857", 2),
    ]
    return {c.uri: c for c in items}


# Short spellings that desktop clients and people type; the canonical form is the URI.
_ALIASES = {
    "crs84": CRS84,
    "ogc:crs84": CRS84,
    "urn:ogc:def:crs:ogc:1.3:crs84": CRS84,
    "urn:ogc:def:crs:ogc::crs84": CRS84,
    "http://www.opengis.net/def/crs/ogc/1.3/crs84": CRS84,
    "https://www.opengis.net/def/crs/ogc/1.3/crs84": CRS84,
}


def resolve(raw: str) -> ServedCrs | None:
    """The served CRS a parameter value names, or None (the caller says what is allowed).

    Accepts the URI (``http://www.opengis.net/def/crs/EPSG/0/4549``), the URN, a safe
    CURIE (``[EPSG:4549]``) and ``EPSG:4549``.
    """
    value = raw.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    lower = value.lower()
    if lower in _ALIASES:
        return served_crs()[_ALIASES[lower]]
    code = None
    for prefix in (
        "http://www.opengis.net/def/crs/epsg/0/",
        "https://www.opengis.net/def/crs/epsg/0/",
        "urn:ogc:def:crs:epsg::",
        "urn:ogc:def:crs:epsg:0:",
        "epsg:",
    ):
        if lower.startswith(prefix):
            code = lower[len(prefix):]
            break
    if code is None or not code.isdigit():
        return None
    return served_crs().get(EPSG_URI.format(code=int(code)))


def storage() -> ServedCrs:
    return served_crs()[EPSG_URI.format(code=STORAGE_SRID)]


def crs84() -> ServedCrs:
    return served_crs()[CRS84]
