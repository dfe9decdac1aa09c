"""The per-year configuration of the 亩均效益综合评价: groups, indicators, weights, benchmarks, caps,
cut-offs, ties, not-graded rules and bonus/minus limits.

A configuration is data an administrator edits: ``config_to_dict`` gives plain JSON types and
``config_from_dict`` reads them back, refusing bad input with every problem at once
(``ConfigError.problems``, each naming the field in Chinese). ``default_config(year)`` is the typical
Zhejiang county method described in docs/evaluation.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .inputs import ADJUSTMENT_KINDS, INDICATORS, to_decimal
from .messages import CHOICE_LABELS, CONFIG_ERRORS, FIELD_LABELS, GROUP_LABELS, INDICATOR_LABELS

BENCHMARK_KINDS = ("set", "group_mean")
MEAN_KINDS = ("aggregate", "enterprises")  # Σ numerator ÷ Σ denominator, or the mean of the values
DIRECTIONS = ("higher", "lower")
ROUNDINGS = ("floor", "half_up", "ceil")
TIE_RULES = ("shared", "indicators")
GROUP_SCALES = ("above", "below", "any")
NOT_GRADED_CODES = ("new_production", "utility", "major_project")

# 国家统计局：规模以上工业企业 = 年主营业务收入 2000 万元及以上 (since 2011); used only when the
# caller does not say whether an enterprise is 规上.
ABOVE_SCALE_REVENUE_10K = Decimal(2000)


@dataclass(frozen=True, slots=True)
class Benchmark:
    """基准值: a set value, or ``factor`` × the group's mean of the evaluated year."""

    kind: str = "group_mean"
    value: Decimal | None = None
    factor: Decimal = Decimal(2)
    mean: str = "aggregate"


@dataclass(frozen=True, slots=True)
class IndicatorConfig:
    """One indicator of a group: weight (points), benchmark, cap (× weight, ``None`` = none), direction."""

    code: str
    weight: Decimal
    benchmark: Benchmark = field(default_factory=Benchmark)
    cap: Decimal | None = Decimal("1.2")
    direction: str = "higher"


@dataclass(frozen=True, slots=True)
class GradeCut:
    """A class and the cumulative share of the group's ranks it reaches (A 20 → the top 20 %)."""

    grade: str
    top_pct: Decimal


DEFAULT_CLASSES = (GradeCut("A", Decimal(20)), GradeCut("B", Decimal(60)), GradeCut("C", Decimal(95)),
                   GradeCut("D", Decimal(100)))


@dataclass(frozen=True, slots=True)
class Ties:
    """Equal totals: ``shared`` ranks, or compare these indicators' scores in turn first."""

    rule: str = "shared"
    indicators: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupConfig:
    """An evaluation group (规上 / 规下 …): who is in it, its indicators and its cut-offs."""

    code: str
    label: str
    scale: str  # "above", "below" or "any"
    indicators: tuple[IndicatorConfig, ...]
    min_land_mu: Decimal | None = None
    classes: tuple[GradeCut, ...] = DEFAULT_CLASSES
    rounding: str = "floor"
    ties: Ties = field(default_factory=Ties)

    def indicator(self, code: str) -> IndicatorConfig:
        return next(i for i in self.indicators if i.code == code)


@dataclass(frozen=True, slots=True)
class NotGradedRule:
    """不参评 rule: ``new_production`` (in production fewer than ``years``), ``utility``, ``major_project``."""

    code: str
    enabled: bool = True
    years: int | None = None


@dataclass(frozen=True, slots=True)
class AdjustmentLimit:
    """The most bonus and the most minus points of one kind an enterprise can get in a year."""

    kind: str
    max_bonus: Decimal
    max_minus: Decimal


@dataclass(frozen=True, slots=True)
class LeasedFloor:
    """Whether 厂中厂 leased floor area counts as land, converted at ``far`` (floor m² ÷ far → land m²)."""

    counted: bool = False
    far: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration of one year's evaluation."""

    year: int
    groups: tuple[GroupConfig, ...]
    not_graded: tuple[NotGradedRule, ...] = ()
    adjustments: tuple[AdjustmentLimit, ...] = ()
    above_scale_revenue_10k: Decimal = ABOVE_SCALE_REVENUE_10K
    leased_floor: LeasedFloor = field(default_factory=LeasedFloor)

    def group(self, code: str) -> GroupConfig:
        return next(g for g in self.groups if g.code == code)


