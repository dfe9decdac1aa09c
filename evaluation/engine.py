"""``evaluate(enterprises, config)``: indicator values, scores, totals, ranks and classes.

Rounding (ROUND_HALF_UP throughout, so a reader can recompute every figure from the shown ones):
counted land, indicator values, means and benchmarks to 4 decimals; each indicator's score to 2
decimals, computed from the rounded value and benchmark; the total is the exact sum of the rounded
scores and the bounded bonus/minus points. See docs/evaluation.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext

from .config import Config, GroupConfig, config_to_dict
from .inputs import INDICATORS, MU_PER_M2, Enterprise, to_decimal
from .messages import (
    ADJUSTMENT_LABELS,
    EXPLANATIONS,
    FIGURE_LABELS,
    INDICATOR_LABELS,
    INDICATOR_UNITS,
    NOT_GIVEN,
    SCALE_LABELS,
    SIGNS,
    count_text,
    not_graded_text,
)

Q4 = Decimal("0.0001")
Q2 = Decimal("0.01")
ZERO = Decimal(0)
_ROUNDING_MODES = {"floor": ROUND_FLOOR, "half_up": ROUND_HALF_UP, "ceil": ROUND_CEILING}
# The arithmetic context of every evaluation, whatever the caller's: 40 significant digits leave room
# for 4 decimals of any figure a county reports, so quantize never fails and results never depend on it.
CONTEXT = Context(prec=40, rounding=ROUND_HALF_UP)


def q4(x: Decimal) -> Decimal:
    return x.quantize(Q4, ROUND_HALF_UP)


def q2(x: Decimal) -> Decimal:
    return x.quantize(Q2, ROUND_HALF_UP)


def _text(x: Decimal) -> str:
    """A Decimal as shown in a sentence: no exponent, no trailing zeros (3.5000 → 3.5, 10 → 10)."""
    s = f"{x:f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    """One indicator of one enterprise: value (``None`` when it cannot be computed), the group's
    benchmark, and the score (``None`` for an enterprise that is not graded)."""

    code: str
    label: str
    unit: str
    value: Decimal | None
    weight: Decimal
    benchmark: Decimal | None
    score: Decimal | None
    capped: bool = False
    note: str | None = None


@dataclass(frozen=True, slots=True)
class EnterpriseResult:
    """The outcome for one enterprise: ``grade`` A/B/C/D, or ``None`` with ``reason`` (不参评：…)."""

    credit_code: str
    name: str
    scale: str
    group: str | None
    land_mu: Decimal
    indicators: tuple[IndicatorResult, ...]
    indicator_score: Decimal | None
    adjustment_score: Decimal | None
    total: Decimal | None
    rank: int | None
    group_size: int | None
    grade: str | None
    reason: str | None
    explanations: tuple[str, ...]

    @property
    def graded(self) -> bool:
        return self.grade is not None

    def indicator(self, code: str) -> IndicatorResult:
        return next(i for i in self.indicators if i.code == code)


@dataclass(frozen=True, slots=True)
class GroupResult:
    """Per group: how many were graded and not, the means and benchmarks used, and the cut-offs
    (``cut_ranks``: the last rank each class reaches) with the resulting class counts."""

    code: str
    label: str
    graded: int
    not_graded: int
    means: Mapping[str, Decimal | None]
    benchmarks: Mapping[str, Decimal | None]
    cut_ranks: Mapping[str, int]
    grade_counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Result:
    """A whole evaluation. ``enterprises`` are ordered by group (configuration order), then rank,
    then credit code; the not graded of a group follow it, and those in no group come last."""

    year: int
    enterprises: tuple[EnterpriseResult, ...]
    groups: tuple[GroupResult, ...]
    config: Config = field(repr=False)
    by_code: Mapping[str, EnterpriseResult] = field(compare=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        if not self.by_code:
            object.__setattr__(self, "by_code", {e.credit_code: e for e in self.enterprises})

    def group(self, code: str) -> GroupResult:
        return next(g for g in self.groups if g.code == code)

    def to_dict(self) -> dict:
        """JSON-ready (decimals as strings, exact), for a frozen run.

        >>> from evaluation import Enterprise, Figures, default_config
        >>> r = evaluate([Enterprise("X1", "甲", 10, "above", start_year=2000, figures=Figures(tax_10k=100))],
        ...              default_config(2025))
        >>> d = r.to_dict()
        >>> d["enterprises"][0]["grade"], d["groups"][0]["benchmarks"]["tax_per_mu"]
        ('D', '20.0000')
        """
        def num(x: Decimal | None) -> str | None:
            return None if x is None else f"{x:f}"

        return {
            "year": self.year,
            "config": config_to_dict(self.config),
            "enterprises": [{
                "credit_code": e.credit_code, "name": e.name, "scale": e.scale, "group": e.group,
                "land_mu": num(e.land_mu),
                "indicators": [{"code": i.code, "label": i.label, "unit": i.unit, "value": num(i.value),
                                "weight": num(i.weight), "benchmark": num(i.benchmark), "score": num(i.score),
                                "capped": i.capped, "note": i.note} for i in e.indicators],
                "indicator_score": num(e.indicator_score), "adjustment_score": num(e.adjustment_score),
                "total": num(e.total), "rank": e.rank, "group_size": e.group_size, "grade": e.grade,
                "reason": e.reason, "explanations": list(e.explanations),
            } for e in self.enterprises],
            "groups": [{
                "code": g.code, "label": g.label, "graded": g.graded, "not_graded": g.not_graded,
                "means": {k: num(v) for k, v in g.means.items()},
                "benchmarks": {k: num(v) for k, v in g.benchmarks.items()},
                "cut_ranks": dict(g.cut_ranks), "grade_counts": dict(g.grade_counts),
            } for g in self.groups],
        }


class _Work:
    """Mutable working state of one enterprise during an evaluation."""

    __slots__ = ("e", "land_mu", "scale", "group", "reason", "notes", "after", "values", "problems", "nums", "dens",
                 "scores", "capped", "score_notes", "indicator_score", "adjustment_score", "total", "rank",
                 "grade", "sort_key")

    def __init__(self, e: Enterprise):
        self.e = e
        self.notes: list[str] = []  # land, scale, start year: shown first
        self.after: list[str] = []  # bonus/minus and ties: shown after the indicators
        self.reason: str | None = None
        self.group: GroupConfig | None = None
        self.values: list[Decimal | None] = []
        self.problems: list[str | None] = []
        self.nums: list[Decimal | None] = []
        self.dens: list[Decimal | None] = []
        self.scores: list[Decimal | None] = []
        self.capped: list[bool] = []
        self.score_notes: list[str | None] = []
        self.indicator_score = self.adjustment_score = self.total = None
        self.rank = self.grade = None


def counted_land_mu(e: Enterprise, config: Config) -> tuple[Decimal, str | None]:
    """The land the evaluation divides by: the parcels' 亩, plus leased floor area ÷ far in 亩 when
    the configuration counts it (厂中厂 tenants). Returns the 亩 (4 decimals) and an explanation.

    >>> from dataclasses import replace
    >>> from evaluation import Enterprise, LeasedFloor, default_config
    >>> c = default_config(2025)
    >>> counted_land_mu(Enterprise("X", "乙", land_mu=2, leased_floor_m2=2000), c)
    (Decimal('2.0000'), None)
    >>> c = replace(c, leased_floor=LeasedFloor(True, 1))
    >>> counted_land_mu(Enterprise("X", "乙", land_mu=2, leased_floor_m2=2000), c)
    (Decimal('5.0000'), '用地含租用厂房 2000 平方米，折合 3 亩')
    """
    with localcontext(CONTEXT):
        return _counted_land_mu(e, config)


def _counted_land_mu(e: Enterprise, config: Config) -> tuple[Decimal, str | None]:
    land = e.land_mu if e.land_mu is not None else ZERO
    if config.leased_floor.counted and e.leased_floor_m2:
        leased = q4(e.leased_floor_m2 * MU_PER_M2 / config.leased_floor.far)
        note = EXPLANATIONS["leased_floor"].format(floor_m2=_text(e.leased_floor_m2), mu=_text(leased))
        return q4(land + leased), note
    return q4(land), None


def _scale(e: Enterprise, config: Config, notes: list[str]) -> str:
    if e.scale is not None:
        return e.scale
    revenue = e.figures.revenue_10k
    scale = "above" if revenue is not None and revenue >= config.above_scale_revenue_10k else "below"
    notes.append(EXPLANATIONS["scale_from_revenue"].format(
        revenue=_text(revenue) if revenue is not None else NOT_GIVEN, scale=SCALE_LABELS[scale]))
    return scale


def _place(w: _Work, config: Config) -> None:
    """Land, scale, group and the not-graded reason of one enterprise."""
    e = w.e
    w.land_mu, note = _counted_land_mu(e, config)
    if note:
        w.notes.append(note)
    w.scale = _scale(e, config, w.notes)
    short_of: GroupConfig | None = None
    for g in config.groups:
        if g.scale not in ("any", w.scale):
            continue
        if g.min_land_mu is not None and w.land_mu < g.min_land_mu:
            short_of = short_of or g
            continue
        w.group = g
        break
    for rule in config.not_graded:
        if not rule.enabled:
            continue
        if rule.code == "utility" and e.is_utility:
            w.reason = not_graded_text("utility")
        elif rule.code == "major_project" and e.is_major_project:
            w.reason = not_graded_text("major_project")
        elif rule.code == "new_production":
            if e.start_year is None:
                w.notes.append(EXPLANATIONS["no_start_year"].format(years=count_text(rule.years)))
            elif config.year - e.start_year < rule.years:
                w.reason = not_graded_text("new_production", years=count_text(rule.years))
        if w.reason:
            break
    if w.reason is None and w.group is None:
        if short_of is not None:
            w.reason = not_graded_text("land_below_minimum", scale=SCALE_LABELS[w.scale],
                                       land_mu=_text(w.land_mu), min_land_mu=_text(short_of.min_land_mu))
        else:
            w.reason = not_graded_text("no_group")


def _values(w: _Work) -> None:
    """Each indicator's value of the enterprise's group, or the reason it has none."""
    figures = w.e.figures
    for ic in w.group.indicators:
        d = INDICATORS[ic.code]
        num = getattr(figures, d.numerator)
        den = w.land_mu if d.denominator == "land_mu" else getattr(figures, d.denominator)
        label = INDICATOR_LABELS[ic.code]
        missing = [f for f, v in ((d.numerator, num), (d.denominator, den)) if v is None]
        if d.denominator == "land_mu" and w.e.land_mu is None and not w.land_mu:
            missing.append("land_mu")
        value = problem = None
        if missing:
            problem = EXPLANATIONS["missing"].format(indicator=label,
                                                     figures="、".join(FIGURE_LABELS[f] for f in missing))
        elif den == 0:
            problem = EXPLANATIONS["zero_denominator"].format(indicator=label, figure=FIGURE_LABELS[d.denominator])
        else:
            value = q4(num / den * d.multiplier)
            if ic.direction == "lower" and value <= 0:
                value, problem = None, EXPLANATIONS["not_positive_lower"].format(indicator=label)
        w.values.append(value)
        w.problems.append(problem)
        w.nums.append(num if value is not None else None)
        w.dens.append(den if value is not None else None)


def _benchmarks(g: GroupConfig, graded: list[_Work], means: Mapping[str, Decimal] | None
                ) -> tuple[dict[str, Decimal | None], dict[str, Decimal | None]]:
    """The group's mean of each indicator over its graded enterprises with a value, and the benchmark."""
    mean_of: dict[str, Decimal | None] = {}
    bench_of: dict[str, Decimal | None] = {}
    for k, ic in enumerate(g.indicators):
        b = ic.benchmark
        if means is not None and ic.code in means:
            mean = to_decimal(means[ic.code])
        else:
            pairs = [(w.nums[k], w.dens[k], w.values[k]) for w in graded if w.values[k] is not None]
            if not pairs:
                mean = None
            elif b.mean == "aggregate":
                den = sum((p[1] for p in pairs), ZERO)
                mean = q4(sum((p[0] for p in pairs), ZERO) / den * INDICATORS[ic.code].multiplier) if den else None
            else:
                mean = q4(sum((p[2] for p in pairs), ZERO) / len(pairs))
        mean_of[ic.code] = mean
        if b.kind == "set":
            bench_of[ic.code] = b.value
        else:
            bench_of[ic.code] = q4(b.factor * mean) if mean is not None else None
    return mean_of, bench_of


