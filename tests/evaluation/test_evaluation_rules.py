"""Not-graded rules, cut-offs at their boundaries, ties, missing data, land, benchmarks and bonus points."""

from dataclasses import replace
from decimal import Decimal as D

import pytest

from evaluation import (
    Adjustment,
    Benchmark,
    Enterprise,
    Figures,
    LeasedFloor,
    NotGradedRule,
    Ties,
    cut_ranks,
    default_config,
    evaluate,
)
from evaluation.inputs import MU_PER_M2

YEAR = 2025
CONFIG = default_config(YEAR)
BELOW = CONFIG.group("below")


def small(code, tax, mu=10, kwh=10, **kw):
    """A 规下 enterprise in production since 2010."""
    return Enterprise(code, f"企业{code}", mu, "below", start_year=kw.pop("start_year", 2010),
                      figures=Figures(tax_10k=tax, electricity_10k_kwh=kwh), **kw)


def grades(result):
    return [e.grade for e in result.enterprises if e.group == "below"]


# --- not graded -----------------------------------------------------------------------------

@pytest.mark.parametrize(("start_year", "reason"), [
    (2025, "不参评：投产不满两年"), (2024, "不参评：投产不满两年"), (2023, None), (2000, None)])
def test_in_production_fewer_than_two_years_is_not_graded(start_year, reason):
    r = evaluate([small("X", 10, start_year=start_year), small("Y", 20)], CONFIG)
    assert r.by_code["X"].reason == reason
    assert (r.by_code["X"].grade is None) == (reason is not None)


def test_utilities_and_major_projects_are_not_graded_with_their_reasons():
    r = evaluate([small("U", 10, is_utility=True), small("M", 10, is_major_project=True), small("Y", 20)], CONFIG)
    assert r.by_code["U"].reason == "不参评：公用事业企业"
    assert r.by_code["M"].reason == "不参评：重大项目在建"
    assert r.group("below").not_graded == 2
    assert r.by_code["Y"].group_size == 1


def test_a_disabled_rule_grades_the_enterprise_and_the_years_are_configurable():
    config = replace(CONFIG, not_graded=(NotGradedRule("new_production", True, 3), NotGradedRule("utility", False)))
    r = evaluate([small("U", 10, is_utility=True), small("N", 10, start_year=2023), small("Y", 20)], config)
    assert r.by_code["U"].grade is not None
    assert r.by_code["N"].reason == "不参评：投产不满三年"


def test_a_missing_start_year_counts_as_long_enough_and_says_so():
    r = evaluate([small("X", 10, start_year=None)], CONFIG)
    assert r.by_code["X"].graded
    assert r.by_code["X"].explanations[0] == "未提供投产年份，按已满两年计"


def test_not_graded_enterprises_do_not_move_the_benchmark():
    with_new = evaluate([small("X", 10), small("N", 1000, start_year=2025)], CONFIG)
    without = evaluate([small("X", 10)], CONFIG)
    assert with_new.group("below").benchmarks == without.group("below").benchmarks


@pytest.mark.parametrize(("mu", "graded"), [("2.9999", False), ("3", True), ("3.0001", True)])
def test_small_enterprises_are_graded_from_three_mu(mu, graded):
    r = evaluate([small("X", 10, mu=mu)], CONFIG)
    assert r.by_code["X"].graded is graded
    if not graded:
        assert r.by_code["X"].reason == "不参评：规下企业用地 2.9999 亩，不足 3 亩"


def test_scale_from_revenue_at_the_threshold():
    at = Enterprise("AT", "甲", 10, None, start_year=2010, figures=Figures(revenue_10k=2000, tax_10k=1))
    under = Enterprise("UN", "乙", 10, None, start_year=2010, figures=Figures(revenue_10k="1999.99", tax_10k=1))
    unknown = Enterprise("NO", "丙", 10, None, start_year=2010, figures=Figures(tax_10k=1))
    r = evaluate([at, under, unknown], CONFIG)
    assert [r.by_code[c].group for c in ("AT", "UN", "NO")] == ["above", "below", "below"]
    assert r.by_code["NO"].explanations[0] == "未提供规上/规下，按营业收入 （未提供） 万元认定为规下"


