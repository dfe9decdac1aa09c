"""The layer registry: what a collection is, once, for every reader.

A :class:`Layer` is a table (or a joined select) served as GeoJSON: its id column, its geometry,
its properties (each with a Chinese title, a JSON type, an enumeration when it has one), which
of them can be filtered and sorted on (``queryables``), its named request filters (``unit=``,
``block=scattered`` …), a fixed filter, the properties its vector tiles carry and the table
whose writes invalidate them. ``/api``, ``/api/map``, ``/ogc``, the exports, the upload preview
and plan versions all read through the same builder (:mod:`app.core.read.sql`), so a layer is
added in one place: here for the programme's public layers (:func:`layers`), or beside its
feature for a private one (the upload preview in ``app.ingest``, plan versions in
``app.workflow``), with the same :class:`Layer`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, String, bindparam, case, func, select
from sqlalchemy.orm import aliased

from ...enums import (Classification, LabelledEnum, ParcelStatus, ParkKind, RenewalMode, RenewalType, ReviewStatus,
                      Stage, UnitKind)
from ...models import Enterprise, Parcel, Park, RenewalBlock, Unit


def label_of(column: ColumnElement, enum_cls: type[LabelledEnum]) -> ColumnElement:
    """The Chinese label of an enum code column, from the single table in ``app.enums``."""
    return case({m.value: m.label for m in enum_cls}, value=column, else_=None)


@dataclass(frozen=True, eq=False)
class Prop:
    """A property of a layer's features."""

    name: str
    column: ColumnElement
    title: str  # 中文 title: /queryables, the HTML pages, exports
    type: str = "string"  # JSON-schema type: string, number, integer, boolean, object, array
    enum: type[LabelledEnum] | None = None

    def schema(self) -> dict:
        out: dict = {"title": self.title, "type": self.type}
        if self.enum is not None:
            out["enum"] = [m.value for m in self.enum]
            out["description"] = "；".join(f"{m.value} {m.label}" for m in self.enum)
        return out

    @property
    def sql_type(self) -> str:
        """The SQL type a text value of this property is cast to (cursor keys)."""
        return {"number": "numeric", "integer": "bigint", "boolean": "boolean"}.get(self.type, "text")


@dataclass(frozen=True)
class TileSource:
    """A table whose writes change a layer's tiles, and the columns of it that do.

    ``via`` is the layer table's foreign key to that table (``block_id``): a write there
    invalidates the tiles of the rows that refer to it. ``None``: the layer's own table.
    """

    table: str
    columns: tuple[str, ...]
    via: str | None = None


def param(name: str, type_=String) -> ColumnElement:
    """The bound value of a named filter (``c_<name>`` in the compiled statement)."""
    return bindparam(f"c_{name}", type_=type_)


@dataclass(frozen=True, eq=False)
class Layer:
    id: str
    title: str
    description: str
    table: Any  # the model whose rows are the features
    base: Select  # select().select_from(table).join(…): the joins the properties need
    id_column: ColumnElement
    geom: ColumnElement  # the stored geometry (EPSG:4490), or an expression of it
    properties: tuple[Prop, ...]
    queryables: tuple[str, ...] = ()  # property names that can be filtered (name=value, CQL2) and sorted on
    # Named request filters: name → the condition, written with ``param(name)`` for its value.
    filters: Mapping[str, Callable[[], ColumnElement]] = field(default_factory=dict)
    where: tuple[ColumnElement, ...] = ()  # a fixed filter (e.g. approved only)
    decimals: int = 7  # lon/lat output precision: 7 decimals ~ 1 cm
    ccw: bool = True  # exterior rings counter-clockwise (RFC 7946 §3.1.6)
    source_table: str | None = None  # the table whose writes invalidate the tiles
    tile_properties: tuple[str, ...] = ()  # what the vector tiles carry: names of ``properties`` or ``tile_extra``
    tile_extra: tuple[Prop, ...] = ()  # properties that only the tiles carry
    # The tables whose writes change the tiles (the triggers of migrations 0003 and 0016, tested):
    # empty means ``source_table`` with ``tile_properties`` as its columns.
    tile_sources: tuple[TileSource, ...] = ()
    tile_labels: tuple[str, ...] = ()  # the properties of the tiles' label points (layer ``<id>_label``)
    tile_minzoom: int = 0
    tile_maxzoom: int = 22

    @cached_property
    def prop(self) -> dict[str, Prop]:
        return {p.name: p for p in (*self.properties, *self.tile_extra)}

    @property
    def tile_dependencies(self) -> tuple[TileSource, ...]:
        if self.tile_sources:
            return self.tile_sources
        return (TileSource(self.source_table, self.tile_properties),) if self.source_table else ()

    @cached_property
    def queryable(self) -> dict[str, Prop]:
        return {name: self.prop[name] for name in self.queryables}


