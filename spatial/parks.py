"""三（二）实施范围: a 连片 block lies inside a 开发区 or a town's 工业园区.

"全市开发区、各镇（街道）工业园区内200亩以上的相对连片集聚区" (桐政办发〔2022〕11号 三（二）1): the
block's boundary is compared with the parks (开发区 and 镇街工业园区) around it, and the part of it
outside all of them is measured in 亩 (plane area in EPSG:4549). Up to the plan's
``max_outside_park_mu`` (default 0.5 亩: two boundaries digitised at different scales never
agree exactly) it is a sliver, not a violation. Without any park layer (a fresh install, before
the parks are imported) nothing can be checked: a warning says so, so that the rule does not fail
every plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .crs import AREA_SRID, STORAGE_SRID, reproject
from .measure import M2_PER_MU
from .rules import DEFAULT_THRESHOLDS, ERROR, WARNING, PlanThresholds, Violation, reported_mu

# Every code this module can return (stable: the web layer and tests key on them).
CODES = ("block_outside_parks", "parks_not_loaded")


def outside_parks_mu(block: BaseGeometry, parks: Iterable[BaseGeometry], *, crs: int | str = STORAGE_SRID) -> float:
    """The area of ``block`` outside every one of ``parks``, in 亩 (EPSG:4549 plane area, unrounded).

    Examples
    --------
    >>> from shapely import box
    >>> round(outside_parks_mu(box(0, 0, 100, 100), [box(0, 0, 60, 100)], crs=4549), 4)  # 4000 m²
    6.0
    >>> outside_parks_mu(box(0, 0, 100, 100), [box(-10, -10, 60, 110), box(50, -10, 110, 110)], crs=4549)
    0.0
    """
    geoms = reproject(np.array([block, *parks], dtype=object), crs, AREA_SRID)
    shape, others = geoms[0], geoms[1:]
    if len(others):
        valid = shapely.make_valid(others)
        shape = shapely.difference(shapely.make_valid(shape), shapely.union_all(valid))
    return float(shapely.area(shape)) / M2_PER_MU


def check_inside_parks(
    block: BaseGeometry | None,
    parks: Sequence[tuple[str, BaseGeometry]] | None,
    *,
    crs: int | str = STORAGE_SRID,
    feature_id: Any = None,
    thresholds: PlanThresholds = DEFAULT_THRESHOLDS,
) -> list[Violation]:
    """The block lies inside a 开发区 or a 镇街工业园区 (up to ``thresholds.max_outside_park_mu`` 亩 outside).

    Parameters
    ----------
    block : the block's boundary (given or derived), in ``crs``; None: nothing to check
    parks : (name, geometry) of the parks around the block, in ``crs``; an empty sequence when
        none is near (the whole block lies outside), ``None`` when no park layer exists at all
    feature_id : the block's code, for ``feature_ids``
    thresholds : the plan in force (its ``max_outside_park_mu``)

    Examples
    --------
    >>> from shapely import box
    >>> park = [("崇福镇工业园区", box(0, 0, 1000, 1000))]
    >>> check_inside_parks(box(100, 100, 900, 900), park, crs=4549)
    []
    >>> (v,) = check_inside_parks(box(900, 0, 1100, 1000), park, crs=4549, feature_id="TX-01")
    >>> v.code, v.severity, v.values["outside_mu"], v.feature_ids
    ('block_outside_parks', 'error', 150.0, ('TX-01',))
    >>> v.message_zh
    '区块有 150.00 亩位于开发区和工业园区之外（占区块的 50.0%；连片区块应位于开发区或镇街工业园区内）'
    >>> check_inside_parks(box(0, 0, 1000, 1000.3), park, crs=4549)  # 0.45 亩 outside: a sliver
    []
    >>> [(v.code, v.severity) for v in check_inside_parks(box(0, 0, 10, 10), None, crs=4549)]
    [('parks_not_loaded', 'warning')]
    """
    ids = () if feature_id is None else (feature_id,)
    if parks is None:
        return [Violation("parks_not_loaded", "尚未导入开发区和工业园区范围，未检查是否位于园区内", {}, ids, WARNING)]
    if block is None or block.is_empty:
        return []
    outside = reported_mu(outside_parks_mu(block, [g for _name, g in parks], crs=crs))
    limit = thresholds.max_outside_park_mu
    if outside <= limit:
        return []
    total = reported_mu(float(reproject(block, crs, AREA_SRID).area) / M2_PER_MU)
    share = round(outside / total * 100, 1) if total > 0 else 100.0
    return [Violation(
        "block_outside_parks",
        f"区块有 {outside:.2f} 亩位于开发区和工业园区之外（占区块的 {share:.1f}%；连片区块应位于开发区或镇街工业园区内）",
        {"outside_mu": outside, "block_mu": total, "share_pct": share, "max_outside_mu": limit,
         "parks": [name for name, _g in parks]},
        ids, ERROR,
    )]
