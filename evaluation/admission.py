"""项目准入: a new project's expected 亩均 figures and the checks a reviewer reads (pure, standard library).

The service gathers the facts (the parcels' land in 亩 computed in EPSG:4549 through ``spatial``, the FAR
floor of the 行动计划 in force, the grading lines in force, the enterprise's classification, 亩均 class,
referrals and 投资履约 defaults, whether the industry is within the block's 产业导向) and
:func:`assess` turns them into flags: a code, a severity and the values a message needs. Severity
``error`` is what a reviewer must weigh and answer in writing; it never stops a submission (the
reviewer decides). The Chinese sentences are the service's (``app/messages.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .inputs import to_decimal

ERROR, WARNING, INFO = "error", "warning", "info"
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Flag:
    """One finding: ``code`` (e.g. ``industry_outside_guidance``), ``severity``, and its values."""

    code: str
    severity: str
    values: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GradeLine:
    """A class of the grading rules and its minimums (万元/亩); ``None`` = no minimum (the lowest class)."""

    grade: str
    min_tax_per_mu: Decimal | None
    min_output_per_mu: Decimal | None


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known of a project when it is checked (money 万元, land 亩)."""

    land_mu: Decimal | None
    tax_10k: Decimal
    output_10k: Decimal
    far: Decimal
    min_far: Decimal | None
    in_guidance: bool | None  # None: the block states no 产业导向
    lines: Sequence[GradeLine] = ()
    classification: str | None = None  # the enterprise's current one: upgrade / transform / clear_out
    grade: str | None = None  # its latest 亩均 class (A–D)
    grade_year: int | None = None
    open_referrals: int = 0
    defaults: int = 0  # 投资履约 records whose promises were missed
    registered: bool = True  # False: a new enterprise, not in the register yet
    parcels_outside: tuple[str, ...] = ()  # parcels no longer in the block's version in force (a later revision)


def per_mu(value_10k: object, land_mu: object) -> Decimal | None:
    """万元 per 亩, to the cent; None without land or without the figure.

    >>> per_mu(1500, 30), per_mu("10", 3), per_mu(10, 0), per_mu(None, 3)
    (Decimal('50.00'), Decimal('3.33'), None, None)
    """
    value, land = to_decimal(value_10k), to_decimal(land_mu)
    if value is None or not land:
        return None
    return (value / land).quantize(CENT, ROUND_HALF_UP)


def expected_grade(tax_per_mu: Decimal | None, output_per_mu: Decimal | None,
                   lines: Sequence[GradeLine]) -> str | None:
    """The best class whose minimums the expected figures both reach (classes in order A, B, C …);
    the last class when none is reached; None when a figure is unknown or there are no lines.

    >>> lines = [GradeLine("A", Decimal(30), Decimal(300)), GradeLine("B", Decimal(15), Decimal(150)),
    ...          GradeLine("C", Decimal(5), Decimal(60)), GradeLine("D", None, None)]
    >>> expected_grade(Decimal(40), Decimal(400), lines), expected_grade(Decimal(20), Decimal(100), lines)
    ('A', 'C')
    >>> expected_grade(Decimal(1), Decimal(1), lines), expected_grade(None, Decimal(1), lines)
    ('D', None)
    """
    if tax_per_mu is None or output_per_mu is None or not lines:
        return None
    ordered = sorted(lines, key=lambda line: line.grade)
    for line in ordered:
        if (line.min_tax_per_mu is None or tax_per_mu >= line.min_tax_per_mu) and \
                (line.min_output_per_mu is None or output_per_mu >= line.min_output_per_mu):
            return line.grade
    return ordered[-1].grade


def benchmark_line(lines: Sequence[GradeLine], grade: str = "B") -> GradeLine | None:
    """The line a new project should reach: the minimums of ``grade`` (the B/C line by default).

    >>> benchmark_line([GradeLine("B", Decimal(15), Decimal(150))]).min_tax_per_mu
    Decimal('15')
    >>> benchmark_line([]) is None
    True
    """
    return next((line for line in lines if line.grade == grade), None)


