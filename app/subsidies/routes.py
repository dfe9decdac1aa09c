"""/api/subsidies/…: the subsidy ledger (扶持资金), and /api/boundary-membership (inside an approved block
on a day). Thin: app/subsidies/service.py and boundary.py own every check and transaction."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from ..auth.deps import CurrentUser, Principal, require_role
from ..auth.roles import Role
from ..core.concurrency import check_if_match, set_etag
from ..core.db import SessionDep
from ..errors import error_responses
from ..messages import message
from ..serve.schemas import BINARY, content
from . import boundary, excel, service
from .schemas import (
    ApplyIn,
    ApproveIn,
    BlockSummary,
    Entry,
    EntryList,
    FundIn,
    FundView,
    MembershipAnswer,
    PaymentIn,
    RejectIn,
)

router = APIRouter(tags=["扶持资金 subsidies"], responses=error_responses(401, 403))
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Deciders = Annotated[Principal, Depends(require_role(Role.REVIEWER, Role.ADMIN))]
Applicants = Annotated[Principal, Depends(require_role(Role.UNIT_OFFICER, Role.ADMIN))]
Id = Annotated[int, Path(ge=1, le=2**31 - 1, description="台账编号")]
WRITE = error_responses(404, 409, 422, 428)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Text = Annotated[str | None, Query(max_length=64)]


@router.get("/api/boundary-membership", response_model=MembershipAnswer, responses=error_responses(404),
            summary="区块范围查询：企业（信用代码）或宗地（编号）在某日是否在已认定区块范围内、自何时起，及历次区间")
def membership(session: SessionDep, user: CurrentUser,
               on: Annotated[dt.date, Query(description="日期（YYYY-MM-DD）")],
               parcel: Annotated[str | None, Query(max_length=64, description="宗地编号")] = None,
               enterprise: Annotated[str | None, Query(max_length=18, description="统一社会信用代码")] = None) -> dict:
    return boundary.answer(session, parcel=parcel, enterprise=enterprise, on=on)


@router.get("/api/subsidies/fund", response_model=FundView, summary="扶持资金：总额、已承诺、已拨付、余额，按区块和单位汇总（ETag）")
def get_fund(session: SessionDep, user: CurrentUser, response: Response) -> dict:
    view = service.totals(session)
    set_etag(response, view["version"])
    return view


@router.put("/api/subsidies/fund", response_model=FundView, responses=WRITE,
            summary="设置扶持资金名称和总额（管理员；已设置时需 If-Match；总额不得低于已审核承诺）")
def put_fund(session: SessionDep, user: Admin, body: FundIn, request: Request, response: Response) -> dict:
    row = service.fund_or_none(session)
    check_if_match(session, request, row, message("subsidy_fund_what"), required=row is not None,
                   subject="subsidy_fund:1")
    row = service.set_fund(session, user, row, name=body.name, total_10k=body.total_10k, note=body.note)
    view = service.totals(session, row)
    set_etag(response, view["version"])
    return view


@router.get("/api/subsidies/entries", response_model=EntryList, summary="扶持资金台账（镇街经办人只看本单位）")
def list_entries(session: SessionDep, user: CurrentUser, block: Text = None, unit: Text = None,
                 status: Annotated[Literal["applied", "approved", "rejected"] | None, Query()] = None,
                 q: Annotated[str | None, Query(max_length=64, description="企业名称、信用代码、宗地编号或项目名称")] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200, offset: Annotated[int, Query(ge=0, le=10**6)] = 0
                 ) -> dict:
    rows, total = service.entries(session, user, block=block, unit=unit, status=status, q=q, limit=limit,
                                  offset=offset)
    names = service.people(session, rows)
    return {"data": [service.view(e, user, names) for e in rows], "total": total, "limit": limit, "offset": offset}


@router.get("/api/subsidies/export.xlsx", response_class=Response,
            responses={**content(media={XLSX: BINARY}, description="Excel 文件")},
            summary="扶持资金台账 Excel（台账与按区块、单位汇总）")
def export(session: SessionDep, user: CurrentUser) -> Response:
    rows, _ = service.entries(session, user, limit=100_000)
    names = service.people(session, rows)
    data = excel.workbook([service.view(e, None, names) for e in rows], service.totals(session))
    name = message("subsidy_excel_filename", day=service.today().isoformat())
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.get("/api/subsidies/blocks/{code}", response_model=BlockSummary, responses=error_responses(404),
            summary="一个区块的扶持资金：笔数、已承诺、已拨付")
def block_summary(session: SessionDep, user: CurrentUser,
                  code: Annotated[str, Path(max_length=32, description="区块编号")]) -> dict:
    return service.block_summary(session, code)


def _entry(session, user, entry_id: int, response: Response) -> dict:
    e = service.entry(session, user, entry_id)
    set_etag(response, e.row_version)
    return service.view(e, user)


@router.get("/api/subsidies/entries/{entry_id}", response_model=Entry, responses=error_responses(404),
            summary="一笔扶持资金（ETag）")
def get_entry(session: SessionDep, user: CurrentUser, entry_id: Id, response: Response) -> dict:
    return _entry(session, user, entry_id, response)


@router.post("/api/subsidies/entries", status_code=201, response_model=Entry, responses=error_responses(404, 409, 422),
             summary="申请扶持资金（本单位经办人或管理员）：企业或宗地须在申请日已认定区块范围内")
def apply(session: SessionDep, user: Applicants, body: ApplyIn, response: Response) -> dict:
    e = service.apply(session, user, enterprise=body.enterprise, parcel=body.parcel, project_name=body.project_name,
                      applied_on=body.applied_on, amount_10k=body.amount_10k, basis=body.basis,
                      admission_id=body.admission_id)
    set_etag(response, e.row_version)
    return service.view(e, user)


@router.post("/api/subsidies/entries/{entry_id}/approve", response_model=Entry, responses=WRITE,
             summary="审核通过并核定金额（评审人员、管理员，不能审核本人的申请；需 If-Match）")
def approve(session: SessionDep, user: Deciders, entry_id: Id, body: ApproveIn, request: Request,
            response: Response) -> dict:
    e = service.entry(session, user, entry_id)
    check_if_match(session, request, e, message("subsidy_what"))
    service.approve(session, user, e, approved_10k=body.approved_10k, comment=body.comment)
    return _entry(session, user, entry_id, response)


@router.post("/api/subsidies/entries/{entry_id}/reject", response_model=Entry, responses=WRITE,
             summary="审核不予通过（评审人员、管理员；需 If-Match）")
def reject(session: SessionDep, user: Deciders, entry_id: Id, body: RejectIn, request: Request,
           response: Response) -> dict:
    e = service.entry(session, user, entry_id)
    check_if_match(session, request, e, message("subsidy_what"))
    service.reject(session, user, e, comment=body.comment)
    return _entry(session, user, entry_id, response)


@router.post("/api/subsidies/entries/{entry_id}/payments", response_model=Entry, responses=WRITE,
             summary="记录拨付（管理员；累计不超过核定金额；需 If-Match）")
def pay(session: SessionDep, user: Admin, entry_id: Id, body: PaymentIn, request: Request, response: Response) -> dict:
    e = service.entry(session, user, entry_id)
    check_if_match(session, request, e, message("subsidy_what"))
    service.pay(session, user, e, paid_on=body.paid_on, amount_10k=body.amount_10k, note=body.note)
    return _entry(session, user, entry_id, response)
