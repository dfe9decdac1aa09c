"""/api/progress/…: progress, indicators, parcels behind each figure, targets, scores, monthly reports;
/progress: the 一表 dashboard and the printable reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Path, Query
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field

from ..core.clock import TIMEZONE
from ..core.db import SessionDep
from ..enums import ParcelStatus
from ..errors import error_responses
from ..serve.schemas import BINARY, content
from ..settings import Settings, get_settings
from . import reports, scoring, service
from .access import ProgressAdmin
from .schemas import (
    ConfigSaved,
    ConfigView,
    CorrectionSaved,
    Indicators,
    IssuePreview,
    MonthlyProgress,
    Periods,
    ParcelTrace,
    ReportList,
    ReportSnapshot,
    ReportSummary,
    Scores,
    TargetSaved,
    Targets,
)

router = APIRouter(prefix="/api/progress", tags=["一表 progress"])
pages = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YearQuery = Annotated[int, Query(ge=2000, le=2100, description="年份")]
MonthQuery = Annotated[int, Query(ge=1, le=12, description="月份 1～12")]
YearPath = Annotated[int, Path(ge=2000, le=2100, description="年份")]
MonthPath = Annotated[int, Path(ge=1, le=12, description="月份 1～12")]
AsOfQuery = Annotated[dt.date | None, Query(description="统计截止日（YYYY-MM-DD），默认今天")]
ADMIN = error_responses(401, 403)  # ProgressAdmin: an admin login (and, for a write, the CSRF token)
EXCEL = content(media={XLSX: BINARY}, description="Excel 文件")


def _xlsx(content: bytes, filename: str, sha256: str | None = None) -> Response:
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(filename)}"}
    if sha256:
        headers["X-Content-SHA256"] = sha256
    return Response(content, media_type=XLSX, headers=headers)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@router.get("/periods", summary="可选年份（已下达任务的年份）与一表默认打开的年月（有任务、有完成数据的最近月份）",
            response_model=Periods)
def periods(session: SessionDep) -> dict:
    return service.periods(session)


@router.get("/monthly", summary="月度进度：各单位本月与年度累计完成、完成率排名、较上月变化、序时进度",
            response_model=MonthlyProgress)
def monthly(session: SessionDep, year: YearQuery, month: MonthQuery) -> dict:
    config, _ = scoring.get_config(session, year)
    return service.monthly_progress(session, year, month, schedule=config.schedule)


@router.get("/monthly.xlsx", summary="月度进度导出 Excel（实时预览，未印发）", response_class=Response, responses=EXCEL)
def monthly_xlsx(session: SessionDep, year: YearQuery, month: MonthQuery) -> Response:
    data = reports.build_report(session, year, month)
    data.update(issued_by="", issued_at="", issue=reports.preview_facts(session, year).to_dict())
    content = reports.to_xlsx(data, dt.datetime.now(TIMEZONE).replace(microsecond=0))
    return _xlsx(content, f"有机更新进度（预览）{year}年{month}月.xlsx")


@router.get("/indicators", summary="主要指标：6000 亩、400 万 m²、平均容积率 ≥ 2.0、认定区块数、亩均税收（各单位与全市）",
            response_model=Indicators)
def indicators(session: SessionDep, as_of: AsOfQuery = None) -> dict:
    return service.indicators(session, as_of)


@router.get("/parcels", summary="构成数字的宗地清单（按单位、年月、连片/零星筛选）", response_model=ParcelTrace,
            responses=error_responses(404))
def parcels(
    session: SessionDep,
    unit: Annotated[str | None, Query(description="单位代码或名称")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
    track: Annotated[Literal["contiguous", "scattered"] | None, Query(description="contiguous 连片 / scattered 零星")] = None,
    as_of: AsOfQuery = None,
) -> dict:
    rows = service.parcel_trace(session, as_of=as_of, unit=unit, year=year, month=month, track=track)
    total = sum((Decimal(str(r["land_area_mu"])) for r in rows), Decimal(0))
    return {"count": len(rows), "land_area_mu": service.q2(total), "parcels": rows}


class TargetIn(BaseModel):
    contiguous_mu: Decimal = Field(ge=0, le=100000, description="连片腾退或改造面积（亩）")
    scattered_mu: Decimal = Field(ge=0, le=100000, description="连片规划区域以外零星腾退或改造（亩）")


class CorrectionIn(BaseModel):
    parcel_code: str = Field(min_length=1, max_length=64, description="宗地编号")
    status: ParcelStatus = Field(description="更正后的状态")
    completed_on: dt.date | None = Field(default=None, description="更正后的完成日期（状态为已完成时）")
    note: str = Field(min_length=1, max_length=500, description="更正说明：为什么更正、依据什么")


@router.post("/corrections", status_code=201, response_model=CorrectionSaved,
             summary="更正某宗地过去的状态或完成日期（管理员）：自记录之日起计入，此前各期数字不变，下一期通报列出",
             responses=error_responses(400, 401, 403, 404))
def post_correction(session: SessionDep, user: ProgressAdmin, body: CorrectionIn) -> dict:
    return service.record_correction(session, body.parcel_code, status=body.status, completed_on=body.completed_on,
                                     note=body.note, by=user.username)


@router.get("/targets", summary="年度任务（2022 年为行动计划附件；其后由管理员下达）", response_model=Targets)
def list_targets(session: SessionDep, year: YearQuery) -> dict:
    found = service.targets(session, year)
    rows = [{"unit_code": u.code, "unit_name": u.name, "target": found[u.code].to_dict() if u.code in found else None,
             "etag": service.target_etag(found.get(u.code))}
            for u in service.units(session)]
    return {"year": year, "units": rows}


@router.put("/targets/{unit}/{year}", summary="下达或修改某单位的年度任务（管理员；带 If-Match 时防止覆盖他人的修改）",
            response_model=TargetSaved, responses=error_responses(401, 403, 404, 409))
def put_target(session: SessionDep, user: ProgressAdmin, unit: str, year: YearPath, body: TargetIn,
               response: Response,
               if_match: Annotated[str | None, Header(description="读取时的 ETag；不一致时 409")] = None) -> dict:
    found, target, created = service.set_target(session, unit, year, body.contiguous_mu, body.scattered_mu,
                                                if_match=if_match)
    etag = service.target_etag(target)
    response.headers["ETag"] = etag
    return {"unit_code": found.code, "unit_name": found.name, "year": year, "target": target.to_dict(),
            "created": created, "updated_by": user.username, "etag": etag}


@router.get("/scores", summary="差异化考核得分：连片、零星分别计分，连片规模化加权赋分，逐项分解", response_model=Scores)
def scores(session: SessionDep, year: YearQuery, as_of: AsOfQuery = None) -> dict:
    return scoring.scores(session, year, as_of)


@router.get("/config/{year}", summary="考核指标与权重（未设置时为默认值）", response_model=ConfigView)
def get_config(session: SessionDep, year: YearPath) -> dict:
    config, meta = scoring.get_config(session, year)
    return {**meta, "config": config.model_dump(mode="json"), "indicator_catalogue": scoring.INDICATORS}


@router.put("/config/{year}", summary="设置考核指标与权重（管理员）", response_model=ConfigSaved, responses=ADMIN)
def put_config(session: SessionDep, user: ProgressAdmin, year: YearPath,
               body: Annotated[dict[str, Any], Body(description="ScoringConfig：contiguous、scattered、scale_bonus、schedule")]) -> dict:
    return scoring.set_config(session, year, scoring.parse_config(body), user.username)


class ReportIn(BaseModel):
    year: int = Field(ge=2000, le=2100, description="年份")
    month: int = Field(ge=1, le=12, description="月份 1～12")
    # Checked by the service, which names each field in Chinese (期号, 印发单位, 印发日期, 签发人).
    issue_no: int | str | None = Field(None, description="期号（该年第几期）；不填为下一期")
    issuing_body: str | None = Field(None, description=f"印发单位；不填为{reports.DEFAULT_ISSUING_BODY}")
    issue_date: str | None = Field(None, description="印发日期 YYYY-MM-DD；不填为今天")
    signed_by: str | None = Field(None, description="签发人（必填）")


@router.get("/reports", summary="已印发的月度通报", response_model=ReportList)
def list_reports(session: SessionDep) -> dict:
    return {"reports": reports.listing(session)}


@router.post("/reports", status_code=201, summary="印发月度通报：计算、导出并存为不可更改的快照（管理员）",
             response_model=ReportSummary, responses=error_responses(401, 403, 409, 422))
def issue_report(session: SessionDep, user: ProgressAdmin, body: ReportIn) -> dict:
    report = reports.issue(session, body.year, body.month, user.username, issuer_name=user.user.display_name,
                           signed_by=body.signed_by, issue_no=body.issue_no, issuing_body=body.issuing_body,
                           issue_date=body.issue_date)
    return reports.summary(report)


@router.get("/reports/next", summary="印发表单的默认值：下一个期号、印发单位、今天，及该月能否印发", response_model=IssuePreview)
def next_report(session: SessionDep, year: YearQuery, month: MonthQuery) -> dict:
    return reports.issue_preview(session, year, month)


@router.get("/reports/{year}/{month}.xlsx", summary="月度通报 Excel（印发时生成的原文件）", response_class=Response,
            responses={**EXCEL, **error_responses(404)})
def report_xlsx(session: SessionDep, year: YearPath, month: MonthPath) -> Response:
    report = reports.get(session, year, month)
    return _xlsx(report.xlsx, f"有机更新进度通报{year}年{month}月.xlsx", report.xlsx_sha256)


@router.get("/reports/{year}/{month}", summary="月度通报快照（JSON）", response_model=ReportSnapshot,
            responses=error_responses(404))
def report_json(session: SessionDep, year: YearPath, month: MonthPath) -> dict:
    report = reports.get(session, year, month)
    return {**reports.summary(report), "data": report.data}


@pages.get("/progress")
def dashboard(settings: Annotated[Settings, Depends(get_settings)]) -> FileResponse:
    return FileResponse(settings.frontend_dir / "src" / "progress" / "index.html", media_type="text/html; charset=utf-8")


@pages.get("/progress/reports/{year}/{month}")
def report_page(session: SessionDep, year: YearPath, month: MonthPath) -> HTMLResponse:
    report = reports.get(session, year, month)
    return HTMLResponse(reports.to_html(report.data, issued=True, xlsx_url=f"/api/progress/reports/{year}/{month}.xlsx",
                                        facts=reports.facts_of(report)))


@pages.get("/progress/preview/{year}/{month}")
def preview_page(session: SessionDep, year: YearPath, month: MonthPath) -> HTMLResponse:
    data = reports.build_report(session, year, month)
    return HTMLResponse(reports.to_html(data, issued=False, xlsx_url=f"/api/progress/monthly.xlsx?year={year}&month={month}",
                                        facts=reports.preview_facts(session, year)))
