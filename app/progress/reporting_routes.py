"""/api/progress/… for the towns' 月报: the open months, reports with evidence, Excel in bulk,
submitting and returning a month, moving a deadline (docs/assessment.md §5). Thin: the service
modules ``reporting`` and ``reporting_excel`` own every check and transaction."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from ..actionplans.calendar import move_deadline
from ..auth.deps import CurrentUser, Principal, require_role
from ..auth.roles import Role
from ..core.db import SessionDep
from ..core.forms import read_form
from ..errors import FieldError, InvalidUpload, error_responses
from ..messages import message
from ..serve.schemas import BINARY, content
from ..settings import Settings, get_settings
from . import reporting, reporting_excel
from .access import ProgressAdmin
from .reporting_schemas import (
    DeadlineIn,
    Entries,
    Entry,
    EntryIn,
    Evidence,
    ImportCommitted,
    ImportReport,
    MonthOverview,
    OpenMonths,
    Reportable,
    ReturnIn,
    Submission,
    SubmitIn,
)

router = APIRouter(prefix="/api/progress", tags=["月报报送 monthly reports"], responses=error_responses(401, 403))
Reporter = Annotated[Principal, Depends(require_role(Role.UNIT_OFFICER, Role.ADMIN))]
SettingsDep = Annotated[Settings, Depends(get_settings)]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
YearQuery = Annotated[int, Query(ge=2000, le=2100, description="年份")]
MonthQuery = Annotated[int, Query(ge=1, le=12, description="月份 1～12")]
UnitQuery = Annotated[str | None, Query(max_length=64, description="单位代码或名称（管理员）")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WRITE = error_responses(404, 409, 413, 415)


def _max_evidence(settings: Settings) -> int:
    return int(settings.evidence_max_mb * 1048576)


@router.get("/reporting/open", summary="当前可报送的月份（截止日、剩余天数、本单位的报送状态）", response_model=OpenMonths)
def open_months(session: SessionDep, user: CurrentUser) -> dict:
    return reporting.open_months(session, user)


@router.get("/reporting", summary="某月月报的报送情况：各单位已报送/未报送/已退回、报送条数与完成亩数",
            response_model=MonthOverview)
def overview(session: SessionDep, user: CurrentUser, year: YearQuery, month: MonthQuery) -> dict:
    return reporting.overview(session, year, month)


@router.get("/reportable", summary="本单位可报送的宗地与区块（当前状态、最近报送日期）", response_model=Reportable)
def reportable(session: SessionDep, user: Reporter, unit: UnitQuery = None) -> dict:
    return reporting.reportable(session, user, unit)


@router.post("/evidence", status_code=201, summary="上传佐证材料（multipart 字段 file：PDF、JPG、PNG，按内容判断类型，限大小）",
             response_model=Evidence, responses=WRITE)
async def upload_evidence(request: Request, session: SessionDep, user: Reporter, settings: SettingsDep,
                          unit: UnitQuery = None) -> dict:
    cap = _max_evidence(settings)
    form = await read_form(request, max_file=cap, max_total=cap, max_files=1)
    files = form.files_of("file")
    if not files:
        text = message("upload_file_missing")
        raise InvalidUpload(text, [FieldError("file", text)], code="invalid_request", status_code=422)
    return reporting.store_evidence(session, user, form.fields.get("unit") or unit, files[0].filename,
                                    files[0].data, cap)


@router.get("/evidence/{evidence_id}", summary="下载佐证材料（登录用户；镇街经办人只能看本单位的）",
            response_class=Response, responses={**content(media={"application/pdf": BINARY, "image/jpeg": BINARY,
                                                                 "image/png": BINARY}), **error_responses(404)})
def evidence_file(session: SessionDep, user: CurrentUser, evidence_id: Id) -> Response:
    row = reporting.evidence_file(session, user, evidence_id)
    return Response(bytes(row.content), media_type=row.content_type, headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(row.filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
        "X-Content-SHA256": row.sha256})


@router.post("/entries", status_code=201, summary="报送一条进展：宗地状态或区块阶段、发生日期、建成建筑面积、佐证材料",
             response_model=Entry, responses=WRITE)
def create_entry(session: SessionDep, user: Reporter, body: EntryIn) -> dict:
    return reporting.report(session, user, body.model_dump())


@router.get("/entries", summary="某月月报的报送记录（新者在前）", response_model=Entries)
def entries(session: SessionDep, user: CurrentUser, year: YearQuery, month: MonthQuery, unit: UnitQuery = None) -> dict:
    return reporting.list_entries(session, user, year, month, unit)


@router.delete("/entries/{entry_id}", summary="撤回一条报送（月报截止前、尚未提交时；以新记录取代，历史不删除）",
               response_model=Entry, responses=WRITE)
def withdraw_entry(session: SessionDep, user: Reporter, entry_id: Id) -> dict:
    return reporting.withdraw(session, user, entry_id)


@router.get("/entries/template.xlsx", summary="月报 Excel 模板：本单位的宗地，一宗一行", response_class=Response,
            responses=content(media={XLSX: BINARY}, description="Excel 文件"))
def entries_template(session: SessionDep, user: Reporter, year: YearQuery, month: MonthQuery,
                     unit: UnitQuery = None) -> Response:
    data, name = reporting_excel.template(session, user, year, month, unit)
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.post("/entries/imports", status_code=201,
             summary="批量报送：上传填好的月报 Excel（字段 file）与佐证材料（字段 evidence，可多个），逐行检查",
             response_model=ImportReport, responses=WRITE)
async def stage_import(request: Request, session: SessionDep, user: Reporter, settings: SettingsDep,
                       unit: UnitQuery = None) -> dict:
    cap = _max_evidence(settings)
    sheet_cap = reporting_excel.MAX_SHEET_MB * 1048576
    form = await read_form(request, max_file=max(cap, sheet_cap), max_total=sheet_cap + 20 * cap, max_files=21)
    if unit and not form.fields.get("unit"):
        form.fields["unit"] = unit
    return reporting_excel.stage(session, user, form, cap)


@router.get("/entries/imports/{import_id}", summary="批量报送的逐行检查结果", response_model=ImportReport,
            responses=error_responses(404))
def get_import(session: SessionDep, user: Reporter, import_id: uuid.UUID) -> dict:
    return reporting_excel.report_dict(session, reporting_excel.get_import(session, user, import_id))


@router.post("/entries/imports/{import_id}/commit", summary="提交批量报送：全部写入，或一行有问题就全部不写入",
             response_model=ImportCommitted, responses=WRITE)
def commit_import(session: SessionDep, user: Reporter, import_id: uuid.UUID) -> dict:
    return reporting_excel.write_import(session, user, import_id)


@router.post("/submissions", status_code=201, summary="提交本单位某月月报（截止日前）", response_model=Submission,
             responses=WRITE)
def submit(session: SessionDep, user: Reporter, body: SubmitIn) -> dict:
    return reporting.submit(session, user, body.year, body.month, body.summary, body.unit)


@router.post("/submissions/{submission_id}/return", summary="退回某单位的月报（管理员，截止日前，须写明原因）",
             response_model=Submission, responses=WRITE)
def return_submission(session: SessionDep, user: ProgressAdmin, submission_id: Id, body: ReturnIn) -> dict:
    return reporting.return_submission(session, user, submission_id, body.reason)


@router.put("/deadlines/{year}/{month}", summary="调整某月月报的截止日（管理员，仅在截止前，须写明原因）",
            response_model=MonthOverview, responses=WRITE)
def put_deadline(session: SessionDep, user: ProgressAdmin, body: DeadlineIn,
                 year: Annotated[int, Path(ge=2000, le=2100)], month: Annotated[int, Path(ge=1, le=12)]) -> dict:
    move_deadline(session, year, month, body.due_on, body.reason, user.username)
    return reporting.overview(session, year, month)

