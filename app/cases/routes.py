"""/api/cases/…: the typical cases (每季度现场会区块). Reads: every signed-in role; writes: administrators.
Thin: app/cases/service.py owns every check and transaction."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ..auth.deps import CurrentUser, Principal, require_role
from ..auth.roles import Role
from ..core.concurrency import check_if_match, set_etag
from ..core.db import SessionDep
from ..core.forms import read_form
from ..errors import error_responses
from ..messages import message
from ..core.clock import today
from ..serve.schemas import BINARY, content
from ..settings import Settings, get_settings
from . import excel, service

router = APIRouter(prefix="/api/cases", tags=["典型案例 cases"], responses=error_responses(401, 403))
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1, description="编号")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Photo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int
    filename: str
    content_type: str
    size_bytes: int
    url: str


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int
    year: int
    quarter: int
    label: str = Field(description="如“2023 年第 2 季度”")
    block: str
    block_name: str
    unit: str
    unit_name: str
    held_on: str
    notes: str
    created_by: str
    version: int
    photos: list[Photo]


class CaseList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: list[Case]


class CaseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notes: str | None = Field(None, min_length=1, max_length=service.MAX_NOTES, description="典型做法与说明")
    held_on: dt.date | None = Field(None, description="现场会日期（须在该季度内）")
    block: str | None = Field(None, min_length=1, max_length=32, description="区块编号（改选本季度的现场会区块）")


def _limits(settings: Settings) -> tuple[int, int]:
    one = int(settings.evidence_max_mb * 1048576)
    return one, one * service.MAX_PHOTOS


@router.get("", response_model=CaseList, summary="典型案例：各季度现场会区块、说明和照片")
def list_cases(session: SessionDep, user: CurrentUser,
               year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
               block: Annotated[str | None, Query(max_length=32, description="区块编号")] = None) -> dict:
    return {"data": [service.view(m) for m in service.meetings(session, year=year, block=block)]}


@router.get("/export.xlsx", response_class=Response, responses={**content(media={XLSX: BINARY}, description="Excel 文件")},
            summary="典型案例 Excel")
def export(session: SessionDep, user: CurrentUser) -> Response:
    data = excel.workbook([service.view(m) for m in service.meetings(session)])
    name = message("case_excel_filename", day=today().isoformat())
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.post("", status_code=201, response_model=Case, responses=error_responses(404, 409, 413, 415, 422),
             summary="标记本季度现场会区块（管理员；每季度一个）：multipart 字段 year、quarter、block、held_on、notes、photos")
async def create(request: Request, session: SessionDep, user: Admin, settings: SettingsDep, response: Response) -> dict:
    one, total = _limits(settings)
    form = await read_form(request, max_file=one, max_total=total, max_files=service.MAX_PHOTOS + 1)
    m = service.create(session, user, form, one)
    set_etag(response, m.row_version)
    return service.view(m)


@router.get("/{case_id}", response_model=Case, responses=error_responses(404), summary="一个季度的现场会区块（ETag）")
def get_case(session: SessionDep, user: CurrentUser, case_id: Id, response: Response) -> dict:
    m = service.meeting(session, case_id)
    set_etag(response, m.row_version)
    return service.view(m)


@router.patch("/{case_id}", response_model=Case, responses=error_responses(404, 409, 422, 428),
              summary="修改现场会说明、日期或区块（管理员，需 If-Match）")
def update(session: SessionDep, user: Admin, case_id: Id, body: CaseUpdate, request: Request,
           response: Response) -> dict:
    m = service.meeting(session, case_id)
    check_if_match(session, request, m, message("case_what"))
    m = service.update(session, user, m, notes=body.notes, held_on=body.held_on, block=body.block)
    set_etag(response, m.row_version)
    return service.view(m)


@router.post("/{case_id}/photos", response_model=Case, responses=error_responses(404, 409, 413, 415, 422, 428),
             summary="为现场会补充照片（管理员，需 If-Match）：multipart 字段 photos")
async def add_photos(request: Request, session: SessionDep, user: Admin, settings: SettingsDep, case_id: Id,
                     response: Response) -> dict:
    one, total = _limits(settings)
    m = service.meeting(session, case_id)
    check_if_match(session, request, m, message("case_what"))
    form = await read_form(request, max_file=one, max_total=total, max_files=service.MAX_PHOTOS + 1)
    m = service.add_photos(session, user, m, form, one)
    set_etag(response, m.row_version)
    return service.view(m)


@router.get("/photos/{photo_id}", response_class=Response, summary="现场会照片",
            responses={**content(media={"image/jpeg": BINARY, "image/png": BINARY}), **error_responses(404)})
def photo(session: SessionDep, user: CurrentUser, photo_id: Id) -> Response:
    row = service.photo(session, photo_id)
    return Response(bytes(row.content), media_type=row.content_type, headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(row.filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
