"""行业代码 (GB/T 4754-2017) for the register: the pure module :mod:`app.industry`, under its old name."""

from ..industry import MANUFACTURING, SECTIONS, code_problem, division_name, matches_guidance, normalise_code

__all__ = ["MANUFACTURING", "SECTIONS", "code_problem", "division_name", "matches_guidance", "normalise_code"]
