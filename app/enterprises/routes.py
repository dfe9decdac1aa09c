"""一库 endpoints: the enterprise register import (administrators and GIS staff)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from ..auth.deps import Principal, require_role
from ..auth.roles import Role
from ..core.db import SessionDep
from ..core.forms import read_form
from ..errors import error_responses
from . import imports
from .schemas import MappingIn, RegisterImport, RegisterOutcome

router = APIRouter(prefix="/api/enterprises", tags=["一库 enterprise register"], responses=error_responses(401, 403))
# Who imports the register: the administrators and the GIS staff (who already load the parcel data).
Importer = Annotated[Principal, Depends(require_role(Role.GIS_STAFF, Role.ADMIN))]
MAX_SHEET_BYTES = 20 * 1024 * 1024


@router.post("/imports", status_code=201,
             summary="上传企业名录（multipart 字段 file：.xlsx、.xls 或 UTF-8/GBK 的 .csv；kind=register）：暂存并逐行检查",
             response_model=RegisterImport, responses=error_responses(413, 415))
async def stage_import(request: Request, session: SessionDep, user: Importer) -> dict:
    form = await read_form(request, max_file=MAX_SHEET_BYTES, max_total=MAX_SHEET_BYTES, max_files=1)
    return imports.stage(session, user, form)


@router.get("/imports/{import_id}", summary="企业名录导入的逐行检查结果（按企业库当前数据重新检查）",
            response_model=RegisterImport, responses=error_responses(404))
def get_import(session: SessionDep, user: Importer, import_id: uuid.UUID) -> dict:
    return imports.report(session, imports.get_import(session, import_id))


@router.put("/imports/{import_id}/mapping", summary="修改企业名录的字段对应并重新检查",
            response_model=RegisterImport, responses=error_responses(404, 409))
def put_mapping(session: SessionDep, user: Importer, import_id: uuid.UUID, body: MappingIn) -> dict:
    return imports.remap(session, import_id, body.mapping)


@router.post("/imports/{import_id}/commit",
             summary="导入企业名录：全部写入（新增、更新并记录每个字段的变更、关联宗地、合并同名企业），或一行有问题就全部不写入",
             response_model=RegisterOutcome, responses=error_responses(404, 409))
def commit_import(session: SessionDep, user: Importer, import_id: uuid.UUID) -> dict:
    return imports.write_import(session, user, import_id)
