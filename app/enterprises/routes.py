"""一库 endpoints: the enterprise register and the departments' figures — sheet imports (administrators
and GIS staff), the departments' systems' JSON (a figures key) and one enterprise's figures."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from ..auth.deps import CurrentUser, OptionalUser, Principal, require_role
from ..auth.roles import Role
from ..core.db import SessionDep
from ..core.forms import read_form
from ..errors import error_responses
from ..messages import message
from ..ogc.apikeys import HEADER
from . import figures
from .schemas import (
    EnterpriseFigures,
    FiguresImport,
    FiguresOutcome,
    FiguresSubmitted,
    MappingIn,
    RegisterImport,
    RegisterOutcome,
)

router = APIRouter(prefix="/api/enterprises", tags=["一库 enterprise register"], responses=error_responses(401, 403))
# Who imports the register: the administrators and the GIS staff (who already load the parcel data).
Importer = Annotated[Principal, Depends(require_role(Role.GIS_STAFF, Role.ADMIN))]
MAX_SHEET_BYTES = 20 * 1024 * 1024
MAX_JSON_BYTES = 5 * 1024 * 1024
AnyImport = RegisterImport | FiguresImport


@router.post("/imports", status_code=201,
             summary="上传企业名录（kind=register）或部门数据（kind=figures，另填 year 数据年度、department 报送部门）："
                     "multipart 字段 file：.xlsx、.xls 或 UTF-8/GBK 的 .csv；暂存并逐行检查",
             response_model=AnyImport, responses=error_responses(413, 415, 422))
async def stage_import(request: Request, session: SessionDep, user: Importer) -> dict:
    form = await read_form(request, max_file=MAX_SHEET_BYTES, max_total=MAX_SHEET_BYTES, max_files=1)
    return figures.stage(session, user, form)


@router.get("/imports/{import_id}", summary="企业名录或部门数据导入的逐行检查结果（按企业库和现行数据重新检查）",
            response_model=AnyImport, responses=error_responses(404))
def get_import(session: SessionDep, user: Importer, import_id: uuid.UUID) -> dict:
    return figures.report_any(session, import_id)


@router.put("/imports/{import_id}/mapping", summary="修改字段对应（部门数据还可改各列的报送部门）并重新检查",
            response_model=AnyImport, responses=error_responses(404, 409, 422))
def put_mapping(session: SessionDep, user: Importer, import_id: uuid.UUID, body: MappingIn) -> dict:
    return figures.remap_any(session, import_id, body.mapping, body.departments)


@router.post("/imports/{import_id}/commit",
             summary="导入企业名录（新增、更新并记录每个字段的变更、关联宗地、合并同名企业）或部门数据（新增、变更的值取代"
                     "现行值并留作历史，不变的不重写）：全部写入，或一行有问题就全部不写入",
             response_model=RegisterOutcome | FiguresOutcome, responses=error_responses(404, 409, 422))
def commit_import(session: SessionDep, user: Importer, import_id: uuid.UUID) -> dict:
    return figures.commit_any(session, user, import_id)


@router.post("/figures", summary="部门系统报送某年度的企业数据（JSON；请求头 X-API-Key 为报送部门数据的密钥，"
                                 "或管理员登录并在请求中写明 department）：全部写入或全部不写入",
             response_model=FiguresSubmitted, responses=error_responses(413, 422, 429),
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["year", "rows"], "properties": {
                     "year": {"type": "integer", "description": "数据年度"},
                     "department": {"type": "string", "description": "报送部门（仅管理员登录报送时填写）"},
                     "rows": {"type": "array", "items": {"type": "object", "description":
                              "credit_code 统一社会信用代码，及各项数据（tax_10k、employees …），可选 note 说明"}},
                     "notes": {"type": "object", "description": "统一社会信用代码 → 说明（可选）"}}}}}}})
async def submit_figures(request: Request, session: SessionDep, user: OptionalUser) -> dict:
    raw_key = request.headers.get(HEADER)
    key = figures.key_of(session, raw_key) if raw_key is not None else None
    if key is not None and request.app.state.ogc.limiter.take(("figures", key.id), key.rate_limit_per_minute) > 0:
        raise figures.RateLimited(message("ogc_rate_limited", rate=key.rate_limit_per_minute))
    if key is None and user is None:
        detail = message("figures_json_admin_only")
        raise figures.KeyRefused(detail)
    size = int(request.headers.get("content-length") or 0)
    if size > MAX_JSON_BYTES:
        raise figures.BodyTooLarge(message("figures_json_too_large", max=MAX_JSON_BYTES // 1024 // 1024))
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_JSON_BYTES:
            raise figures.BodyTooLarge(message("figures_json_too_large", max=MAX_JSON_BYTES // 1024 // 1024))
        chunks.append(chunk)
    return figures.submit(session, figures.read_json(b"".join(chunks)), key=key, principal=user)


@router.get("/{credit_code}/figures", summary="一家企业某年度的部门数据：每项的现行值、报送部门、来源和历史值"
                                             "（镇街经办人只能看本单位的企业）",
            response_model=EnterpriseFigures, responses=error_responses(404))
def get_figures(session: SessionDep, user: CurrentUser,
                credit_code: Annotated[str, Path(max_length=40, description="统一社会信用代码")],
                year: Annotated[int | None, Query(ge=2000, le=2100, description="数据年度；不填为有数据的最近年度")]
                = None) -> dict:
    return figures.enterprise_figures(session, user, credit_code, year)
