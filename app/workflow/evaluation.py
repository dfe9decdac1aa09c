"""亩均 evaluation: tax and output per 亩 of land, graded A / B / C / D by thresholds.

Pure functions; the thresholds come from the ``grading_rules`` table (admin-editable).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Threshold:
    grade: str
    min_tax_per_mu_10k: float | None
    min_output_per_mu_10k: float | None
    suggested_classification: str


def per_mu(value_10k: float | None, land_mu: float | None) -> float | None:
    """万元 per 亩, or None when either figure is unknown or there is no land.

    >>> per_mu(300, 20)
    15.0
    >>> per_mu(300, 0) is None
    True
    """
    if value_10k is None or not land_mu:
        return None
    return round(float(value_10k) / float(land_mu), 2)


def grade(tax_per_mu: float | None, output_per_mu: float | None, thresholds: list[Threshold]) -> str | None:
    """The best grade whose both minimums are met (A, then B, then C); otherwise D.

    >>> rules = [Threshold("A", 30, 300, "upgrade"), Threshold("B", 15, 150, "upgrade"),
    ...          Threshold("C", 5, 60, "transform"), Threshold("D", None, None, "clear_out")]
    >>> grade(30, 300, rules), grade(29.99, 400, rules), grade(5, 59.99, rules), grade(None, 10, rules)
    ('A', 'B', 'D', None)
    """
    if tax_per_mu is None or output_per_mu is None:
        return None
    for t in sorted(thresholds, key=lambda t: t.grade):
        if t.min_tax_per_mu_10k is None and t.min_output_per_mu_10k is None:
            return t.grade
        if tax_per_mu >= (t.min_tax_per_mu_10k or 0) and output_per_mu >= (t.min_output_per_mu_10k or 0):
            return t.grade
    return "D"
