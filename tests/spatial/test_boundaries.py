"""Four boundaries (四至): hand-made layouts and the 180° rotation property."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, Point, Polygon, affinity, box

from spatial import Neighbour, four_boundaries, four_boundaries_many, four_boundaries_text
from spatial.boundaries import four_boundaries_table
from tests.spatial.shapes import BLOCK, EAST_ROAD, NE_RIVER, SOUTH_LEFT, SOUTH_RIGHT, WEST_FIRM, X0, Y0

NOTHING = "（50 米内无相邻要素）"


def test_four_named_neighbours_and_the_standard_text():
    fb = four_boundaries(BLOCK, [("环城东路", EAST_ROAD), ("甲公司", WEST_FIRM), ("乙公司", SOUTH_LEFT),
                                 ("振兴路", box(X0 - 50, Y0 + 100, X0 + 250, Y0 + 124))])
    assert (fb.east, fb.south, fb.west, fb.north) == ("环城东路", "乙公司", "甲公司", "振兴路")
    assert fb.text == "东至环城东路，南至乙公司，西至甲公司，北至振兴路"
    assert (fb.east_x, fb.south_y, fb.west_x, fb.north_y) == (X0 + 200, Y0, X0, Y0 + 100)


def test_side_with_nothing_within_the_search_distance():
    fb = four_boundaries(BLOCK, [("甲公司", WEST_FIRM), ("远处公司", box(X0 + 260, Y0, X0 + 300, Y0 + 100))])
    assert fb.east is None and fb.west == "甲公司"
    assert fb.text == f"东至{NOTHING}，南至{NOTHING}，西至甲公司，北至{NOTHING}"
    # the same neighbour is found when the search reaches it
    assert four_boundaries(BLOCK, [("远处公司", box(X0 + 260, Y0, X0 + 300, Y0 + 100))], 70).east == "远处公司"


def test_neighbour_wrapping_two_sides():
    fb = four_boundaries(BLOCK, [("康泾塘", NE_RIVER), ("甲公司", WEST_FIRM)])
    assert fb.east == "康泾塘" and fb.north == "康泾塘" and fb.west == "甲公司" and fb.south is None
    east, south, west, north = fb.sides
    assert east.facing_m == pytest.approx(100.0) and north.facing_m == pytest.approx(200.0)
    assert east.distance_m == pytest.approx(10.0) and north.distance_m == pytest.approx(10.0)


def test_longest_facing_length_wins_and_others_are_listed():
    fb = four_boundaries(BLOCK, [("乙公司", SOUTH_LEFT), ("丙公司", SOUTH_RIGHT)])
    south = fb.sides[1]
    assert south.name == "乙公司" and south.facing_m == pytest.approx(120.0)
    assert south.others == (("丙公司", pytest.approx(80.0)),)
    assert south.side_length_m == pytest.approx(200.0)


def test_equal_facing_length_goes_to_the_nearer_then_to_name_order():
    half_near = box(X0, Y0 - 60, X0 + 100, Y0)  # touching
    half_far = box(X0 + 100, Y0 - 60, X0 + 200, Y0 - 5)  # 5 m away
    assert four_boundaries(BLOCK, [("乙", half_far), ("甲", half_near)]).south == "甲"
    assert four_boundaries(BLOCK, [("甲", half_far), ("乙", half_near)]).south == "乙"
    same_distance = box(X0 + 100, Y0 - 60, X0 + 200, Y0)
    # a full tie falls to name order, which is Unicode code-point order (乙 U+4E59 < 甲 U+7532)
    assert four_boundaries(BLOCK, [("甲", half_near), ("乙", same_distance)]).south == "乙"


def test_a_ray_faces_the_nearest_of_several_neighbours():
    behind = box(X0 + 210, Y0 - 10, X0 + 240, Y0 + 110)  # 10 m east, behind the road
    fb = four_boundaries(BLOCK, [("后排公司", behind), ("环城东路", EAST_ROAD)])
    assert fb.east == "环城东路"
    assert four_boundaries(BLOCK, [("后排公司", behind)]).east == "后排公司"


def test_features_with_the_same_name_count_together():
    # a road in three pieces (3 × 60 m) beats one 80 m neighbour... on the south side
    pieces = [box(X0 + x, Y0 - 20, X0 + x + 40, Y0) for x in (0, 40, 80)]
    firm = box(X0 + 120, Y0 - 40, X0 + 200, Y0)
    fb = four_boundaries(BLOCK, [("文华路", p) for p in pieces] + [("丁公司", firm)])
    assert fb.south == "文华路" and fb.sides[1].facing_m == pytest.approx(120.0)


def test_members_inside_the_block_are_not_neighbours():
    member = box(X0 + 150, Y0, X0 + 200, Y0 + 100)  # a parcel of the block on its east edge
    fb = four_boundaries(BLOCK, [("区块内地块", member), ("环城东路", EAST_ROAD)])
    assert fb.east == "环城东路"


def test_points_and_lines_as_neighbours():
    fb = four_boundaries(BLOCK, [Neighbour("某企业", Point(X0 + 210, Y0 + 50)),
                                 Neighbour("河道中心线", LineString([(X0 - 20, Y0 - 10), (X0 - 20, Y0 + 110)]))])
    assert fb.east == "某企业" and fb.west == "河道中心线"
    assert fb.sides[0].facing_m == pytest.approx(10.0)  # a 5 m-radius circle faces 10 m of the edge


def test_concave_block_and_multipolygon():
    l_block = Polygon([(X0, Y0), (X0 + 200, Y0), (X0 + 200, Y0 + 100), (X0 + 100, Y0 + 100),
                       (X0 + 100, Y0 + 200), (X0, Y0 + 200)])
    in_notch = box(X0 + 110, Y0 + 110, X0 + 200, Y0 + 200)
    fb = four_boundaries(l_block, [("缺口内公司", in_notch)])
    # the notch faces north (the lower arm's top) and east (the upper arm's side)
    assert fb.north == "缺口内公司" and fb.east == "缺口内公司"


def test_many_subjects_among_themselves():
    row = [box(X0 + 100 * k, Y0, X0 + 100 * (k + 1), Y0 + 100) for k in range(3)]
    many = four_boundaries_many(row, names=["甲", "乙", "丙"])
    assert [(fb.west, fb.east) for fb in many] == [(None, "乙"), ("甲", "丙"), ("乙", None)]
    table = four_boundaries_table(row, names=["甲", "乙", "丙"])
    assert table.texts() == [fb.text for fb in many]
    assert table.rows() == many


def test_invalid_calls():
    with pytest.raises(ValueError):
        four_boundaries(Polygon(), [])
    with pytest.raises(ValueError):
        four_boundaries(BLOCK, [], 0)
    with pytest.raises(ValueError):
        four_boundaries_many([BLOCK])


def test_text_and_to_dict():
    assert four_boundaries_text({"east": "甲", "south": "乙", "west": "丙", "north": "丁"}, 50) == \
        "东至甲，南至乙，西至丙，北至丁"
    d = four_boundaries(BLOCK, [("甲公司", WEST_FIRM)]).to_dict()
    assert d["west"] == "甲公司" and d["extremes"]["west_x"] == X0 and len(d["sides"]) == 4


NAMES = ["甲公司", "乙公司", "丙公司", "丁公司", "河道", "路"]


@st.composite
def layouts(draw):
    """A block and up to 8 named boxes around it, integer metres around the origin."""
    w, h = draw(st.integers(40, 300)), draw(st.integers(40, 300))
    x, y = draw(st.integers(-200, 0)), draw(st.integers(-200, 0))
    block = box(x, y, x + w, y + h)
    neighbours = []
    for _ in range(draw(st.integers(0, 8))):
        nx, ny = draw(st.integers(-300, 300)), draw(st.integers(-300, 300))
        nw, nh = draw(st.integers(5, 200)), draw(st.integers(5, 200))
        neighbours.append((draw(st.sampled_from(NAMES)), box(nx, ny, nx + nw, ny + nh)))
    return block, neighbours


def rotate_180(g):
    return affinity.scale(g, -1, -1, origin=(0, 0))  # exact: negates every coordinate


@settings(derandomize=True, max_examples=80, deadline=None)
@given(layouts(), st.sampled_from([5.0, 12.5, 40.0]))
def test_rotating_the_layout_180_degrees_swaps_east_west_and_north_south(layout, spacing):
    block, neighbours = layout
    fb = four_boundaries(block, neighbours, spacing_m=spacing)
    turned = four_boundaries(rotate_180(block), [(n, rotate_180(g)) for n, g in neighbours], spacing_m=spacing)
    assert (turned.east, turned.south, turned.west, turned.north) == (fb.west, fb.north, fb.east, fb.south)
    assert (turned.east_x, turned.north_y) == (-fb.west_x, -fb.south_y)
    for a, b in ((0, 2), (1, 3), (2, 0), (3, 1)):
        assert turned.sides[a].facing_m == pytest.approx(fb.sides[b].facing_m)


@settings(derandomize=True, max_examples=40, deadline=None)
@given(layouts())
def test_four_boundaries_is_deterministic_and_order_independent(layout):
    block, neighbours = layout
    fb = four_boundaries(block, neighbours)
    assert four_boundaries(block, list(reversed(neighbours))) == fb
