"""项目准入: /api/admissions — write, check live, submit, admit or return, list, export."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from ..auth.deps import CurrentUser
from ..core.concurrency import check_if_match, set_etag
from ..core.db import SessionDep
from ..enums import ReviewStatus
from ..errors import error_responses
from ..serve.schemas import BINARY, XLSX, content
from ..settings import SettingsDep
from . import excel, service as svc
from .schemas import (
    AdmissionBlocks,
    AdmissionBody,
    AdmissionList,
    AdmissionView,
    ApproveBody,
    BlockAdmissions,
    Report,
    ReturnBody,
)

# Every endpoint needs a login (401); a write the CSRF token and the block's unit or a reviewer (403).
router = APIRouter(prefix="/api/admissions", tags=["项目准入 project admission"], responses=error_responses(401, 403))
ONE = error_responses(404)
WRITE = error_responses(400, 404, 409, 428)
WHAT = "项目准入申请"


def _respond(session, response: Response, user, a) -> dict:
    set_etag(response, a.row_version)
    return svc.view(session, user, a)


def _to_change(session, request: Request, user, admission_id: int, *, reviewer: bool = False,
               required: bool = False):
    """The application a write acts on: who may act (its unit, or a reviewer: 403), then If-Match (409/428)."""
    a = svc.for_write(session, user, admission_id, reviewer=reviewer)
    check_if_match(session, request, a, WHAT, required=required)
    return a


@router.get("", summary="项目准入申请列表（镇街经办人：本单位的；规划、GIS、评审人员：各单位已提交的；管理员：全部）",
            response_model=AdmissionList)
def list_admissions(
    user: CurrentUser, session: SessionDep,
    block: Annotated[str | None, Query(max_length=32, description="区块编号")] = None,
    status: Annotated[ReviewStatus | None, Query(description="按状态筛选")] = None,
    unit: Annotated[str | None, Query(max_length=32, description="单位代码")] = None,
) -> dict:
    rows = [svc.view(session, user, a, with_report=False)
            for a in svc.listing(session, user, block=block, status=status, unit=unit)]
    return {"data": rows, "count": len(rows)}


@router.get("/export.xlsx", summary="项目准入申请一览（Excel，与列表同样的范围和筛选）", response_class=Response,
            responses=content(media={XLSX: BINARY}, description="Excel 文件；X-Row-Count 响应头为行数"))
def export_admissions(
    user: CurrentUser, session: SessionDep,
    block: Annotated[str | None, Query(max_length=32, description="区块编号")] = None,
    status: Annotated[ReviewStatus | None, Query(description="按状态筛选")] = None,
    unit: Annotated[str | None, Query(max_length=32, description="单位代码")] = None,
) -> Response:
    data, n = excel.admission_list(session, user, block=block, status=status, unit=unit)
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote('项目准入申请一览.xlsx')}", "X-Row-Count": str(n)})


@router.get("/blocks", summary="可申请准入的已认定区块（本单位；管理员为全部）：现行方案的宗地与产业导向",
            response_model=AdmissionBlocks)
def blocks(user: CurrentUser, session: SessionDep) -> dict:
    return {"data": svc.blocks_for(session, user)}


@router.get("/by-block/{code}", summary="一个区块的产业导向和您可查看的准入项目（地图区块面板）",
            response_model=BlockAdmissions, responses=ONE)
def by_block(code: str, user: CurrentUser, session: SessionDep) -> dict:
    return svc.block_summary(session, user, code)


@router.post("/check", summary="填写时的实时检查（不保存）：产业导向、容积率下限、亩均预期、企业信用", response_model=Report,
             responses=error_responses(400, 422))
def check(body: AdmissionBody, user: CurrentUser, session: SessionDep) -> dict:
    return svc.preview(session, user, body.to_input())


@router.post("", status_code=201, summary="新建项目准入申请（草稿，区块所在单位经办人或管理员）", response_model=AdmissionView,
             responses=error_responses(400, 409, 422))
def create(body: AdmissionBody, user: CurrentUser, session: SessionDep, response: Response) -> dict:
    return _respond(session, response, user, svc.create(session, user, body.to_input()))


@router.get("/{admission_id}", summary="一项准入申请及其检查结果（ETag 为版本号）", response_model=AdmissionView,
            responses=ONE)
def get_one(admission_id: int, user: CurrentUser, session: SessionDep, response: Response) -> dict:
    return _respond(session, response, user, svc.by_id(session, user, admission_id))


@router.patch("/{admission_id}", summary="修改起草中或被退回的申请（需 If-Match）", response_model=AdmissionView,
              responses={**WRITE, **error_responses(422)})
def update(admission_id: int, body: AdmissionBody, request: Request, user: CurrentUser, session: SessionDep,
           response: Response) -> dict:
    a = _to_change(session, request, user, admission_id, required=True)
    return _respond(session, response, user, svc.update(session, user, a, body.to_input()))


@router.post("/{admission_id}/submit", summary="提交审核（检查结果随申请保存；检查发现的问题不阻止提交）",
             response_model=AdmissionView, responses=WRITE)
def submit(admission_id: int, request: Request, user: CurrentUser, session: SessionDep, response: Response) -> dict:
    a = _to_change(session, request, user, admission_id)
    return _respond(session, response, user, svc.submit(session, user, a))


@router.post("/{admission_id}/approve", summary="同意准入（评审人员、管理员）：有须审慎研判的问题时须写理由；"
             "登记投资履约", response_model=AdmissionView, responses=WRITE)
def approve(admission_id: int, body: ApproveBody, request: Request, user: CurrentUser, session: SessionDep,
            settings: SettingsDep, response: Response) -> dict:
    a = _to_change(session, request, user, admission_id, reviewer=True)
    svc.approve(session, user, a, comment=body.comment, doc_no=body.doc_no, approval_date=body.approval_date,
                allow_self_review=settings.review_allow_self_approval)
    return _respond(session, response, user, a)


@router.post("/{admission_id}/return", summary="退回修改（须写理由）", response_model=AdmissionView, responses=WRITE)
def return_admission(admission_id: int, body: ReturnBody, request: Request, user: CurrentUser, session: SessionDep,
                     settings: SettingsDep, response: Response) -> dict:
    a = _to_change(session, request, user, admission_id, reviewer=True)
    svc.return_admission(session, user, a, body.comment, allow_self_review=settings.review_allow_self_approval)
    return _respond(session, response, user, a)