def _props(*items: tuple) -> tuple[Prop, ...]:
    return tuple(Prop(*item) for item in items)


_block_of_parcel = aliased(RenewalBlock, name="block_of_parcel")


def _units() -> Layer:
    return Layer(
        id="units",
        title="镇（街道、开发区）边界（示意）",
        description="承担有机更新任务的 11 个镇、街道和开发区。边界为示意，不是法定行政界线。",
        table=Unit,
        base=select().select_from(Unit),
        id_column=Unit.code,
        geom=Unit.geom,
        properties=_props(
            ("code", Unit.code, "代码"),
            ("name", Unit.name, "名称"),
            ("kind", Unit.kind, "类型", "string", UnitKind),
            ("kind_label", label_of(Unit.kind, UnitKind), "类型（中文）"),
            ("area_mu", Unit.area_mu, "面积（亩）", "number"),
            ("is_schematic", Unit.is_schematic, "边界为示意", "boolean"),
        ),
        queryables=("code", "name", "kind", "area_mu"),
        source_table="units",
        tile_properties=("code", "name", "kind"),
        tile_minzoom=0,
    )


def _blocks() -> Layer:
    parcel_count = (
        select(func.count(Parcel.id)).where(Parcel.block_id == RenewalBlock.id).correlate(RenewalBlock).scalar_subquery()
    )
    return Layer(
        id="blocks",
        title="连片改造区块",
        description="连片改造区块（≥200 亩）：阶段、审核状态、面积（亩）、四至、规划容积率。",
        table=RenewalBlock,
        base=select().select_from(RenewalBlock).join(Unit, RenewalBlock.unit_id == Unit.id),
        id_column=RenewalBlock.code,
        geom=RenewalBlock.geom,
        properties=_props(
            ("code", RenewalBlock.code, "区块编号"),
            ("name", RenewalBlock.name, "区块名称"),
            ("unit_code", Unit.code, "所属镇（街道、开发区）代码"),
            ("unit_name", Unit.name, "所属镇（街道、开发区）"),
            ("designated_year", RenewalBlock.designated_year, "认定年度", "integer"),
            ("stage", RenewalBlock.stage, "阶段", "string", Stage),
            ("stage_label", label_of(RenewalBlock.stage, Stage), "阶段（中文）"),
            ("review_status", RenewalBlock.review_status, "审核状态", "string", ReviewStatus),
            ("review_status_label", label_of(RenewalBlock.review_status, ReviewStatus), "审核状态（中文）"),
            ("area_mu", RenewalBlock.area_mu, "面积（亩）", "number"),
            ("four_east", RenewalBlock.four_east, "东至"),
            ("four_south", RenewalBlock.four_south, "南至"),
            ("four_west", RenewalBlock.four_west, "西至"),
            ("four_north", RenewalBlock.four_north, "北至"),
            ("planned_far", RenewalBlock.planned_far, "规划容积率", "number"),
            ("planned_new_floor_area_m2", RenewalBlock.planned_new_floor_area_m2, "规划新增建筑面积（m²）", "number"),
            ("approval_doc_no", RenewalBlock.approval_doc_no, "认定文号"),
            ("approval_date", RenewalBlock.approval_date, "认定日期"),
            ("parcel_count", parcel_count, "宗地数", "integer"),
        ),
        queryables=("code", "name", "unit_code", "designated_year", "stage", "review_status", "area_mu",
                    "planned_far", "approval_doc_no"),
        filters={
            "unit": lambda: Unit.code == param("unit"),
            "stage": lambda: RenewalBlock.stage == param("stage"),
            "code": lambda: RenewalBlock.code == param("code"),
        },
        source_table="renewal_blocks",
        tile_properties=("code", "name", "stage", "review_status", "area_mu", "planned_far"),
        tile_minzoom=6,
    )


