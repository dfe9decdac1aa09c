"""The configuration: JSON round trip, defaults for what is left out, and refusals in Chinese naming the field."""

import copy
import json
from decimal import Decimal as D

import pytest

from evaluation import ConfigError, config_from_dict, config_problems, config_to_dict, default_config

DEFAULT = config_to_dict(default_config(2025))


def problems(mutate, year=None):
    data = copy.deepcopy(DEFAULT)
    mutate(data)
    return [(p.field, p.message) for p in config_problems(data, year)]


def test_the_default_is_the_typical_county_method():
    c = default_config(2025)
    above, below = c.groups
    assert [(i.code, i.weight) for i in above.indicators] == [
        ("tax_per_mu", 30), ("value_added_per_mu", 20), ("value_added_per_energy", 20),
        ("value_added_per_emission", 10), ("labour_productivity", 10), ("rd_ratio", 10)]
    assert [(i.code, i.weight) for i in below.indicators] == [("tax_per_mu", 50), ("tax_per_kwh", 50)]
    assert (above.min_land_mu, below.min_land_mu) == (None, 3)
    assert all(i.benchmark.kind == "group_mean" and i.benchmark.factor == 2 and i.cap == D("1.2")
               for g in c.groups for i in g.indicators)
    assert [(k.grade, k.top_pct) for k in above.classes] == [("A", 20), ("B", 60), ("C", 95), ("D", 100)]
    assert [(r.code, r.enabled, r.years) for r in c.not_graded] == [
        ("new_production", True, 2), ("utility", True, None), ("major_project", True, None)]


def test_json_round_trip_is_exact():
    text = json.dumps(DEFAULT, ensure_ascii=False)
    assert config_from_dict(json.loads(text)) == default_config(2025)


