"""Contiguity (连片): do a block's parcels form one group, allowing roads and rivers between them?

Definition (docs/spatial.md §5): two parcels are linked when their plane
distance in EPSG:4549 is at most the tolerance (default 30 m); a set of parcels
is contiguous (相对连片) when the links connect all of them. The gaps reported
as "bridged" are a minimum spanning forest over the groups of touching parcels,
so each gap listed is one the contiguity really depends on; the separations are
the shortest distances between groups that stay apart (each wider than the
tolerance). :func:`derived_boundary` is the block boundary the parcels make when
the gaps the tolerance bridges are closed (§5.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from .measure import M2_PER_MU
from .validity import ERROR, Problem

DEFAULT_TOLERANCE_M = 30.0  # wider than a 24 m industrial road plus verges, narrower than a block of parcels
TOUCH_TOLERANCE_M = 0.01  # parcels closer than 1 cm touch: no gap to bridge
CONTAINMENT_TOLERANCE_M = 1.0  # a parcel may stick out of its block boundary by 1 m (digitising)
MIN_OUTSIDE_M2 = 1.0  # ... and by no more than 1 m² beyond that buffer
BOUNDARY_SIMPLIFY_M = 0.05  # a derived boundary drops vertices that move it by less than 5 cm


@dataclass(frozen=True)
class Component:
    """A connected group of parcels: ids, and area (sum of parcel plane areas, EPSG:4549)."""

    feature_ids: tuple
    area_m2: float
    area_mu: float

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return {"feature_ids": list(self.feature_ids), "area_m2": self.area_m2, "area_mu": self.area_mu}


@dataclass(frozen=True)
class Gap:
    """A gap between two parcels that the tolerance bridged.

    ``line`` is the shortest segment between them (two (x, y) points in the
    CRS of the input, EPSG:4549 metres); ``location`` is its midpoint.
    """

    feature_ids: tuple
    distance_m: float
    location: tuple[float, float]
    line: tuple[tuple[float, float], tuple[float, float]]

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return {
            "feature_ids": list(self.feature_ids),
            "distance_m": self.distance_m,
            "location": list(self.location),
            "line": [list(p) for p in self.line],
        }


@dataclass(frozen=True)
class ContiguityReport:
    """Result of :func:`contiguity_report` (all lengths in metres, EPSG:4549).

    ``gaps`` are the gaps the tolerance bridges; ``separations`` the shortest
    distances between groups that stay apart (a minimum spanning tree over the
    groups, so k groups have k − 1 separations), each wider than the tolerance.
    """

    tolerance_m: float
    is_contiguous: bool
    components: tuple[Component, ...]
    gaps: tuple[Gap, ...]
    problems: tuple[Problem, ...] = ()
    separations: tuple[Gap, ...] = ()

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return {
            "tolerance_m": self.tolerance_m,
            "is_contiguous": self.is_contiguous,
            "component_count": len(self.components),
            "components": [c.to_dict() for c in self.components],
            "gaps": [g.to_dict() for g in self.gaps],
            "separations": [g.to_dict() for g in self.separations],
            "problems": [p.to_dict() for p in self.problems],
        }


def _labels_from_edges(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Connected-component labels 0..k-1 (numbered by smallest member) from an edge list.

    Vectorised union-find: hook every root to the smaller root across an
    edge, then compress paths fully; repeats O(log n) times in practice.
    """
    parent = np.arange(n)
    while u.size:
        pu, pv = parent[u], parent[v]
        differ = pu != pv
        if not differ.any():
            break
        u, v = u[differ], v[differ]  # satisfied edges stay satisfied
        lo, hi = np.minimum(pu[differ], pv[differ]), np.maximum(pu[differ], pv[differ])
        np.minimum.at(parent, hi, lo)
        while True:
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                break
            parent = nxt
    return np.unique(parent, return_inverse=True)[1]