def _parcel_filters(block=_block_of_parcel) -> dict[str, Callable[[], ColumnElement]]:
    """The filters of the parcel layers: the map's filter bar and the /api parameters."""
    return {
        "unit": lambda: Unit.code == param("unit"),
        "block": lambda: block.code == param("block"),
        "scattered": lambda: Parcel.block_id.is_(None),  # 零星: not in a block
        "contiguous": lambda: Parcel.block_id.is_not(None),  # 连片: in a block
        "classification": lambda: Parcel.classification == param("classification"),
        # year and stage belong to blocks: either keeps only parcels inside blocks
        "year": lambda: block.designated_year == param("year", Integer),
        "stage": lambda: block.stage == param("stage"),
    }


def _parcels() -> Layer:
    b = _block_of_parcel
    return Layer(
        id="parcels",
        title="宗地",
        description="工业宗地：所属区块（连片）或零星、企业、用地面积（亩）、容积率、分类与改造方式。",
        table=Parcel,
        base=(
            select()
            .select_from(Parcel)
            .join(Unit, Parcel.unit_id == Unit.id)
            .outerjoin(b, Parcel.block_id == b.id)
            .outerjoin(Enterprise, Parcel.enterprise_id == Enterprise.id)
        ),
        id_column=Parcel.code,
        geom=Parcel.geom,
        properties=_props(
            ("code", Parcel.code, "宗地编号"),
            ("unit_code", Unit.code, "所属镇（街道、开发区）代码"),
            ("unit_name", Unit.name, "所属镇（街道、开发区）"),
            ("block_code", b.code, "所属区块编号"),
            ("block_name", b.name, "所属区块"),
            ("enterprise_name", Enterprise.name, "企业名称"),
            ("enterprise_credit_code", Enterprise.credit_code, "统一社会信用代码"),
            ("land_area_mu", Parcel.land_area_mu, "用地面积（亩）", "number"),
            ("floor_area_m2", Parcel.floor_area_m2, "现状建筑面积（m²）", "number"),
            ("far", Parcel.far, "现状容积率", "number"),
            ("planned_floor_area_m2", Parcel.planned_floor_area_m2, "规划建筑面积（m²）", "number"),
            ("planned_far", Parcel.planned_far, "规划容积率", "number"),
            ("land_use", Parcel.land_use, "用地性质"),
            ("classification", Parcel.classification, "分类", "string", Classification),
            ("classification_label", label_of(Parcel.classification, Classification), "分类（中文）"),
            ("renewal_mode", Parcel.renewal_mode, "改造方式", "string", RenewalMode),
            ("renewal_mode_label", label_of(Parcel.renewal_mode, RenewalMode), "改造方式（中文）"),
            ("renewal_type", Parcel.renewal_type, "改造类型", "string", RenewalType),
            ("renewal_type_label", label_of(Parcel.renewal_type, RenewalType), "改造类型（中文）"),
            ("status", Parcel.status, "进度", "string", ParcelStatus),
            ("status_label", label_of(Parcel.status, ParcelStatus), "进度（中文）"),
        ),
        queryables=("code", "unit_code", "block_code", "enterprise_name", "enterprise_credit_code", "land_area_mu",
                    "floor_area_m2", "far", "planned_floor_area_m2", "planned_far", "land_use", "classification",
                    "renewal_mode", "renewal_type", "status"),
        filters=_parcel_filters(),
        source_table="parcels",
        # Everything the map's colour modes and filters read, so that it never needs GeoJSON for them.
        tile_properties=("code", "classification", "classification_label", "status", "renewal_mode", "land_area_mu",
                         "far", "planned_far", "tax_per_mu", "evaluation_grade", "unit_code", "block_code", "stage",
                         "designated_year"),
        tile_extra=_props(
            ("stage", b.stage, "区块阶段", "string", Stage),
            ("designated_year", b.designated_year, "区块认定年度", "integer"),
            ("tax_per_mu", _tax_per_mu(), "亩均税收（万元/亩）", "number"),
            ("evaluation_grade", Enterprise.evaluation_grade, "亩均效益综合评价等级（最近定档）"),
        ),
        # 亩均税收 is the enterprise's tax over all its land: a parcel's land or enterprise changes
        # its co-held parcels too (the parcels' own trigger of migration 0016 adds them).
        tile_sources=(
            TileSource("parcels", ("code", "classification", "status", "renewal_mode", "land_area_mu", "far",
                                   "planned_far", "unit_id", "block_id", "enterprise_id")),
            TileSource("units", ("code",), via="unit_id"),
            TileSource("renewal_blocks", ("code", "stage", "designated_year"), via="block_id"),
            TileSource("enterprises", ("tax_10k_yuan", "evaluation_grade"), via="enterprise_id"),
        ),
        tile_labels=("code", "classification_label"),
        tile_minzoom=12,
    )


