"""Whether a shape lies inside a boundary: the share of its area inside (subsidies on the approved 四至).

The plan makes an approved block's boundary the ground for later financial support
(“后期财政扶持奖励区域认定依据”): a parcel counts as inside when at least
:data:`INSIDE_MIN_SHARE` of its area lies within the boundary, so that a digitising sliver along
the line neither excludes a parcel that is inside nor includes one that is outside.
Areas are plane areas in EPSG:4549 (both shapes already projected).
"""

from __future__ import annotations

from shapely import area as _area
from shapely import intersection, make_valid
from shapely.geometry.base import BaseGeometry

INSIDE_MIN_SHARE = 0.99  # ≥ 99 % of a parcel's area inside the approved boundary: the parcel is inside


def share_inside(part_4549: BaseGeometry, boundary_4549: BaseGeometry) -> float:
    """The share (0–1) of ``part``'s area inside ``boundary``; 0.0 for an empty or zero-area part.

    Examples
    --------
    >>> from shapely import box
    >>> share_inside(box(0, 0, 100, 100), box(0, 0, 200, 200))
    1.0
    >>> share_inside(box(0, 0, 100, 100), box(50, 0, 200, 200))
    0.5
    >>> share_inside(box(0, 0, 100, 100), box(300, 300, 400, 400))
    0.0
    """
    whole = float(_area(part_4549)) if part_4549 is not None else 0.0
    if whole <= 0.0 or boundary_4549 is None or boundary_4549.is_empty:
        return 0.0
    try:
        common = intersection(part_4549, boundary_4549)
    except Exception:  # a self-intersecting shape: intersect its valid form
        common = intersection(make_valid(part_4549), make_valid(boundary_4549))
    return min(1.0, float(_area(common)) / whole)


def lies_inside(part_4549: BaseGeometry, boundary_4549: BaseGeometry,
                min_share: float = INSIDE_MIN_SHARE) -> bool:
    """True when at least ``min_share`` of ``part``'s area lies inside ``boundary``.

    Examples
    --------
    >>> from shapely import box
    >>> lies_inside(box(0, 0, 100, 100), box(0, 0, 100, 100))
    True
    >>> lies_inside(box(0, 0, 100, 100), box(0.5, 0, 100, 100))  # 0.5 % outside
    True
    >>> lies_inside(box(0, 0, 100, 100), box(2, 0, 100, 100))  # 2 % outside
    False
    """
    return share_inside(part_4549, boundary_4549) >= min_share
