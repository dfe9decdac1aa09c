"""The plan's rules as checks that return data.

Source: 桐乡市工业园区有机更新攻坚行动计划（2022—2023年）, 桐政办发〔2022〕11号.
Each threshold is a constant citing the sentence it comes from; a failed rule is
a :class:`Violation` (stable ``code``, Chinese message, values, offending ids),
never an exception. Areas are in 亩 (plane area in EPSG:4549 ÷ 10000/15 m²).

Thresholds are compared on the figures as reported: areas rounded to 0.01 亩,
FAR to 0.01 (see docs/spatial.md §7), so the number a planner reads is the
number that was checked, and 100 m × 133.333 m is 20.00 亩 as a surveyor
would say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .contiguity import DEFAULT_TOLERANCE_M

# 三（二）1: "全市开发区、各镇（街道）工业园区内200亩以上的相对连片集聚区"
MIN_BLOCK_MU = 200.0
# 三（二）1: "各主体每年认定连片实施区块原则上不超过2个"
MAX_BLOCKS_PER_UNIT_PER_YEAR = 2
# 三（二）2: "原则上腾退或实施改造宗地面积不少于20亩"
MIN_PARCEL_MU = 20.0
# 三（二）2: "改造后容积率达到2.0以上"; 二: "改造区域内平均容积率提升到2.0以上"
MIN_FAR = 2.0
# 三（二）2: "或者零星腾退收回后整合归宗重新出让单宗面积不少于20亩"
MIN_MERGED_PARCEL_MU = 20.0
# 三（二）: "纳入工业园区有机更新考核区域必须为“退二优二”或“工改工”"; 三（二）2 adds "“零土地”技改"
# (codes as in app/enums.py RenewalType; spatial takes plain strings and never imports app)
RENEWAL_TYPES = {
    "secondary_upgrade": "退二优二",
    "industrial_to_industrial": "工改工",
    "zero_land": "零土地技改",
}
# 三（三）: "按改造提升、优化转型、整治清退三种类型进行综合施策分类处置" (app/enums.py Classification)
CLASSIFICATIONS = {
    "upgrade": "改造提升",
    "transform": "优化转型",
    "clear_out": "整治清退",
}
# 连片容差 (metres): spatial.contiguity.DEFAULT_TOLERANCE_M (30 m); the plan says "相对连片" without a figure.
# 三（二）1: "全市开发区、各镇（街道）工业园区内…": a 连片 block lies inside a 开发区 or 工业园区. The plan gives
# no tolerance; this much of a block outside every park is a digitising sliver, not a violation (spatial/parks.py).
MAX_OUTSIDE_PARK_MU = 0.5


@dataclass(frozen=True)
class PlanThresholds:
    """The thresholds of one action plan (行动计划), passed to every rule function.

    The default is the 2022—2023 plan (桐政办发〔2022〕11号), i.e. the module constants
    above with the sections they cite. A later plan (say 2024—2026) brings its own: the
    app stores plans as data and passes the thresholds of the plan in force on the date
    a rule is about (a block's designation year, a parcel's renewal year).

    Examples
    --------
    >>> PlanThresholds().min_block_mu, PlanThresholds(min_block_mu=150).min_block_mu
    (200.0, 150)
    """

    min_block_mu: float = MIN_BLOCK_MU
    max_blocks_per_unit_per_year: int = MAX_BLOCKS_PER_UNIT_PER_YEAR
    min_parcel_mu: float = MIN_PARCEL_MU
    min_far: float = MIN_FAR
    min_merged_parcel_mu: float = MIN_MERGED_PARCEL_MU
    tolerance_m: float = DEFAULT_TOLERANCE_M
    max_outside_park_mu: float = MAX_OUTSIDE_PARK_MU

    def __post_init__(self) -> None:
        for name in ("min_block_mu", "min_parcel_mu", "min_far", "min_merged_parcel_mu", "tolerance_m",
                     "max_outside_park_mu"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.max_blocks_per_unit_per_year < 0:
            raise ValueError("max_blocks_per_unit_per_year must not be negative")

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return {
            "min_block_mu": self.min_block_mu,
            "max_blocks_per_unit_per_year": self.max_blocks_per_unit_per_year,
            "min_parcel_mu": self.min_parcel_mu,
            "min_far": self.min_far,
            "min_merged_parcel_mu": self.min_merged_parcel_mu,
            "tolerance_m": self.tolerance_m,
            "max_outside_park_mu": self.max_outside_park_mu,
        }


DEFAULT_THRESHOLDS = PlanThresholds()


def _far_text(far: float) -> str:
    """A FAR threshold as the plan writes it: 2.0, 2.2, 1.85."""
    text = f"{far:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


# Reporting precision: land areas to 0.01 亩, 容积率 to 0.01.
MU_DECIMALS = 2
FAR_DECIMALS = 2

ERROR = "error"
WARNING = "warning"

# Every code this module can return (stable: the web layer and tests key on them).
CODES = (
    "block_area_below_min",
    "block_not_contiguous",
    "block_average_far_below_min",
    "unit_year_block_limit_exceeded",
    "parcel_area_below_min",
    "parcel_far_below_min",
    "parcel_far_missing",
    "merged_parcel_area_below_min",
    "renewal_type_missing",
    "renewal_type_not_counted",
    "classification_missing",
    "classification_unknown",
)


@dataclass(frozen=True)
class Violation:
    """A failed rule: stable ``code``, Chinese message, the values involved and the offending ids."""

    code: str
    message_zh: str
    values: dict[str, Any] = field(default_factory=dict)
    feature_ids: tuple = ()
    severity: str = ERROR

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return {
            "code": self.code,
            "message_zh": self.message_zh,
            "values": dict(self.values),
            "feature_ids": list(self.feature_ids),
            "severity": self.severity,
        }


def _ids(feature_id) -> tuple:
    return () if feature_id is None else (feature_id,)


def reported_mu(area_mu: float) -> float:
    """Area in 亩 as reported and checked: rounded to 0.01 亩.

    Examples
    --------
    >>> reported_mu(19.99995), reported_mu(19.994)
    (20.0, 19.99)
    """
    return round(float(area_mu), MU_DECIMALS)


def reported_far(far: float) -> float:
    """容积率 as reported and checked: rounded to 0.01.

    Examples
    --------
    >>> reported_far(1.9951), reported_far(1.9949)
    (2.0, 1.99)
    """
    return round(float(far), FAR_DECIMALS)


def check_renewal_type(renewal_type: str | None, *, feature_id: Any = None) -> list[Violation]:
    """Only 退二优二 / 工改工 / 零土地技改 count towards the programme.

    Parameters
    ----------
    renewal_type : str or None
        A code: "secondary_upgrade", "industrial_to_industrial" or "zero_land".

    Examples
    --------
    >>> check_renewal_type("industrial_to_industrial")
    []
    >>> [v.code for v in check_renewal_type("commercial")]
    ['renewal_type_not_counted']
    """
    if renewal_type is None or str(renewal_type).strip() == "":
        return [Violation(
            "renewal_type_missing", "未填写更新类型（应为退二优二、工改工或零土地技改）", {}, _ids(feature_id),
        )]
    if renewal_type not in RENEWAL_TYPES:
        return [Violation(
            "renewal_type_not_counted",
            f"更新类型“{renewal_type}”不计入有机更新考核，只有退二优二、工改工或零土地技改计入",
            {"renewal_type": renewal_type, "allowed": list(RENEWAL_TYPES)}, _ids(feature_id),
        )]
    return []


def check_parcel(
    area_mu: float,
    far: float | None,
    *,
    feature_id: Any = None,
    renewal_type: str | None = None,
    merged: bool = False,
    check_type: bool = True,
    thresholds: PlanThresholds = DEFAULT_THRESHOLDS,
) -> list[Violation]:
    """Rules for scattered renewal outside contiguous blocks (零星 / 规模化腾退 / 零土地技改).

    A parcel passes with area ≥ 20 亩 and planned FAR ≥ 2.0, or, when it is
    scattered plots merged for re-sale (整合归宗, ``merged=True``), with
    area ≥ 20 亩 alone. Its renewal type must count (see
    :func:`check_renewal_type`) unless ``check_type`` is False.

    Parameters
    ----------
    area_mu : float
        Plane area in 亩 (EPSG:4549).
    far : float or None
        Planned floor-area ratio after renewal; None when unknown.
    feature_id : any
        Copied into ``feature_ids``.
    renewal_type : str, optional
    merged : bool
        True for 整合归宗 (merged scattered plots re-sold as one parcel).
    thresholds : PlanThresholds
        The plan in force (default: the 2022—2023 plan's 20 亩 and 2.0).

    Examples
    --------
    >>> check_parcel(20.0, 2.0, renewal_type="zero_land")
    []
    >>> [v.code for v in check_parcel(19.99, 1.99, renewal_type="zero_land")]
    ['parcel_area_below_min', 'parcel_far_below_min']
    """
    ids = _ids(feature_id)
    out: list[Violation] = []
    mu = reported_mu(area_mu)
    t = thresholds
    if merged:
        if mu < t.min_merged_parcel_mu:
            out.append(Violation(
                "merged_parcel_area_below_min",
                f"整合归宗后单宗面积 {mu:.2f} 亩，低于 {t.min_merged_parcel_mu:g} 亩",
                {"area_mu": mu, "min_mu": t.min_merged_parcel_mu}, ids,
            ))
    else:
        if mu < t.min_parcel_mu:
            out.append(Violation(
                "parcel_area_below_min",
                f"宗地面积 {mu:.2f} 亩，低于 {t.min_parcel_mu:g} 亩下限",
                {"area_mu": mu, "min_mu": t.min_parcel_mu}, ids,
            ))
        if far is None:
            out.append(Violation(
                "parcel_far_missing",
                f"缺少改造后建筑面积或用地面积，无法计算容积率（须达到 {_far_text(t.min_far)} 以上）",
                {"min_far": t.min_far}, ids,
            ))
        elif reported_far(far) < t.min_far:
            out.append(Violation(
                "parcel_far_below_min",
                f"改造后容积率 {reported_far(far):.2f}，低于 {_far_text(t.min_far)}",
                {"far": reported_far(far), "min_far": t.min_far}, ids,
            ))
    if check_type:
        out.extend(check_renewal_type(renewal_type, feature_id=feature_id))
    return out


def check_block(
    area_mu: float,
    component_count: int,
    *,
    feature_id: Any = None,
    tolerance_m: float | None = None,
    average_far: float | None = None,
    separation_m: float | None = None,
    thresholds: PlanThresholds = DEFAULT_THRESHOLDS,
) -> list[Violation]:
    """Rules for a contiguous renewal block (连片腾退改造区块).

    The block's land is at least 200 亩 and its parcels form one connected
    group (``component_count == 1`` at ``tolerance_m``). An average planned
    FAR below 2.0 is reported as a warning (a programme target, not a
    designation condition).

    Parameters
    ----------
    area_mu : float
        The block's land area in 亩 (EPSG:4549 plane area of its parcels).
    component_count : int
        Number of connected groups from :func:`spatial.contiguity.contiguity_report`.
    tolerance_m : float, optional
        The contiguity tolerance used, metres (for the message); default the plan's.
    average_far : float or None
        Total planned floor area ÷ total land area, when known.
    separation_m : float or None
        The shortest distance between groups that stay apart (named in the message).
    thresholds : PlanThresholds
        The plan in force (default: the 2022—2023 plan's 200 亩 and 2.0).

    Examples
    --------
    >>> check_block(200.0, 1)
    []
    >>> [v.code for v in check_block(199.9, 2)]
    ['block_area_below_min', 'block_not_contiguous']
    """
    ids = _ids(feature_id)
    out: list[Violation] = []
    mu = reported_mu(area_mu)
    t = thresholds
    if tolerance_m is None:
        tolerance_m = t.tolerance_m
    if mu < t.min_block_mu:
        out.append(Violation(
            "block_area_below_min",
            f"连片区块面积 {mu:.2f} 亩，低于 {t.min_block_mu:g} 亩下限",
            {"area_mu": mu, "min_mu": t.min_block_mu}, ids,
        ))
    if component_count != 1:
        apart = (f"最近处相距 {separation_m:.2f} 米，超过 {tolerance_m:g} 米" if separation_m is not None
                 else f"间距超过 {tolerance_m:g} 米")
        values = {"component_count": component_count, "tolerance_m": tolerance_m}
        if separation_m is not None:
            values["separation_m"] = separation_m
        out.append(Violation(
            "block_not_contiguous",
            f"区块内地块分成 {component_count} 个互不相连的片区（{apart}），不构成相对连片",
            values, ids,
        ))
    if average_far is not None and reported_far(average_far) < t.min_far:
        out.append(Violation(
            "block_average_far_below_min",
            f"区块改造后平均容积率 {reported_far(average_far):.2f}，低于目标 {_far_text(t.min_far)}",
            {"average_far": reported_far(average_far), "min_far": t.min_far}, ids, WARNING,
        ))
    return out


def check_unit_year(unit: str, year: int, designated_block_ids: Sequence[Any], *,
                    thresholds: PlanThresholds = DEFAULT_THRESHOLDS) -> list[Violation]:
    """At most 2 contiguous blocks designated (认定) per unit (镇、街道、开发区) per year.

    Parameters
    ----------
    unit : str
        The unit's name, e.g. "崇福镇".
    year : int
    designated_block_ids : sequence
        Ids of the blocks designated for this unit in this year (including the one under review).
    thresholds : PlanThresholds
        The plan in force (default: the 2022—2023 plan's 2 a year).

    Examples
    --------
    >>> check_unit_year("崇福镇", 2022, ["A", "B"])
    []
    >>> check_unit_year("崇福镇", 2022, ["A", "B", "C"])[0].feature_ids
    ('A', 'B', 'C')
    """
    ids = tuple(designated_block_ids)
    limit = thresholds.max_blocks_per_unit_per_year
    if len(ids) <= limit:
        return []
    return [Violation(
        "unit_year_block_limit_exceeded",
        f"{unit} {year} 年认定连片区块 {len(ids)} 个，超过每年 {limit} 个的上限",
        {"unit": unit, "year": int(year), "count": len(ids), "max": limit}, ids,
    )]


def check_classifications(enterprises: Iterable[tuple[Any, str | None]]) -> list[Violation]:
    """Every enterprise in a renewal area is classified 改造提升 / 优化转型 / 整治清退.

    Parameters
    ----------
    enterprises : iterable of (enterprise id or name, classification code or None)

    Returns
    -------
    list of Violation
        At most one ``classification_missing`` and one ``classification_unknown``,
        each listing all offending ids.

    Examples
    --------
    >>> [v.feature_ids for v in check_classifications([("甲", "upgrade"), ("乙", None), ("丙", "")])]
    [('乙', '丙')]
    """
    missing, unknown, bad_values = [], [], []
    for ent_id, cls in enterprises:
        if cls is None or str(cls).strip() == "":
            missing.append(ent_id)
        elif cls not in CLASSIFICATIONS:
            unknown.append(ent_id)
            bad_values.append(cls)
    out = []
    if missing:
        out.append(Violation(
            "classification_missing",
            f"{len(missing)} 家企业未分类（应为改造提升、优化转型或整治清退）：{'、'.join(map(str, missing[:10]))}"
            + ("等" if len(missing) > 10 else ""),
            {"count": len(missing)}, tuple(missing),
        ))
    if unknown:
        out.append(Violation(
            "classification_unknown",
            f"{len(unknown)} 家企业的分类不是改造提升、优化转型或整治清退：{'、'.join(map(str, unknown[:10]))}"
            + ("等" if len(unknown) > 10 else ""),
            {"count": len(unknown), "values": sorted(set(map(str, bad_values))), "allowed": list(CLASSIFICATIONS)},
            tuple(unknown),
        ))
    return out
