"""统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters with a check digit."""

from __future__ import annotations

# The code alphabet: digits and upper-case letters without I, O, Z, S, V.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    """The 18th character for the first 17 characters of a credit code."""
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise ValueError("need 17 characters from the credit-code alphabet")
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid credit code (Chinese, for a clerk), or None when it is."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，实际 {len(code)} 位"
    bad = [ch for ch in code if ch not in _VALUE]
    if bad:
        return f"统一社会信用代码含非法字符“{bad[0]}”"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误（应为 {expected}）"
    return None


def is_valid_credit_code(code: str) -> bool:
    """True when ``code`` is an 18-character credit code with a correct check character.

    >>> is_valid_credit_code("91330483MA2JD0TW1X")
    False
    >>> is_valid_credit_code("91330483" + "MA2JD0TW1" + check_character("91330483MA2JD0TW1"))
    True
    """
    return credit_code_problem(code) is None
