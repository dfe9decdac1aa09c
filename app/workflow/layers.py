"""Plan versions as a layer of the shared read path (app.core.read): the GeoJSON of
``/api/plans/{code}/versions``, of one version, of the batch review, and the version list of a
plan view all come from these two layers, so a version's fields are defined once, here."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import ColumnElement, Integer, Text, cast, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from ..auth.models import User
from ..core.read import sql
from ..core.read.layers import Layer, Prop, label_of, param
from ..enums import Classification, RenewalMode, ReviewStatus
from ..models import Enterprise, Parcel
from .enums import BoundarySource
from .models import BlockPlan, BlockVersion, BlockVersionEnterprise, BlockVersionParcel

FOUR_SIDES = ("four_east", "four_south", "four_west", "four_north")
SIDE_TITLES = {"four_east": "东至", "four_south": "南至", "four_west": "西至", "four_north": "北至"}


def _user(column: ColumnElement) -> ColumnElement:
    """``{"username", "display_name"}`` of the user ``column`` points at, or null."""
    return (select(func.json_build_object("username", User.username, "display_name", User.display_name))
            .where(User.id == column).correlate(BlockVersion).scalar_subquery())


def _count(model, key: ColumnElement) -> ColumnElement:
    return select(func.count()).select_from(model).where(key == BlockVersion.id).correlate(BlockVersion).scalar_subquery()


def _summary() -> tuple[Prop, ...]:
    v = BlockVersion
    return (
        Prop("version_no", v.version_no, "版本号", "integer"),
        Prop("status", v.status, "状态", "string", ReviewStatus),
        Prop("status_label", label_of(v.status, ReviewStatus), "状态（中文）"),
        Prop("name", v.name, "区块名称"),
        Prop("year", v.year, "认定年度", "integer"),
        Prop("area_mu", v.area_mu, "面积（亩）", "number"),
        Prop("parcel_count", _count(BlockVersionParcel, BlockVersionParcel.version_id), "宗地数", "integer"),
        Prop("enterprise_count", _count(BlockVersionEnterprise, BlockVersionEnterprise.version_id), "企业数", "integer"),
        Prop("is_imported", v.is_imported, "工作流之前已认定", "boolean"),
        Prop("boundary_source", v.boundary_source, "边界来源", "string", BoundarySource),
        Prop("based_on_version_no", v.based_on_version_no, "所依据的版本", "integer"),
        Prop("change_note", v.change_note, "变更说明"),
        Prop("created_at", v.created_at, "创建时间"),
        Prop("submitted_at", v.submitted_at, "提交时间"),
        Prop("submitted_by", _user(v.submitted_by_id), "提交人", "object"),
        Prop("reviewed_at", v.reviewed_at, "评审时间"),
        Prop("reviewed_by", _user(v.reviewed_by_id), "评审人", "object"),
        Prop("review_comment", v.review_comment, "评审意见"),
        Prop("approval_doc_no", v.approval_doc_no, "认定文号"),
        Prop("approval_date", v.approval_date, "认定日期"),
        Prop("report_passed", v.report_passed, "规则检查通过", "boolean"),
    )


def _detail() -> tuple[Prop, ...]:
    v = BlockVersion
    p, e = BlockVersionParcel, BlockVersionEnterprise
    parcels = (
        select(func.coalesce(func.json_agg(aggregate_order_by(
            func.json_build_object("code", p.parcel_code, "land_area_mu", p.land_area_mu), p.parcel_code)),
            func.json_build_array()))
        .where(p.version_id == v.id).correlate(v).scalar_subquery()
    )
    enterprises = (
        select(func.coalesce(func.json_agg(aggregate_order_by(
            func.json_build_object("credit_code", e.credit_code, "name", e.name, "classification", e.classification,
                                   "classification_label", label_of(e.classification, Classification),
                                   "reason", e.classification_reason),
            e.credit_code)), func.json_build_array()))
        .where(e.version_id == v.id).correlate(v).scalar_subquery()
    )
    return (
        *(Prop(side, getattr(v, side), SIDE_TITLES[side]) for side in FOUR_SIDES),
        Prop("planned_new_floor_area_m2", v.planned_new_floor_area_m2, "规划新增建筑面积（m²）", "number"),
        Prop("planned_far", v.planned_far, "规划容积率（方案）", "number"),
        Prop("renewal_mode", v.renewal_mode, "改造方式", "string", RenewalMode),
        Prop("renewal_mode_label", label_of(v.renewal_mode, RenewalMode), "改造方式（中文）"),
        Prop("boundary_source_label", label_of(v.boundary_source, BoundarySource), "边界来源（中文）"),
        Prop("industry_guidance", v.industry_guidance, "产业导向", "array"),
        Prop("parcels", parcels, "宗地清单", "array"),
        Prop("enterprises", enterprises, "企业清单", "array"),
        Prop("report", v.report, "规则检查报告", "object"),
    )


def _layer(layer_id: str, title: str, props: tuple[Prop, ...]) -> Layer:
    return Layer(
        id=layer_id,
        title=title,
        description="区块方案的各个版本：边界（四至边界）、四至、宗地与企业清单、评审与认定。",
        table=BlockVersion,
        base=select().select_from(BlockVersion).join(BlockPlan, BlockVersion.plan_id == BlockPlan.id),
        id_column=BlockPlan.code + "/v" + cast(BlockVersion.version_no, Text),
        geom=BlockVersion.geom,
        properties=(*props, Prop("plan", BlockPlan.code, "区块方案编号")),
        queryables=("version_no",),
        filters={
            "plan": lambda: BlockPlan.code == param("plan"),
            "version": lambda: BlockVersion.version_no == param("version", Integer),
            "approved": lambda: BlockVersion.status == ReviewStatus.APPROVED.value,
        },
    )


@lru_cache(maxsize=1)
def plan_versions() -> Layer:
    return _layer("plan_versions", "区块方案版本", _summary())


@lru_cache(maxsize=1)
def plan_version_details() -> Layer:
    return _layer("plan_version_details", "区块方案版本（详情）", _summary() + _detail())


@lru_cache(maxsize=1)
def plan_version_parcels() -> Layer:
    """A version's parcels on the map: each with its enterprise and the classification the plan
    gives that enterprise (else the parcel's own), for the reviewer's map and lists."""
    v, vp, ve = BlockVersion, BlockVersionParcel, BlockVersionEnterprise
    listed = func.coalesce(ve.classification, Parcel.classification)
    return Layer(
        id="plan_version_parcels",
        title="区块方案版本的宗地",
        description="区块方案某一版本所列的宗地：用地面积（入方案时）、企业、方案中的分类、现状与规划容积率。",
        table=BlockVersionParcel,
        base=(select().select_from(vp)
              .join(v, vp.version_id == v.id).join(BlockPlan, v.plan_id == BlockPlan.id)
              .join(Parcel, vp.parcel_id == Parcel.id)
              .outerjoin(Enterprise, vp.enterprise_id == Enterprise.id)
              .outerjoin(ve, (ve.version_id == v.id) & (ve.enterprise_id == vp.enterprise_id))),
        id_column=vp.parcel_code,
        geom=Parcel.geom,
        properties=(
            Prop("code", vp.parcel_code, "宗地编号"),
            Prop("land_area_mu", vp.land_area_mu, "用地面积（亩）", "number"),
            Prop("enterprise_name", Enterprise.name, "企业名称"),
            Prop("enterprise_credit_code", Enterprise.credit_code, "统一社会信用代码"),
            Prop("classification", listed, "方案中的分类", "string", Classification),
            Prop("classification_label", label_of(listed, Classification), "方案中的分类（中文）"),
            Prop("floor_area_m2", Parcel.floor_area_m2, "现状建筑面积（m²）", "number"),
            Prop("far", Parcel.far, "现状容积率", "number"),
            Prop("planned_far", Parcel.planned_far, "规划容积率", "number"),
            Prop("land_use", Parcel.land_use, "用地性质"),
        ),
        queryables=("code",),
        filters={
            "plan": lambda: BlockPlan.code == param("plan"),
            "version": lambda: BlockVersion.version_no == param("version", Integer),
        },
    )


def version_parcels_page(session: Session, plan_code: str, version_no: int) -> sql.Page:
    layer = plan_version_parcels()
    query = sql.page_query(layer, keys=sql.sort_keys(layer, "code"), limit=10_000,
                           filters=[("plan", plan_code), ("version", version_no)])
    return sql.feature_page_on(session, query, count=False)


def versions_page(session: Session, plan_code: str, *, approved_only: bool = False, version_no: int | None = None,
                  detail: bool = False) -> sql.Page:
    """A plan's versions (or one), in version order, as GeoJSON features (inside the caller's transaction)."""
    layer = plan_version_details() if detail else plan_versions()
    filters: list[tuple[str, object]] = [("plan", plan_code)]
    if approved_only:
        filters.append(("approved", None))
    if version_no is not None:
        filters.append(("version", version_no))
    query = sql.page_query(layer, keys=sql.sort_keys(layer, "version_no"), limit=10_000, filters=filters)
    return sql.feature_page_on(session, query, count=False)