DEFAULT_ABOVE_WEIGHTS = (("tax_per_mu", 30), ("value_added_per_mu", 20), ("value_added_per_energy", 20),
                         ("value_added_per_emission", 10), ("labour_productivity", 10), ("rd_ratio", 10))
DEFAULT_BELOW_WEIGHTS = (("tax_per_mu", 50), ("tax_per_kwh", 50))
DEFAULT_BELOW_MIN_LAND_MU = Decimal(3)


def default_config(year: int) -> Config:
    """The typical county method: 规上 six indicators, 规下 (≥ 3 亩) two; benchmark 2 × the group mean;
    score capped at 1.2 × weight; A 20 % / B 60 % / C 95 % / D; not graded: in production < 2 years,
    utilities, major projects under construction; 安全生产/环保 minus up to 10, 科技创新 bonus up to 5.

    >>> c = default_config(2025)
    >>> [(g.label, sum(i.weight for i in g.indicators)) for g in c.groups]
    [('规上企业', Decimal('100')), ('规下企业', Decimal('100'))]
    """
    def indicators(weights: tuple[tuple[str, int], ...]) -> tuple[IndicatorConfig, ...]:
        return tuple(IndicatorConfig(code, Decimal(w)) for code, w in weights)

    return Config(
        year=year,
        groups=(
            GroupConfig("above", GROUP_LABELS["above"], "above", indicators(DEFAULT_ABOVE_WEIGHTS),
                        classes=DEFAULT_CLASSES, ties=Ties("indicators", ("tax_per_mu",))),
            GroupConfig("below", GROUP_LABELS["below"], "below", indicators(DEFAULT_BELOW_WEIGHTS),
                        min_land_mu=DEFAULT_BELOW_MIN_LAND_MU, classes=DEFAULT_CLASSES,
                        ties=Ties("indicators", ("tax_per_mu",))),
        ),
        not_graded=(NotGradedRule("new_production", True, 2), NotGradedRule("utility"),
                    NotGradedRule("major_project")),
        adjustments=(AdjustmentLimit("safety", Decimal(0), Decimal(10)),
                     AdjustmentLimit("environment", Decimal(0), Decimal(10)),
                     AdjustmentLimit("innovation", Decimal(5), Decimal(0))),
    )


