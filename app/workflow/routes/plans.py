"""Block plans: drafting, submission, review (single and batch), stages, versions and comparison."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...auth.deps import CurrentUser, Principal
from ...core.db import SessionDep
from ...enums import RenewalMode, ReviewStatus, Stage
from ...core.read.geojson import feature_collection
from ...core.review import apply_each
from ...analysis.schemas import PlanCheckReport, PlanPreview
from ...errors import InvalidParameter, NotFound, error_responses
from ...messages import message
from ...models import RenewalBlock, Unit
from ...serve.schemas import GeoJSONDoc, content
from ...settings import SettingsDep
from .. import plans as svc
from ...core.concurrency import check_if_match, set_etag
from ..layers import version_parcels_page
from ..models import BlockPlan, BlockVersion
from ..schemas import (
    BatchResult,
    PlanComparison,
    PlanList,
    PlanParcelCollection,
    PlanVersionCollection,
    PlanVersionFeature,
    PlanView,
    ReviewBatch,
)

# Every endpoint needs a login (401), and a write the CSRF token and the right role or unit (403).
router = APIRouter(prefix="/api", tags=["区块方案 plans"], responses=error_responses(401, 403))
# A plan named in the path may not exist (404); a write checks If-Match (409 stale, 428 missing or malformed)
# and the plan's state (409).
PLAN = error_responses(404)
PLAN_WRITE = error_responses(404, 409, 428)
GEOJSON = "application/geo+json"


class EnterpriseItem(BaseModel):
    credit_code: str | None = Field(None, max_length=18, description="统一社会信用代码；信用代码待补充的企业不填，给 name")
    name: str | None = Field(None, max_length=128,
                             description="企业名称：只用于尚无信用代码的企业（由上传登记，信用代码待补充）")
    classification: Literal["upgrade", "transform", "clear_out"] | None = Field(
        None, description="改造提升 / 优化转型 / 整治清退；不填则取企业当前分类")
    reason: str | None = Field(None, max_length=2000, description="分类理由；与企业当前分类不同时必填")


class DraftBody(BaseModel):
    """A draft's fields. On PATCH only the fields sent change; sending null clears a field (四至,
    规划容积率, 规划新增建筑面积, 改造方式, 变更说明), resets the enterprise list to the parcels'
    enterprises, or (boundary) goes back to the boundary derived from the parcels."""

    name: str | None = Field(None, max_length=128, description="区块名称")
    year: int | None = Field(None, ge=2000, le=2100, description="认定年度")
    parcels: list[str] | None = Field(None, max_length=2000, description="宗地编号列表")
    enterprises: list[EnterpriseItem] | None = Field(
        None, max_length=2000, description="企业清单（逐一分类）；不填或 null 则取宗地上的企业及其当前分类")
    boundary: dict[str, Any] | None = Field(
        None, description="区块边界（四至边界），GeoJSON 面，EPSG:4490 经纬度；不填或 null 则由宗地推导"
        "（连片容差以内的道路、河道并入）")
    boundary_source: Literal["drawn", "file"] | None = Field(
        None, description="给出的边界从何而来：drawn 地图上绘制（默认）/ file 文件导入")
    four_east: str | None = Field(None, max_length=200, description="东至")
    four_south: str | None = Field(None, max_length=200, description="南至")
    four_west: str | None = Field(None, max_length=200, description="西至")
    four_north: str | None = Field(None, max_length=200, description="北至")
    planned_new_floor_area_m2: float | None = Field(None, ge=0, le=1e9, description="规划新增建筑面积（平方米）")
    planned_far: float | None = Field(None, ge=0, le=20, description="规划容积率（方案）")
    renewal_mode: RenewalMode | None = Field(
        None, description="改造方式：government 政府主导改造 / enterprise 企业自主改造 / social_capital 社会资本参与改造 / other 其他")
    change_note: str | None = Field(None, max_length=2000, description="变更说明")
    industry_guidance: list[Annotated[str, Field(max_length=16)]] | None = Field(
        None, max_length=50, description="产业导向：行业代码列表（GB/T 4754-2017，门类字母加 2～4 位数字，如 C17、C1711）；"
        "新项目的行业应在其中；空列表或 null 清除")

    def to_input(self) -> svc.DraftInput:
        given = frozenset(self.model_fields_set & set(svc.DRAFT_FIELDS))
        data = {k: getattr(self, k) for k in svc.DRAFT_FIELDS if k != "enterprises"}
        data["renewal_mode"] = self.renewal_mode.value if self.renewal_mode else None
        enterprises = None if self.enterprises is None else [e.model_dump() for e in self.enterprises]
        return svc.DraftInput(**data, enterprises=enterprises, given=given)


class PlanCreate(DraftBody):
    code: str = Field(max_length=32, description="区块编号，例如 TX2023-CF-03")
    unit: str | None = Field(None, description="单位代码；镇街经办人可不填（默认本单位）")
    name: str = Field(max_length=128, description="区块名称")
    parcels: list[str] = Field(max_length=2000, description="宗地编号列表")


class PreviewBody(DraftBody):
    code: str | None = Field(None, max_length=32, description="正在修改的方案编号（新方案不填）")
    unit: str | None = Field(None, description="单位代码；镇街经办人可不填（默认本单位）")
    parcels: list[str] = Field(max_length=2000, description="宗地编号列表")


class RevisionBody(BaseModel):
    change_note: str = Field(min_length=1, max_length=2000, description="为何变更")


class ApproveBody(BaseModel):
    doc_no: str = Field(min_length=1, max_length=64, description="认定文号")
    approval_date: dt.date = Field(description="认定日期")
    comment: str | None = Field(None, max_length=2000)


class ReturnBody(BaseModel):
    comment: str = Field(min_length=1, max_length=2000, description="退回理由")


class StageBody(BaseModel):
    stage: Stage = Field(description="started 启动 / in_progress 推进 / completed 完成")


class Decision(BaseModel):
    code: str
    action: Literal["approve", "return"]
    comment: str | None = Field(None, max_length=2000)
    doc_no: str | None = Field(None, max_length=64)
    approval_date: dt.date | None = None


class BatchBody(BaseModel):
    decisions: list[Decision] = Field(min_length=1, max_length=200)


def _respond(session: Session, response: Response, principal, plan: BlockPlan) -> dict:
    set_etag(response, plan.row_version)
    return svc.plan_view(session, principal, plan)


def _plan_for_write(session, code: str) -> BlockPlan:
    return svc.get_plan(session, code, adopt_block=True)


def _plan_to_change(session: Session, request: Request, user: Principal, code: str, *, reviewer: bool = False,
                    if_match_required: bool = False) -> BlockPlan:
    """The plan a write acts on: who may act (the plan's unit, or a reviewer), and If-Match against its version."""
    if reviewer:
        svc.require_reviewer(user)
    plan = _plan_for_write(session, code)
    if not reviewer:
        svc.require_unit(user, plan.unit_id)
    check_if_match(session, request, plan, "区块方案", required=if_match_required)
    return plan


@router.get("/plans", summary="区块方案列表（镇街经办人只看到本单位方案和他单位已认定方案）", response_model=PlanList)
def list_plans(
    user: CurrentUser, session: SessionDep,
    status: Annotated[ReviewStatus | None, Query(description="按状态筛选")] = None,
    unit: Annotated[str | None, Query(description="单位代码")] = None,
) -> dict:
    q = select(BlockPlan).order_by(BlockPlan.code)
    if unit:
        q = q.join(Unit, BlockPlan.unit_id == Unit.id).where(Unit.code == unit)
    plans = [p for p in session.scalars(q) if svc.visible_versions(user, p)]
    rows = [svc.plan_view(session, user, p) for p in plans]
    # Blocks approved before the workflow existed are plans with one (imported) approved version.
    adopted = {p.code for p in plans}
    bq = select(RenewalBlock).where(RenewalBlock.review_status == ReviewStatus.APPROVED).order_by(RenewalBlock.code)
    if unit:
        bq = bq.join(Unit, RenewalBlock.unit_id == Unit.id).where(Unit.code == unit)
    for block in session.scalars(bq):
        if block.code not in adopted and session.scalar(select(BlockPlan.id).where(BlockPlan.code == block.code)) is None:
            rows.append(svc.report_or_virtual(session, block.code, lambda p: svc.plan_view(session, user, p)))
    if status:
        rows = [r for r in rows if r["status"] == status.value]
    rows.sort(key=lambda r: r["code"])
    return {"data": rows, "count": len(rows)}


@router.post("/plans", status_code=201, summary="新建区块方案（第 1 版草稿）", response_model=PlanView,
             responses=error_responses(409))
def create_plan(body: PlanCreate, user: CurrentUser, session: SessionDep, response: Response) -> dict:
    plan = svc.create_plan(session, user, code=body.code, unit_code=body.unit, data=body.to_input())
    return _respond(session, response, user, plan)


@router.post("/plans/preview", summary="起草时的实时检查：所选宗地（及绘制的边界）的规则报告、推导边界、建议四至、"
             "容积率与企业清单，不保存", response_model=PlanPreview)
def preview(body: PreviewBody, user: CurrentUser, session: SessionDep) -> dict:
    return svc.preview(session, user, body.to_input(), code=body.code, unit_code=body.unit)


@router.get("/plans/{code}", summary="区块方案及其全部版本（ETag 为方案版本号）", response_model=PlanView, responses=PLAN)
def get_plan(code: str, user: CurrentUser, session: SessionDep, response: Response) -> dict:
    def build(plan: BlockPlan) -> dict:
        if not svc.visible_versions(user, plan):
            raise NotFound(message("plan_not_found", code=code))
        return _respond(session, response, user, plan)

    return svc.report_or_virtual(session, code, build)


@router.patch("/plans/{code}/draft", summary="修改正在起草（或被退回）的版本，需 If-Match", response_model=PlanView,
              responses=PLAN_WRITE)
def update_draft(code: str, body: DraftBody, request: Request, user: CurrentUser, session: SessionDep,
                 response: Response) -> dict:
    plan = _plan_to_change(session, request, user, code, if_match_required=True)
    svc.update_draft(session, user, plan, body.to_input())
    return _respond(session, response, user, plan)


@router.post("/plans/{code}/revisions", status_code=201, summary="对已认定方案发起变更：新建下一版草稿",
             response_model=PlanView, responses=PLAN_WRITE)
def new_revision(code: str, body: RevisionBody, request: Request, user: CurrentUser, session: SessionDep,
                 response: Response) -> dict:
    plan = _plan_to_change(session, request, user, code)
    svc.new_revision(session, user, plan, body.change_note)
    return _respond(session, response, user, plan)


@router.post("/plans/{code}/submit", summary="提交评审（先运行规则检查，不通过则 422 并列出原因）", response_model=PlanView,
             responses=PLAN_WRITE)
def submit(code: str, request: Request, user: CurrentUser, session: SessionDep, response: Response) -> dict:
    plan = _plan_to_change(session, request, user, code)
    svc.submit(session, user, plan)
    return _respond(session, response, user, plan)


@router.post("/plans/{code}/approve", summary="认定（发文）：再次运行规则检查，通过后冻结该版本", response_model=PlanView,
             responses=PLAN_WRITE)
def approve(code: str, body: ApproveBody, request: Request, user: CurrentUser, session: SessionDep,
            settings: SettingsDep, response: Response) -> dict:
    plan = _plan_to_change(session, request, user, code, reviewer=True)
    svc.approve(session, user, plan, doc_no=body.doc_no, approval_date=body.approval_date, comment=body.comment,
                allow_self_review=settings.review_allow_self_approval)
    return _respond(session, response, user, plan)


@router.post("/plans/{code}/return", summary="退回修改（须写理由）", response_model=PlanView, responses=PLAN_WRITE)
def return_plan(code: str, body: ReturnBody, request: Request, user: CurrentUser, session: SessionDep,
                settings: SettingsDep, response: Response) -> dict:
    plan = _plan_to_change(session, request, user, code, reviewer=True)
    svc.return_plan(session, user, plan, body.comment, allow_self_review=settings.review_allow_self_approval)
    return _respond(session, response, user, plan)


@router.post("/plans/{code}/stage", summary="推进阶段：谋划 → 启动 → 推进 → 完成（逐级）", response_model=PlanView,
             responses=PLAN_WRITE)
def set_stage(code: str, body: StageBody, request: Request, user: CurrentUser, session: SessionDep,
              response: Response) -> dict:
    plan = _plan_to_change(session, request, user, code)
    svc.set_stage(session, user, plan, body.stage)
    return _respond(session, response, user, plan)


def _version(user, plan: BlockPlan, number: int) -> BlockVersion:
    version = plan.version(number)
    if version is None or version not in svc.visible_versions(user, plan):
        raise NotFound(message("plan_version_missing", code=plan.code, version=number))
    return version


@router.get("/plans/{code}/versions", summary="全部版本（GeoJSON，可上图）", response_class=GeoJSONDoc,
            responses={**content(PlanVersionCollection), **PLAN})
def versions(code: str, user: CurrentUser, session: SessionDep) -> Response:
    def build(plan: BlockPlan) -> Response:
        page = svc.version_features(session, user, plan)
        if not page.number_returned:
            raise NotFound(message("plan_not_found", code=code))
        return Response(feature_collection({"numberReturned": page.number_returned}, page.features_json),
                        media_type=GEOJSON)

    return svc.report_or_virtual(session, code, build)


def _version_text(session: Session, user, plan: BlockPlan, number: int) -> str:
    """One version's Feature with its details (GeoJSON text), or 404."""
    page = svc.version_features(session, user, plan, version_no=number, detail=True)
    if not page.number_returned:
        raise NotFound(message("plan_version_missing", code=plan.code, version=number))
    return page.features_json[1:-1]


@router.get("/plans/{code}/versions/{number}", summary="一个版本：边界、四至、宗地与企业清单、规则报告",
            response_class=GeoJSONDoc, responses={**content(PlanVersionFeature), **PLAN})
def version(code: str, number: int, user: CurrentUser, session: SessionDep) -> Response:
    return svc.report_or_virtual(
        session, code, lambda plan: Response(_version_text(session, user, plan, number), media_type=GEOJSON))


@router.get("/plans/{code}/versions/{number}/parcels", summary="一个版本的宗地（GeoJSON，可上图）：企业、方案中的分类、容积率",
            response_class=GeoJSONDoc, responses={**content(PlanParcelCollection), **PLAN})
def version_parcels(code: str, number: int, user: CurrentUser, session: SessionDep) -> Response:
    def build(plan: BlockPlan) -> Response:
        _version(user, plan, number)
        page = version_parcels_page(session, plan.code, number)
        return Response(feature_collection({"numberReturned": page.number_returned}, page.features_json),
                        media_type=GEOJSON)

    return svc.report_or_virtual(session, code, build)


@router.get("/plans/{code}/check", summary="预检：对正在起草的版本（或指定版本）运行规则，不改变状态",
            response_model=PlanCheckReport, responses=PLAN)
def check(code: str, user: CurrentUser, session: SessionDep,
          version_no: Annotated[int | None, Query(alias="version", ge=1)] = None) -> dict:
    def build(plan: BlockPlan) -> dict:
        number = version_no or plan.working_version_no or plan.current_version_no
        return svc.check(session, plan, _version(user, plan, number))

    return svc.report_or_virtual(session, code, build)


# exclude_unset: the GeoJSON parts carry exactly the members the comparison sets (no null id, bbox …).
@router.get("/plans/{code}/compare", summary="两版比较：边界增减（亩）、宗地与企业清单增减、字段变化",
            response_model=PlanComparison, response_model_exclude_unset=True, responses=PLAN)
def compare(code: str, user: CurrentUser, session: SessionDep,
            from_no: Annotated[int, Query(alias="from", ge=1)],
            to_no: Annotated[int, Query(alias="to", ge=1)]) -> dict:
    return svc.report_or_virtual(
        session, code, lambda plan: svc.compare(plan, _version(user, plan, from_no), _version(user, plan, to_no)))


@router.get("/review/batch", summary="待评审批次：全部已提交方案及其规则报告（评审人员、管理员）",
            response_model=ReviewBatch, response_model_exclude_unset=True)
def review_batch(user: CurrentUser, session: SessionDep) -> dict:
    svc.require_reviewer(user)
    rows = []
    for plan in session.scalars(select(BlockPlan).where(BlockPlan.status == ReviewStatus.SUBMITTED)
                                .order_by(BlockPlan.code)):
        submitted = orjson.loads(_version_text(session, user, plan, plan.working_version_no))
        rows.append(svc.plan_view(session, user, plan) | {"submitted": submitted})
    return {"data": rows, "count": len(rows)}


@router.post("/review/batch", summary="批量评审：逐个认定或退回；每个方案单独成败", response_model=BatchResult)
def review_batch_decide(body: BatchBody, user: CurrentUser, session: SessionDep, settings: SettingsDep) -> dict:
    svc.require_reviewer(user)

    def decide(d: Decision) -> dict:
        plan = svc.get_plan(session, d.code, adopt_block=False)
        if plan is None:
            raise NotFound(message("plan_nothing_to_review", code=d.code))
        if d.action == "approve":
            if not d.doc_no or d.approval_date is None:
                raise InvalidParameter("doc_no", message("plan_batch_missing_decision"))
            svc.approve(session, user, plan, doc_no=d.doc_no, approval_date=d.approval_date, comment=d.comment,
                        allow_self_review=settings.review_allow_self_approval)
        else:
            svc.return_plan(session, user, plan, d.comment, allow_self_review=settings.review_allow_self_approval)
        return {"status": plan.status.value, "version": plan.row_version}

    results = [{"code": d.code, **r} for d, r in zip(body.decisions, apply_each(body.decisions, decide))]
    return {"results": results, "approved": sum(r["ok"] and r["status"] == "approved" for r in results),
            "returned": sum(r["ok"] and r["status"] == "returned" for r in results),
            "failed": sum(not r["ok"] for r in results)}
