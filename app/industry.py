"""行业代码 (GB/T 4754-2017《国民经济行业分类》): the 20 sections (门类 A–T) with their divisions
(大类, two digits), and the names of the manufacturing divisions (C 13–43) the register mostly holds.

A code is the section letter, optionally followed by the division (2 digits), the group (3) or the
class (4): C, C17, C171, C1713. The check knows the sections and which divisions belong to each;
groups and classes are checked for their form only (the full list of 1 380 classes is not kept here).

Pure (no database, no web), beside the kernel so that every feature may use it: the register's import
(``app.enterprises``, which re-exports it as ``app.enterprises.industry``), the block plan's 产业导向
(``app.workflow``), project admission and the land market.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# section -> (name, first division, last division)
SECTIONS: dict[str, tuple[str, int, int]] = {
    "A": ("农、林、牧、渔业", 1, 5),
    "B": ("采矿业", 6, 12),
    "C": ("制造业", 13, 43),
    "D": ("电力、热力、燃气及水生产和供应业", 44, 46),
    "E": ("建筑业", 47, 50),
    "F": ("批发和零售业", 51, 52),
    "G": ("交通运输、仓储和邮政业", 53, 60),
    "H": ("住宿和餐饮业", 61, 62),
    "I": ("信息传输、软件和信息技术服务业", 63, 65),
    "J": ("金融业", 66, 69),
    "K": ("房地产业", 70, 70),
    "L": ("租赁和商务服务业", 71, 72),
    "M": ("科学研究和技术服务业", 73, 75),
    "N": ("水利、环境和公共设施管理业", 76, 79),
    "O": ("居民服务、修理和其他服务业", 80, 82),
    "P": ("教育", 83, 83),
    "Q": ("卫生和社会工作", 84, 85),
    "R": ("文化、体育和娱乐业", 86, 90),
    "S": ("公共管理、社会保障和社会组织", 91, 96),
    "T": ("国际组织", 97, 97),
}
MANUFACTURING: dict[int, str] = {
    13: "农副食品加工业", 14: "食品制造业", 15: "酒、饮料和精制茶制造业", 16: "烟草制品业", 17: "纺织业",
    18: "纺织服装、服饰业", 19: "皮革、毛皮、羽毛及其制品和制鞋业", 20: "木材加工和木、竹、藤、棕、草制品业",
    21: "家具制造业", 22: "造纸和纸制品业", 23: "印刷和记录媒介复制业", 24: "文教、工美、体育和娱乐用品制造业",
    25: "石油、煤炭及其他燃料加工业", 26: "化学原料和化学制品制造业", 27: "医药制造业", 28: "化学纤维制造业",
    29: "橡胶和塑料制品业", 30: "非金属矿物制品业", 31: "黑色金属冶炼和压延加工业", 32: "有色金属冶炼和压延加工业",
    33: "金属制品业", 34: "通用设备制造业", 35: "专用设备制造业", 36: "汽车制造业",
    37: "铁路、船舶、航空航天和其他运输设备制造业", 38: "电气机械和器材制造业",
    39: "计算机、通信和其他电子设备制造业", 40: "仪器仪表制造业", 41: "其他制造业", 42: "废弃资源综合利用业",
    43: "金属制品、机械和设备修理业",
}
_FORM = re.compile(r"^([A-Z])(\d{2}(\d{1,2})?)?$")


def normalise_code(text: str) -> str:
    """Upper case, no spaces or separators: ``c 17.13`` → ``C1713``.

    >>> normalise_code(" c17-13 ")
    'C1713'
    """
    return re.sub(r"[\s.\-_]", "", text).upper()


def code_problem(code: str) -> tuple[str, dict] | None:
    """Why ``code`` is not a GB/T 4754-2017 code: a message key and its values, or None when it is one.

    >>> code_problem("C1713") is None
    True
    >>> code_problem("17")[0]
    'register_industry_format'
    >>> code_problem("Z12")[0]
    'register_industry_section'
    >>> code_problem("C05")[0]
    'register_industry_division'
    """
    found = _FORM.match(code)
    if found is None:
        return "register_industry_format", {"value": code}
    section = found.group(1)
    if section not in SECTIONS:
        return "register_industry_section", {"value": code, "section": section}
    if found.group(2):
        division = int(found.group(2)[:2])
        name, low, high = SECTIONS[section]
        if not low <= division <= high:
            return "register_industry_division", {"value": code, "division": f"{division:02d}", "section": section,
                                                  "name": name, "low": f"{low:02d}", "high": f"{high:02d}"}
    return None


def division_name(code: str) -> str | None:
    """The name of a manufacturing division, from a valid code (C1713 → 纺织业), else None."""
    if len(code) >= 3 and code[0] == "C" and code[1:3].isdigit():
        return MANUFACTURING.get(int(code[1:3]))
    return None


def matches_guidance(code: str | None, guidance: Iterable[str]) -> bool | None:
    """Whether an industry code falls within a block's 产业导向 (a list of codes, any level).

    A code matches a guidance entry it starts with, both normalised: ``C1711`` is within ``C17``, ``C``
    or ``C171``; ``C17`` is not within ``C1711`` (a division is wider than one of its classes). None when
    there is nothing to check: no code, or no guidance.

    >>> matches_guidance("C1711", ["C17", "C28"])
    True
    >>> matches_guidance("c 17.11", ["c17"])
    True
    >>> matches_guidance("C2614", ["C17", "C28"])
    False
    >>> matches_guidance("C17", ["C1711"])
    False
    >>> matches_guidance(None, ["C17"]) is None
    True
    >>> matches_guidance("C17", []) is None
    True
    """
    entries = [normalise_code(entry) for entry in guidance if entry and normalise_code(entry)]
    if code is None or not normalise_code(code) or not entries:
        return None
    code = normalise_code(code)
    return any(code.startswith(entry) for entry in entries)