def _score(w: _Work, g: GroupConfig, bench_of: Mapping[str, Decimal | None]) -> None:
    for k, ic in enumerate(g.indicators):
        label, value, bench = INDICATOR_LABELS[ic.code], w.values[k], bench_of[ic.code]
        score, capped, note = ZERO, False, w.problems[k]
        if value is None:
            pass
        elif bench is None or bench <= 0:
            note = EXPLANATIONS["no_benchmark"].format(indicator=label)
        elif value < 0:
            note = EXPLANATIONS["negative"].format(indicator=label)
        else:
            raw = q2((value / bench if ic.direction == "higher" else bench / value) * ic.weight)
            score = raw
            if ic.cap is not None:
                cap = q2(ic.cap * ic.weight)
                if raw > cap:
                    score, capped = cap, True
                    note = EXPLANATIONS["capped"].format(indicator=label, raw=raw, cap=cap, factor=_text(ic.cap),
                                                         weight=_text(ic.weight))
        w.scores.append(score)
        w.capped.append(capped)
        w.score_notes.append(note)


def _adjust(w: _Work, limits: Mapping[str, tuple[Decimal, Decimal]]) -> Decimal:
    """The enterprise's bonus and minus points, each kind bounded by its limits (none if not configured)."""
    per_kind: dict[str, Decimal] = {}
    for a in w.e.adjustments:
        per_kind[a.kind] = per_kind.get(a.kind, ZERO) + a.points
        sign = SIGNS["bonus"] if a.points >= 0 else SIGNS["minus"]
        w.after.append(EXPLANATIONS["adjustment"].format(kind=ADJUSTMENT_LABELS[a.kind], sign=sign,
                                                         points=_text(abs(a.points)),
                                                         note=f"（{a.note}）" if a.note else ""))
    total = ZERO
    for kind, points in per_kind.items():
        if kind in limits:
            bonus, minus = limits[kind]
            if points > bonus:
                w.after.append(EXPLANATIONS["adjustment_limited"].format(
                    kind=ADJUSTMENT_LABELS[kind], points=_text(points), limit=_text(bonus)))
                points = bonus
            elif points < -minus:
                w.after.append(EXPLANATIONS["adjustment_limited"].format(
                    kind=ADJUSTMENT_LABELS[kind], points=_text(points), limit=_text(-minus)))
                points = -minus
        total += points
    return total


