"""Contiguity (连片): components, bridged gaps, boundary checks, monotonicity in the tolerance."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import MultiPolygon, box

from spatial import (
    DEFAULT_TOLERANCE_M,
    boundary_problems,
    component_labels,
    contiguity_gaps,
    contiguity_report,
    is_contiguous,
)
from tests.spatial.shapes import FAR_EAST, ROAD_EAST, ROAD_WEST, X0, Y0


def test_default_tolerance_is_30_m():
    assert DEFAULT_TOLERANCE_M == 30.0


def test_a_24_m_road_is_bridged_a_40_m_gap_is_not():
    assert is_contiguous([ROAD_WEST, ROAD_EAST])
    assert not is_contiguous([ROAD_EAST, FAR_EAST])
    assert is_contiguous([ROAD_EAST, FAR_EAST], tolerance_m=40.0)
    assert not is_contiguous([ROAD_WEST, ROAD_EAST], tolerance_m=23.9)


def test_touching_parcels_are_contiguous_at_zero_tolerance():
    assert is_contiguous([box(0, 0, 10, 10), box(10, 0, 20, 10), box(20, 0, 30, 10)], tolerance_m=0.0)


def test_single_parcel_is_contiguous_and_no_parcel_is_an_error():
    assert is_contiguous([ROAD_WEST])
    with pytest.raises(ValueError):
        is_contiguous([])
    with pytest.raises(ValueError):
        contiguity_report([])


def test_report_components_areas_and_gaps():
    r = contiguity_report([ROAD_WEST, ROAD_EAST, FAR_EAST], ["W", "E", "F"])
    assert not r.is_contiguous
    assert [c.feature_ids for c in r.components] == [("W", "E"), ("F",)]
    assert [c.area_mu for c in r.components] == [120.0, 60.0]
    assert len(r.gaps) == 1
    gap = r.gaps[0]
    assert gap.feature_ids == ("W", "E") and gap.distance_m == 24.0
    assert gap.location[0] == pytest.approx(X0 + 212.0)
    assert r.to_dict()["component_count"] == 2


def test_only_the_gaps_that_matter_are_listed():
    # three squares in a row 10 m apart, and a fourth touching the first: 2 gaps hold them together
    a, b, c = box(0, 0, 100, 100), box(110, 0, 210, 100), box(220, 0, 320, 100)
    d = box(0, 100, 100, 200)  # touches a: no gap
    gaps = contiguity_gaps([a, b, c, d], ["a", "b", "c", "d"])
    assert [(g.feature_ids, g.distance_m) for g in gaps] == [(("a", "b"), 10.0), (("b", "c"), 10.0)]


def test_bridges_prefer_the_shortest_gap():
    a, b = box(0, 0, 100, 100), box(105, 0, 205, 100)  # 5 m apart
    c = box(0, 120, 205, 200)  # 20 m above both
    gaps = contiguity_gaps([a, b, c])
    assert [g.distance_m for g in gaps] == [5.0, 20.0]


def test_boundary_must_be_one_polygon_containing_the_parcels():
    block = box(X0, Y0, X0 + 424, Y0 + 200)
    assert boundary_problems(block, [ROAD_WEST, ROAD_EAST]) == []
    # 0.5 m outside is within the 1 m tolerance
    assert boundary_problems(block, [box(X0 - 0.5, Y0, X0 + 200, Y0 + 200)]) == []
    out = boundary_problems(block, [ROAD_WEST, FAR_EAST], ["W", "F"], block_id="B")
    assert [(p.code, p.feature_ids) for p in out] == [("parcel_outside_block", ("F",))]
    assert out[0].values["outside_m2"] == pytest.approx(40_000.0)  # wholly outside
    two = MultiPolygon([box(X0, Y0, X0 + 200, Y0 + 200), box(X0 + 224, Y0, X0 + 424, Y0 + 200)])
    problems = boundary_problems(two, [ROAD_WEST, ROAD_EAST], block_id="B")
    assert [p.code for p in problems] == ["block_not_single_polygon"]
    assert problems[0].values["part_areas_mu"] == [60.0, 60.0]


def test_report_includes_boundary_problems():
    r = contiguity_report([ROAD_WEST, FAR_EAST], block_4549=box(X0, Y0, X0 + 424, Y0 + 200))
    assert [p.code for p in r.problems] == ["parcel_outside_block"]


def brute_force_labels(geoms, tol):
    n = len(geoms)
    parent = list(range(n))

    def root(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for i in range(n):
        for j in range(i + 1, n):
            if geoms[i].distance(geoms[j]) <= tol:
                parent[max(root(i), root(j))] = min(root(i), root(j))
    roots = [root(i) for i in range(n)]
    order = {r: k for k, r in enumerate(dict.fromkeys(roots))}
    return [order[r] for r in roots]


boxes = st.lists(
    st.tuples(st.integers(0, 600), st.integers(0, 600), st.integers(5, 80), st.integers(5, 80)),
    min_size=1, max_size=14,
)


def layout(spec):
    return [box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h) for x, y, w, h in spec]


@settings(derandomize=True, max_examples=60, deadline=None)
@given(boxes, st.floats(0, 60))
def test_vectorised_labels_match_brute_force(spec, tol):
    geoms = layout(spec)
    assert component_labels(geoms, tol).tolist() == brute_force_labels(geoms, tol)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(boxes, st.floats(0, 50), st.floats(0, 50))
def test_contiguity_is_monotone_in_the_tolerance(spec, t1, t2):
    lo, hi = sorted((t1, t2))
    geoms = layout(spec)
    fine, coarse = component_labels(geoms, lo), component_labels(geoms, hi)
    assert coarse.max() <= fine.max()
    # every group at the smaller tolerance lies inside one group at the larger
    for k in np.unique(fine):
        assert len(np.unique(coarse[fine == k])) == 1
    if is_contiguous(geoms, lo):
        assert is_contiguous(geoms, hi)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(boxes, st.floats(0, 50))
def test_bridged_gaps_connect_exactly_the_components(spec, tol):
    geoms = layout(spec)
    r = contiguity_report(geoms, tolerance_m=tol)
    # a spanning forest: parcels - touching links - gaps = components, each gap within tolerance
    assert all(0 < g.distance_m <= tol + 1e-9 for g in r.gaps)
    assert sum(len(c.feature_ids) for c in r.components) == len(geoms)
