"""Geometry validity: one report per geometry, plus overlaps and gaps between parcels.

Every function here works in EPSG:4549 metres (CGCS2000 GK CM 120°E), so that
tolerances are lengths and areas a surveyor can read. A problem is data
(:class:`Problem`), never an exception, so an import can list all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

# Tolerances (metres / m², EPSG:4549). Reasons in docs/spatial.md.
DUPLICATE_VERTEX_TOLERANCE_M = 0.001  # coordinates are surveyed to the millimetre
SLIVER_WIDTH_M = 1.0  # mean width 2A/P below 1 m: nothing real is that narrow, digitising slivers are
MIN_OVERLAP_M2 = 1.0  # shared edges digitised twice overlap by cm², real encroachments by tens of m²
MIN_GAP_M2 = 1.0  # same reasoning for uncovered gaps inside a block
REPAIR_AREA_TOLERANCE_M2 = 0.01  # make_valid "changed the area" above 0.01 m² (or 1e-6 relative)

ERROR = "error"
WARNING = "warning"

_POLYGONAL = (3, 6)  # shapely type ids: Polygon, MultiPolygon

_REASONS_ZH = {
    "Self-intersection": "边界自相交",
    "Ring Self-intersection": "环自相交",
    "Too few points": "点数过少",
    "Interior is disconnected": "面内部不连通",
    "Hole lies outside shell": "内环（洞）位于外环之外",
    "Nested holes": "内环相互嵌套",
    "Nested shells": "外环相互嵌套",
    "Duplicate Rings": "存在重复的环",
    "Invalid Coordinate": "坐标无效（NaN 或无穷大）",
    "Ring is not closed": "环未闭合",
}
_TYPE_ZH = {
    "Point": "点", "MultiPoint": "多点", "LineString": "线", "LinearRing": "线环",
    "MultiLineString": "多线", "GeometryCollection": "几何集合", "Polygon": "面", "MultiPolygon": "多面",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a geometry or between geometries.

    ``code`` is stable (the web layer keys messages on it); ``message_zh`` is
    ready to show; ``location`` is an (x, y) in the CRS of the checked
    geometry; ``repaired`` is make_valid's polygonal result for invalid input
    and ``repair_changes_area`` says whether it differs in area.
    """

    code: str
    message_zh: str
    severity: str = ERROR
    feature_ids: tuple = ()
    location: tuple[float, float] | None = None
    values: dict[str, Any] = field(default_factory=dict)
    repaired: BaseGeometry | None = None
    repair_changes_area: bool | None = None

    def to_dict(self) -> dict:
        """Plain JSON-ready dict; ``repaired`` becomes a GeoJSON geometry."""
        return {
            "code": self.code,
            "message_zh": self.message_zh,
            "severity": self.severity,
            "feature_ids": list(self.feature_ids),
            "location": list(self.location) if self.location is not None else None,
            "values": dict(self.values),
            "repaired": mapping(self.repaired) if self.repaired is not None else None,
            "repair_changes_area": self.repair_changes_area,
        }


def _xy(point: BaseGeometry) -> tuple[float, float]:
    return (round(float(point.x), 3), round(float(point.y), 3))


def _ids(feature_id) -> tuple:
    return () if feature_id is None else (feature_id,)


def repair(geom: BaseGeometry) -> BaseGeometry:
    """Repair an invalid polygonal geometry with make_valid, keeping only its polygons.

    Uses the "structure" method (rings are unioned/differenced as areas, so a
    figure-of-eight becomes two triangles and collapsed parts are dropped).
    Input and output are in the same CRS (EPSG:4549 metres in this library).

    Examples
    --------
    >>> from shapely import Polygon
    >>> repair(Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])).area  # a bow-tie
    50.0
    """
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    if shapely.get_type_id(fixed) in _POLYGONAL:
        return fixed
    parts = [p for p in shapely.get_parts(fixed) if shapely.get_type_id(p) in _POLYGONAL]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _duplicate_vertices(geom: BaseGeometry, tolerance_m: float) -> list[tuple[float, float]]:
    """Positions of consecutive vertices closer than ``tolerance_m`` (ring closure excluded)."""
    found = []
    for ring in shapely.get_rings(shapely.get_parts(np.array([geom], dtype=object))):
        xy = shapely.get_coordinates(ring)[:-1]  # drop the closing vertex
        if len(xy) < 2:
            continue
        step = np.hypot(*np.diff(np.vstack([xy, xy[:1]]), axis=0).T)
        for i in np.flatnonzero(step <= tolerance_m):
            found.append((round(float(xy[i, 0]), 3), round(float(xy[i, 1]), 3)))
    return found


