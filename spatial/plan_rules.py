"""Rules on a block plan's stated content (not its geometry): the 四至 text and the enterprise list.

The plan says an approved block states its 四至边界 and its enterprise list (企业清单), and
that every enterprise in a renewal area is classified. These checks take plain values and
return :class:`spatial.rules.Violation` like the geometric rules, so a plan's report lists
them all together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .rules import WARNING, Violation

SIDES = (("east", "东至"), ("south", "南至"), ("west", "西至"), ("north", "北至"))


def check_four_boundaries_stated(four: Mapping[str, str | None], *, feature_id: Any = None) -> list[Violation]:
    """Every side of the 四至 is stated (east, south, west, north).

    Parameters
    ----------
    four : mapping side → text, sides ``east``, ``south``, ``west``, ``north``
    feature_id : the block plan's id, for ``feature_ids``

    Examples
    --------
    >>> check_four_boundaries_stated({"east": "东至环城路", "south": "南至河道", "west": "西至甲公司", "north": "北至乙路"})
    []
    >>> v = check_four_boundaries_stated({"east": "东至环城路", "south": " ", "west": None})
    >>> v[0].code, v[0].values["missing"]
    ('four_boundaries_missing', ['南至', '西至', '北至'])
    """
    missing = [label for side, label in SIDES if not (four.get(side) or "").strip()]
    if not missing:
        return []
    return [Violation(
        "four_boundaries_missing",
        f"四至未写全：缺{'、'.join(missing)}",
        {"missing": missing},
        () if feature_id is None else (feature_id,),
    )]


def check_enterprise_list(listed: Iterable[Any], on_parcels: Iterable[Any], *, feature_id: Any = None) -> list[Violation]:
    """The enterprise list is complete: every enterprise using a parcel of the plan is on it.

    Parameters
    ----------
    listed : the enterprises on the plan's list (names or codes)
    on_parcels : the enterprises of the plan's parcels (same kind of key)

    Examples
    --------
    >>> check_enterprise_list(["甲", "乙"], ["甲", "乙", "甲"])
    []
    >>> v = check_enterprise_list(["甲"], ["甲", "丙", "丁"])
    >>> v[0].code, v[0].feature_ids
    ('enterprise_list_incomplete', ('丙', '丁'))
    >>> check_enterprise_list([], [])[0].code
    'enterprise_list_empty'
    """
    listed_set = set(listed)
    absent = list(dict.fromkeys(e for e in on_parcels if e not in listed_set))  # first-seen order
    out = []
    if not listed_set and not absent:
        out.append(Violation(
            "enterprise_list_empty", "企业清单为空：区块内的企业应逐一列明并分类", {},
            () if feature_id is None else (feature_id,),
        ))
    if absent:
        out.append(Violation(
            "enterprise_list_incomplete",
            f"企业清单不全：{len(absent)} 家在区块宗地上的企业未列入：{'、'.join(map(str, absent[:10]))}"
            + ("等" if len(absent) > 10 else ""),
            {"count": len(absent)},
            tuple(absent),
        ))
    return out


def check_parcels_have_enterprise(without: Iterable[Any], *, feature_id: Any = None) -> list[Violation]:
    """A warning naming the plan's parcels that have no registered enterprise (无登记企业).

    Such parcels cannot be classified or put on the enterprise list, so the reviewer should
    know how many there are before designating the block.

    Examples
    --------
    >>> check_parcels_have_enterprise([])
    []
    >>> v = check_parcels_have_enterprise(["P3", "P5"], feature_id="TX-01")
    >>> v[0].code, v[0].severity, v[0].message_zh
    ('parcels_without_enterprise', 'warning', '2 宗宗地没有登记企业：P3、P5')
    """
    codes = list(dict.fromkeys(without))
    if not codes:
        return []
    return [Violation(
        "parcels_without_enterprise",
        f"{len(codes)} 宗宗地没有登记企业：{'、'.join(map(str, codes[:10]))}" + ("等" if len(codes) > 10 else ""),
        {"count": len(codes), "parcels": codes},
        () if feature_id is None else (feature_id,),
        WARNING,
    )]


def check_enterprise_codes_complete(pending: Iterable[Any], *, feature_id: Any = None) -> list[Violation]:
    """A warning naming the listed enterprises whose 统一社会信用代码 is still to be completed.

    An owner registered from an uploaded parcel file by name only has no credit code yet; the
    approved list decides who may receive subsidies, so the reviewer should see which entries
    are not yet identified by their code.

    Examples
    --------
    >>> check_enterprise_codes_complete([])
    []
    >>> v = check_enterprise_codes_complete(["甲厂"], feature_id="TX-01")
    >>> v[0].code, v[0].severity, v[0].message_zh
    ('enterprise_credit_code_pending', 'warning', '1 家企业的统一社会信用代码待补充：甲厂')
    """
    names = list(dict.fromkeys(pending))
    if not names:
        return []
    return [Violation(
        "enterprise_credit_code_pending",
        f"{len(names)} 家企业的统一社会信用代码待补充：{'、'.join(map(str, names[:10]))}" + ("等" if len(names) > 10 else ""),
        {"count": len(names), "enterprises": names},
        () if feature_id is None else (feature_id,),
        WARNING,
    )]
