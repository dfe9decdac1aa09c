"""Validity: one report per geometry, overlaps between parcels, gaps inside a block."""

import json

import pytest
from shapely import GeometryCollection, LineString, MultiPolygon, Polygon, box

from spatial import (
    Problem,
    gap_problems,
    geometry_problems,
    overlap_problems,
    overlapping_pairs,
    problems_of_many,
    repair,
)
from tests.spatial.shapes import (
    A_POINT,
    BOWTIE,
    OVERLAP_A,
    OVERLAP_B,
    SLIVER,
    SQUARE_60_MU,
    SQUARE_WITH_DUPLICATE,
    SQUARE_WITH_HOLE,
    X0,
    Y0,
)


def codes(problems):
    return [p.code for p in problems]


def test_clean_polygon_has_no_problems():
    assert geometry_problems(SQUARE_60_MU) == []


def test_bowtie_reports_location_repair_and_area_change():
    problems = geometry_problems(BOWTIE, feature_id="P1")
    invalid = problems[0]
    assert invalid.code == "invalid_geometry" and invalid.severity == "error"
    assert invalid.location == (X0 + 5, Y0 + 5)
    assert invalid.feature_ids == ("P1",)
    assert invalid.repaired.is_valid and invalid.repaired.area == pytest.approx(50.0)
    assert invalid.repair_changes_area is True
    assert invalid.values["area_before_m2"] == 0.0 and invalid.values["area_after_m2"] == 50.0
    assert "自相交" in invalid.message_zh
    # the repaired bow-tie is two triangles: reported as several parts
    assert codes(problems) == ["invalid_geometry", "multipart"]


def test_repair_that_keeps_the_area_says_so():
    # a ring with a zero-area spike: invalid, repair removes the spike, area unchanged
    spiked = Polygon([(X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 50), (X0 + 150, Y0 + 50), (X0 + 100, Y0 + 50),
                      (X0 + 100, Y0 + 100), (X0, Y0 + 100)])
    invalid = geometry_problems(spiked)[0]
    assert invalid.code == "invalid_geometry"
    assert invalid.repair_changes_area is False
    assert invalid.repaired.area == pytest.approx(10_000.0)


def test_null_empty_and_wrong_type():
    assert codes(geometry_problems(None)) == ["null_geometry"]
    assert codes(geometry_problems(Polygon())) == ["empty_geometry"]
    assert codes(geometry_problems(A_POINT)) == ["wrong_geometry_type"]
    line = geometry_problems(LineString([(X0, Y0), (X0 + 10, Y0)]))
    assert line[0].code == "wrong_geometry_type" and line[0].repaired is None and "线" in line[0].message_zh
    # a collection holding a polygon: the polygon is offered as the repair
    mixed = geometry_problems(GeometryCollection([SQUARE_60_MU, A_POINT]))
    assert mixed[0].code == "wrong_geometry_type" and mixed[0].repaired.equals(SQUARE_60_MU)


def test_duplicate_vertices():
    problems = geometry_problems(SQUARE_WITH_DUPLICATE)
    assert codes(problems) == ["duplicate_vertices"]
    assert problems[0].location == (X0 + 100, Y0)
    assert problems[0].values["count"] == 1
    assert problems[0].severity == "warning"


def test_hole_is_reported_with_its_area():
    problems = geometry_problems(SQUARE_WITH_HOLE)
    assert codes(problems) == ["hole"]
    assert problems[0].values == {"count": 1, "areas_m2": [400.0]}


def test_sliver_below_one_metre_mean_width():
    problems = geometry_problems(SLIVER)
    assert codes(problems) == ["sliver"]
    assert problems[0].values["mean_width_m"] == pytest.approx(100 / 200.5, abs=1e-3)
    # 1.2 m wide is not a sliver
    assert geometry_problems(box(X0, Y0, X0 + 100, Y0 + 1.2)) == []


