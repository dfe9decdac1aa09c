"""Field mapping: which source column feeds which model field, suggested from common names.

Clerks' files name the same thing in Chinese (宗地编号), in pinyin initials as
MapGIS / ArcGIS cadastral templates do (ZDBH), or in English (PARCEL_CD,
shapefile-truncated to 10 characters). The mapping is made from names that match
in a normalised form (lower case, no spaces, underscores or brackets, full-width
folded); names that only come close (a typo: 宗地编好 for 宗地编号, ZDBM for ZDBH)
are never mapped by themselves but offered to the clerk as :func:`suggestions`.
The clerk can change any of it, and the mapping is kept on the upload record.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

from ..errors import FieldError, InvalidUpload
from ..messages import message

# model field -> (Chinese label, names seen in the wild). Order matters: earlier wins.
PARCEL_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "code": ("宗地编号", (
        "宗地编号", "宗地代码", "宗地号", "地块编号", "地块代码", "地块号", "编号", "不动产单元号",
        "zdbh", "zddm", "zdh", "dkbh", "dkdm", "bdcdyh", "bh",
        "parcelcode", "parcelcd", "parcelid", "parcelno", "code", "landcode", "id_code",
    )),
    "enterprise": ("企业名称", (
        "权利人", "权利人名称", "企业名称", "企业", "单位名称", "使用权人", "土地使用者", "业主",
        "qlr", "qlrmc", "qymc", "dwmc", "syqr", "tdsyz",
        "enterprisename", "entname", "enterprise", "company", "owner", "ownername",
    )),
    "credit_code": ("统一社会信用代码", (
        "统一社会信用代码", "信用代码", "社会信用代码", "tyshxydm", "shxydm", "xydm", "creditcode", "uscc", "uscc_code",
        "credit", "enterprise_credit_code",
    )),
    "floor_area_m2": ("现状建筑面积（平方米）", (
        "建筑面积", "现状建筑面积", "现状建面", "地上建筑面积", "总建筑面积", "jzmj", "xzjzmj", "dsjzmj", "zjzmj",
        "flooraream2", "floorm2", "floorarea", "gfa", "buildingarea",
    )),
    "planned_floor_area_m2": ("规划建筑面积（平方米）", (
        "规划建筑面积", "规划建面", "改造后建筑面积", "规划总建筑面积", "ghjzmj", "gzhjzmj",
        "plannedflooraream2", "plannedfloorarea", "plannedfloor", "plannedgfa", "planfloorm", "planflm2",
    )),
    "land_use": ("用地性质", (
        "用地性质", "土地用途", "用途", "地类", "地类名称", "ydxz", "tdyt", "yt", "dlmc", "landuse", "use",
    )),
    "classification": ("分类（改造提升/优化转型/整治清退）", (
        "分类", "企业分类", "处置类型", "分类处置", "类别", "fl", "qyfl", "czlx", "lb",
        "category", "classification", "class", "分类（中文）", "classification_label",
    )),
    "renewal_mode": ("改造模式", ("改造模式", "改造方式", "更新模式", "实施模式", "gzms", "gzfs", "gxms", "renewalmode",
                                  "rnwmode", "mode", "改造方式（中文）", "renewal_mode_label")),
    "renewal_type": ("更新类型", ("更新类型", "改造类型", "gxlx", "gzlx", "renewaltype", "rnwtype", "type",
                                  "改造类型（中文）", "renewal_type_label")),
    "status": ("进度", ("进度", "状态", "实施进度", "jd", "zt", "status", "progress", "进度（中文）", "status_label")),
    "block": ("所属区块", (
        "所属区块编号", "区块编号", "所属区块", "区块", "区块代码", "区块名称", "ssqk", "qk", "qkbh", "qkmc", "block",
        "blockcode", "block_name",
    )),
    "unit": ("所属镇街", (
        "所属镇街", "镇街", "镇街道", "乡镇", "镇", "所在镇", "乡镇街道", "行政区", "zj", "xz", "xzmc", "ssxz", "town",
        "unit", "township", "所属镇（街道、开发区）", "所属镇（街道、开发区）代码", "unit_name", "unit_code",
    )),
    "declared_area": ("面积（核对用）", (
        "宗地面积", "用地面积", "用地亩", "土地面积", "面积", "面积亩", "亩数", "占地面积", "zdmj", "ydmj", "tdmj", "mj",
        "mjm", "landareamu", "areamu", "area", "aream2", "landarea",
    )),
    "declared_far": ("容积率（核对用）", ("容积率", "现状容积率", "rjl", "xzrjl", "far", "plotratio")),
    "declared_planned_far": ("规划容积率（核对用）", (
        "规划容积率", "改造后容积率", "ghrjl", "gzhrjl", "plannedfar", "planfar",
    )),
}
BLOCK_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "code": ("区块编号", ("区块编号", "区块代码", "编号", "qkbh", "qkdm", "bh", "blockcode", "code")),
    "name": ("区块名称", ("区块名称", "名称", "区块", "qkmc", "mc", "name", "blockname")),
    "unit": PARCEL_FIELDS["unit"],
    "stage": ("阶段", ("阶段", "推进阶段", "进度", "jd", "stage")),
    "designated_year": ("认定年度", ("认定年度", "年度", "rdnd", "nd", "year", "designatedyear")),
    "planned_far": ("规划容积率", ("规划容积率", "改造后容积率", "ghrjl", "plannedfar", "planfar")),
    "declared_area": PARCEL_FIELDS["declared_area"],
}
# 开发区 / 镇街工业园区 (app/parks): the areas 连片 blocks lie in.
PARK_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "code": ("园区编号", ("园区编号", "园区代码", "编号", "代码", "yqbh", "yqdm", "bh", "parkcode", "code", "id_code")),
    "name": ("园区名称", ("园区名称", "开发区名称", "名称", "园区", "yqmc", "mc", "name", "parkname")),
    "kind": ("类型（开发区/镇街工业园区）", ("类型", "园区类型", "类别", "lx", "yqlx", "lb", "kind", "type", "parktype")),
    "unit": ("所属镇街", ("所属镇街", "镇街", "镇街道", "乡镇", "镇", "所在镇", "乡镇街道", "zj", "xz", "ssxz", "sszj",
                          "town", "unit", "township", "unit_name", "unit_code")),
    "approval": ("批准文件", ("批准文件", "批准文号", "设立依据", "批复文件", "依据", "来源", "pzwj", "pzwh", "sljy",
                              "approval", "source")),
    "is_schematic": ("示意范围（是/否）", ("示意", "是否示意", "示意范围", "sy", "sfsy", "schematic", "is_schematic")),
    "declared_area": PARCEL_FIELDS["declared_area"],
}
# The enterprise register (一库, app/enterprises): one row per enterprise, keyed by its credit code.
ENTERPRISE_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "credit_code": PARCEL_FIELDS["credit_code"],
    "name": ("企业名称", (
        "企业名称", "单位名称", "企业", "名称", "纳税人名称", "qymc", "dwmc", "mc", "name", "enterprisename", "entname",
        "company", "companyname",
    )),
    "industry_code": ("行业代码", (
        "行业代码", "国民经济行业代码", "行业分类代码", "所属行业代码", "hydm", "gmjjhydm", "industrycode", "industry",
        "nace",
    )),
    "industry_name": ("行业名称", (
        "行业名称", "国民经济行业", "所属行业", "行业", "行业分类", "hymc", "hy", "industryname",
    )),
    "scale": ("规模（规上/规下）", (
        "规模", "规上规下", "是否规上", "是否规上企业", "企业规模", "规模以上", "gm", "sfgs", "gsgx", "scale", "size",
        "abovescale",
    )),
    "production_year": ("投产年份", (
        "投产年份", "投产年度", "投产时间", "开业年份", "成立年份", "tcnf", "tcnd", "tcsj", "productionyear",
        "startyear", "yearstarted",
    )),
    "address": ("地址", (
        "地址", "企业地址", "注册地址", "经营地址", "生产经营地址", "住所", "dz", "qydz", "zcdz", "jydz", "address", "addr",
    )),
    "unit": ("所在镇街", (
        "所在镇街", "所属镇街", "镇街", "镇街道", "乡镇", "乡镇街道", "所在镇", "zj", "szzj", "sszj", "xz", "town",
        "unit", "township",
    )),
}
# The departments' yearly figures (app/enterprises/figures.py): one row per enterprise, keyed by its credit code;
# the column names as the 税务局、统计局、供电公司 … write them, units in the name allowed (税收（万元）).
FIGURE_SHEET_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "credit_code": PARCEL_FIELDS["credit_code"],
    "name": ("企业名称", (
        "企业名称", "纳税人名称", "单位名称", "企业", "名称", "qymc", "nsrmc", "dwmc", "name", "enterprisename", "company",
    )),
    "tax_10k": ("税收（万元）", (
        "税收实际贡献", "税收", "实缴税金", "入库税收", "实缴税收", "税收总额", "sssjgx", "ss", "sjsj", "rkss",
        "tax", "taxpaid", "tax10k",
    )),
    "revenue_10k": ("营业收入（万元）", (
        "营业收入", "主营业务收入", "销售收入", "yysr", "zyywsr", "xssr", "revenue", "sales", "revenue10k",
    )),
    "value_added_10k": ("工业增加值（万元）", (
        "工业增加值", "增加值", "gyzjz", "zjz", "valueadded", "valueadded10k",
    )),
    "energy_tce": ("综合能耗（吨标准煤）", (
        "综合能耗", "能耗", "综合能源消费量", "zhnh", "nh", "zhnyxfl", "energy", "energytce", "energyconsumption",
    )),
    "emission_t": ("主要污染物排放量（吨）", (
        "主要污染物排放量", "排污量", "排放当量", "污染物排放量", "排放量", "zywrwpfl", "pwl", "pfdl", "emission",
        "emissions", "emissiont",
    )),
    "electricity_10k_kwh": ("用电量（万千瓦时）", (
        "用电量", "工业用电量", "全年用电", "全年用电量", "ydl", "gyydl", "qnyd", "electricity", "power",
        "electricity10kkwh",
    )),
    "employees": ("年平均职工人数（人）", (
        "年平均职工人数", "从业人员", "职工人数", "从业人员数", "平均职工人数", "npjzgrs", "cyry", "zgrs", "employees",
        "staff", "headcount",
    )),
    "rd_10k": ("R&D经费支出（万元）", (
        "R&D经费支出", "研发经费", "研发投入", "研发经费支出", "研发费用", "rd经费支出", "yfjf", "yftr", "rd", "rd10k",
        "rdexpenditure",
    )),
    "safety_points": ("安全生产扣分", ("安全生产扣分", "安全扣分", "aqsckf", "aqkf", "safety", "safetypoints")),
    "environment_points": ("环保扣分", (
        "环保扣分", "环境保护扣分", "生态环境扣分", "hbkf", "environment", "environmentpoints",
    )),
    "innovation_points": ("科技创新加分", ("科技创新加分", "创新加分", "kjcxjf", "cxjf", "innovation", "innovationpoints")),
    "note": ("说明", ("说明", "备注", "扣分说明", "加分说明", "原因", "sm", "bz", "note", "remark", "remarks")),
}
REQUIRED = {"parcels": ("code",), "blocks": ("code", "name"), "parks": ("code", "name", "kind"), "enterprises": ("credit_code", "name"),
            "figures": ("credit_code",)}
NUMERIC = {"floor_area_m2", "planned_floor_area_m2", "declared_area", "declared_far", "declared_planned_far",
           "designated_year", "planned_far"}


def fields_for(target: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    if target == "enterprises":
        return ENTERPRISE_FIELDS
    if target == "figures":
        return FIGURE_SHEET_FIELDS
    if target == "parks":
        return PARK_FIELDS
    return BLOCK_FIELDS if target == "blocks" else PARCEL_FIELDS


def normalise(name: str) -> str:
    """Compare-form of a field name: NFKC (full-width → half-width), lower case, no separators or units.

    >>> normalise("宗地 编号（ZDBH）")
    '宗地编号zdbh'
    >>> normalise("Floor_M2")
    'floorm2'
    """
    text = unicodedata.normalize("NFKC", str(name)).lower()
    return re.sub(r"[\s_\-()（）\[\]【】.·/]", "", text)


_UNITS = {"figures": r"(万元|元|吨标准煤|吨标煤|tce|吨|万千瓦时|千瓦时|万kwh|kwh|人|分)$"}


def _strip_units(key: str, target: str = "parcels") -> str:
    return re.sub(_UNITS.get(target, r"(平方米|㎡|m2|亩)$"), "", key) or key


def suggest(fields: list[str], target: str = "parcels") -> dict[str, str]:
    """Model field → source field, from the names alone; each source field is used at most once.

    >>> suggest(["ZDBH", "QLR", "JZMJ", "备注"])
    {'code': 'ZDBH', 'enterprise': 'QLR', 'floor_area_m2': 'JZMJ'}
    >>> suggest(["宗地编号", "权利人", "建筑面积"])["floor_area_m2"]
    '建筑面积'
    >>> suggest(["PARCEL_CD", "ENT_NAME", "AREA_MU", "FLOOR_M2", "FAR", "TOWN", "CATEGORY"])["declared_area"]
    'AREA_MU'
    """
    keys = {f: normalise(f) for f in fields}
    keys_bare = {f: _strip_units(k, target) for f, k in keys.items()}
    taken: set[str] = set()
    out: dict[str, str] = {}
    for model_field, (_label, names) in fields_for(target).items():
        wanted = [normalise(n) for n in names]
        for name in wanted:
            hit = next((f for f in fields if f not in taken and (keys[f] == name or keys_bare[f] == name)), None)
            if hit is not None:
                out[model_field] = hit
                taken.add(hit)
                break
    return out


def resolve(fields: list[str], target: str, override: dict | None, remembered: dict | None = None, *,
            base: dict | None = None) -> dict[str, str]:
    """The mapping to use: suggestions, then what was remembered, then the clerk's edits (None unmaps).

    ``base`` (a re-check of a staged upload) is the mapping in use so far; the edits go on top of it
    and the fields they do not name keep their source.
    """
    known = fields_for(target)
    if base is not None:
        mapping = {k: v for k, v in base.items() if k in known and v in fields}
    elif remembered:  # a remembered mapping is complete: fields the clerk unmapped stay unmapped
        mapping = {k: v for k, v in remembered.items() if k in known and v in fields}
    else:
        mapping = suggest(fields, target)
    for layer in (override or {},):
        errors = []
        for model_field, source in layer.items():
            if model_field not in known:
                errors.append(FieldError(f"mapping.{model_field}", message(
                    "upload_mapping_unknown_target", field=model_field, choices="、".join(known))))
            elif source not in (None, "") and source not in fields:
                errors.append(FieldError(f"mapping.{model_field}", message(
                    "upload_mapping_unknown_source", field=model_field, source=source, fields="、".join(fields))))
        if errors:
            raise InvalidUpload(message("upload_mapping_invalid", summary="；".join(e.message for e in errors)),
                                errors, code="invalid_mapping", status_code=422)
        for model_field, source in layer.items():
            if source in (None, ""):
                mapping.pop(model_field, None)
            else:
                for other in [k for k, v in mapping.items() if v == source and k != model_field]:
                    mapping.pop(other)
                mapping[model_field] = source
    return mapping


def missing_required(mapping: dict[str, str], target: str) -> list[str]:
    return [f for f in REQUIRED[target] if f not in mapping]


# --- suggestions for the fields the mapping left open --------------------------------

CLOSE_MIN = 0.6  # SequenceMatcher ratio from which a name counts as close (宗地编好 ~ 宗地编号: 0.75)
SUGGESTIONS_PER_FIELD = 3
_VOWELS = set("aeiou")


def name_kind(name: str) -> str:
    """Which style a known field name is written in: ``zh`` (Chinese), ``pinyin`` (initials) or ``en``.

    Pinyin initials are consonants only (ZDBH, QLR, JZMJ; y and w count as initials); an ASCII
    name with a vowel is English (AREA, OWNER, USCC).

    >>> [name_kind(n) for n in ("宗地编号", "zdbh", "qymc", "parcelcode", "uscc")]
    ['zh', 'pinyin', 'pinyin', 'en', 'en']
    """
    if not name.isascii():
        return "zh"
    letters = {ch for ch in name.lower() if ch.isalpha()}
    return "en" if letters & _VOWELS else "pinyin"


# How a suggestion came about, by the style of the known name it matches (exact or close).
_KIND_BY_STYLE = {"zh": "close", "pinyin": "pinyin", "en": "english"}


def _likeness(key: str, name: str) -> float:
    """1.0 for the same compare-form, else SequenceMatcher's ratio (0 for names of one or two characters,
    where a ratio means nothing: BH and YT would be "close" to half the file)."""
    if key == name:
        return 1.0
    if min(len(key), len(name)) < 3:
        return 0.0
    matcher = SequenceMatcher(None, key, name)
    if matcher.real_quick_ratio() < CLOSE_MIN or matcher.quick_ratio() < CLOSE_MIN:
        return 0.0
    return matcher.ratio()


def suggestions(fields: list[str], target: str, mapping: dict[str, str] | None = None) -> dict[str, list[dict]]:
    """For each model field the mapping leaves open: the source fields that may be it, best first.

    Each suggestion is ``{"source", "kind", "like", "score"}``: ``kind`` says how it came about
    (``close`` a name close to a Chinese name, ``pinyin`` pinyin initials, ``english`` an
    English name; ``score`` 1.0 means the same name, taken by another field or unmapped by the
    clerk), ``like`` is the known name it resembles. Source fields mapped to another model
    field are not offered.

    >>> suggestions(["宗地编好", "权利人"], "parcels", {"enterprise": "权利人"})["code"]
    [{'source': '宗地编好', 'kind': 'close', 'like': '宗地编号', 'score': 0.75}]
    >>> suggestions(["ZDBM"], "parcels")["code"][0]["kind"]
    'pinyin'
    >>> suggestions(["PARCEL_COD"], "parcels")["code"][0]["like"]
    'parcelcode'
    """
    return {k: [dict(s) for s in v] for k, v in _suggestions(tuple(fields), target,
                                                               tuple(sorted((mapping or {}).items()))).items()}


@lru_cache(maxsize=256)
def _suggestions(fields: tuple[str, ...], target: str, mapping: tuple[tuple[str, str], ...]) -> dict:
    mapped = dict(mapping)
    used = set(mapped.values())
    keys = {f: normalise(f) for f in fields if f not in used}
    out: dict[str, list] = {}
    for model_field, (_label, names) in fields_for(target).items():
        if model_field in mapped:
            continue
        found = []
        for source, key in keys.items():
            bare = _strip_units(key, target)
            best: tuple[float, str] | None = None
            for name in names:
                wanted = normalise(name)
                score = max(_likeness(key, wanted), _likeness(bare, wanted))
                if score >= CLOSE_MIN and (best is None or score > best[0]):
                    best = (score, name)
            if best is not None:
                found.append((best[0], source, best[1]))
        found.sort(key=lambda t: (-t[0], fields.index(t[1])))
        if found:
            out[model_field] = tuple(
                (("source", source), ("kind", _KIND_BY_STYLE[name_kind(like)]), ("like", like),
                 ("score", round(score, 2)))
                for score, source, like in found[:SUGGESTIONS_PER_FIELD])
    return out


def describe(target: str, fields: list[str] | None = None, mapping: dict[str, str] | None = None) -> list[dict]:
    """The model fields with their Chinese labels, for the preview's mapping editor; with the file's
    ``fields`` and the ``mapping`` in use, each open field's :func:`suggestions` too."""
    offered = suggestions(fields, target, mapping) if fields else {}
    return [{"field": k, "label": v[0], "required": k in REQUIRED[target], "suggestions": offered.get(k, [])}
            for k, v in fields_for(target).items()]