def _num(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def config_to_dict(config: Config) -> dict:
    """Plain JSON types (numbers, strings, lists, dicts) for storage and the admin screen.

    >>> d = config_to_dict(default_config(2025))
    >>> d["groups"][1]["min_land_mu"], d["groups"][0]["indicators"][0]
    (3, {'code': 'tax_per_mu', 'weight': 30, 'benchmark': {'kind': 'group_mean', 'value': None, 'factor': 2, \
'mean': 'aggregate'}, 'cap': 1.2, 'direction': 'higher'})
    >>> config_from_dict(d) == default_config(2025)
    True
    """
    return {
        "year": config.year,
        "groups": [{
            "code": g.code, "label": g.label, "scale": g.scale, "min_land_mu": _num(g.min_land_mu),
            "indicators": [{
                "code": i.code, "weight": _num(i.weight),
                "benchmark": {"kind": i.benchmark.kind, "value": _num(i.benchmark.value),
                              "factor": _num(i.benchmark.factor), "mean": i.benchmark.mean},
                "cap": _num(i.cap), "direction": i.direction,
            } for i in g.indicators],
            "classes": [{"grade": c.grade, "top_pct": _num(c.top_pct)} for c in g.classes],
            "rounding": g.rounding,
            "ties": {"rule": g.ties.rule, "indicators": list(g.ties.indicators)},
        } for g in config.groups],
        "not_graded": [{"code": r.code, "enabled": r.enabled, "years": r.years} for r in config.not_graded],
        "adjustments": [{"kind": a.kind, "max_bonus": _num(a.max_bonus), "max_minus": _num(a.max_minus)}
                        for a in config.adjustments],
        "above_scale_revenue_10k": _num(config.above_scale_revenue_10k),
        "leased_floor": {"counted": config.leased_floor.counted, "far": _num(config.leased_floor.far)},
    }


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem of a configuration: ``field`` is the path (``groups[0].indicators[1].weight``),
    ``message`` the Chinese sentence naming the field (``规上企业 · 亩均增加值 · 权重：不能小于 0``)."""

    field: str
    message: str


class ConfigError(ValueError):
    """A configuration that cannot be used; ``problems`` lists every problem found."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("；".join(p.message for p in problems))


_MISSING = object()
# Upper bounds of the numbers an administrator may enter: far beyond any real method, they keep every
# product within the engine's 40-digit arithmetic.
LIMITS = {"value": Decimal(10) ** 9, "factor": Decimal(100), "weight": Decimal(100), "cap": Decimal(10),
          "min_land_mu": Decimal(10) ** 6, "points": Decimal(100), "far": Decimal(100)}


class _Reader:
    """Reads a dict into a Config, collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[ConfigProblem] = []

    def fail(self, path: str, labels: tuple[str, ...], code: str, **values: object) -> None:
        where = " · ".join(labels) or FIELD_LABELS["config"]
        self.problems.append(ConfigProblem(path, f"{where}：{CONFIG_ERRORS[code].format(**values)}"))

    def obj(self, data: object, path: str, labels: tuple[str, ...], keys: tuple[str, ...]) -> dict | None:
        if not isinstance(data, dict):
            self.fail(path, labels, "not_object")
            return None
        for key in data:
            if key not in keys:
                self.fail(f"{path}.{key}" if path else str(key), labels, "unknown_key", value=key)
        return data

    def number(self, data: dict, key: str, path: str, labels: tuple[str, ...], *, default: object = _MISSING,
               optional: bool = False, positive: bool = False, low: Decimal | None = None,
               high: Decimal | None = None) -> Decimal | None:
        p, lab = f"{path}.{key}" if path else key, (*labels, FIELD_LABELS[key])
        raw = data.get(key, default)
        if raw is None or raw == "":
            raw = None if optional else _MISSING
        if raw is _MISSING:
            self.fail(p, lab, "required")
            return None
        if raw is None:
            return None
        try:
            value = to_decimal(raw)
        except (TypeError, InvalidOperation):
            self.fail(p, lab, "not_number")
            return None
        if not value.is_finite():
            self.fail(p, lab, "not_number")
            return None
        if positive and value <= 0:
            self.fail(p, lab, "not_positive")
        elif value < 0:
            self.fail(p, lab, "negative")
        elif (low is not None and value < low) or (high is not None and value > high):
            self.fail(p, lab, "out_of_range", low=_num(low or Decimal(0)), high=_num(high))
        return value

    def integer(self, data: dict, key: str, path: str, labels: tuple[str, ...], *, low: int, high: int,
                default: object = _MISSING) -> int | None:
        p, lab = f"{path}.{key}" if path else key, (*labels, FIELD_LABELS[key])
        raw = data.get(key, default)
        if raw is _MISSING or raw is None:
            self.fail(p, lab, "required")
            return None
        if isinstance(raw, bool) or not isinstance(raw, int):
            self.fail(p, lab, "not_integer")
            return None
        if not low <= raw <= high:
            self.fail(p, lab, "out_of_range", low=low, high=high)
            return None
        return raw

    def choice(self, data: dict, key: str, path: str, labels: tuple[str, ...], choices: tuple[str, ...],
               default: object = _MISSING) -> str | None:
        p, lab = f"{path}.{key}" if path else key, (*labels, FIELD_LABELS[key])
        raw = data.get(key, default)
        if raw is _MISSING or raw is None:
            self.fail(p, lab, "required")
            return None
        if raw not in choices:
            self.fail(p, lab, "choice", choices="、".join(CHOICE_LABELS.get(c, c) for c in choices))
            return None
        return raw

    def text(self, data: dict, key: str, path: str, labels: tuple[str, ...]) -> str | None:
        p, lab = f"{path}.{key}" if path else key, (*labels, FIELD_LABELS[key])
        raw = data.get(key)
        if raw is None or raw == "":
            self.fail(p, lab, "required")
            return None
        if not isinstance(raw, str):
            self.fail(p, lab, "not_text")
            return None
        if not raw.strip():
            self.fail(p, lab, "empty")
            return None
        return raw.strip()

    def boolean(self, data: dict, key: str, path: str, labels: tuple[str, ...], default: bool) -> bool:
        raw = data.get(key, default)
        if not isinstance(raw, bool):
            self.fail(f"{path}.{key}", (*labels, FIELD_LABELS[key]), "not_bool")
            return default
        return raw

    def items(self, data: dict, key: str, path: str, labels: tuple[str, ...], *, required: bool) -> list:
        p, lab = f"{path}.{key}" if path else key, (*labels, FIELD_LABELS[key])
        raw = data.get(key, _MISSING)
        if raw is _MISSING or raw is None:
            if required:
                self.fail(p, lab, "required")
            return []
        if not isinstance(raw, list):
            self.fail(p, lab, "not_list")
            return []
        if required and not raw:
            self.fail(p, lab, "empty")
        return raw

    def unique(self, values: list[tuple[str, str | None]], labels: tuple[str, ...]) -> None:
        seen: set[str] = set()
        for path, value in values:
            if value is None:
                continue
            if value in seen:
                self.fail(path, labels, "duplicate", value=value)
            seen.add(value)

    def benchmark(self, data: object, path: str, labels: tuple[str, ...]) -> Benchmark:
        labels = (*labels, FIELD_LABELS["benchmark"])
        d = self.obj(data, path, labels, ("kind", "value", "factor", "mean"))
        if d is None:
            return Benchmark()
        kind = self.choice(d, "kind", path, labels, BENCHMARK_KINDS, default="group_mean")
        mean = self.choice(d, "mean", path, labels, MEAN_KINDS, default="aggregate")
        value = factor = None
        if kind == "set":
            value = self.number(d, "value", path, labels, positive=True, high=LIMITS["value"])
        if kind == "group_mean":
            factor = self.number(d, "factor", path, labels, positive=True, default=2, high=LIMITS["factor"])
        return Benchmark(kind or "group_mean", value if kind == "set" else None,
                         factor if factor is not None else Decimal(2), mean or "aggregate")

    def indicator(self, data: object, path: str, labels: tuple[str, ...]) -> IndicatorConfig | None:
        d = self.obj(data, path, labels, ("code", "weight", "benchmark", "cap", "direction"))
        if d is None:
            return None
        code = self.text(d, "code", path, labels)
        if code is not None and code not in INDICATORS:
            self.fail(f"{path}.code", (*labels, FIELD_LABELS["code"]), "unknown_indicator", value=code)
            code = None
        if code is not None:
            labels = (*labels[:-1], INDICATOR_LABELS[code])
        weight = self.number(d, "weight", path, labels, high=LIMITS["weight"])
        benchmark = self.benchmark(d.get("benchmark", {}), f"{path}.benchmark", labels)
        cap = self.number(d, "cap", path, labels, optional=True, positive=True, default=Decimal("1.2"),
                          high=LIMITS["cap"])
        direction = self.choice(d, "direction", path, labels, DIRECTIONS, default="higher")
        if code is None or weight is None:
            return None
        return IndicatorConfig(code, weight, benchmark, cap, direction or "higher")

    def group(self, data: object, path: str, index: int) -> GroupConfig | None:
        labels: tuple[str, ...] = (f"{FIELD_LABELS['groups']} {index + 1}",)
        d = self.obj(data, path, labels, ("code", "label", "scale", "min_land_mu", "indicators", "classes",
                                          "rounding", "ties"))
        if d is None:
            return None
        label = self.text(d, "label", path, labels)
        if label is not None:
            labels = (label,)
        code = self.text(d, "code", path, labels)
        scale = self.choice(d, "scale", path, labels, GROUP_SCALES)
        min_land = self.number(d, "min_land_mu", path, labels, optional=True, default=None, high=LIMITS["min_land_mu"])
        raw_indicators = self.items(d, "indicators", path, labels, required=True)
        indicators = [self.indicator(x, f"{path}.indicators[{k}]", (*labels, f"{FIELD_LABELS['indicators']} {k + 1}"))
                      for k, x in enumerate(raw_indicators)]
        self.unique([(f"{path}.indicators[{k}].code", i.code if i else None) for k, i in enumerate(indicators)],
                    (*labels, FIELD_LABELS["indicators"]))
        if indicators and all(i is not None for i in indicators):
            total = sum((i.weight for i in indicators), Decimal(0))
            if total != 100:
                self.fail(f"{path}.indicators", (*labels, FIELD_LABELS["weight"]), "weights_total",
                          total=_num(total))
        classes = self.classes(d, path, labels)
        rounding = self.choice(d, "rounding", path, labels, ROUNDINGS, default="floor")
        ties = self.ties(d.get("ties", {}), f"{path}.ties", labels,
                         None if None in indicators else {i.code for i in indicators})
        if None in (code, label, scale) or None in indicators or classes is None:
            return None
        return GroupConfig(code, label, scale, tuple(indicators), min_land, classes, rounding or "floor", ties)

    def classes(self, d: dict, path: str, labels: tuple[str, ...]) -> tuple[GradeCut, ...] | None:
        raw = self.items(d, "classes", path, labels, required=True)
        before = len(self.problems)
        cuts: list[GradeCut | None] = []
        for k, x in enumerate(raw):
            p, lab = f"{path}.classes[{k}]", (*labels, f"{FIELD_LABELS['classes']} {k + 1}")
            c = self.obj(x, p, lab, ("grade", "top_pct"))
            if c is None:
                cuts.append(None)
                continue
            grade = self.text(c, "grade", p, lab)
            pct = self.number(c, "top_pct", p, (*lab[:-1], grade) if grade else lab, low=Decimal(0),
                              high=Decimal(100))
            cuts.append(GradeCut(grade, pct) if grade is not None and pct is not None else None)
        self.unique([(f"{path}.classes[{k}].grade", c.grade if c else None) for k, c in enumerate(cuts)],
                    (*labels, FIELD_LABELS["classes"]))
        if not cuts or None in cuts:
            return None
        if len(self.problems) > before:
            return tuple(cuts)
        pcts = [c.top_pct for c in cuts]
        if any(b <= a for a, b in zip(pcts, pcts[1:])):
            self.fail(f"{path}.classes", (*labels, FIELD_LABELS["top_pct"]), "pct_order")
        if pcts[-1] != 100:
            self.fail(f"{path}.classes[{len(cuts) - 1}].top_pct", (*labels, FIELD_LABELS["top_pct"]), "pct_last")
        return tuple(cuts)

    def ties(self, data: object, path: str, labels: tuple[str, ...], codes: set[str] | None) -> Ties:
        """``codes`` is None when the group's indicators are themselves wrong: nothing to check against."""
        labels = (*labels, FIELD_LABELS["ties"])
        d = self.obj(data, path, labels, ("rule", "indicators"))
        if d is None:
            return Ties()
        rule = self.choice(d, "rule", path, labels, TIE_RULES, default="shared")
        raw = d.get("indicators", [])
        if not isinstance(raw, list):
            self.fail(f"{path}.indicators", (*labels, FIELD_LABELS["tie_indicators"]), "not_list")
            raw = []
        for k, code in enumerate(raw):
            if codes is not None and code not in codes:
                self.fail(f"{path}.indicators[{k}]", (*labels, FIELD_LABELS["tie_indicators"]), "not_in_group",
                          value=code)
        return Ties(rule or "shared", tuple(raw) if rule == "indicators" and codes is not None else ())

    def not_graded(self, data: dict) -> tuple[NotGradedRule, ...]:
        rules = []
        for k, x in enumerate(self.items(data, "not_graded", "", (), required=False)):
            p, lab = f"not_graded[{k}]", (f"{FIELD_LABELS['not_graded']} {k + 1}",)
            d = self.obj(x, p, lab, ("code", "enabled", "years"))
            if d is None:
                continue
            code = self.choice(d, "code", p, lab, NOT_GRADED_CODES)
            enabled = self.boolean(d, "enabled", p, lab, True)
            years = None
            if code == "new_production":
                years = self.integer(d, "years", p, lab, low=1, high=10, default=2)
            if code is not None:
                rules.append(NotGradedRule(code, enabled, years))
        self.unique([(f"not_graded[{k}].code", r.code) for k, r in enumerate(rules)], (FIELD_LABELS["not_graded"],))
        return tuple(rules)

    def adjustments(self, data: dict) -> tuple[AdjustmentLimit, ...]:
        limits = []
        for k, x in enumerate(self.items(data, "adjustments", "", (), required=False)):
            p, lab = f"adjustments[{k}]", (f"{FIELD_LABELS['adjustments']} {k + 1}",)
            d = self.obj(x, p, lab, ("kind", "max_bonus", "max_minus"))
            if d is None:
                continue
            kind = self.choice(d, "kind", p, lab, ADJUSTMENT_KINDS)
            bonus = self.number(d, "max_bonus", p, lab, default=0, high=LIMITS["points"])
            minus = self.number(d, "max_minus", p, lab, default=0, high=LIMITS["points"])
            if None not in (kind, bonus, minus):
                limits.append(AdjustmentLimit(kind, bonus, minus))
        self.unique([(f"adjustments[{k}].kind", a.kind) for k, a in enumerate(limits)], (FIELD_LABELS["adjustments"],))
        return tuple(limits)

    def config(self, data: object, year: int | None) -> Config | None:
        d = self.obj(data, "", (), ("year", "groups", "not_graded", "adjustments", "above_scale_revenue_10k",
                                    "leased_floor"))
        if d is None:
            return None
        y = self.integer(d, "year", "", (), low=2000, high=2100, default=year if year is not None else _MISSING)
        if year is not None and y is not None and y != year:
            self.fail("year", (FIELD_LABELS["year"],), "year_mismatch", year=year)
        groups = [self.group(x, f"groups[{k}]", k) for k, x in enumerate(self.items(d, "groups", "", (),
                                                                                    required=True))]
        self.unique([(f"groups[{k}].code", g.code if g else None) for k, g in enumerate(groups)],
                    (FIELD_LABELS["groups"], FIELD_LABELS["code"]))
        not_graded = self.not_graded(d)
        adjustments = self.adjustments(d)
        revenue = self.number(d, "above_scale_revenue_10k", "", (), default=ABOVE_SCALE_REVENUE_10K,
                              high=LIMITS["value"])
        lf = self.obj(d.get("leased_floor", {}), "leased_floor", (FIELD_LABELS["leased_floor"],), ("counted", "far"))
        leased = LeasedFloor()
        if lf is not None:
            counted = self.boolean(lf, "counted", "leased_floor", (FIELD_LABELS["leased_floor"],), False)
            far = self.number(lf, "far", "leased_floor", (FIELD_LABELS["leased_floor"],), positive=True, default=1,
                             high=LIMITS["far"])
            leased = LeasedFloor(counted, far if far is not None else Decimal(1))
        if self.problems or y is None or revenue is None:
            return None
        return Config(y, tuple(groups), not_graded, adjustments, revenue, leased)


def config_problems(data: object, year: int | None = None) -> list[ConfigProblem]:
    """Every problem of a configuration dict (empty when it can be used).

    >>> d = config_to_dict(default_config(2025))
    >>> d["groups"][0]["indicators"][1]["weight"] = -5
    >>> [p.message for p in config_problems(d)]
    ['规上企业 · 亩均增加值 · 权重：不能小于 0', '规上企业 · 权重：权重合计须为 100，现为 75']
    """
    reader = _Reader()
    reader.config(data, year)
    return reader.problems


def config_from_dict(data: object, year: int | None = None) -> Config:
    """A Config from plain JSON types; raises ``ConfigError`` listing every problem.

    ``year``, when given, is the year of the URL the configuration was sent to: it fills a missing
    ``year`` and must equal a given one. Missing optional parts take the defaults of
    ``default_config`` (cap 1.2, factor 2, ``aggregate`` mean, ``floor`` rounding, ``shared`` ties).

    >>> config_from_dict({"groups": []}, 2025)
    Traceback (most recent call last):
    ...
    evaluation.config.ConfigError: 评价组：不能为空
    """
    reader = _Reader()
    config = reader.config(data, year)
    if reader.problems or config is None:
        raise ConfigError(reader.problems)
    return config
