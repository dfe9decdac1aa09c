"""Measures: area in 亩 and floor-area ratio (容积率)."""

from __future__ import annotations

import math

from shapely import area as _shapely_area
from shapely.geometry.base import BaseGeometry

from .crs import to_area_crs

M2_PER_MU = 10000.0 / 15.0  # 1 亩 = 666.67 m², defined once for the whole product


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


def area_mu_of_storage(geom_4490: BaseGeometry) -> float:
    """Official area in 亩 of a geometry in storage CRS EPSG:4490 (projected to EPSG:4549 first)."""
    return area_mu(to_area_crs(geom_4490))


def floor_area_ratio(floor_area_m2: float | None, land_area_m2: float | None) -> float | None:
    """Floor-area ratio (容积率) = above-ground floor area / land area, both in m².

    Returns ``None`` when either value is missing, or when the land area is zero
    (a ratio over no land is undefined, not infinite). A floor area of 0 gives 0.0.
    Negative inputs are programmer errors and raise ``ValueError``.

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
    if land_area_m2 == 0:
        return None
    return round(floor_area_m2 / land_area_m2, 4)