def assess(facts: Facts) -> list[Flag]:
    """The flags of a project, most serious first (errors, then warnings, then notes).

    >>> lines = [GradeLine("A", Decimal(30), Decimal(300)), GradeLine("B", Decimal(15), Decimal(150)),
    ...          GradeLine("C", Decimal(5), Decimal(60)), GradeLine("D", None, None)]
    >>> ok = Facts(land_mu=Decimal(30), tax_10k=Decimal(900), output_10k=Decimal(9000), far=Decimal("2.2"),
    ...            min_far=Decimal(2), in_guidance=True, lines=lines)
    >>> assess(ok)
    []
    >>> bad = Facts(land_mu=Decimal(30), tax_10k=Decimal(300), output_10k=Decimal(3000), far=Decimal("1.5"),
    ...             min_far=Decimal(2), in_guidance=False, lines=lines, classification="clear_out", grade="D",
    ...             grade_year=2023, open_referrals=1, defaults=2)
    >>> [(f.code, f.severity) for f in assess(bad)]  # doctest: +NORMALIZE_WHITESPACE
    [('industry_outside_guidance', 'error'), ('far_below_min', 'error'), ('enterprise_clear_out', 'error'),
     ('enterprise_grade_d', 'error'), ('enterprise_referred', 'error'), ('enterprise_defaults', 'error'),
     ('tax_per_mu_below_line', 'warning'), ('output_per_mu_below_line', 'warning')]
    >>> [f.code for f in assess(Facts(land_mu=Decimal(30), tax_10k=Decimal(900), output_10k=Decimal(9000),
    ...                                far=Decimal(3), min_far=None, in_guidance=True, parcels_outside=("P-1",)))]
    ['parcels_outside_block']
    >>> [f.code for f in assess(Facts(land_mu=None, tax_10k=Decimal(1), output_10k=Decimal(1), far=Decimal(3),
    ...                                min_far=None, in_guidance=None, registered=False))]
    ['land_unknown', 'guidance_not_set', 'enterprise_new']
    """
    flags: list[Flag] = []
    if facts.parcels_outside:
        flags.append(Flag("parcels_outside_block", ERROR, {"parcels": "、".join(facts.parcels_outside)}))
    if facts.in_guidance is False:
        flags.append(Flag("industry_outside_guidance", ERROR))
    elif facts.in_guidance is None:
        flags.append(Flag("guidance_not_set", INFO))
    if facts.min_far is not None and facts.far < facts.min_far:
        flags.append(Flag("far_below_min", ERROR, {"far": facts.far, "min_far": facts.min_far}))
    if facts.classification == "clear_out":
        flags.append(Flag("enterprise_clear_out", ERROR))
    if facts.grade == "D":
        flags.append(Flag("enterprise_grade_d", ERROR, {"year": facts.grade_year}))
    if facts.open_referrals:
        flags.append(Flag("enterprise_referred", ERROR, {"count": facts.open_referrals}))
    if facts.defaults:
        flags.append(Flag("enterprise_defaults", ERROR, {"count": facts.defaults}))
    tax, output = per_mu(facts.tax_10k, facts.land_mu), per_mu(facts.output_10k, facts.land_mu)
    line = benchmark_line(facts.lines)
    if facts.land_mu is None or not facts.land_mu:
        flags.append(Flag("land_unknown", WARNING))
    elif line is not None:
        grade = expected_grade(tax, output, facts.lines)
        if line.min_tax_per_mu is not None and tax is not None and tax < line.min_tax_per_mu:
            flags.append(Flag("tax_per_mu_below_line", WARNING, {"value": tax, "line": line.min_tax_per_mu,
                                                                  "grade": line.grade, "expected": grade}))
        if line.min_output_per_mu is not None and output is not None and output < line.min_output_per_mu:
            flags.append(Flag("output_per_mu_below_line", WARNING, {"value": output, "line": line.min_output_per_mu,
                                                                     "grade": line.grade, "expected": grade}))
    if not facts.registered:
        flags.append(Flag("enterprise_new", INFO))
    order = {ERROR: 0, WARNING: 1, INFO: 2}
    return sorted(flags, key=lambda f: order[f.severity])