def _parks() -> Layer:
    """开发区 and 镇街工业园区 (app/parks, docs/parks.md): the areas 连片 blocks lie in."""
    return Layer(
        id="parks",
        title="开发区和镇街工业园区",
        description="开发区和各镇（街道）工业园区的范围：连片改造区块应位于其内（行动计划三（二））。演示数据为示意范围。",
        table=Park,
        base=select().select_from(Park).outerjoin(Unit, Park.unit_id == Unit.id),
        id_column=Park.code,
        geom=Park.geom,
        properties=_props(
            ("code", Park.code, "园区编号"),
            ("name", Park.name, "园区名称"),
            ("kind", Park.kind, "类型", "string", ParkKind),
            ("kind_label", label_of(Park.kind, ParkKind), "类型（中文）"),
            ("unit_code", Unit.code, "所属镇（街道）代码"),
            ("unit_name", Unit.name, "所属镇（街道）"),
            ("approval", Park.approval, "批准文件"),
            ("area_mu", Park.area_mu, "面积（亩）", "number"),
            ("is_schematic", Park.is_schematic, "范围为示意", "boolean"),
        ),
        queryables=("code", "name", "kind", "unit_code", "area_mu", "is_schematic"),
        filters={
            "unit": lambda: Unit.code == param("unit"),
            "kind": lambda: Park.kind == param("kind"),
        },
        source_table="parks",
        tile_properties=("code", "name", "kind", "is_schematic"),
        tile_minzoom=0,
    )


def _tax_per_mu() -> ColumnElement:
    """亩均税收 of the parcel's enterprise: its yearly tax over all the land it holds (万元/亩)."""
    held = aliased(Parcel, name="held")
    land = (select(func.sum(held.land_area_mu)).where(held.enterprise_id == Enterprise.id)
            .correlate(Enterprise).scalar_subquery())
    return case((Enterprise.tax_10k_yuan.is_(None), None),
                else_=func.round(Enterprise.tax_10k_yuan / func.nullif(land, 0), 2))


def _map_parcels(parcels: Layer) -> Layer:
    """What the map draws: the parcels with compact properties, 亩均税收, 6 decimals (~10 cm)."""
    b = _block_of_parcel
    return replace(
        parcels,
        id="map_parcels",
        title="地图绘制用宗地",
        properties=_props(
            ("code", Parcel.code, "宗地编号"),
            ("unit_code", Unit.code, "所属镇（街道、开发区）代码"),
            ("block_code", b.code, "所属区块编号"),
            ("stage", b.stage, "区块阶段", "string", Stage),
            ("designated_year", b.designated_year, "区块认定年度", "integer"),
            ("enterprise_name", Enterprise.name, "企业名称"),
            ("land_area_mu", Parcel.land_area_mu, "用地面积（亩）", "number"),
            ("far", Parcel.far, "现状容积率", "number"),
            ("planned_far", Parcel.planned_far, "规划容积率", "number"),
            ("tax_per_mu", _tax_per_mu(), "亩均税收（万元/亩）", "number"),
            ("evaluation_grade", Enterprise.evaluation_grade, "亩均效益综合评价等级（最近定档）"),
            ("classification", Parcel.classification, "分类", "string", Classification),
            ("status", Parcel.status, "进度", "string", ParcelStatus),
        ),
        queryables=(),
        decimals=6,  # far below a screen pixel
        ccw=False,
    )


@lru_cache(maxsize=1)
def layers() -> dict[str, Layer]:
    """Every layer of the programme, built once (SQLAlchemy constructs are immutable and reusable)."""
    units, blocks, parcels = _units(), _blocks(), _parcels()
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
    return {layer.id: layer for layer in (units, blocks, approved_blocks, parcels, _map_parcels(parcels), _parks())}


PUBLIC = ("units", "blocks", "approved_blocks", "parcels", "parks")  # the /ogc collections, in this order


@lru_cache(maxsize=1)
def collections() -> dict[str, Layer]:
    """The layers served as OGC API collections (and vector tiles)."""
    all_layers = layers()
    return {name: all_layers[name] for name in PUBLIC}


def by_source_table() -> dict[str, list[str]]:
    """Table name → ids of the collections whose tiles it feeds."""
    out: dict[str, list[str]] = {}
    for c in collections().values():
        if c.source_table:
            out.setdefault(c.source_table, []).append(c.id)
    return out
