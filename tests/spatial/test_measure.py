"""Areas in 亩 and FAR: hand-computed values, the ellipsoid cross-check and invariants."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import Polygon, affinity, box

from spatial import (
    M2_PER_MU,
    area_m2,
    area_mu,
    area_mu_of_storage,
    areas_mu,
    ellipsoidal_area_m2,
    ellipsoidal_area_mu,
    floor_area_ratio,
    to_storage_crs,
)

from tests.spatial.shapes import RECT_20_MU, RECT_20_MU_SURVEYED, SQUARE_60_MU, X0, Y0


def test_mu_is_defined_once_and_exactly():
    assert M2_PER_MU == 10000 / 15


def test_square_200m_is_60_mu_exactly():
    assert area_m2(SQUARE_60_MU) == 40000.0
    assert area_mu(SQUARE_60_MU) == 60.0


def test_rectangle_100_by_133_333_is_20_mu():
    assert area_mu(RECT_20_MU) == pytest.approx(20.0, abs=1e-9)
    assert round(area_mu(RECT_20_MU_SURVEYED), 2) == 20.0


def test_areas_mu_vectorised_matches_scalar():
    got = areas_mu([SQUARE_60_MU, RECT_20_MU, None])
    assert got[0] == 60.0
    assert got[1] == pytest.approx(20.0)
    assert math.isnan(got[2])


def test_area_of_storage_geometry_goes_through_4549():
    square_4490 = to_storage_crs(SQUARE_60_MU, 4549)
    assert area_mu_of_storage(square_4490) == pytest.approx(60.0, rel=1e-9)


@pytest.mark.parametrize(
    "lon, lat",
    [(120.28, 30.47), (120.66, 30.78), (120.47, 30.62), (120.28, 30.78), (120.66, 30.47)],
)
def test_plane_and_ellipsoidal_area_agree_within_0_02_percent_in_tongxiang(lon, lat):
    # a 300 m × 300 m parcel (135 亩) at each corner and the centre of Tongxiang
    from spatial import to_area_crs

    corner = to_area_crs(Polygon([(lon, lat)] * 3)).exterior.coords[0]
    parcel_4549 = box(corner[0], corner[1], corner[0] + 300, corner[1] + 300)
    parcel_4490 = to_storage_crs(parcel_4549, 4549)
    plane = area_mu_of_storage(parcel_4490)
    ellipsoidal = ellipsoidal_area_mu(parcel_4490)
    assert plane == pytest.approx(135.0, rel=1e-9)
    assert abs(plane - ellipsoidal) / ellipsoidal < 0.0002
    # GK scale grows away from 120°E: the plane area is the larger one
    assert plane >= ellipsoidal


def test_ellipsoidal_area_of_nothing_is_zero():
    assert ellipsoidal_area_m2(Polygon()) == 0.0
    assert ellipsoidal_area_m2(None) == 0.0


@pytest.mark.parametrize(
    "floor, land, expected",
    [
        (26666.67, 13333.33, 2.0),
        (0.0, 100.0, 0.0),
        (100.0, 0.0, None),  # no land: undefined, not infinite
        (None, 100.0, None),
        (100.0, None, None),
        (float("nan"), 100.0, None),
        (100.0, float("nan"), None),
        (1.0, 3.0, 0.3333),  # rounded to 4 decimals
    ],
)
def test_floor_area_ratio_edge_cases(floor, land, expected):
    assert floor_area_ratio(floor, land) == expected


@pytest.mark.parametrize("floor, land", [(-1.0, 100.0), (100.0, -1.0)])
def test_negative_inputs_are_programmer_errors(floor, land):
    with pytest.raises(ValueError):
        floor_area_ratio(floor, land)


coord = st.integers(min_value=-500, max_value=500)


@st.composite
def quads(draw):
    """A convex-ish quadrilateral around the origin (non-degenerate)."""
    w = draw(st.integers(20, 400))
    h = draw(st.integers(20, 400))
    dx = draw(st.integers(-10, 10))
    dy = draw(st.integers(-10, 10))
    return Polygon([(0, 0), (w, dy), (w + dx, h), (0, h)])


@settings(derandomize=True, max_examples=60, deadline=None)
@given(quads(), st.floats(-1e5, 1e5), st.floats(-1e5, 1e5), st.floats(0, 360))
def test_area_is_invariant_under_translation_and_rotation(poly, dx, dy, angle):
    moved = affinity.translate(affinity.rotate(poly, angle, origin=(0, 0)), X0 + dx, Y0 + dy)
    assert area_mu(moved) == pytest.approx(area_mu(poly), rel=1e-9)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 300), st.integers(1, 300)), min_size=1, max_size=8))
def test_area_is_additive_over_disjoint_parcels(sizes):
    # lay the parcels out in a row with 10 m gaps: disjoint by construction
    parcels, x = [], X0
    for w, h in sizes:
        parcels.append(box(x, Y0, x + w, Y0 + h))
        x += w + 10
    from shapely import union_all

    assert area_mu(union_all(parcels)) == pytest.approx(sum(area_mu(p) for p in parcels), rel=1e-12)
    assert sum(areas_mu(parcels)) == pytest.approx(sum(w * h for w, h in sizes) / M2_PER_MU, rel=1e-12)