def _mean_width(area_m2: np.ndarray, perimeter_m: np.ndarray) -> np.ndarray:
    # 2A/P: exactly the width of a long rectangle, and a fair "how thin" for any shape
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter_m > 0, 2.0 * area_m2 / perimeter_m, 0.0)


def geometry_problems(
    geom_4549: BaseGeometry | None,
    *,
    feature_id: Any = None,
    sliver_width_m: float = SLIVER_WIDTH_M,
    duplicate_tolerance_m: float = DUPLICATE_VERTEX_TOLERANCE_M,
) -> list[Problem]:
    """Everything wrong with one parcel or block geometry.

    Checks, in order: null, empty, wrong type (not Polygon/MultiPolygon),
    invalid (self-intersection etc., with location, repaired form and whether
    the repair changed the area), duplicate vertices, holes, several
    disconnected parts, slivers (a part whose mean width 2A/P is below
    ``sliver_width_m``). An empty list means a clean polygon.

    Parameters
    ----------
    geom_4549 : shapely geometry or None
        In EPSG:4549 metres.
    feature_id : any, optional
        Copied into each problem's ``feature_ids``.
    sliver_width_m, duplicate_tolerance_m : float
        Tolerances in metres.

    Returns
    -------
    list of Problem

    Examples
    --------
    >>> from shapely import Polygon
    >>> [p.code for p in geometry_problems(Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]))]  # bow-tie
    ['invalid_geometry', 'multipart']
    >>> geometry_problems(Polygon([(0, 0), (100, 0), (100, 100), (0, 100)]))
    []
    """
    ids = _ids(feature_id)
    if geom_4549 is None:
        return [Problem("null_geometry", "缺少几何图形（空值）", ERROR, ids)]
    if geom_4549.is_empty:
        return [Problem("empty_geometry", "几何图形为空（没有坐标）", ERROR, ids)]
    problems: list[Problem] = []
    geom = geom_4549
    type_id = shapely.get_type_id(geom)
    if type_id not in _POLYGONAL:
        kind = _TYPE_ZH.get(geom.geom_type, geom.geom_type)
        polys = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in _POLYGONAL]
        repaired = shapely.union_all(polys) if polys else None
        problems.append(Problem(
            "wrong_geometry_type",
            f"几何类型为{kind}（{geom.geom_type}），应为面（Polygon 或 MultiPolygon）"
            + ("；其中的面部分可作为修复结果" if repaired is not None else ""),
            ERROR, ids, _xy(geom.representative_point()) if repaired is None else _xy(repaired.representative_point()),
            {"geom_type": geom.geom_type}, repaired, None,
        ))
        if repaired is None:
            return problems
        geom = repaired

    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        m = re.match(r"([^\[]+)\[([-\d.eE+]+) ([-\d.eE+]+)", reason)
        kind = m.group(1).strip() if m else reason
        location = (round(float(m.group(2)), 3), round(float(m.group(3)), 3)) if m else _xy(geom.representative_point())
        fixed = repair(geom)
        before, after = float(geom.area), float(fixed.area)
        changed = abs(after - before) > max(REPAIR_AREA_TOLERANCE_M2, 1e-6 * abs(before))
        change_zh = (
            f"修复后面积由 {before:.2f} 平方米变为 {after:.2f} 平方米" if changed
            else f"修复后面积不变（{after:.2f} 平方米）"
        )
        problems.append(Problem(
            "invalid_geometry",
            f"几何无效：{_REASONS_ZH.get(kind, kind)}，位置（{location[0]:.2f}, {location[1]:.2f}）；{change_zh}",
            ERROR, ids, location,
            {"reason": reason, "area_before_m2": round(before, 3), "area_after_m2": round(after, 3)},
            fixed, changed,
        ))
        geom = fixed  # the remaining checks describe the repaired shape

    dups = _duplicate_vertices(geom_4549 if type_id in _POLYGONAL else geom, duplicate_tolerance_m)
    if dups:
        problems.append(Problem(
            "duplicate_vertices",
            f"有 {len(dups)} 处重复节点（相邻节点间距不超过 {duplicate_tolerance_m * 1000:g} 毫米），"
            f"第一处位于（{dups[0][0]:.2f}, {dups[0][1]:.2f}）",
            WARNING, ids, dups[0], {"count": len(dups)}, shapely.remove_repeated_points(geom, duplicate_tolerance_m),
            False,
        ))

    parts = shapely.get_parts(np.array([geom], dtype=object))
    holes = [r for p in parts for r in p.interiors]
    if holes:
        hole_areas = [round(float(shapely.Polygon(r).area), 2) for r in holes]
        problems.append(Problem(
            "hole",
            f"面内有 {len(holes)} 个洞（内环），合计 {sum(hole_areas):.2f} 平方米；请确认是否为飞地或漏绘",
            WARNING, ids, _xy(shapely.Polygon(holes[0]).representative_point()),
            {"count": len(holes), "areas_m2": hole_areas},
        ))
    if len(parts) > 1:
        problems.append(Problem(
            "multipart",
            f"由 {len(parts)} 个互不相连的部分组成",
            WARNING, ids, _xy(parts[1].representative_point()), {"count": len(parts)},
        ))
    part_area = shapely.area(parts)
    widths = _mean_width(part_area, shapely.length(parts))
    for i in np.flatnonzero(widths < sliver_width_m):
        problems.append(Problem(
            "sliver",
            f"狭长碎面：面积 {part_area[i]:.2f} 平方米，平均宽度 {widths[i]:.2f} 米（小于 {sliver_width_m:g} 米）",
            WARNING, ids, _xy(parts[i].representative_point()),
            {"area_m2": round(float(part_area[i]), 3), "mean_width_m": round(float(widths[i]), 3)},
        ))
    return problems