# --- cut-offs -------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "expected"), [
    (1, (0, 0, 0, 1)), (4, (0, 2, 3, 4)), (5, (1, 3, 4, 5)), (10, (2, 6, 9, 10)), (19, (3, 11, 18, 19)),
    (20, (4, 12, 19, 20)), (21, (4, 12, 19, 21)), (100, (20, 60, 95, 100)),
])
def test_floor_cut_ranks_keep_a_at_most_20_pct_and_d_at_least_5_pct(n, expected):
    assert tuple(cut_ranks(n, BELOW).values()) == expected


@pytest.mark.parametrize(("rounding", "n", "expected"), [
    ("half_up", 7, (1, 4, 7, 7)), ("half_up", 3, (1, 2, 3, 3)), ("half_up", 10, (2, 6, 10, 10)),
    ("half_up", 19, (4, 11, 18, 19)), ("ceil", 4, (1, 3, 4, 4)), ("ceil", 21, (5, 13, 20, 21)),
])
def test_other_roundings_of_the_cut_ranks(rounding, n, expected):
    assert tuple(cut_ranks(n, replace(BELOW, rounding=rounding)).values()) == expected


def test_ten_distinct_totals_give_two_a_four_b_three_c_one_d():
    r = evaluate([small(f"X{k:02d}", 10 + k) for k in range(10)], CONFIG)
    assert [e.credit_code for e in r.enterprises] == [f"X{k:02d}" for k in range(9, -1, -1)]
    assert grades(r) == ["A", "A", "B", "B", "B", "B", "C", "C", "C", "D"]
    assert [e.rank for e in r.enterprises] == list(range(1, 11))


def test_equal_totals_at_a_boundary_share_the_rank_and_the_better_class():
    # ranks 2 and 3 tie on total (same figures): both rank 2, both A although A reaches rank 2 only
    taxes = [30, 20, 20, 15, 14, 13, 12, 11, 10, 9]
    r = evaluate([small(f"X{k:02d}", t) for k, t in enumerate(taxes)], CONFIG)
    assert [e.rank for e in r.enterprises] == [1, 2, 2, 4, 5, 6, 7, 8, 9, 10]
    assert grades(r) == ["A", "A", "A", "B", "B", "B", "C", "C", "C", "D"]
    assert r.group("below").grade_counts == {"A": 3, "B": 3, "C": 3, "D": 1}
    assert r.by_code["X01"].explanations[-1] == "与其他 1 家企业总分相同，并列第 2 名"
    assert [e.credit_code for e in r.enterprises][1:3] == ["X01", "X02"]  # then by credit code


def test_equal_totals_and_equal_tie_indicator_scores_share_the_rank():
    # set benchmarks of 1: both indicators of both enterprises are capped at 1.2 × 50 = 60
    config = replace(CONFIG, groups=(replace(BELOW, indicators=tuple(
        replace(i, benchmark=Benchmark("set", D(1))) for i in BELOW.indicators)),))
    a, b = small("A", 120, mu=10, kwh=60), small("B", 60, mu=10, kwh=15)
    r = evaluate([b, a], config)
    assert [(e.credit_code, e.total, e.rank) for e in r.enterprises] == [("A", D(120), 1), ("B", D(120), 1)]
    assert r.by_code["A"].explanations[-1] == "与其他 1 家企业总分相同，并列第 1 名"
    shared = evaluate([a, b], replace(config, groups=(replace(config.groups[0], ties=Ties("shared")),)))
    assert [e.rank for e in shared.enterprises] == [1, 1]