def test_multipart():
    two = MultiPolygon([box(X0, Y0, X0 + 10, Y0 + 10), box(X0 + 20, Y0, X0 + 30, Y0 + 10)])
    assert codes(geometry_problems(two)) == ["multipart"]


def test_problems_of_many_equals_one_by_one():
    geoms = [SQUARE_60_MU, BOWTIE, None, SLIVER, SQUARE_WITH_HOLE, SQUARE_WITH_DUPLICATE, A_POINT, Polygon()]
    ids = [f"F{i}" for i in range(len(geoms))]
    many = problems_of_many(geoms, ids)
    one_by_one = [p for g, i in zip(geoms, ids) for p in geometry_problems(g, feature_id=i)]
    assert codes(many) == codes(one_by_one)
    assert [p.feature_ids for p in many] == [p.feature_ids for p in one_by_one]


def test_overlap_pairs_with_area():
    i, j, area = overlapping_pairs([OVERLAP_A, OVERLAP_B, box(X0 + 500, Y0, X0 + 600, Y0 + 100)])
    assert (i.tolist(), j.tolist()) == ([0], [1])
    assert area[0] == pytest.approx(1000.0)
    problems = overlap_problems([OVERLAP_A, OVERLAP_B], ids=["A", "B"])
    assert problems[0].feature_ids == ("A", "B")
    assert problems[0].values["overlap_m2"] == pytest.approx(1000.0)
    assert "1.50 亩" in problems[0].message_zh


def test_overlap_tolerance_and_shared_edges():
    # neighbours sharing an edge do not overlap
    assert overlap_problems([box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 100, Y0, X0 + 200, Y0 + 100)]) == []
    # 0.5 m² overlap is below the 1 m² tolerance, 2 m² is above
    assert overlap_problems([box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 99.995, Y0, X0 + 200, Y0 + 100)]) == []
    assert len(overlap_problems([box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 99.98, Y0, X0 + 200, Y0 + 100)])) == 1
    # containment and exact duplicates count as overlaps
    inner = box(X0 + 10, Y0 + 10, X0 + 20, Y0 + 20)
    assert len(overlap_problems([SQUARE_60_MU, inner])) == 1
    assert len(overlap_problems([SQUARE_60_MU, SQUARE_60_MU])) == 1


def test_gaps_inside_a_block_boundary():
    block = box(X0, Y0, X0 + 200, Y0 + 100)
    parcels = [box(X0, Y0, X0 + 90, Y0 + 100), box(X0 + 100, Y0, X0 + 200, Y0 + 100)]  # a 10 m strip uncovered
    gaps = gap_problems(parcels, block, block_id="B")
    assert len(gaps) == 1
    assert gaps[0].values["area_m2"] == pytest.approx(1000.0)
    assert gaps[0].feature_ids == ("B",) and gaps[0].severity == "warning"


def test_gaps_without_boundary_are_the_enclosed_holes():
    ring = [box(X0, Y0, X0 + 30, Y0 + 10), box(X0, Y0 + 20, X0 + 30, Y0 + 30),
            box(X0, Y0 + 10, X0 + 10, Y0 + 20), box(X0 + 20, Y0 + 10, X0 + 30, Y0 + 20)]
    gaps = gap_problems(ring)
    assert [g.values["area_m2"] for g in gaps] == [100.0]
    # tiny gaps are below tolerance
    assert gap_problems([box(0, 0, 10, 10), box(10.05, 0, 20, 10)], box(0, 0, 20, 10)) == []


def test_problem_to_dict_is_json_ready():
    d = geometry_problems(BOWTIE, feature_id=7)[0].to_dict()
    json.dumps(d, ensure_ascii=False)
    assert d["repaired"]["type"] == "MultiPolygon" and d["feature_ids"] == [7]


def test_repair_keeps_only_polygons():
    assert repair(BOWTIE).geom_type == "MultiPolygon"
    assert isinstance(Problem("x", "y"), Problem)