def problems_of_many(
    geoms_4549: Sequence[BaseGeometry | None],
    ids: Sequence[Any] | None = None,
    *,
    sliver_width_m: float = SLIVER_WIDTH_M,
    duplicate_tolerance_m: float = DUPLICATE_VERTEX_TOLERANCE_M,
) -> list[Problem]:
    """:func:`geometry_problems` for many geometries, vectorised (clean ones cost no Python).

    Parameters
    ----------
    geoms_4549 : sequence of shapely geometries (EPSG:4549) or None
    ids : sequence, optional
        Feature ids, default the positions 0..n-1.

    Returns
    -------
    list of Problem, in input order.

    Examples
    --------
    >>> from shapely import box
    >>> [(p.code, p.feature_ids) for p in problems_of_many([box(0, 0, 100, 100), None], ids=["a", "b"])]
    [('null_geometry', ('b',))]
    """
    geoms = np.asarray(geoms_4549, dtype=object)
    if ids is None:
        ids = list(range(len(geoms)))
    suspect = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    suspect |= ~np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    suspect |= ~shapely.is_valid(geoms)
    suspect |= shapely.get_num_geometries(geoms) > 1
    clean = np.flatnonzero(~suspect)
    if clean.size:
        cg = geoms[clean]
        suspect[clean] |= shapely.get_num_interior_rings(cg) > 0
        suspect[clean] |= _mean_width(shapely.area(cg), shapely.length(cg)) < sliver_width_m
        xy, idx = shapely.get_coordinates(cg, return_index=True)
        close = np.hypot(*np.diff(xy, axis=0).T) <= duplicate_tolerance_m
        same = idx[1:] == idx[:-1]
        suspect[clean[np.unique(idx[1:][close & same])]] = True
    out: list[Problem] = []
    for i in np.flatnonzero(suspect):
        out.extend(geometry_problems(
            geoms[i], feature_id=ids[i], sliver_width_m=sliver_width_m, duplicate_tolerance_m=duplicate_tolerance_m,
        ))
    return out


