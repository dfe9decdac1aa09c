"""The worked example of docs/evaluation.md, computed by hand, with the default 2025 configuration.

Nine enterprises. 规上 group (six indicators, weights 30/20/20/10/10/10, cap 1.2 × weight):

    code  亩   税收  增加值  能耗   排放  职工  营业收入  R&D   投产   bonus/minus
    A1    50  1500  5000   1000   10   200   20000    600   2010   科技创新 +8 (limit 5)
    A2    40   400  2000   1000   20   100   10000    100   2023   安全生产 −5
    A3    10   100  1000    500    5    50    5000    —     2010
    A4   100  1000  2000   2500   65   150   10000    300   2010   科技创新 +3
    A5    50   750  2500   1250   25   125   10000    250   2010
    A6    30  9000  9000    100    1   100   50000   5000   2024   → 不参评：投产不满两年 (2025 − 2024 = 1 < 2)

A2 started in 2023: 2025 − 2023 = 2 years, so it is graded. A6 is left out of the means.
Means (aggregate: Σ numerator ÷ Σ denominator over A1–A5 with a value) and benchmarks (2 × mean):
    亩均税收 3750/250 = 15 → 30;  亩均增加值 12500/250 = 50 → 100;  单位能耗增加值 12500/6250 = 2 → 4;
    单位排放增加值 12500/125 = 100 → 200;  全员劳动生产率 12500/625 = 20 → 40;
    R&D 占比 1250/50000 × 100 = 2.5 → 5 (A3 has no R&D figure, so neither its R&D nor its revenue counts).
Scores (value ÷ benchmark × weight, 2 decimals, at most 1.2 × weight):
    A1: 30→30, 100→20, 5→25 capped 24, 500→25 capped 12, 25→6.25, 3→6           = 98.25 + 5 = 103.25
    A2: 10→10, 50→10, 2→10, 100→5, 20→5, 1→2                                    = 42    − 5 = 37.00
    A3: 10→10, 100→20, 2→10, 200→10, 20→5, R&D missing→0                        = 55.00
    A4: 10→10, 20→4, 0.8→4, 30.7692→1.54, 13.3333→3.33, 3→6                     = 28.87 + 3 = 31.87
    A5: 15→15, 50→10, 2→10, 100→5, 20→5, 2.5→5                                  = 50.00
Ranks: A1 103.25, A3 55, A5 50, A2 37, A4 31.87. Five graded: cut ranks floor(5 × 20 %) = 1,
floor(5 × 60 %) = 3, floor(5 × 95 %) = 4, 5 → A1 A, A3 B, A5 B, A2 C, A4 D.

规下 group (≥ 3 亩; 亩均税收 50 + 单位电耗税收 50):

    code  亩    税收  用电量（万千瓦时）  规上/规下
    B1    5     50    25               规下
    B2    5     10    —                not given; 营业收入 1500 < 2000 万元 → 规下
    B3    2.5   40    10               规下 → 不参评：规下企业用地 2.5 亩，不足 3 亩

Means: 亩均税收 60/10 = 6 → benchmark 12; 单位电耗税收 (B1 only) 50/25 = 2 → 4.
    B1: 10/12 × 50 = 41.67, 2/4 × 50 = 25 → 66.67;  B2: 2/12 × 50 = 8.33, missing → 0 → 8.33.
Two graded: cut ranks 0, 1, 1, 2 → B1 B, B2 D.
"""

from decimal import Decimal as D

import pytest

from evaluation import Adjustment, Enterprise, Figures, config_from_dict, config_to_dict, default_config, evaluate


def above(code, name, mu, tax, va, energy, emission, staff, revenue, rd, start, adjustments=()):
    return Enterprise(code, name, mu, "above", start_year=start, adjustments=adjustments, figures=Figures(
        tax_10k=tax, value_added_10k=va, energy_tce=energy, emission_t=emission, employees=staff,
        revenue_10k=revenue, rd_10k=rd))


EXAMPLE = [
    above("A1", "甲纺织有限公司", 50, 1500, 5000, 1000, 10, 200, 20000, 600, 2010,
          (Adjustment("innovation", 8, "省级企业研发中心"),)),
    above("A2", "乙化纤有限公司", 40, 400, 2000, 1000, 20, 100, 10000, 100, 2023,
          (Adjustment("safety", -5, "一般生产安全事故"),)),
    above("A3", "丙机械有限公司", 10, 100, 1000, 500, 5, 50, 5000, None, 2010),
    above("A4", "丁皮革有限公司", 100, 1000, 2000, 2500, 65, 150, 10000, 300, 2010,
          (Adjustment("innovation", 3),)),
    above("A5", "戊电子有限公司", 50, 750, 2500, 1250, 25, 125, 10000, 250, 2010),
    above("A6", "己新材料有限公司", 30, 9000, 9000, 100, 1, 100, 50000, 5000, 2024),
    Enterprise("B1", "庚针织厂", 5, "below", start_year=2015, figures=Figures(tax_10k=50, electricity_10k_kwh=25)),
    Enterprise("B2", "辛五金厂", 5, None, start_year=2015, figures=Figures(tax_10k=10, revenue_10k=1500)),
    Enterprise("B3", "壬制衣厂", "2.5", "below", start_year=2015, figures=Figures(tax_10k=40, electricity_10k_kwh=10)),
]


@pytest.fixture(scope="module")
def result():
    return evaluate(EXAMPLE, default_config(2025))


