"""The feature collections served at /ogc: which rows, which properties, what can be queried.

A collection is a :class:`~app.serve.queries.Layer` (the same joined select and the same
properties as /api, so both APIs agree) plus its queryables, its tile attributes and the
table whose writes invalidate its tiles. ``collections()`` is the single registry.

``approved_blocks`` is the ``blocks`` layer restricted to approved (认定) blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

from sqlalchemy import ColumnElement

from ..enums import Classification, LabelledEnum, ParcelStatus, RenewalMode, RenewalType, ReviewStatus, Stage, UnitKind
from ..models import Parcel, RenewalBlock, Unit
from ..serve import queries
from ..serve.queries import _block_of_parcel


@dataclass(frozen=True)
class Queryable:
    """A property that can be filtered (``name=value``, CQL2) and sorted on."""

    name: str
    column: ColumnElement
    type: str  # JSON-schema type: string, number, integer, boolean
    title: str  # 中文 title shown in /queryables and the HTML pages
    enum: type[LabelledEnum] | None = None

    def schema(self) -> dict:
        out: dict = {"title": self.title, "type": self.type}
        if self.enum is not None:
            out["enum"] = [m.value for m in self.enum]
            out["description"] = "；".join(f"{m.value} {m.label}" for m in self.enum)
        return out


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    layer: queries.Layer
    table: type  # the model whose rows are the features
    source_table: str  # table whose writes invalidate this collection's tiles
    queryables: dict[str, Queryable]
    tile_properties: tuple[tuple[str, ColumnElement], ...]  # columns of ``table`` only (exact invalidation)
    tile_minzoom: int
    tile_maxzoom: int = 22
    where: tuple[ColumnElement, ...] = field(default=())  # fixed filter (e.g. approved only)

    @property
    def id_column(self) -> ColumnElement:
        return self.layer.id_column


def _q(name: str, column: ColumnElement, type_: str, title: str, enum: type[LabelledEnum] | None = None) -> Queryable:
    return Queryable(name, column, type_, title, enum)


def _by_name(items: list[Queryable]) -> dict[str, Queryable]:
    return {q.name: q for q in items}


@lru_cache(maxsize=1)
def collections() -> dict[str, Collection]:
    layers = queries.layers()
    units = Collection(
        id="units",
        title="镇（街道、开发区）边界（示意）",
        description="承担有机更新任务的 11 个镇、街道和开发区。边界为示意，不是法定行政界线。",
        layer=layers["units"],
        table=Unit,
        source_table="units",
        queryables=_by_name(
            [
                _q("code", Unit.code, "string", "代码"),
                _q("name", Unit.name, "string", "名称"),
                _q("kind", Unit.kind, "string", "类型", UnitKind),
                _q("area_mu", Unit.area_mu, "number", "面积（亩）"),
            ]
        ),
        tile_properties=(("code", Unit.code), ("name", Unit.name), ("kind", Unit.kind)),
        tile_minzoom=0,
    )
    blocks = Collection(
        id="blocks",
        title="连片改造区块",
        description="连片改造区块（≥200 亩）：阶段、审核状态、面积（亩）、四至、规划容积率。",
        layer=layers["blocks"],
        table=RenewalBlock,
        source_table="renewal_blocks",
        queryables=_by_name(
            [
                _q("code", RenewalBlock.code, "string", "区块编号"),
                _q("name", RenewalBlock.name, "string", "区块名称"),
                _q("unit_code", Unit.code, "string", "所属镇（街道、开发区）代码"),
                _q("designated_year", RenewalBlock.designated_year, "integer", "认定年度"),
                _q("stage", RenewalBlock.stage, "string", "阶段", Stage),
                _q("review_status", RenewalBlock.review_status, "string", "审核状态", ReviewStatus),
                _q("area_mu", RenewalBlock.area_mu, "number", "面积（亩）"),
                _q("planned_far", RenewalBlock.planned_far, "number", "规划容积率"),
                _q("approval_doc_no", RenewalBlock.approval_doc_no, "string", "认定文号"),
            ]
        ),
        tile_properties=(
            ("code", RenewalBlock.code),
            ("name", RenewalBlock.name),
            ("stage", RenewalBlock.stage),
            ("review_status", RenewalBlock.review_status),
            ("area_mu", RenewalBlock.area_mu),
            ("planned_far", RenewalBlock.planned_far),
        ),
        tile_minzoom=6,
    )
    parcels = Collection(
        id="parcels",
        title="宗地",
        description="工业宗地：所属区块（连片）或零星、企业、用地面积（亩）、容积率、分类与改造方式。",
        layer=layers["parcels"],
        table=Parcel,
        source_table="parcels",
        queryables=_by_name(
            [
                _q("code", Parcel.code, "string", "宗地编号"),
                _q("unit_code", Unit.code, "string", "所属镇（街道、开发区）代码"),
                _q("block_code", _block_of_parcel.code, "string", "所属区块编号"),
                _q("enterprise_name", queries.Enterprise.name, "string", "企业名称"),
                _q("enterprise_credit_code", queries.Enterprise.credit_code, "string", "统一社会信用代码"),
                _q("land_area_mu", Parcel.land_area_mu, "number", "用地面积（亩）"),
                _q("floor_area_m2", Parcel.floor_area_m2, "number", "现状建筑面积（m²）"),
                _q("far", Parcel.far, "number", "现状容积率"),
                _q("planned_floor_area_m2", Parcel.planned_floor_area_m2, "number", "规划建筑面积（m²）"),
                _q("planned_far", Parcel.planned_far, "number", "规划容积率"),
                _q("land_use", Parcel.land_use, "string", "用地性质"),
                _q("classification", Parcel.classification, "string", "分类", Classification),
                _q("renewal_mode", Parcel.renewal_mode, "string", "改造方式", RenewalMode),
                _q("renewal_type", Parcel.renewal_type, "string", "改造类型", RenewalType),
                _q("status", Parcel.status, "string", "进度", ParcelStatus),
            ]
        ),
        tile_properties=(
            ("code", Parcel.code),
            ("classification", Parcel.classification),
            ("status", Parcel.status),
            ("renewal_mode", Parcel.renewal_mode),
            ("land_area_mu", Parcel.land_area_mu),
            ("far", Parcel.far),
        ),
        tile_minzoom=12,
    )
    # 已认定区块: the boundaries the leadership group approved (发文认定). The workflow publishes
    # an approved version's frozen boundary to renewal_blocks, and a later draft does not touch
    # it until that draft is approved in turn, so this is always the version in force.
    approved_blocks = replace(
        blocks,
        id="approved_blocks",
        title="已认定连片改造区块",
        description="经领导小组发文认定的连片改造区块（认定版本的边界、四至、认定文号与日期），作为考核与扶持的依据。",
        where=(RenewalBlock.review_status == ReviewStatus.APPROVED,),
    )
    return {c.id: c for c in (units, blocks, approved_blocks, parcels)}


def by_source_table() -> dict[str, list[str]]:
    """Table name → ids of the collections whose tiles it feeds."""
    out: dict[str, list[str]] = {}
    for c in collections().values():
        out.setdefault(c.source_table, []).append(c.id)
    return out