def cut_ranks(group_size: int, g: GroupConfig) -> dict[str, int]:
    """The last rank each class reaches: the cumulative share of ``group_size``, rounded as configured
    (``floor`` by default, so A is at most 20 % and D at least 5 %).

    >>> from evaluation import default_config
    >>> g = default_config(2025).group("above")
    >>> cut_ranks(10, g), cut_ranks(7, g)
    ({'A': 2, 'B': 6, 'C': 9, 'D': 10}, {'A': 1, 'B': 4, 'C': 6, 'D': 7})
    """
    mode = _ROUNDING_MODES[g.rounding]
    return {c.grade: int((group_size * c.top_pct / 100).quantize(Decimal(1), mode)) for c in g.classes}


def _rank(members: list[_Work], g: GroupConfig) -> dict[str, int]:
    """Rank the graded members and give them their class; ties share the better rank and class."""
    tie_idx = [next(k for k, ic in enumerate(g.indicators) if ic.code == c) for c in g.ties.indicators] \
        if g.ties.rule == "indicators" else []
    for w in members:
        w.sort_key = (-w.total, *(-w.scores[k] for k in tie_idx))
    members.sort(key=lambda w: (w.sort_key, w.e.credit_code))
    cuts = cut_ranks(len(members), g)
    grades = list(cuts.items())
    counts = {c.grade: 0 for c in g.classes}
    rank, previous, total_ties = 0, None, {}
    for position, w in enumerate(members, 1):
        if w.sort_key != previous:
            rank, previous = position, w.sort_key
        w.rank = rank
        w.grade = next(grade for grade, last in grades if rank <= last)
        counts[w.grade] += 1
        total_ties[w.total] = total_ties.get(w.total, 0) + 1
    same_key: dict[tuple, int] = {}
    for w in members:
        same_key[w.sort_key] = same_key.get(w.sort_key, 0) + 1
    for w in members:
        if same_key[w.sort_key] > 1:
            w.after.append(EXPLANATIONS["tie"].format(count=same_key[w.sort_key] - 1, rank=w.rank))
        elif total_ties[w.total] > 1:
            w.after.append(EXPLANATIONS["tie_broken"].format(
                count=total_ties[w.total] - 1,
                indicators="、".join(INDICATOR_LABELS[c] for c in g.ties.indicators)))
    return counts


