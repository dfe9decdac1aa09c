"""The plan's rules: each threshold on both sides, stable codes, failures as data."""

import pytest

from spatial import (
    CLASSIFICATIONS,
    MAX_BLOCKS_PER_UNIT_PER_YEAR,
    MIN_BLOCK_MU,
    MIN_FAR,
    MIN_MERGED_PARCEL_MU,
    MIN_PARCEL_MU,
    RENEWAL_TYPES,
    area_mu,
    check_block,
    check_classifications,
    check_parcel,
    check_renewal_type,
    check_unit_year,
)
from spatial.rules import CODES
from tests.spatial.shapes import (
    BLOCK_199_9_MU,
    BLOCK_200_MU,
    PARCEL_19_99_MU,
    PARCEL_20_00_MU,
    RECT_20_MU,
    RECT_20_MU_SURVEYED,
)

OK_TYPE = "industrial_to_industrial"


def codes(violations):
    return [v.code for v in violations]


def test_thresholds_are_the_plans():
    assert (MIN_BLOCK_MU, MIN_PARCEL_MU, MIN_FAR, MIN_MERGED_PARCEL_MU, MAX_BLOCKS_PER_UNIT_PER_YEAR) == (
        200, 20, 2.0, 20, 2)


def test_codes_match_app_enums():
    assert set(RENEWAL_TYPES) == {"secondary_upgrade", "industrial_to_industrial", "zero_land"}
    assert set(CLASSIFICATIONS) == {"upgrade", "transform", "clear_out"}
    assert RENEWAL_TYPES["secondary_upgrade"] == "退二优二" and CLASSIFICATIONS["clear_out"] == "整治清退"


@pytest.mark.parametrize(
    "geom, expected",
    [(PARCEL_19_99_MU, ["parcel_area_below_min"]), (PARCEL_20_00_MU, []), (RECT_20_MU, []), (RECT_20_MU_SURVEYED, [])],
)
def test_parcel_area_both_sides_of_20_mu(geom, expected):
    assert codes(check_parcel(area_mu(geom), 2.5, renewal_type=OK_TYPE)) == expected


@pytest.mark.parametrize("area, expected", [(19.994, ["parcel_area_below_min"]), (19.995, [])])
def test_area_is_checked_as_reported_to_0_01_mu(area, expected):
    assert codes(check_parcel(area, 2.5, renewal_type=OK_TYPE)) == expected


@pytest.mark.parametrize("far, expected", [(1.99, ["parcel_far_below_min"]), (2.0, []), (2.00, []), (1.9949, ["parcel_far_below_min"]), (1.995, [])])
def test_parcel_far_both_sides_of_2(far, expected):
    assert codes(check_parcel(25.0, far, renewal_type=OK_TYPE)) == expected


def test_parcel_far_missing_is_a_violation_not_an_exception():
    v = check_parcel(25.0, None, feature_id="P9", renewal_type=OK_TYPE)
    assert codes(v) == ["parcel_far_missing"] and v[0].feature_ids == ("P9",)


def test_merged_plots_need_20_mu_but_no_far():
    assert check_parcel(20.0, None, merged=True, renewal_type=OK_TYPE) == []
    assert check_parcel(20.0, 0.8, merged=True, renewal_type=OK_TYPE) == []
    v = check_parcel(19.99, None, merged=True, renewal_type=OK_TYPE, feature_id="M1")
    assert codes(v) == ["merged_parcel_area_below_min"]
    assert v[0].values == {"area_mu": 19.99, "min_mu": 20.0}
    assert "整合归宗" in v[0].message_zh


def test_violation_carries_values_ids_and_chinese_message():
    (v,) = check_parcel(12.3, 2.5, feature_id=12, renewal_type=OK_TYPE)
    assert v.values == {"area_mu": 12.3, "min_mu": 20.0}
    assert v.feature_ids == (12,)
    assert v.message_zh == "宗地面积 12.30 亩，低于 20 亩下限"
    assert v.to_dict()["feature_ids"] == [12]


@pytest.mark.parametrize("geom, expected", [(BLOCK_199_9_MU, ["block_area_below_min"]), (BLOCK_200_MU, [])])
def test_block_area_both_sides_of_200_mu(geom, expected):
    assert codes(check_block(area_mu(geom), 1)) == expected


def test_block_must_be_one_group():
    v = check_block(250.0, 3, feature_id="B1", tolerance_m=30)
    assert codes(v) == ["block_not_contiguous"]
    assert v[0].values == {"component_count": 3, "tolerance_m": 30}
    assert "3 个" in v[0].message_zh and "30 米" in v[0].message_zh


def test_block_average_far_is_a_warning():
    v = check_block(250.0, 1, average_far=1.99)
    assert codes(v) == ["block_average_far_below_min"] and v[0].severity == "warning"
    assert check_block(250.0, 1, average_far=2.0) == []


def test_at_most_two_blocks_per_unit_per_year():
    assert check_unit_year("崇福镇", 2022, ["A", "B"]) == []
    (v,) = check_unit_year("崇福镇", 2022, ["A", "B", "C"])
    assert v.code == "unit_year_block_limit_exceeded"
    assert v.values == {"unit": "崇福镇", "year": 2022, "count": 3, "max": 2}
    assert v.feature_ids == ("A", "B", "C")


@pytest.mark.parametrize("rt", ["secondary_upgrade", "industrial_to_industrial", "zero_land"])
def test_counted_renewal_types(rt):
    assert check_renewal_type(rt) == []


@pytest.mark.parametrize("rt, code", [(None, "renewal_type_missing"), ("", "renewal_type_missing"),
                                      ("commercial", "renewal_type_not_counted"), ("工改工", "renewal_type_not_counted")])
def test_renewal_types_that_do_not_count(rt, code):
    assert codes(check_renewal_type(rt, feature_id="X")) == [code]


def test_every_enterprise_classified():
    assert check_classifications([("甲", "upgrade"), ("乙", "transform"), ("丙", "clear_out")]) == []
    v = check_classifications([("甲", "upgrade"), ("乙", None), ("丙", "改造提升"), ("丁", " ")])
    assert [(x.code, x.feature_ids) for x in v] == [("classification_missing", ("乙", "丁")),
                                                     ("classification_unknown", ("丙",))]


def test_all_codes_are_declared():
    produced = {
        *codes(check_parcel(1, 1, renewal_type="x")), *codes(check_parcel(1, None, renewal_type=None)),
        *codes(check_parcel(1, None, merged=True)), *codes(check_block(1, 2, average_far=1)),
        *codes(check_unit_year("u", 2022, [1, 2, 3])), *codes(check_classifications([(1, None), (2, "x")])),
    }
    assert produced == set(CODES)