def _links(geoms: np.ndarray, tolerance_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j) within ``tolerance_m`` and their distances, enough to decide connectivity.

    Touching pairs (distance 0) are found with a cheap prepared ``intersects``;
    distances are computed only for the remaining pairs that join two
    different groups of touching parcels. Pairs left out would only link
    parcels already connected, so components and bridged gaps are unchanged.
    """
    n = len(geoms)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    present = ~shapely.is_missing(geoms)
    b = shapely.bounds(geoms)
    boxes = shapely.box(b[:, 0] - tolerance_m, b[:, 1] - tolerance_m, b[:, 2] + tolerance_m, b[:, 3] + tolerance_m)
    boxes[~present] = None
    i, j = STRtree(geoms).query(boxes)
    keep = i < j
    i, j = i[keep], j[keep]
    shapely.prepare(geoms)
    touch = shapely.intersects(geoms[i], geoms[j])
    group = _labels_from_edges(n, i[touch], j[touch])
    rest = ~touch & (group[i] != group[j])
    ri, rj = i[rest], j[rest]
    d = shapely.distance(geoms[ri], geoms[rj])
    near = d <= tolerance_m
    ti = i[touch]
    return (
        np.concatenate([ti, ri[near]]),
        np.concatenate([j[touch], rj[near]]),
        np.concatenate([np.zeros(ti.size), d[near]]),
    )


def component_labels(parcels_4549: Sequence[BaseGeometry], tolerance_m: float = DEFAULT_TOLERANCE_M) -> np.ndarray:
    """Label each parcel with its connected group (vectorised; for whole-city use).

    Parameters
    ----------
    parcels_4549 : sequence of polygons in EPSG:4549
    tolerance_m : float
        Parcels at most this far apart (metres) are linked.

    Returns
    -------
    numpy.ndarray of int
        Labels 0..k-1, numbered in order of each group's first parcel.

    Examples
    --------
    >>> from shapely import box
    >>> component_labels([box(0, 0, 10, 10), box(100, 0, 110, 10), box(35, 0, 45, 10)]).tolist()
    [0, 1, 0]
    """
    geoms = np.asarray(parcels_4549, dtype=object)
    if tolerance_m < 0:
        raise ValueError("tolerance_m must be >= 0")
    i, j, _ = _links(geoms, tolerance_m)
    return _labels_from_edges(len(geoms), i, j)


def is_contiguous(parcels_4549: Sequence[BaseGeometry], tolerance_m: float = DEFAULT_TOLERANCE_M) -> bool:
    """True when the parcels form one connected group with gaps of at most ``tolerance_m``.

    Parameters
    ----------
    parcels_4549 : sequence of polygons in EPSG:4549 (at least one)
    tolerance_m : float
        Largest gap (metres) bridged, e.g. a road or a river.

    Examples
    --------
    >>> from shapely import box
    >>> is_contiguous([box(0, 0, 100, 100), box(124, 0, 200, 100)])  # a 24 m road between
    True
    >>> is_contiguous([box(0, 0, 100, 100), box(140, 0, 200, 100)])  # 40 m apart
    False
    """
    geoms = np.asarray(parcels_4549, dtype=object)
    if geoms.size == 0:
        raise ValueError("is_contiguous needs at least one parcel")
    return int(component_labels(geoms, tolerance_m).max()) == 0


def contiguity_gaps(
    parcels_4549: Sequence[BaseGeometry],
    ids: Sequence[Any] | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> list[Gap]:
    """The gaps (wider than 1 cm, at most ``tolerance_m``) that hold the groups together.

    A minimum spanning forest over the groups of touching parcels: shortest
    gaps first, ties by parcel position, so the result is deterministic and
    removing any listed gap would split a group.

    Parameters
    ----------
    parcels_4549 : sequence of polygons in EPSG:4549
    ids : sequence, optional
        Feature ids, default positions.
    tolerance_m : float
        Largest gap bridged, metres.

    Returns
    -------
    list of Gap, shortest first.

    Examples
    --------
    >>> from shapely import box
    >>> [(g.feature_ids, g.distance_m) for g in contiguity_gaps([box(0, 0, 100, 100), box(124, 0, 200, 100)])]
    [((0, 1), 24.0)]
    """
    geoms = np.asarray(parcels_4549, dtype=object)
    if ids is None:
        ids = list(range(len(geoms)))
    i, j, d = _links(geoms, tolerance_m)
    return _bridges(geoms, ids, i, j, d)


def _bridges(geoms, ids, i, j, d) -> list[Gap]:
    touching = d <= TOUCH_TOLERANCE_M
    group = _labels_from_edges(len(geoms), i[touching], j[touching])
    far = ~touching
    gi, gj, fi, fj, fd = group[i[far]], group[j[far]], i[far], j[far], d[far]
    cross = gi != gj
    gi, gj, fi, fj, fd = gi[cross], gj[cross], fi[cross], fj[cross], fd[cross]
    order = np.lexsort((fj, fi, fd))
    parent = list(range(int(group.max()) + 1 if group.size else 0))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    chosen = []
    for k in order.tolist():
        ra, rb = root(int(gi[k])), root(int(gj[k]))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
            chosen.append(k)
    if not chosen:
        return []
    chosen = np.asarray(chosen)
    lines = shapely.shortest_line(geoms[fi[chosen]], geoms[fj[chosen]])
    out = []
    for k, line in zip(chosen.tolist(), lines):
        (x1, y1), (x2, y2) = shapely.get_coordinates(line)[:2].tolist()
        out.append(Gap(
            (ids[int(fi[k])], ids[int(fj[k])]),
            round(float(fd[k]), 3),
            (round((x1 + x2) / 2, 3), round((y1 + y2) / 2, 3)),
            ((round(x1, 3), round(y1, 3)), (round(x2, 3), round(y2, 3))),
        ))
    return out


def separations(
    parcels_4549: Sequence[BaseGeometry],
    ids: Sequence[Any] | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> list[Gap]:
    """Where the groups of a set of parcels stay apart: the shortest link between each pair of
    groups, as a minimum spanning tree (shortest first), each longer than ``tolerance_m``.

    Parameters
    ----------
    parcels_4549 : sequence of polygons in EPSG:4549
    ids : sequence, optional
        Feature ids, default positions.
    tolerance_m : float
        The contiguity tolerance, metres.

    Returns
    -------
    list of Gap, shortest first; empty when the parcels are contiguous.

    Examples
    --------
    >>> from shapely import box
    >>> [(g.feature_ids, g.distance_m) for g in separations([box(0, 0, 100, 100), box(145, 0, 200, 100)])]
    [((0, 1), 45.0)]
    """
    geoms = np.asarray(parcels_4549, dtype=object)
    if ids is None:
        ids = list(range(len(geoms)))
    labels = component_labels(geoms, tolerance_m)
    k = int(labels.max()) + 1 if labels.size else 0
    if k < 2:
        return []
    groups = [shapely.union_all(geoms[labels == g]) for g in range(k)]
    a, b = np.triu_indices(k, 1)
    d = shapely.distance(np.asarray(groups, dtype=object)[a], np.asarray(groups, dtype=object)[b])
    parent = list(range(k))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    out = []
    for e in np.lexsort((b, a, d)).tolist():
        ra, rb = root(int(a[e])), root(int(b[e]))
        if ra == rb:
            continue
        parent[max(ra, rb)] = min(ra, rb)
        line = shapely.shortest_line(groups[int(a[e])], groups[int(b[e])])
        (x1, y1), (x2, y2) = shapely.get_coordinates(line)[:2].tolist()
        p1, p2 = shapely.points([x1, x2], [y1, y2])
        near1 = np.flatnonzero(labels == a[e])[np.argmin(shapely.distance(geoms[labels == a[e]], p1))]
        near2 = np.flatnonzero(labels == b[e])[np.argmin(shapely.distance(geoms[labels == b[e]], p2))]
        out.append(Gap(
            (ids[int(near1)], ids[int(near2)]),
            round(float(d[e]), 3),
            (round((x1 + x2) / 2, 3), round((y1 + y2) / 2, 3)),
            ((round(x1, 3), round(y1, 3)), (round(x2, 3), round(y2, 3))),
        ))
    return out


def derived_boundary(parcels_4549: Sequence[BaseGeometry], tolerance_m: float = DEFAULT_TOLERANCE_M,
                     ids: Sequence[Any] | None = None) -> BaseGeometry:
    """The block boundary (四至边界) its parcels make when the gaps between them are closed.

    A morphological closing of the parcels' union — grown by half the tolerance, united, shrunk
    back — keeps the parcels' outer edges and adds the roads and rivers between them, where
    they are at most ``tolerance_m`` wide (the contiguity tolerance). Where two parcels are linked
    only corner to corner (a gap the closing cannot fill), the bridged gap itself is added as a
    strip, so that parcels the 连片 rule links always give one polygon. It never reaches across
    more than the tolerance: groups farther apart stay separate parts. The parcels' own land is
    unchanged (the area counted for the 200-亩 rule stays theirs).

    Parameters
    ----------
    parcels_4549 : sequence of polygons in EPSG:4549 (at least one)
    tolerance_m : float
        The contiguity tolerance, metres (default 30).
    ids : sequence, optional
        Only for the bridged gaps' bookkeeping.

    Returns
    -------
    Polygon or MultiPolygon in EPSG:4549 (a MultiPolygon when the parcels are not contiguous).

    Examples
    --------
    >>> from shapely import box
    >>> b = derived_boundary([box(0, 0, 100, 100), box(124, 0, 224, 100)])  # a 24 m road between
    >>> b.geom_type, round(b.area)
    ('Polygon', 22400)
    >>> derived_boundary([box(0, 0, 100, 100), box(140, 0, 240, 100)]).geom_type  # 40 m apart
    'MultiPolygon'
    """
    geoms = np.asarray(parcels_4549, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms)]
    if geoms.size == 0:
        raise ValueError("derived_boundary needs at least one parcel")
    half = tolerance_m / 2
    land = shapely.union_all(geoms)
    closed = shapely.buffer(shapely.buffer(land, half, quad_segs=4, join_style="mitre", mitre_limit=2.0),
                            -half, quad_segs=4, join_style="mitre", mitre_limit=2.0)
    pieces = [land, closed]
    if len(shapely.get_parts(closed)) > 1:  # links the closing could not fill (corner to corner)
        for gap in contiguity_gaps(geoms, ids, tolerance_m):
            pieces.append(shapely.buffer(shapely.linestrings(gap.line), max(half / 3, 1.0), quad_segs=4))
    out = shapely.union_all(pieces)
    out = shapely.make_valid(shapely.simplify(out, BOUNDARY_SIMPLIFY_M, preserve_topology=True))
    polygons = [p for p in shapely.get_parts(out) if shapely.get_type_id(p) == 3 and p.area > MIN_OUTSIDE_M2]
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def boundary_problems(
    block_4549: BaseGeometry,
    parcels_4549: Sequence[BaseGeometry],
    ids: Sequence[Any] | None = None,
    *,
    block_id: Any = None,
    containment_tolerance_m: float = CONTAINMENT_TOLERANCE_M,
) -> list[Problem]:
    """Check a block boundary (四至边界) against its parcels: one polygon, containing them all.

    Codes: ``block_not_single_polygon`` (several separate parts) and
    ``parcel_outside_block`` (a parcel sticks out of the boundary buffered by
    ``containment_tolerance_m`` by more than 1 m²).

    Parameters
    ----------
    block_4549 : polygon in EPSG:4549
    parcels_4549 : sequence of polygons in EPSG:4549
    ids : sequence, optional
        Parcel ids, default positions.
    containment_tolerance_m : float
        Metres a parcel may cross the boundary (digitising tolerance).

    Examples
    --------
    >>> from shapely import box
    >>> [p.code for p in boundary_problems(box(0, 0, 100, 100), [box(0, 0, 50, 100), box(50, 0, 110, 100)])]
    ['parcel_outside_block']
    """
    geoms = np.asarray(parcels_4549, dtype=object)
    if ids is None:
        ids = list(range(len(geoms)))
    block_ids = () if block_id is None else (block_id,)
    out: list[Problem] = []
    parts = [p for p in shapely.get_parts(block_4549) if shapely.get_type_id(p) == 3]
    if len(parts) > 1:
        areas = sorted((round(float(p.area) / M2_PER_MU, 2) for p in parts), reverse=True)
        out.append(Problem(
            "block_not_single_polygon",
            f"区块边界由 {len(parts)} 个互不相连的面组成（各约 {'、'.join(f'{a:.2f}' for a in areas)} 亩），应为单一闭合面",
            ERROR, block_ids, (round(parts[1].representative_point().x, 3), round(parts[1].representative_point().y, 3)),
            {"part_count": len(parts), "part_areas_mu": areas},
        ))
    zone = shapely.buffer(block_4549, containment_tolerance_m)
    shapely.prepare(zone)
    outside = np.flatnonzero(~shapely.contains(zone, geoms) & ~shapely.is_missing(geoms))
    if outside.size:
        rest = shapely.difference(geoms[outside], zone)
        rest_area = shapely.area(rest)
        for k, a, r in zip(outside.tolist(), rest_area.tolist(), rest):
            if a <= MIN_OUTSIDE_M2:
                continue
            p = r.representative_point()
            out.append(Problem(
                "parcel_outside_block",
                f"地块 {ids[k]} 有 {a:.2f} 平方米（约 {a / M2_PER_MU:.2f} 亩）超出区块边界",
                ERROR, (ids[k],), (round(p.x, 3), round(p.y, 3)), {"outside_m2": round(a, 3)},
            ))
    return out


def contiguity_report(
    parcels_4549: Sequence[BaseGeometry],
    ids: Sequence[Any] | None = None,
    *,
    block_4549: BaseGeometry | None = None,
    block_id: Any = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    containment_tolerance_m: float = CONTAINMENT_TOLERANCE_M,
) -> ContiguityReport:
    """Connected groups of a block's parcels, their areas, the bridged gaps and boundary checks.

    Parameters
    ----------
    parcels_4549 : sequence of polygons in EPSG:4549 (at least one)
    ids : sequence, optional
        Parcel ids, default positions.
    block_4549 : polygon in EPSG:4549, optional
        The block boundary; when given, it must be one polygon containing every parcel.
    tolerance_m : float
        Largest gap (metres) still counted as contiguous, default 30 m.

    Returns
    -------
    ContiguityReport
        Components sorted by area (largest first), areas in m² and 亩.

    Examples
    --------
    >>> from shapely import box
    >>> r = contiguity_report([box(0, 0, 200, 200), box(224, 0, 424, 200), box(1000, 0, 1200, 200)], ["a", "b", "c"])
    >>> r.is_contiguous, [c.feature_ids for c in r.components], [c.area_mu for c in r.components]
    (False, [('a', 'b'), ('c',)], [120.0, 60.0])
    """
    geoms = np.asarray(parcels_4549, dtype=object)
    if geoms.size == 0:
        raise ValueError("contiguity_report needs at least one parcel")
    if ids is None:
        ids = list(range(len(geoms)))
    i, j, d = _links(geoms, tolerance_m)
    labels = _labels_from_edges(len(geoms), i, j)
    area = np.nan_to_num(shapely.area(geoms))
    sums = np.bincount(labels, weights=area)
    components = []
    for k in range(len(sums)):
        members = np.flatnonzero(labels == k)
        components.append(Component(
            tuple(ids[m] for m in members.tolist()),
            round(float(sums[k]), 3),
            round(float(sums[k]) / M2_PER_MU, 4),
        ))
    components.sort(key=lambda c: -c.area_m2)  # stable: equal areas keep first-parcel order
    problems = ()
    if block_4549 is not None:
        problems = tuple(boundary_problems(
            block_4549, geoms, ids, block_id=block_id, containment_tolerance_m=containment_tolerance_m,
        ))
    return ContiguityReport(
        tolerance_m=float(tolerance_m),
        is_contiguous=len(components) == 1,
        components=tuple(components),
        gaps=tuple(_bridges(geoms, ids, i, j, d)),
        problems=problems,
        separations=tuple(separations(geoms, ids, tolerance_m)) if len(components) > 1 else (),
    )