def evaluate(enterprises: Iterable[Enterprise], config: Config, *,
             means: Mapping[str, Mapping[str, Decimal]] | None = None) -> Result:
    """Evaluate one year: each enterprise's indicator values, scores, total, rank and class.

    Parameters
    ----------
    enterprises
        The year's inputs; credit codes must be unique (``ValueError`` otherwise).
    config
        The year's configuration (``default_config(year)`` or ``config_from_dict``).
    means
        Optional ``{group code: {indicator code: mean}}`` to use instead of this year's group means
        for ``group_mean`` benchmarks (e.g. the previous year's ``Result.group(...).means``).

    Returns
    -------
    Result
        Pure and deterministic: the same inputs give the same result whatever their order.

    Examples
    --------
    >>> from evaluation import Enterprise, Figures, default_config
    >>> f = dict(value_added_10k=600, energy_tce=100, emission_t=2, employees=60, revenue_10k=3000, rd_10k=90)
    >>> firms = [Enterprise("A1", "甲", 20, "above", start_year=2010, figures=Figures(tax_10k=400, **f)),
    ...          Enterprise("A2", "乙", 20, "above", start_year=2010, figures=Figures(tax_10k=200, **f)),
    ...          Enterprise("A3", "丙", 20, "above", start_year=2024, figures=Figures(tax_10k=900, **f))]
    >>> r = evaluate(firms, default_config(2025))
    >>> [(e.credit_code, e.total, e.rank, e.grade, e.reason) for e in r.enterprises]
    [('A1', Decimal('55.00'), 1, 'B', None), ('A2', Decimal('45.00'), 2, 'D', None), \
('A3', None, None, None, '不参评：投产不满两年')]
    >>> r.group("above").benchmarks["tax_per_mu"]
    Decimal('30.0000')
    """
    with localcontext(CONTEXT):
        return _evaluate(enterprises, config, means)


