"""The block boundary derived from its parcels (a closing of the gaps up to the contiguity tolerance),
and the separations named when parcels stay apart."""

import numpy as np
import pytest
import shapely
from shapely import box

from spatial import (
    M2_PER_MU,
    ParcelInput,
    analyse_block,
    contiguity_report,
    derived_boundary,
    is_contiguous,
    separations,
)


def _row(n: int, width: float, gap: float, height: float = 100.0, x0: float = 0.0) -> list:
    """``n`` parcels in a row, ``gap`` metres apart (a road or a river between each pair)."""
    return [box(x0 + k * (width + gap), 0, x0 + k * (width + gap) + width, height) for k in range(n)]


def test_roads_narrower_than_the_tolerance_are_closed_into_one_polygon():
    parcels = _row(3, 100.0, 24.0)
    b = derived_boundary(parcels)
    assert b.geom_type == "Polygon" and not b.interiors
    assert b.area == pytest.approx(3 * 100 * 100 + 2 * 24 * 100, rel=1e-6)  # the roads between, nothing beyond
    assert shapely.covers(b.buffer(1e-6), shapely.union_all(parcels))
    assert b.bounds == pytest.approx((0, 0, 348, 100))  # the parcels' outer edges are kept


def test_it_never_reaches_across_more_than_the_tolerance():
    apart = _row(2, 100.0, 30.5)
    assert derived_boundary(apart).geom_type == "MultiPolygon"
    assert derived_boundary(_row(2, 100.0, 29.5)).geom_type == "Polygon"
    assert derived_boundary(apart, tolerance_m=40.0).geom_type == "Polygon"


def test_seven_parcels_within_15_m_of_each_other_make_one_boundary():
    """The case an officer could not submit: 7 parcels of 222 亩 lying within 15 m of each other."""
    side = np.sqrt(222 * M2_PER_MU / 7)
    parcels = [box(x, y, x + side, y + side) for x, y in
               [(0, 0), (side + 15, 0), (2 * (side + 15), 0), (0, side + 12), (side + 15, side + 12),
                (2 * (side + 15), side + 9), (3 * (side + 15), 4)]]
    assert is_contiguous(parcels)
    b = derived_boundary(parcels)
    assert b.geom_type == "Polygon"
    assert shapely.covers(b.buffer(1e-6), shapely.union_all(parcels))
    r = analyse_block([ParcelInput(f"P{k}", g, 2.2 * g.area, "industrial_to_industrial", "upgrade")
                       for k, g in enumerate(parcels)], block_id="B", crs=4549)
    assert r.passed and r.boundary_derived and r.land_area_mu == pytest.approx(222.0, abs=0.01)
    assert [p.code for p in r.problems if p.severity == "error"] == []
    assert r.boundary_area_mu > r.land_area_mu  # the gaps are inside the boundary, not in the land


def test_corner_to_corner_links_are_bridged_with_a_strip():
    parcels = [box(0, 0, 100, 100), box(120, 120, 220, 220)]  # 28.3 m corner to corner
    assert is_contiguous(parcels)
    assert derived_boundary(parcels).geom_type == "Polygon"


def test_holes_wider_than_the_tolerance_stay_out():
    ring = [box(0, 0, 300, 100), box(0, 200, 300, 300), box(0, 100, 100, 200), box(200, 100, 300, 200)]
    b = derived_boundary(ring)  # a 100 m courtyard (a factory not in the plan) in the middle
    assert b.geom_type == "Polygon" and len(b.interiors) == 1
    assert shapely.Polygon(b.interiors[0]).area == pytest.approx(100 * 100, rel=1e-3)


def test_separations_name_the_gap_that_splits_the_groups():
    parcels = _row(2, 100.0, 20.0) + _row(1, 100.0, 0.0, x0=265.0)  # a 45 m river before the third
    gaps = separations(parcels, ["a", "b", "c"])
    assert [(g.feature_ids, g.distance_m) for g in gaps] == [(("b", "c"), 45.0)]
    assert separations(_row(3, 100.0, 20.0)) == []
    r = contiguity_report(parcels, ["a", "b", "c"])
    assert [g.distance_m for g in r.separations] == [45.0] and r.to_dict()["separations"][0]["distance_m"] == 45.0


def test_a_block_beyond_the_tolerance_fails_naming_the_gap():
    parcels = _row(2, 300.0, 45.0, height=300.0)  # 270 亩 of land, a 45 m river between
    r = analyse_block([ParcelInput(k, g, 2.5 * g.area, "industrial_to_industrial", "upgrade")
                       for k, g in zip("AB", parcels)], block_id="B", crs=4549)
    assert not r.passed
    v = next(v for v in r.violations if v.code == "block_not_contiguous")
    assert "最近处相距 45.00 米，超过 30 米" in v.message_zh and v.values["separation_m"] == 45.0
    assert r.boundary.geom_type == "MultiPolygon" and r.contiguity.separations[0].distance_m == 45.0


def test_a_given_boundary_is_checked_as_before_and_not_derived():
    parcels = _row(2, 300.0, 24.0, height=300.0)
    given = box(0, 0, 624, 300)
    r = analyse_block([ParcelInput(k, g, 2.5 * g.area, "industrial_to_industrial", "upgrade")
                       for k, g in zip("AB", parcels)], block_id="B", block_geom=given, crs=4549)
    assert not r.boundary_derived and r.boundary_area_mu == pytest.approx(624 * 300 / M2_PER_MU, abs=0.01)
    assert any(p.code == "gap" for p in r.problems)  # a drawn boundary's uncovered road is reported
    none = analyse_block([ParcelInput(k, g) for k, g in zip("AB", parcels)], crs=4549, derive_boundary=False)
    assert none.boundary is None and not none.boundary_derived