def test_numbers_may_come_as_text_and_optional_parts_take_the_defaults():
    data = {"year": 2026, "groups": [{
        "code": "all", "label": "全部企业", "scale": "any",
        "indicators": [{"code": "tax_per_mu", "weight": "60"},
                       {"code": "revenue_per_mu", "weight": 40, "cap": None,
                        "benchmark": {"kind": "set", "value": "800.5"}}],
        "classes": [{"grade": "A", "top_pct": 30}, {"grade": "B", "top_pct": "100"}],
    }]}
    c = config_from_dict(data)
    g = c.groups[0]
    assert (c.year, g.rounding, g.ties.rule, c.not_graded, c.leased_floor.counted) == (2026, "floor", "shared", (),
                                                                                       False)
    assert (g.indicators[0].weight, g.indicators[0].cap, g.indicators[0].benchmark.factor) == (60, D("1.2"), 2)
    assert (g.indicators[1].cap, g.indicators[1].benchmark.value) == (None, D("800.5"))


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda d: d["groups"][0]["indicators"][1].update(weight=-5),
     [("groups[0].indicators[1].weight", "规上企业 · 亩均增加值 · 权重：不能小于 0"),
      ("groups[0].indicators", "规上企业 · 权重：权重合计须为 100，现为 75")]),
    (lambda d: d["groups"][1]["indicators"][1].update(weight=40),
     [("groups[1].indicators", "规下企业 · 权重：权重合计须为 100，现为 90")]),
    (lambda d: d["groups"][0]["indicators"][0].update(weight="三十"),
     [("groups[0].indicators[0].weight", "规上企业 · 亩均税收 · 权重：须为数字")]),
    (lambda d: d["groups"][0]["indicators"][0].update(code="tax"),
     [("groups[0].indicators[0].code", "规上企业 · 指标 1 · 代码：未知的指标“tax”")]),
    (lambda d: d["groups"][1]["indicators"][1].update(code="tax_per_mu"),
     [("groups[1].indicators[1].code", "规下企业 · 指标：“tax_per_mu”重复")]),
    (lambda d: d["groups"][0]["indicators"][2]["benchmark"].update(kind="set"),
     [("groups[0].indicators[2].benchmark.value", "规上企业 · 单位能耗增加值 · 基准值 · 基准值：必须填写")]),
    (lambda d: d["groups"][0]["indicators"][2]["benchmark"].update(factor=0),
     [("groups[0].indicators[2].benchmark.factor", "规上企业 · 单位能耗增加值 · 基准值 · 基准倍数：须大于 0")]),
    (lambda d: d["groups"][0]["indicators"][2]["benchmark"].update(kind="median"),
     [("groups[0].indicators[2].benchmark.kind",
       "规上企业 · 单位能耗增加值 · 基准值 · 基准值方式：须为以下之一：设定值、本组平均值 × 倍数")]),
    (lambda d: d["groups"][0]["indicators"][3].update(cap=0),
     [("groups[0].indicators[3].cap", "规上企业 · 单位排放增加值 · 得分上限（权重倍数）：须大于 0")]),
    (lambda d: d["groups"][1].update(min_land_mu=-3),
     [("groups[1].min_land_mu", "规下企业 · 用地下限（亩）：不能小于 0")]),
    (lambda d: d["groups"][1].update(label=""),
     [("groups[1].label", "评价组 2 · 名称：必须填写")]),
    (lambda d: d["groups"][1].update(code="above"),
     [("groups[1].code", "评价组 · 代码：“above”重复")]),
    (lambda d: d["groups"][0].update(scale="big"),
     [("groups[0].scale", "规上企业 · 规上/规下：须为以下之一：规上、规下、不限")]),
    (lambda d: d["groups"][0]["classes"][1].update(top_pct=10),
     [("groups[0].classes", "规上企业 · 累计排名比例（%）：须逐档递增")]),
    (lambda d: d["groups"][0]["classes"][3].update(top_pct=99),
     [("groups[0].classes[3].top_pct", "规上企业 · 累计排名比例（%）：最后一档须为 100")]),
    (lambda d: d["groups"][0]["classes"][0].update(top_pct=120),
     [("groups[0].classes[0].top_pct", "规上企业 · A · 累计排名比例（%）：须在 0 到 100 之间")]),
    (lambda d: d["groups"][0]["classes"][1].update(grade="A"),
     [("groups[0].classes[1].grade", "规上企业 · 分档：“A”重复")]),
    (lambda d: d["groups"][0].update(rounding="round"),
     [("groups[0].rounding", "规上企业 · 比例取整：须为以下之一：向下取整、四舍五入、向上取整")]),
    (lambda d: d["groups"][0]["ties"].update(indicators=["tax_per_kwh"]),
     [("groups[0].ties.indicators[0]", "规上企业 · 同分处理 · 同分比较指标：“tax_per_kwh”不是本组的指标")]),
    (lambda d: d["not_graded"][0].update(years=0),
     [("not_graded[0].years", "不参评规则 1 · 年限：须在 1 到 10 之间")]),
    (lambda d: d["not_graded"][1].update(enabled="yes"),
     [("not_graded[1].enabled", "不参评规则 2 · 启用：须为是或否")]),
    (lambda d: d["adjustments"][2].update(max_bonus=-1),
     [("adjustments[2].max_bonus", "加减分 3 · 加分上限：不能小于 0")]),
    (lambda d: d["leased_floor"].update(far=0),
     [("leased_floor.far", "租用厂房 · 折算容积率：须大于 0")]),
    (lambda d: d.update(colour="red"), [("colour", "评价配置：未知的配置项“colour”")]),
    (lambda d: d["groups"][0]["indicators"][0]["benchmark"].update(base=1),
     [("groups[0].indicators[0].benchmark.base", "规上企业 · 亩均税收 · 基准值：未知的配置项“base”")]),
    (lambda d: d["groups"][0]["indicators"][0].update(cap="1e50"),
     [("groups[0].indicators[0].cap", "规上企业 · 亩均税收 · 得分上限（权重倍数）：须在 0 到 10 之间")]),
    (lambda d: d["groups"][0]["indicators"][0]["benchmark"].update(factor="NaN"),
     [("groups[0].indicators[0].benchmark.factor", "规上企业 · 亩均税收 · 基准值 · 基准倍数：须为数字")]),
    (lambda d: d.update(year=1999), [("year", "评价年度：须在 2000 到 2100 之间")]),
    (lambda d: d.update(groups=[]), [("groups", "评价组：不能为空")]),
    (lambda d: d.update(groups="规上"), [("groups", "评价组：须为列表")]),
])
def test_each_problem_names_the_field_in_chinese(mutate, expected):
    assert problems(mutate) == expected


def test_every_problem_is_reported_at_once():
    def many(d):
        d["groups"][0]["indicators"][0]["weight"] = -1
        d["groups"][1]["classes"][3]["top_pct"] = 90
        d["leased_floor"]["far"] = "x"

    fields = [f for f, _ in problems(many)]
    assert fields == ["groups[0].indicators[0].weight", "groups[0].indicators", "groups[1].classes",
                      "groups[1].classes[3].top_pct", "leased_floor.far"]


def test_the_year_of_the_address_fills_in_or_must_match():
    data = copy.deepcopy(DEFAULT)
    assert problems(lambda d: None, 2026) == [("year", "评价年度：与评价年度 2026 不一致")]
    del data["year"]
    assert config_from_dict(data, 2026).year == 2026
    assert [p.field for p in config_problems(data)] == ["year"]


def test_config_error_carries_the_problems_and_reads_as_one_sentence():
    data = copy.deepcopy(DEFAULT)
    data["groups"][1]["indicators"][0]["weight"] = 40
    data["groups"][1]["min_land_mu"] = "三亩"
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    assert str(info.value) == "规下企业 · 用地下限（亩）：须为数字；规下企业 · 权重：权重合计须为 100，现为 90"
    assert [p.field for p in info.value.problems] == ["groups[1].min_land_mu", "groups[1].indicators"]
    assert isinstance(info.value, ValueError)


def test_not_a_dict_at_all():
    assert [p.message for p in config_problems([1, 2])] == ["评价配置：格式不正确"]