def overlapping_pairs(
    geoms_4549: Sequence[BaseGeometry], *, min_overlap_m2: float = MIN_OVERLAP_M2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i < j) of polygons whose overlap exceeds ``min_overlap_m2`` (vectorised, STRtree).

    Parameters
    ----------
    geoms_4549 : sequence of valid polygonal geometries in EPSG:4549
    min_overlap_m2 : float
        Overlaps up to this area (m²) are digitising noise and ignored.

    Returns
    -------
    (i, j, overlap_m2) : three arrays

    Examples
    --------
    >>> from shapely import box
    >>> i, j, a = overlapping_pairs([box(0, 0, 10, 10), box(5, 0, 15, 10), box(10, 0, 20, 10)])
    >>> i.tolist(), j.tolist(), a.tolist()
    ([0, 1], [1, 2], [50.0, 50.0])
    """
    geoms = np.asarray(geoms_4549, dtype=object)
    tree = STRtree(geoms)
    left, right = tree.query(geoms)  # envelope pairs; the relate test below does the exact work
    keep = left < right
    left, right = left[keep], right[keep]
    # Neighbours sharing an edge "intersect" too; most pairs are that. Their
    # bounding boxes overlap by a zero-width strip, so a cheap envelope test
    # removes them before the costly polygon intersection.
    b = shapely.bounds(geoms)
    wx = np.minimum(b[left, 2], b[right, 2]) - np.maximum(b[left, 0], b[right, 0])
    wy = np.minimum(b[left, 3], b[right, 3]) - np.maximum(b[left, 1], b[right, 1])
    keep = wx * wy > min_overlap_m2
    left, right = left[keep], right[keep]
    # Only pairs whose interiors meet can overlap by an area; the relate test is
    # several times cheaper than computing the intersection of every neighbour pair.
    keep = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    left, right = left[keep], right[keep]
    overlap = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    keep = overlap > min_overlap_m2
    return left[keep], right[keep], overlap[keep]


def overlap_problems(
    geoms_4549: Sequence[BaseGeometry],
    ids: Sequence[Any] | None = None,
    *,
    min_overlap_m2: float = MIN_OVERLAP_M2,
) -> list[Problem]:
    """One ``overlap`` problem per pair of parcels overlapping by more than ``min_overlap_m2``.

    Parameters
    ----------
    geoms_4549 : sequence of valid polygonal geometries in EPSG:4549
    ids : sequence, optional
        Feature ids, default positions.
    min_overlap_m2 : float
        Tolerance in m².

    Examples
    --------
    >>> from shapely import box
    >>> [p.message_zh for p in overlap_problems([box(0, 0, 10, 10), box(8, 0, 18, 10)], ids=["A", "B"])]
    ['地块 A 与 B 重叠 20.00 平方米（约 0.03 亩）']
    """
    geoms = np.asarray(geoms_4549, dtype=object)
    if ids is None:
        ids = list(range(len(geoms)))
    left, right, overlap = overlapping_pairs(geoms, min_overlap_m2=min_overlap_m2)
    if left.size == 0:
        return []
    where = shapely.point_on_surface(shapely.intersection(geoms[left], geoms[right]))
    out = []
    for i, j, a, p in zip(left.tolist(), right.tolist(), overlap.tolist(), where):
        out.append(Problem(
            "overlap",
            f"地块 {ids[i]} 与 {ids[j]} 重叠 {a:.2f} 平方米（约 {a * 15 / 10000:.2f} 亩）",
            ERROR, (ids[i], ids[j]), _xy(p), {"overlap_m2": round(a, 3)},
        ))
    return out


def gap_problems(
    parcels_4549: Sequence[BaseGeometry],
    block_4549: BaseGeometry | None = None,
    *,
    block_id: Any = None,
    min_gap_m2: float = MIN_GAP_M2,
) -> list[Problem]:
    """Gaps inside a block that no parcel covers.

    With a block boundary: every piece of the block not covered by the
    parcels. Without one: the holes enclosed by the union of the parcels.
    Pieces of ``min_gap_m2`` or less are ignored. Roads inside a block are
    legitimate gaps, hence severity "warning".

    Parameters
    ----------
    parcels_4549 : sequence of polygons in EPSG:4549
    block_4549 : polygon in EPSG:4549, optional
    min_gap_m2 : float
        Tolerance in m².

    Examples
    --------
    >>> from shapely import box
    >>> [p.values["area_m2"] for p in gap_problems([box(0, 0, 10, 10), box(12, 0, 20, 10)], box(0, 0, 20, 10))]
    [20.0]
    """
    parcels = np.asarray(parcels_4549, dtype=object)
    covered = shapely.union_all(parcels[~shapely.is_missing(parcels)])
    if block_4549 is not None:
        gaps = shapely.difference(block_4549, covered)
    else:
        holes = [shapely.Polygon(r) for p in shapely.get_parts(covered) for r in getattr(p, "interiors", [])]
        gaps = shapely.union_all(holes) if holes else shapely.Polygon()
    pieces = shapely.get_parts(gaps)
    pieces = pieces[np.isin(shapely.get_type_id(pieces), _POLYGONAL)]
    areas = shapely.area(pieces)
    widths = _mean_width(areas, shapely.length(pieces))
    order = np.argsort(-areas, kind="stable")
    out = []
    for k in order:
        if areas[k] <= min_gap_m2:
            continue
        out.append(Problem(
            "gap",
            f"区块内有一处 {areas[k]:.2f} 平方米（约 {areas[k] * 15 / 10000:.2f} 亩）、平均宽 {widths[k]:.2f} 米的空隙未被地块覆盖",
            WARNING, _ids(block_id), _xy(pieces[k].representative_point()),
            {"area_m2": round(float(areas[k]), 3), "mean_width_m": round(float(widths[k]), 3)},
        ))
    return out
