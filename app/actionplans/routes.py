"""/api/action-plans: the 行动计划 (reads open like the other progress reads; writes: administrators)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

import spatial

from ..auth.deps import Principal, require_role
from ..auth.roles import Role
from ..core.concurrency import check_if_match, set_etag
from ..core.db import SessionDep
from ..errors import error_responses
from . import service

router = APIRouter(prefix="/api/action-plans", tags=["行动计划 action plans"])
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
PlanId = Annotated[int, Path(ge=1, description="行动计划编号")]
PlanBody = Annotated[dict[str, Any], Body(description=(
    "doc_no 文号、title 标题、start_year / end_year 实施期、target_total_mu 更新土地目标（亩）、"
    "target_new_floor_area_m2 新增厂房建筑面积目标（平方米）、target_average_far 平均容积率目标，"
    "门槛 min_block_mu、max_blocks_per_unit_per_year、min_parcel_mu、min_far、min_merged_parcel_mu、"
    "tolerance_m、max_outside_park_mu 园区外面积容差（也可放在 thresholds 中），note 说明"))]


@router.get("", summary="行动计划列表（实施期、主要目标、规则门槛）与今年施行的计划")
def list_plans(session: SessionDep) -> dict:
    plans = service.listing(session)
    now = service.plan_for_year(session)
    return {"plans": [service.to_dict(session, p, with_years=False) for p in plans],
            "in_force_id": None if now is None else now.id,
            "defaults": spatial.DEFAULT_THRESHOLDS.to_dict()}


@router.get("/in-force", summary="某年施行的行动计划（一表的主要目标卡片、规则检查所用门槛）",
            responses=error_responses(404))
def in_force(session: SessionDep,
             year: Annotated[int | None, Query(ge=2000, le=2100, description="年份，默认今年")] = None) -> dict:
    plan = service.plan_for_year(session, year)
    return {"year": year or service.today().year, "plan": None if plan is None else service.to_dict(session, plan),
            "headline": service.headline(plan),
            "thresholds": (spatial.DEFAULT_THRESHOLDS if plan is None else plan.thresholds()).to_dict()}


@router.get("/{plan_id}", summary="一个行动计划及其各年度任务（按年份归属）", responses=error_responses(404))
def get_plan(session: SessionDep, plan_id: PlanId, response: Response) -> dict:
    plan = service.get(session, plan_id)
    set_etag(response, plan.row_version)
    return service.to_dict(session, plan)


@router.post("", status_code=201, summary="录入新的行动计划（管理员；实施期不得与其他计划重叠）",
             responses=error_responses(401, 403, 409, 422))
def create_plan(session: SessionDep, user: Admin, body: PlanBody, response: Response) -> dict:
    plan = service.create(session, body, user.username)
    set_etag(response, plan.row_version)
    return service.to_dict(session, plan)


@router.put("/{plan_id}", summary="修改行动计划（管理员，需 If-Match）",
            responses=error_responses(401, 403, 404, 409, 422, 428))
def update_plan(session: SessionDep, user: Admin, plan_id: PlanId, body: PlanBody, request: Request,
                response: Response) -> dict:
    plan = service.get(session, plan_id)
    check_if_match(session, request, plan, "行动计划")
    service.update(session, plan, body, user.username)
    set_etag(response, plan.row_version)
    return service.to_dict(session, plan)