def test_tie_broken_by_uncapped_tax_score():
    # set benchmark 10 for 亩均税收 and 1 for 电耗税收, no caps
    config = replace(CONFIG, groups=(replace(BELOW, indicators=(
        replace(BELOW.indicators[0], benchmark=Benchmark("set", D(10)), cap=None),
        replace(BELOW.indicators[1], benchmark=Benchmark("set", D(1)), cap=None))),))
    a = small("A", 100, mu=10, kwh=100)  # 10/10×50 = 50, 1/1×50 = 50 → 100
    b = small("B", 60, mu=10, kwh=30)  # 6/10×50 = 30, 2/1×50 = 100 → 130
    c = small("C", 120, mu=10, kwh=100)  # 60 + 60 = 120
    d = small("D", 80, mu=10, kwh=20)  # 40 + 200 = 240
    e = small("E", 140, mu=10, kwh=200)  # 70 + 35 = 105
    f = small("F", 20, mu=10, kwh=4)  # 10 + 250 = 260
    g = small("G", 160, mu=10, kwh=160)  # 80 + 50 = 130, equal to B with more 亩均税收
    r = evaluate([a, b, c, d, e, f, g], config)
    assert [(x.credit_code, x.total, x.rank) for x in r.enterprises] == [
        ("F", D(260), 1), ("D", D(240), 2), ("G", D(130), 3), ("B", D(130), 4), ("C", D(120), 5),
        ("E", D(105), 6), ("A", D(100), 7)]
    assert r.by_code["G"].explanations[-1] == "与其他 1 家企业总分相同，按亩均税收得分排序"


# --- missing data, land, benchmarks -----------------------------------------------------------

def test_missing_figures_and_zero_denominators_score_zero_and_say_why():
    r = evaluate([small("OK", 10), small("NOKWH", 10, kwh=None), small("ZERO", 10, kwh=0),
                  Enterprise("NOLAND", "无地", None, "below", start_year=2010, figures=Figures(tax_10k=5))],
                 replace(CONFIG, groups=(replace(BELOW, min_land_mu=None),)))
    assert r.by_code["NOKWH"].indicator("tax_per_kwh").score == 0
    assert r.by_code["NOKWH"].explanations[0] == "单位电耗税收：缺少用电量，记 0 分"
    assert r.by_code["ZERO"].explanations[0] == "单位电耗税收：用电量为 0，无法计算，记 0 分"
    assert r.by_code["NOLAND"].explanations == ("亩均税收：缺少用地面积，记 0 分", "单位电耗税收：缺少用电量，记 0 分")
    assert r.by_code["NOLAND"].total == 0
    assert r.group("below").means == {"tax_per_mu": D(1), "tax_per_kwh": D(1)}  # 亩均税收 of OK, NOKWH and ZERO; 电耗 of OK only


def test_a_group_without_any_value_has_no_benchmark():
    r = evaluate([small("X", 10, kwh=None), small("Y", 20, kwh=None)], CONFIG)
    assert r.group("below").benchmarks["tax_per_kwh"] is None
    assert r.by_code["X"].explanations == ("单位电耗税收：缺少用电量，记 0 分",)


def test_a_zero_mean_gives_no_usable_benchmark():
    r = evaluate([small("X", 0), small("Y", 0)], CONFIG)
    assert r.group("below").benchmarks["tax_per_mu"] == 0
    assert r.by_code["X"].explanations[0] == "亩均税收：本组无可用基准值，记 0 分"


def test_a_negative_value_scores_zero():
    config = replace(CONFIG, groups=(replace(BELOW, indicators=(
        replace(BELOW.indicators[0], benchmark=Benchmark("set", D(10))), BELOW.indicators[1])),))
    r = evaluate([small("X", -10), small("Y", 50)], config)
    assert r.by_code["X"].indicator("tax_per_mu").score == 0
    assert "亩均税收：数值为负，记 0 分" in r.by_code["X"].explanations


def test_the_mean_of_the_enterprises_values_instead_of_the_aggregate():
    x, y = small("X", 10, mu=10), small("Y", 30, mu=5)  # 1 and 6 per 亩; aggregate 40/15 = 2.6667
    assert evaluate([x, y], CONFIG).group("below").means["tax_per_mu"] == D("2.6667")
    config = replace(CONFIG, groups=(replace(BELOW, indicators=(
        replace(BELOW.indicators[0], benchmark=Benchmark("group_mean", factor=D(3), mean="enterprises")),
        BELOW.indicators[1])),))
    r = evaluate([x, y], config)
    assert r.group("below").means["tax_per_mu"] == D("3.5")
    assert r.group("below").benchmarks["tax_per_mu"] == D("10.5")


