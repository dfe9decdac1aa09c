"""Every user-facing Chinese sentence and label of the evaluation engine, in one place.

The engine's reasons, explanations and configuration errors reach users (the 公示 list, the admin
screen), so they live here, keyed by English codes; the service layer shows them as they are.
"""

from __future__ import annotations

INDICATOR_LABELS: dict[str, str] = {
    "tax_per_mu": "亩均税收",
    "value_added_per_mu": "亩均增加值",
    "revenue_per_mu": "亩均营业收入",
    "value_added_per_energy": "单位能耗增加值",
    "value_added_per_emission": "单位排放增加值",
    "labour_productivity": "全员劳动生产率",
    "rd_ratio": "R&D 经费支出占营业收入比重",
    "tax_per_kwh": "单位电耗税收",
}

INDICATOR_UNITS: dict[str, str] = {
    "tax_per_mu": "万元/亩",
    "value_added_per_mu": "万元/亩",
    "revenue_per_mu": "万元/亩",
    "value_added_per_energy": "万元/吨标准煤",
    "value_added_per_emission": "万元/吨",
    "labour_productivity": "万元/人",
    "rd_ratio": "%",
    "tax_per_kwh": "元/千瓦时",
}

FIGURE_LABELS: dict[str, str] = {
    "land_mu": "用地面积",
    "tax_10k": "税收",
    "revenue_10k": "营业收入",
    "value_added_10k": "工业增加值",
    "energy_tce": "综合能耗（吨标准煤）",
    "emission_t": "主要污染物排放量",
    "electricity_10k_kwh": "用电量",
    "employees": "年平均职工人数",
    "rd_10k": "R&D 经费支出",
}

ADJUSTMENT_LABELS: dict[str, str] = {
    "safety": "安全生产",
    "environment": "环保",
    "innovation": "科技创新",
}

NOT_GRADED_LABELS: dict[str, str] = {
    "new_production": "投产不满规定年限",
    "utility": "公用事业企业",
    "major_project": "重大项目在建",
}

GROUP_LABELS: dict[str, str] = {"above": "规上企业", "below": "规下企业"}
SCALE_LABELS: dict[str, str] = {"above": "规上", "below": "规下", "any": "不限"}
NOT_GRADED = "不参评"
NOT_GIVEN = "（未提供）"
SIGNS = {"bonus": "加", "minus": "减"}

# Reasons an enterprise is not graded (shown after "不参评：").
REASONS: dict[str, str] = {
    "new_production": "投产不满{years}年",
    "utility": "公用事业企业",
    "major_project": "重大项目在建",
    "land_below_minimum": "{scale}企业用地 {land_mu} 亩，不足 {min_land_mu} 亩",
    "no_group": "不属于任何评价组",
}

# Per-enterprise explanations.
EXPLANATIONS: dict[str, str] = {
    "missing": "{indicator}：缺少{figures}，记 0 分",
    "zero_denominator": "{indicator}：{figure}为 0，无法计算，记 0 分",
    "not_positive_lower": "{indicator}：数值不大于 0，无法计算，记 0 分",
    "no_benchmark": "{indicator}：本组无可用基准值，记 0 分",
    "capped": "{indicator}：得分 {raw} 超过上限 {cap}（{factor} × 权重 {weight}），按 {cap} 计",
    "negative": "{indicator}：数值为负，记 0 分",
    "adjustment": "{kind}{sign} {points} 分{note}",
    "adjustment_limited": "{kind}合计 {points} 分，超过上限 {limit} 分，按 {limit} 分计",
    "leased_floor": "用地含租用厂房 {floor_m2} 平方米，折合 {mu} 亩",
    "scale_from_revenue": "未提供规上/规下，按营业收入 {revenue} 万元认定为{scale}",
    "no_start_year": "未提供投产年份，按已满{years}年计",
    "tie": "与其他 {count} 家企业总分相同，并列第 {rank} 名",
    "tie_broken": "与其他 {count} 家企业总分相同，按{indicators}得分排序",
}

# Configuration field names, for "<field>：<problem>" messages on the admin screen.
FIELD_LABELS: dict[str, str] = {
    "config": "评价配置",
    "year": "评价年度",
    "groups": "评价组",
    "code": "代码",
    "label": "名称",
    "scale": "规上/规下",
    "min_land_mu": "用地下限（亩）",
    "indicators": "指标",
    "weight": "权重",
    "benchmark": "基准值",
    "kind": "基准值方式",
    "value": "基准值",
    "factor": "基准倍数",
    "mean": "平均值算法",
    "cap": "得分上限（权重倍数）",
    "direction": "方向",
    "classes": "分档",
    "grade": "档次",
    "top_pct": "累计排名比例（%）",
    "rounding": "比例取整",
    "ties": "同分处理",
    "rule": "规则",
    "tie_indicators": "同分比较指标",
    "not_graded": "不参评规则",
    "enabled": "启用",
    "years": "年限",
    "adjustments": "加减分",
    "max_bonus": "加分上限",
    "max_minus": "减分上限",
    "above_scale_revenue_10k": "规上认定营业收入下限（万元）",
    "leased_floor": "租用厂房",
    "counted": "计入用地",
    "far": "折算容积率",
}

CONFIG_ERRORS: dict[str, str] = {
    "required": "必须填写",
    "not_object": "格式不正确",
    "not_list": "须为列表",
    "empty": "不能为空",
    "unknown_key": "未知的配置项“{value}”",
    "not_number": "须为数字",
    "not_integer": "须为整数",
    "not_bool": "须为是或否",
    "not_text": "须为文字",
    "negative": "不能小于 0",
    "not_positive": "须大于 0",
    "out_of_range": "须在 {low} 到 {high} 之间",
    "choice": "须为以下之一：{choices}",
    "duplicate": "“{value}”重复",
    "unknown_indicator": "未知的指标“{value}”",
    "weights_total": "权重合计须为 100，现为 {total}",
    "pct_order": "须逐档递增",
    "pct_last": "最后一档须为 100",
    "not_in_group": "“{value}”不是本组的指标",
    "year_mismatch": "与评价年度 {year} 不一致",
}

CHOICE_LABELS: dict[str, str] = {
    "set": "设定值",
    "group_mean": "本组平均值 × 倍数",
    "aggregate": "合计相除",
    "enterprises": "企业数值平均",
    "higher": "越大越好",
    "lower": "越小越好",
    "floor": "向下取整",
    "half_up": "四舍五入",
    "ceil": "向上取整",
    "shared": "并列同名次",
    "indicators": "依次比较指标得分",
    "above": "规上",
    "below": "规下",
    "any": "不限",
}

_CN_COUNTS = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十"}


def count_text(n: int) -> str:
    """A small count in Chinese as a reason reads it.

    >>> count_text(2), count_text(12)
    ('两', '12')
    """
    return _CN_COUNTS.get(n, str(n))


def not_graded_text(code: str, **values: object) -> str:
    """The full reason, e.g. ``不参评：投产不满两年``.

    >>> not_graded_text("new_production", years=count_text(2))
    '不参评：投产不满两年'
    """
    return f"{NOT_GRADED}：{REASONS[code].format(**values)}"