def _evaluate(enterprises: Iterable[Enterprise], config: Config,
              means: Mapping[str, Mapping[str, Decimal]] | None) -> Result:
    works = [_Work(e) for e in enterprises]
    seen: set[str] = set()
    for w in works:
        if w.e.credit_code in seen:
            raise ValueError(f"credit code {w.e.credit_code!r} appears twice")
        seen.add(w.e.credit_code)
        _place(w, config)
        if w.group is not None:
            _values(w)
    limits = {a.kind: (a.max_bonus, a.max_minus) for a in config.adjustments}
    group_results: list[GroupResult] = []
    ordered: list[_Work] = []
    for g in config.groups:
        members = [w for w in works if w.group is g]
        graded = [w for w in members if w.reason is None]
        mean_of, bench_of = _benchmarks(g, graded, (means or {}).get(g.code))
        for w in graded:
            _score(w, g, bench_of)
            w.indicator_score = sum(w.scores, ZERO)
            w.adjustment_score = _adjust(w, limits)
            w.total = w.indicator_score + w.adjustment_score
        counts = _rank(graded, g)
        not_graded = sorted((w for w in members if w.reason is not None), key=lambda w: w.e.credit_code)
        ordered += graded + not_graded
        group_results.append(GroupResult(g.code, g.label, len(graded), len(not_graded), mean_of, bench_of,
                                         cut_ranks(len(graded), g), counts))
        for w in not_graded:
            w.scores, w.capped, w.score_notes = [None] * len(g.indicators), [False] * len(g.indicators), w.problems
    ordered += sorted((w for w in works if w.group is None), key=lambda w: w.e.credit_code)
    by_group = {gr.code: gr for gr in group_results}
    return Result(config.year, tuple(_result(w, by_group) for w in ordered), tuple(group_results), config)


def _result(w: _Work, groups: Mapping[str, GroupResult]) -> EnterpriseResult:
    g = w.group
    indicators: tuple[IndicatorResult, ...] = ()
    size = None
    if g is not None:
        gr = groups[g.code]
        size = gr.graded if w.reason is None else None
        indicators = tuple(
            IndicatorResult(ic.code, INDICATOR_LABELS[ic.code], INDICATOR_UNITS[ic.code], w.values[k], ic.weight,
                            gr.benchmarks[ic.code], w.scores[k], w.capped[k], w.score_notes[k])
            for k, ic in enumerate(g.indicators))
    explanations = tuple(n for n in (*w.notes, *(i.note for i in indicators), *w.after) if n)
    return EnterpriseResult(w.e.credit_code, w.e.name, w.scale, g.code if g else None, w.land_mu, indicators,
                            w.indicator_score, w.adjustment_score, w.total, w.rank, size, w.grade, w.reason,
                            explanations)
