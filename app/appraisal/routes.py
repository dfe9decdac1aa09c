"""/api/evaluation/{year}/…: the yearly 亩均效益综合评价 — configuration, runs, 公示, 异议, 定档, results.
Thin: app/appraisal/service.py owns every check and transaction."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from ..auth.deps import CurrentUser, Principal, require_role
from ..auth.roles import Role
from ..core.concurrency import check_if_match, set_etag
from ..core.db import SessionDep
from ..core.forms import read_form
from ..errors import error_responses
from ..serve.schemas import BINARY, content
from . import excel, service
from .schemas import (
    ConfigIn,
    ConfigView,
    EnterpriseResult,
    Objection,
    ObjectionList,
    PublishIn,
    ReasonIn,
    Results,
    ResolveIn,
    Run,
    RunIn,
    RunList,
)

router = APIRouter(prefix="/api/evaluation", tags=["亩均评价 evaluation"], responses=error_responses(401, 403))
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Deciders = Annotated[Principal, Depends(require_role(Role.REVIEWER, Role.ADMIN))]
Objectors = Annotated[Principal, Depends(require_role(Role.UNIT_OFFICER, Role.ADMIN))]
Year = Annotated[int, Path(ge=2000, le=2100, description="评价年度")]
Id = Annotated[int, Path(ge=1, le=2**31 - 1, description="编号")]
RunQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="评价编号")]
WRITE = error_responses(404, 409, 422, 428)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_OBJECTION_BYTES = service.MAX_EVIDENCE_FILES * service.MAX_EVIDENCE_BYTES + 64 * 1024


def _config(session, year: int, response: Response) -> dict:
    view = service.config_view(session, year)
    set_etag(response, view["version"])
    return view


@router.get("/{year}/config", summary="某年度的评价配置（未保存时为默认配置）与配置界面的中文名称（ETag）",
            response_model=ConfigView)
def get_config(session: SessionDep, user: CurrentUser, year: Year, response: Response) -> dict:
    return _config(session, year, response)


@router.put("/{year}/config", summary="保存评价配置（管理员；已保存过时需 If-Match；定档后不能修改）",
            response_model=ConfigView, responses=WRITE)
def put_config(session: SessionDep, user: Admin, year: Year, body: ConfigIn, request: Request,
               response: Response) -> dict:
    row = service.stored_config(session, year)
    check_if_match(session, request, row, "评价配置", required=row is not None, subject=f"evaluation_config:{year}")
    service.save_config(session, user, year, body.config)
    return _config(session, year, response)


@router.delete("/{year}/config", summary="恢复默认评价配置（管理员；定档后不能修改）", response_model=ConfigView,
               responses=error_responses(409))
def reset_config(session: SessionDep, user: Admin, year: Year, response: Response) -> dict:
    service.reset_config(session, year)
    return _config(session, year, response)


def _run(session, run, user, response: Response) -> dict:
    view = service.run_view(session, run, user)
    set_etag(response, view["version"])
    return view


@router.post("/{year}/runs", status_code=201, summary="试算：按本年度配置和当前数据计算一次评价（输入、配置、结果冻结保存）",
             response_model=Run, responses=error_responses(409))
def compute(session: SessionDep, user: Admin, year: Year, response: Response, body: RunIn | None = None) -> dict:
    run = service.compute_run(session, user, year, body.note if body else None)
    return _run(session, run, user, response)


@router.get("/{year}/runs", summary="某年度的各次评价（新者在前）及当前用户可做的操作", response_model=RunList)
def list_runs(session: SessionDep, user: CurrentUser, year: Year) -> dict:
    return service.runs_view(session, year, user)


@router.get("/runs/{run_id}", summary="一次评价的概况（ETag）", response_model=Run, responses=error_responses(404))
def get_run(session: SessionDep, user: CurrentUser, run_id: Id, response: Response) -> dict:
    return _run(session, service.run_by_id(session, run_id), user, response)


def _locked_run(session, request: Request, run_id: int):
    run = service.run_by_id(session, run_id)
    check_if_match(session, request, run, "评价结果")
    return run


@router.post("/runs/{run_id}/publish", summary="发布公示（管理员，需 If-Match）：公示期内企业可提出异议",
             response_model=Run, responses=WRITE)
def publish(session: SessionDep, user: Admin, run_id: Id, body: PublishIn, request: Request,
            response: Response) -> dict:
    run = _locked_run(session, request, run_id)
    service.publish(session, user, run, body.publicity_start, body.publicity_end)
    return _run(session, run, user, response)


@router.post("/runs/{run_id}/close-publicity", summary="提前结束公示（管理员，需 If-Match，写明理由）",
             response_model=Run, responses=WRITE)
def close_publicity(session: SessionDep, user: Admin, run_id: Id, body: ReasonIn, request: Request,
                    response: Response) -> dict:
    run = _locked_run(session, request, run_id)
    service.close_publicity(session, user, run, body.reason.strip())
    return _run(session, run, user, response)


@router.post("/runs/{run_id}/withdraw", summary="撤回试算或公示（管理员，需 If-Match）", response_model=Run,
             responses=WRITE)
def withdraw(session: SessionDep, user: Admin, run_id: Id, request: Request, response: Response) -> dict:
    run = _locked_run(session, request, run_id)
    service.withdraw(session, run)
    return _run(session, run, user, response)


@router.post("/runs/{run_id}/fix", summary="定档（评审人员、管理员，需 If-Match）：公示期满、异议处理完毕后，结果确定并用于分类",
             response_model=Run, responses=WRITE)
def fix(session: SessionDep, user: Deciders, run_id: Id, request: Request, response: Response) -> dict:
    run = _locked_run(session, request, run_id)
    final = service.fix(session, user, run)
    return _run(session, final, user, response)


@router.get("/{year}", summary="某年度的评价结果：各企业指标值、得分、排名、等级和说明（默认：定档，否则公示中，否则最近一次试算）",
            response_model=Results, responses=error_responses(404))
def results(session: SessionDep, user: CurrentUser, year: Year,
            run: RunQuery = None,
            unit: Annotated[str | None, Query(max_length=32, description="镇（街道）代码")] = None,
            group: Annotated[str | None, Query(max_length=32, description="评价组代码；none 为不属于任何组")] = None,
            grade: Annotated[str | None, Query(pattern="^(A|B|C|D|none)$", description="等级；none 为不参评")] = None,
            q: Annotated[str | None, Query(max_length=64, description="企业名称或信用代码")] = None) -> dict:
    flt = service.ResultFilter(unit=unit, group=group, grade=grade, q=(q or "").strip() or None)
    return service.results(session, user, year, run, flt)


@router.get("/{year}/enterprises/{credit_code}", summary="一家企业在某年度评价中的结果与数据来源",
            response_model=EnterpriseResult, responses=error_responses(404))
def enterprise_result(session: SessionDep, user: CurrentUser, year: Year,
                      credit_code: Annotated[str, Path(max_length=18)],
                      run: RunQuery = None) -> dict:
    return service.enterprise_result(session, user, year, credit_code.upper(), run)


@router.get("/{year}/export.xlsx", summary="评价结果 Excel（每个评价组一张表，另附不参评企业）", response_class=Response,
            responses={**content(media={XLSX: BINARY}, description="Excel 文件"), **error_responses(404)})
def export(session: SessionDep, user: CurrentUser, year: Year,
           run: RunQuery = None) -> Response:
    data, name = excel.results_workbook(session, user, year, run)
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.post("/runs/{run_id}/objections", status_code=201,
             summary="提出异议（企业所在镇街经办人或管理员，公示期内）：multipart 字段 credit_code、reason、corrections（JSON）、files（佐证材料）",
             response_model=Objection, responses=error_responses(404, 409, 413, 415, 422))
async def file_objection(request: Request, session: SessionDep, user: Objectors, run_id: Id) -> dict:
    form = await read_form(request, max_file=service.MAX_EVIDENCE_BYTES, max_total=MAX_OBJECTION_BYTES,
                           max_files=service.MAX_EVIDENCE_FILES + 1)
    run = service.run_by_id(session, run_id)
    return service.objection_view(session, service.file_objection(session, user, run, form), user)


@router.get("/runs/{run_id}/objections", summary="一次评价的异议（待处理在前）", response_model=ObjectionList,
            responses=error_responses(404))
def objections(session: SessionDep, user: CurrentUser, run_id: Id) -> dict:
    return service.objections_view(session, service.run_by_id(session, run_id), user)


@router.post("/objections/{objection_id}/resolve", summary="处理异议：采纳或不予采纳（评审人员、管理员，需 If-Match）",
             response_model=Objection, responses=WRITE)
def resolve(session: SessionDep, user: Deciders, objection_id: Id, body: ResolveIn, request: Request,
            response: Response) -> dict:
    o = service.objection_by_id(session, objection_id)
    check_if_match(session, request, o, "异议")
    service.resolve(session, user, o, body.decision, body.resolution.strip())
    view = service.objection_view(session, o, user)
    set_etag(response, view["version"])
    return view


@router.get("/evidence/{evidence_id}", summary="下载异议的佐证材料", response_class=Response,
            responses={**content(media={"application/pdf": BINARY, "image/jpeg": BINARY, "image/png": BINARY}),
                       **error_responses(404)})
def evidence(session: SessionDep, user: CurrentUser, evidence_id: Id) -> Response:
    row = service.evidence_file(session, evidence_id)
    return Response(bytes(row.content), media_type=row.content_type, headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(row.filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
