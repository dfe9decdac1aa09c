"""Properties of any evaluation: order-free, bounded scores, consistent ranks and classes, exact round trips."""

import json
import random
from decimal import Decimal as D
from decimal import localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation import (
    Adjustment,
    Enterprise,
    Figures,
    cut_ranks,
    default_config,
    enterprise_from_dict,
    enterprise_to_dict,
    evaluate,
)

CONFIG = default_config(2025)
money = st.one_of(st.none(), st.decimals(min_value=0, max_value=100000, places=2))
small_money = st.one_of(st.none(), st.decimals(min_value=0, max_value=500, places=2))


@st.composite
def enterprises(draw):
    n = draw(st.integers(min_value=0, max_value=25))
    firms = []
    for k in range(n):
        above = draw(st.booleans())
        points = draw(st.lists(st.tuples(st.sampled_from(["safety", "environment", "innovation"]),
                                         st.integers(min_value=-15, max_value=10)), max_size=2))
        firms.append(Enterprise(
            f"C{k:03d}", f"企业{k}", draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=300, places=2))),
            "above" if above else "below", start_year=draw(st.one_of(st.none(), st.integers(2000, 2025))),
            is_utility=draw(st.booleans()) and draw(st.booleans()),
            figures=Figures(tax_10k=draw(money), revenue_10k=draw(money), value_added_10k=draw(money),
                            energy_tce=draw(small_money), emission_t=draw(small_money),
                            electricity_10k_kwh=draw(small_money), employees=draw(small_money),
                            rd_10k=draw(small_money)),
            adjustments=tuple(Adjustment(kind, p) for kind, p in points)))
    return firms


@settings(derandomize=True, max_examples=25, deadline=None)
@given(enterprises(), st.randoms(use_true_random=False))
def test_any_evaluation_is_consistent(firms, rnd):
    result = evaluate(firms, CONFIG)
    shuffled = list(firms)
    rnd.shuffle(shuffled)
    assert evaluate(shuffled, CONFIG).to_dict() == result.to_dict()
    assert len(result.enterprises) == len(firms)
    for g in CONFIG.groups:
        graded = [e for e in result.enterprises if e.group == g.code and e.graded]
        assert len(graded) == result.group(g.code).graded
        assert [e.rank for e in graded] == sorted(e.rank for e in graded)
        assert [e.total for e in graded] == sorted((e.total for e in graded), reverse=True)
        cuts = cut_ranks(len(graded), g)
        for position, e in enumerate(graded, 1):
            assert 1 <= e.rank <= position
            assert e.grade == next(grade for grade, last in cuts.items() if e.rank <= last)
            assert e.total == e.indicator_score + e.adjustment_score
            for i, ic in zip(e.indicators, g.indicators):
                assert 0 <= i.score <= ic.cap * ic.weight
                assert i.score == i.score.quantize(D("0.01"))
                assert (i.value is None) <= (i.score == 0)
    for e in result.enterprises:
        assert e.graded == (e.reason is None)
        assert (e.reason or "不参评：").startswith("不参评：")


@settings(derandomize=True, max_examples=10, deadline=None)
@given(enterprises())
def test_inputs_and_results_survive_json(firms):
    again = [enterprise_from_dict(json.loads(json.dumps(enterprise_to_dict(e), ensure_ascii=False))) for e in firms]
    assert again == firms
    result = evaluate(firms, CONFIG).to_dict()
    assert json.loads(json.dumps(result, ensure_ascii=False)) == result


def test_the_callers_decimal_context_does_not_change_the_result():
    rng = random.Random(7)
    firms = [Enterprise(f"C{k}", "企业", D(rng.randint(300, 90000)) / 100, "below", start_year=2010,
                        figures=Figures(tax_10k=D(rng.randint(1, 10**6)) / 100,
                                        electricity_10k_kwh=D(rng.randint(1, 10**5)) / 100)) for k in range(50)]
    expected = evaluate(firms, CONFIG).to_dict()
    with localcontext() as ctx:
        ctx.prec = 3
        assert evaluate(firms, CONFIG).to_dict() == expected


def test_a_result_carries_its_configuration():
    d = evaluate([], CONFIG).to_dict()
    assert d["config"]["groups"][0]["indicators"][0] == {
        "code": "tax_per_mu", "weight": 30, "cap": 1.2, "direction": "higher",
        "benchmark": {"kind": "group_mean", "value": None, "factor": 2, "mean": "aggregate"}}
    assert d["enterprises"] == [] and [g["graded"] for g in d["groups"]] == [0, 0]