def test_means_given_by_the_caller_replace_the_years_own():
    r = evaluate([small("X", 10)], CONFIG, means={"below": {"tax_per_mu": D(4)}})
    assert r.group("below").means["tax_per_mu"] == 4
    assert r.by_code["X"].indicator("tax_per_mu").benchmark == 8
    assert r.by_code["X"].indicator("tax_per_mu").score == D("6.25")  # 1/8 × 50


def test_a_lower_is_better_indicator_divides_the_benchmark_by_the_value():
    config = replace(CONFIG, groups=(replace(BELOW, indicators=(
        replace(BELOW.indicators[0], benchmark=Benchmark("set", D(2)), direction="lower", cap=None),
        BELOW.indicators[1])),))
    r = evaluate([small("X", 40, mu=10), small("Z", 0)], config)  # X: 4 per 亩 → 2/4 × 50 = 25
    assert r.by_code["X"].indicator("tax_per_mu").score == 25
    assert r.by_code["Z"].explanations[0] == "亩均税收：数值不大于 0，无法计算，记 0 分"


def test_leased_floor_area_counts_only_when_configured():
    tenant = Enterprise("T", "厂中厂", 0, "below", leased_floor_m2=4000, start_year=2010,
                        figures=Figures(tax_10k=60, electricity_10k_kwh=30))
    assert evaluate([tenant], CONFIG).by_code["T"].reason == "不参评：规下企业用地 0 亩，不足 3 亩"
    counted = evaluate([tenant], replace(CONFIG, leased_floor=LeasedFloor(True, D(1))))
    t = counted.by_code["T"]
    assert (t.land_mu, t.indicator("tax_per_mu").value) == (D(6), D(10))  # 4000 m² = 6 亩
    assert t.explanations[0] == "用地含租用厂房 4000 平方米，折合 6 亩"
    two = evaluate([tenant], replace(CONFIG, leased_floor=LeasedFloor(True, D(2)))).by_code["T"]
    assert two.land_mu == D(3)


def test_the_mu_is_the_products_one_definition():
    from spatial import M2_PER_MU

    assert float(1 / MU_PER_M2) == pytest.approx(M2_PER_MU, abs=1e-12)


# --- bonus and minus ------------------------------------------------------------------------

def test_bonus_and_minus_points_are_bounded_per_kind():
    firm = replace(small("X", 10), adjustments=(
        Adjustment("innovation", 4), Adjustment("innovation", 4), Adjustment("safety", -12),
        Adjustment("environment", -3), Adjustment("safety", 2)))
    e = evaluate([firm], CONFIG).by_code["X"]
    # innovation 8 → 5; safety −10 (−12 + 2) within −10 → −10; environment −3
    assert e.adjustment_score == D(5) - D(10) - D(3)
    assert e.total == e.indicator_score + e.adjustment_score
    assert "科技创新合计 8 分，超过上限 5 分，按 5 分计" in e.explanations
    assert not any(x.startswith("安全生产合计") for x in e.explanations)


def test_a_kind_absent_from_the_configuration_has_no_limit():
    firm = replace(small("X", 10), adjustments=(Adjustment("innovation", 30),))
    e = evaluate([firm], replace(CONFIG, adjustments=())).by_code["X"]
    assert e.adjustment_score == 30


def test_bad_inputs_are_programmer_errors():
    with pytest.raises(ValueError, match="twice"):
        evaluate([small("X", 1), small("X", 2)], CONFIG)
    with pytest.raises(ValueError, match="adjustment kind"):
        Adjustment("luck", 1)
    with pytest.raises(ValueError, match="scale"):
        Enterprise("X", "x", 1, "big")
    with pytest.raises(TypeError):
        Figures(tax_10k=True)