def test_means_and_benchmarks_are_the_hand_computed_ones(result):
    above_g, below_g = result.groups
    assert above_g.means == {"tax_per_mu": D(15), "value_added_per_mu": D(50), "value_added_per_energy": D(2),
                             "value_added_per_emission": D(100), "labour_productivity": D(20), "rd_ratio": D("2.5")}
    assert above_g.benchmarks == {k: 2 * v for k, v in above_g.means.items()}
    assert (above_g.graded, above_g.not_graded) == (5, 1)
    assert below_g.means == {"tax_per_mu": D(6), "tax_per_kwh": D(2)}
    assert below_g.benchmarks == {"tax_per_mu": D(12), "tax_per_kwh": D(4)}
    assert (below_g.graded, below_g.not_graded) == (2, 0)


@pytest.mark.parametrize(("code", "scores", "indicator_score", "adjustment", "total"), [
    ("A1", ["30", "20", "24", "12", "6.25", "6"], "98.25", "5", "103.25"),
    ("A2", ["10", "10", "10", "5", "5", "2"], "42", "-5", "37"),
    ("A3", ["10", "20", "10", "10", "5", "0"], "55", "0", "55"),
    ("A4", ["10", "4", "4", "1.54", "3.33", "6"], "28.87", "3", "31.87"),
    ("A5", ["15", "10", "10", "5", "5", "5"], "50", "0", "50"),
    ("B1", ["41.67", "25"], "66.67", "0", "66.67"),
    ("B2", ["8.33", "0"], "8.33", "0", "8.33"),
])
def test_scores_and_totals(result, code, scores, indicator_score, adjustment, total):
    e = result.by_code[code]
    assert [i.score for i in e.indicators] == [D(s) for s in scores]
    assert (e.indicator_score, e.adjustment_score, e.total) == (D(indicator_score), D(adjustment), D(total))


def test_values_of_a4_are_rounded_to_four_decimals(result):
    a4 = result.by_code["A4"]
    assert [i.value for i in a4.indicators] == [D(10), D(20), D("0.8"), D("30.7692"), D("13.3333"), D(3)]


def test_ranks_classes_and_order(result):
    got = [(e.credit_code, e.rank, e.group_size, e.grade) for e in result.enterprises]
    assert got == [("A1", 1, 5, "A"), ("A3", 2, 5, "B"), ("A5", 3, 5, "B"), ("A2", 4, 5, "C"), ("A4", 5, 5, "D"),
                   ("A6", None, None, None), ("B1", 1, 2, "B"), ("B2", 2, 2, "D"), ("B3", None, None, None)]
    assert result.group("above").cut_ranks == {"A": 1, "B": 3, "C": 4, "D": 5}
    assert result.group("above").grade_counts == {"A": 1, "B": 2, "C": 1, "D": 1}
    assert result.group("below").cut_ranks == {"A": 0, "B": 1, "C": 1, "D": 2}


def test_not_graded_reasons(result):
    a6, b3 = result.by_code["A6"], result.by_code["B3"]
    assert (a6.group, a6.reason, a6.total) == ("above", "不参评：投产不满两年", None)
    assert [i.value for i in a6.indicators][:1] == [D(300)]  # shown for information, never scored
    assert all(i.score is None for i in a6.indicators)
    assert (b3.group, b3.reason, b3.indicators) == (None, "不参评：规下企业用地 2.5 亩，不足 3 亩", ())
    assert all(e.reason is None for e in result.enterprises if e.credit_code not in ("A6", "B3"))


def test_explanations_say_why_in_chinese(result):
    assert result.by_code["A1"].explanations == (
        "单位能耗增加值：得分 25.00 超过上限 24.00（1.2 × 权重 20），按 24.00 计",
        "单位排放增加值：得分 25.00 超过上限 12.00（1.2 × 权重 10），按 12.00 计",
        "科技创新加 8 分（省级企业研发中心）",
        "科技创新合计 8 分，超过上限 5 分，按 5 分计",
    )
    assert result.by_code["A3"].explanations == ("R&D 经费支出占营业收入比重：缺少R&D 经费支出，记 0 分",)
    assert result.by_code["A2"].explanations == ("安全生产减 5 分（一般生产安全事故）",)
    assert result.by_code["B2"].explanations == (
        "未提供规上/规下，按营业收入 1500 万元认定为规下",
        "单位电耗税收：缺少用电量，记 0 分",
    )
    assert result.by_code["B2"].scale == "below"


def test_changed_weights_change_scores_accordingly(result):
    """20 points move from 亩均增加值 to 亩均税收 (50 + 0 + 20 + 10 + 10 + 10): every enterprise's
    tax score becomes value/30 × 50 and its 亩均增加值 score 0, so A5 passes A3 and A4 passes A2."""
    data = config_to_dict(default_config(2025))
    weights = data["groups"][0]["indicators"]
    weights[0]["weight"], weights[1]["weight"] = 50, 0
    changed = evaluate(EXAMPLE, config_from_dict(data, 2025))
    expected = {"A1": "103.25", "A2": "33.67", "A3": "41.67", "A4": "34.54", "A5": "50"}
    for code, total in expected.items():
        before, after = result.by_code[code], changed.by_code[code]
        tax = after.indicator("tax_per_mu")
        assert tax.score == min((tax.value / 30 * 50).quantize(D("0.01")), D(60))
        assert after.indicator("value_added_per_mu").score == 0
        delta = tax.score - before.indicator("tax_per_mu").score - before.indicator("value_added_per_mu").score
        assert after.total == before.total + delta == D(total)
    assert [(e.credit_code, e.grade) for e in changed.enterprises[:5]] == [
        ("A1", "A"), ("A5", "B"), ("A3", "B"), ("A4", "C"), ("A2", "D")]
    assert changed.by_code["B1"] == result.by_code["B1"]  # the other group is untouched


def test_the_order_of_the_input_does_not_matter(result):
    assert evaluate(list(reversed(EXAMPLE)), default_config(2025)).to_dict() == result.to_dict()
