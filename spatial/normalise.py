"""The same polygon, however it is written: ring orientation, start vertex and part order do not count.

A file written by another program (a Shapefile's clockwise exteriors, a GeoJSON's counter-clockwise
ones, rings starting at another corner, coordinates rounded to 7 decimals) holds the same shape as
the stored one; :func:`same_shapes` says so, vertex by vertex within a tolerance, after
``shapely.normalize`` has put both into one canonical form.
"""

from __future__ import annotations

import numpy as np
import shapely

_POLYGON = 3


def _as_multi(geoms: np.ndarray) -> np.ndarray:
    """Polygons as one-part MultiPolygons, so that a Polygon equals the MultiPolygon of itself."""
    out = geoms.copy()
    poly = shapely.get_type_id(geoms) == _POLYGON
    if poly.any():
        out[poly] = shapely.multipolygons(geoms[poly].reshape(-1, 1))
    return out


def same_shapes(a, b, tolerance: float) -> np.ndarray:
    """Elementwise: whether ``a[i]`` and ``b[i]`` are the same (multi)polygon within ``tolerance``.

    Orientation, start vertex and the order of parts and holes do not count; every vertex must lie
    within ``tolerance`` (in the geometries' units) of its counterpart, so a moved vertex does.
    Missing geometries are never the same as anything.
    """
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    out = np.zeros(len(a), dtype=bool)
    present = np.flatnonzero(~(shapely.is_missing(a) | shapely.is_missing(b)))
    if present.size == 0:
        return out
    na = shapely.normalize(_as_multi(a[present]))
    nb = shapely.normalize(_as_multi(b[present]))
    out[present] = shapely.equals_exact(na, nb, tolerance=tolerance)
    # Rounding can make normalize start a ring at another vertex (two corners with nearly the same
    # x): where the vertex counts agree and every vertex has a counterpart within the tolerance
    # (discrete Hausdorff distance, vectorised), compare each ring as a cycle instead.
    rest = np.flatnonzero(~out[present])
    rest = rest[shapely.get_num_coordinates(na[rest]) == shapely.get_num_coordinates(nb[rest])]
    rest = rest[shapely.hausdorff_distance(na[rest], nb[rest]) <= tolerance]
    for k in rest.tolist():
        out[present[k]] = _same_cycles(na[k], nb[k], tolerance)
    return out


def _rings(geom) -> list[np.ndarray]:
    rings = []
    for part in shapely.get_parts(geom).tolist():
        rings.append(shapely.get_exterior_ring(part))
        rings.extend(shapely.get_interior_ring(part, i) for i in range(shapely.get_num_interior_rings(part)))
    return [shapely.get_coordinates(r)[:-1] for r in rings]  # without the closing vertex


def _same_cycles(a, b, tolerance: float) -> bool:
    """Normalised shapes compared ring by ring, each ring of ``b`` turned to start nearest ``a``'s start."""
    if shapely.get_type_id(a) != shapely.get_type_id(b):
        return False
    ra, rb = _rings(a), _rings(b)
    if len(ra) != len(rb):
        return False
    for x, y in zip(ra, rb):
        if len(x) != len(y) or len(x) == 0:
            return False
        start = int(np.argmin(np.hypot(*(y - x[0]).T)))
        if np.hypot(*(np.roll(y, -start, axis=0) - x).T).max() > tolerance:
            return False
    return True
