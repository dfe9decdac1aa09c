"""An enterprise's yearly inputs to the 亩均效益综合评价, and the indicators computed from them.

Units: money in 万元, land in 亩, energy in 吨标准煤, emissions in 吨, electricity in 万千瓦时,
staff in persons, leased floor area in m². Every figure may be missing (``None``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal

# 1 亩 = 10000/15 m² (the same definition as spatial.M2_PER_MU, kept exact here as a fraction).
MU_PER_M2 = Decimal(15) / Decimal(10000)

SCALES = ("above", "below")  # 规上 / 规下
ADJUSTMENT_KINDS = ("safety", "environment", "innovation")  # 安全生产、环保、科技创新


def to_decimal(value: object) -> Decimal | None:
    """A figure as an exact Decimal; floats go through their shortest repr.

    >>> to_decimal(12.3), to_decimal("4"), to_decimal(None)
    (Decimal('12.3'), Decimal('4'), None)
    """
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a figure cannot be a bool")
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, (int, str)):
        return Decimal(value)
    raise TypeError(f"not a number: {value!r}")


@dataclass(frozen=True, slots=True)
class Figures:
    """The departments' figures of one enterprise for one year (any may be ``None``).

    >>> Figures(tax_10k=120, value_added_10k="800.5").value_added_10k
    Decimal('800.5')
    """

    tax_10k: Decimal | None = None  # 税收（万元，税务）
    revenue_10k: Decimal | None = None  # 营业收入（万元，统计）
    value_added_10k: Decimal | None = None  # 工业增加值（万元，统计）
    energy_tce: Decimal | None = None  # 综合能耗（吨标准煤，统计/发改）
    emission_t: Decimal | None = None  # 主要污染物排放量（吨，生态环境）
    electricity_10k_kwh: Decimal | None = None  # 用电量（万千瓦时，供电）
    employees: Decimal | None = None  # 年平均职工人数（人社）
    rd_10k: Decimal | None = None  # R&D 经费支出（万元，统计）

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, to_decimal(getattr(self, f.name)))


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A bonus (positive ``points``) or minus (negative) of one kind: safety, environment or innovation.

    >>> Adjustment("innovation", 3, "省级研发中心").points
    Decimal('3')
    """

    kind: str  # one of ADJUSTMENT_KINDS
    points: Decimal
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ADJUSTMENT_KINDS:
            raise ValueError(f"unknown adjustment kind {self.kind!r}; use one of {ADJUSTMENT_KINDS}")
        object.__setattr__(self, "points", to_decimal(self.points))


@dataclass(frozen=True, slots=True)
class Enterprise:
    """One enterprise's inputs for the evaluated year.

    ``land_mu`` is the sum of its parcels' 亩 (the caller computes it with ``spatial``);
    ``leased_floor_m2`` is floor area rented in another's factory (厂中厂), counted only when the
    configuration says so. ``scale`` is ``"above"`` (规上) or ``"below"`` (规下); when ``None`` the
    configuration's revenue threshold decides. ``start_year`` is the 投产年份.

    >>> e = Enterprise("91330483MA2B000001", "甲公司", land_mu=10, scale="above", figures=Figures(tax_10k=300))
    >>> e.land_mu, e.figures.tax_10k
    (Decimal('10'), Decimal('300'))
    """

    credit_code: str
    name: str
    land_mu: Decimal | None = None
    scale: str | None = None
    leased_floor_m2: Decimal | None = None
    start_year: int | None = None
    is_utility: bool = False  # 公用事业（供水、供电、供气、污水处理等）
    is_major_project: bool = False  # 重大项目在建
    figures: Figures = field(default_factory=Figures)
    adjustments: tuple[Adjustment, ...] = ()

    def __post_init__(self) -> None:
        if self.scale is not None and self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES} or None, not {self.scale!r}")
        object.__setattr__(self, "land_mu", to_decimal(self.land_mu))
        object.__setattr__(self, "leased_floor_m2", to_decimal(self.leased_floor_m2))
        object.__setattr__(self, "adjustments", tuple(self.adjustments))


@dataclass(frozen=True, slots=True)
class IndicatorDef:
    """How an indicator is computed: ``numerator / denominator × multiplier``."""

    code: str
    numerator: str  # a Figures field
    denominator: str  # a Figures field, or "land_mu" (the counted land)
    multiplier: Decimal = Decimal(1)


INDICATORS: dict[str, IndicatorDef] = {
    d.code: d
    for d in (
        IndicatorDef("tax_per_mu", "tax_10k", "land_mu"),  # 亩均税收 万元/亩
        IndicatorDef("value_added_per_mu", "value_added_10k", "land_mu"),  # 亩均增加值 万元/亩
        IndicatorDef("revenue_per_mu", "revenue_10k", "land_mu"),  # 亩均营业收入 万元/亩
        IndicatorDef("value_added_per_energy", "value_added_10k", "energy_tce"),  # 单位能耗增加值 万元/吨标准煤
        IndicatorDef("value_added_per_emission", "value_added_10k", "emission_t"),  # 单位排放增加值 万元/吨
        IndicatorDef("labour_productivity", "value_added_10k", "employees"),  # 全员劳动生产率 万元/人
        IndicatorDef("rd_ratio", "rd_10k", "revenue_10k", Decimal(100)),  # R&D 占营业收入比重 %
        # 万元 ÷ 万千瓦时 = 元/千瓦时
        IndicatorDef("tax_per_kwh", "tax_10k", "electricity_10k_kwh"),  # 单位电耗税收 元/千瓦时
    )
}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def enterprise_to_dict(e: Enterprise) -> dict:
    """Plain JSON types (decimals as exact strings), for a run's frozen inputs.

    >>> e = Enterprise("X1", "甲", "12.5", "above", start_year=2020, figures=Figures(tax_10k=300),
    ...                adjustments=(Adjustment("safety", -5, "事故"),))
    >>> d = enterprise_to_dict(e)
    >>> d["land_mu"], d["figures"]["tax_10k"], d["figures"]["rd_10k"], d["adjustments"]
    ('12.5', '300', None, [{'kind': 'safety', 'points': '-5', 'note': '事故'}])
    >>> enterprise_from_dict(d) == e
    True
    """
    return {
        "credit_code": e.credit_code, "name": e.name, "land_mu": _text(e.land_mu), "scale": e.scale,
        "leased_floor_m2": _text(e.leased_floor_m2), "start_year": e.start_year, "is_utility": e.is_utility,
        "is_major_project": e.is_major_project,
        "figures": {f.name: _text(getattr(e.figures, f.name)) for f in fields(Figures)},
        "adjustments": [{"kind": a.kind, "points": _text(a.points), "note": a.note} for a in e.adjustments],
    }


def enterprise_from_dict(d: dict) -> Enterprise:
    """The inverse of ``enterprise_to_dict`` (``ValueError``/``TypeError`` on malformed input)."""
    return Enterprise(
        d["credit_code"], d["name"], d.get("land_mu"), d.get("scale"), d.get("leased_floor_m2"),
        d.get("start_year"), bool(d.get("is_utility", False)), bool(d.get("is_major_project", False)),
        Figures(**d.get("figures", {})),
        tuple(Adjustment(a["kind"], a["points"], a.get("note", "")) for a in d.get("adjustments", ())))
