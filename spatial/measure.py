"""Measures: area in 亩 and floor-area ratio (容积率).

Official areas are plane areas in EPSG:4549 (CGCS2000 3-degree GK, CM 120°E);
the ellipsoidal area on the CGCS2000 ellipsoid is a cross-check only.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from pyproj import Geod
from shapely import area as _shapely_area
from shapely import get_parts, get_type_id
from shapely.geometry.base import BaseGeometry

from .crs import to_area_crs

M2_PER_MU = 10000.0 / 15.0  # 1 亩 = 666.67 m², defined once for the whole product
FAR_DECIMALS = 4  # floor_area_ratio() rounds to this; rules compare at 2 decimals (see rules.py)


def area_m2(geom_4549: BaseGeometry) -> float:
    """Plane area in m² of a geometry already in EPSG:4549 (CGCS2000 GK CM 120°E).

    Examples
    --------
    >>> from shapely import box
    >>> area_m2(box(500000, 3390000, 500200, 3390200))
    40000.0
    """
    return float(_shapely_area(geom_4549))


def area_mu(geom_4549: BaseGeometry) -> float:
    """Plane area in 亩 of a geometry in EPSG:4549.

    Examples
    --------
    >>> from shapely import box
    >>> area_mu(box(500000, 3390000, 500200, 3390200))  # 200 m x 200 m
    60.0
    """
    return area_m2(geom_4549) / M2_PER_MU


def areas_mu(geoms_4549) -> np.ndarray:
    """Plane areas in 亩 of an array of EPSG:4549 geometries (vectorised; None → NaN).

    Examples
    --------
    >>> from shapely import box
    >>> areas_mu([box(0, 0, 200, 200), box(0, 0, 100, 100), None]).tolist()
    [60.0, 15.0, nan]
    """
    return np.asarray(_shapely_area(np.asarray(geoms_4549, dtype=object)), dtype=float) / M2_PER_MU


def area_mu_of_storage(geom_4490: BaseGeometry) -> float:
    """Official area in 亩 of a geometry in storage CRS EPSG:4490 (projected to EPSG:4549 first).

    Examples
    --------
    >>> from shapely import box
    >>> round(area_mu_of_storage(box(120.5, 30.6, 120.51, 30.61)), 1)
    1594.8
    """
    return area_mu(to_area_crs(geom_4490))


@lru_cache(maxsize=1)
def _cgcs2000_geod() -> Geod:
    # CGCS2000 ellipsoid: a = 6378137, 1/f = 298.257222101 (the GRS80 values)
    return Geod(a=6378137.0, rf=298.257222101)


def ellipsoidal_area_m2(geom_4490: BaseGeometry) -> float:
    """Area in m² on the CGCS2000 ellipsoid of an EPSG:4490 lon/lat geometry (cross-check).

    Uses pyproj ``Geod.geometry_area_perimeter`` (Karney's algorithm); the
    sign of ring orientation is ignored. In Tongxiang it agrees with the
    official plane area in EPSG:4549 to about 0.01 % (GK scale error at
    ~0.5° from the central meridian, 1 + Δλ²cos²φ/2 ≈ 1.00003).

    Examples
    --------
    >>> from shapely import box
    >>> round(ellipsoidal_area_m2(box(120.5, 30.6, 120.51, 30.61)))
    1063125
    """
    if geom_4490 is None or geom_4490.is_empty:
        return 0.0
    geod = _cgcs2000_geod()
    total = 0.0
    for part in get_parts(np.array([geom_4490], dtype=object)):
        if get_type_id(part) == 3:  # polygons only; lines and points have no area
            total += abs(geod.geometry_area_perimeter(part)[0])
    return total


def ellipsoidal_area_mu(geom_4490: BaseGeometry) -> float:
    """Ellipsoidal area in 亩 of an EPSG:4490 geometry (cross-check of :func:`area_mu_of_storage`).

    Examples
    --------
    >>> from shapely import box
    >>> round(ellipsoidal_area_mu(box(120.5, 30.6, 120.51, 30.61)), 1)
    1594.7
    """
    return ellipsoidal_area_m2(geom_4490) / M2_PER_MU


def floor_area_ratio(floor_area_m2: float | None, land_area_m2: float | None) -> float | None:
    """Floor-area ratio (容积率) = above-ground floor area / land area, both in m².

    Returns ``None`` when either value is missing (None or NaN), or when the
    land area is zero (a ratio over no land is undefined, not infinite). A
    floor area of 0 gives 0.0. The result is rounded to 4 decimals. Negative
    inputs are programmer errors and raise ``ValueError``.

    Examples
    --------
    >>> floor_area_ratio(26666.67, 13333.33)
    2.0
    >>> floor_area_ratio(None, 100.0) is None
    True
    """
    if floor_area_m2 is None or land_area_m2 is None:
        return None
    if (isinstance(floor_area_m2, float) and math.isnan(floor_area_m2)) or (
        isinstance(land_area_m2, float) and math.isnan(land_area_m2)
    ):
        return None
    if floor_area_m2 < 0 or land_area_m2 < 0:
        raise ValueError("floor area and land area must be non-negative")
    ratio = floor_area_ratios([floor_area_m2], [land_area_m2])[0]
    return None if np.isnan(ratio) else float(ratio)


def floor_area_ratios(floor_area_m2, land_area_m2) -> np.ndarray:
    """:func:`floor_area_ratio` over arrays (NaN where undefined): the one FAR definition, vectorised.

    NaN where either value is missing or the land area is zero; negative values are not
    checked here (callers report them). Rounded to 4 decimals.

    Examples
    --------
    >>> floor_area_ratios([26666.67, np.nan, 5.0], [13333.33, 100.0, 0.0]).tolist()
    [2.0, nan, nan]
    """
    floor = np.asarray(floor_area_m2, dtype=float)
    land = np.asarray(land_area_m2, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(land > 0, floor / np.where(land > 0, land, 1.0), np.nan)
    return np.round(ratio, FAR_DECIMALS)
