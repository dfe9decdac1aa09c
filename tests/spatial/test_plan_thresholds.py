"""The rule functions take the thresholds of the plan in force (spatial.PlanThresholds)."""

import pytest
from shapely import box

import spatial
from spatial import PlanThresholds, check_block, check_parcel, check_unit_year


def test_default_is_the_2022_plan():
    t = spatial.DEFAULT_THRESHOLDS
    assert (t.min_block_mu, t.max_blocks_per_unit_per_year, t.min_parcel_mu, t.min_far,
            t.min_merged_parcel_mu, t.tolerance_m) == (200.0, 2, 20.0, 2.0, 20.0, 30.0)
    assert t == PlanThresholds()


def test_block_rule_quotes_the_plan_used():
    later = PlanThresholds(min_block_mu=150, min_far=2.2, tolerance_m=40)
    assert check_block(160, 1) != []
    assert check_block(160, 1, thresholds=later) == []
    v = check_block(140, 2, average_far=2.1, thresholds=later)
    assert [x.code for x in v] == ["block_area_below_min", "block_not_contiguous", "block_average_far_below_min"]
    assert "低于 150 亩下限" in v[0].message_zh and v[0].values["min_mu"] == 150
    assert "超过 40 米" in v[1].message_zh
    assert "低于目标 2.2" in v[2].message_zh


def test_parcel_and_unit_year_rules_follow_the_plan():
    later = PlanThresholds(min_parcel_mu=15, min_far=1.8, max_blocks_per_unit_per_year=3)
    assert [v.code for v in check_parcel(16, 1.9, renewal_type="zero_land")] == [
        "parcel_area_below_min", "parcel_far_below_min"]
    assert check_parcel(16, 1.9, renewal_type="zero_land", thresholds=later) == []
    assert "须达到 1.8 以上" in check_parcel(16, None, renewal_type="zero_land", thresholds=later)[0].message_zh
    assert check_unit_year("崇福镇", 2024, ["A", "B", "C"], thresholds=later) == []
    assert "超过每年 2 个" in check_unit_year("崇福镇", 2022, ["A", "B", "C"])[0].message_zh


def test_analyse_block_uses_the_thresholds():
    # 160 亩 in one piece: 400 m × 266.667 m
    parcel = spatial.ParcelInput("P1", box(0, 0, 400, 800 / 3), None, "industrial_to_industrial", "upgrade")
    assert not spatial.analyse_block([parcel], crs=4549).passed
    assert spatial.analyse_block([parcel], crs=4549, thresholds=PlanThresholds(min_block_mu=150)).passed


def test_negative_threshold_is_misuse():
    with pytest.raises(ValueError):
        PlanThresholds(min_block_mu=-1)
