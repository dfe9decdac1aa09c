"""Enterprises, 亩均 evaluation and grading, the two lists, 厂中厂, 投资履约, and the audit log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from ...auth.deps import CurrentUser, require_role
from ...auth.errors import NotAllowed
from ...auth.roles import Role
from ...core import audit
from ...core.db import SessionDep
from ...enums import Classification
from ...errors import NotFound, error_responses
from ...messages import message
from ...models import Enterprise, Parcel, RenewalBlock, Unit
from ...serve.schemas import BINARY, XLSX, content
from ...settings import Settings, get_settings
from .. import exports
from .. import governance as svc
from ...core.concurrency import check_if_match, set_etag
from ..enums import ClearanceStatus, RectificationStatus
from ...core.models import AuditEntry
from ..models import (
    ClassificationDecision,
    CreditRecord,
    EnforcementReferral,
    GradingRule,
    Tenant,
    TenantInspection,
)
from ..schemas import (
    AuditLog,
    CreditList,
    CreditView,
    EnterpriseFigures,
    EnterpriseView,
    Evaluation,
    GradingRules,
    GradingSaved,
    InspectionSaved,
    ReferralClosed,
    ReferralCreated,
    TenantFigures,
    TenantList,
    TenantView,
)

# Every endpoint needs a login (401), and a write the CSRF token and the right role or unit (403).
router = APIRouter(prefix="/api", tags=["企业与治理 governance"], responses=error_responses(401, 403))
FOUND = error_responses(404)  # the path names a thing that may not exist
# … and the write checks If-Match (409 stale, 428 missing or malformed) or the row's state (409).
WRITE = error_responses(404, 409, 428)
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class ClassifyBody(BaseModel):
    classification: Classification
    reason: str = Field(min_length=1, max_length=2000)
    decided_on: dt.date


class ClearanceBody(BaseModel):
    status: ClearanceStatus
    deadline: dt.date | None = None


class FiguresBody(BaseModel):
    tax_10k_yuan: Money
    output_10k_yuan: Money


class GradingBody(BaseModel):
    min_tax_per_mu_10k: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=2)
    min_output_per_mu_10k: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=2)
    suggested_classification: Classification


class ReferralBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    referred_on: dt.date


class ReferralClose(BaseModel):
    outcome: str = Field(min_length=1, max_length=2000)
    closed_on: dt.date


class TenantBody(BaseModel):
    lessee: str | None = Field(None, min_length=1, max_length=128, description="承租企业")
    credit_code: str | None = Field(None, max_length=18)
    leased_area_m2: Decimal | None = Field(None, gt=0, max_digits=12, decimal_places=2)
    business: str | None = Field(None, max_length=128, description="经营内容")
    lease_start: dt.date | None = None
    lease_end: dt.date | None = None


class TenantCreate(TenantBody):
    parcel: str = Field(description="宗地编号")
    lessee: str = Field(min_length=1, max_length=128)
    leased_area_m2: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    lease_start: dt.date


class InspectionBody(BaseModel):
    inspected_on: dt.date | None = None
    inspector: str | None = Field(None, min_length=1, max_length=64)
    findings: str | None = Field(None, min_length=1, max_length=4000)
    rectification_status: RectificationStatus | None = None
    rectify_by: dt.date | None = None
    rectified_on: dt.date | None = None


class InspectionCreate(InspectionBody):
    inspected_on: dt.date
    inspector: str = Field(min_length=1, max_length=64)
    findings: str = Field(min_length=1, max_length=4000)
    rectification_status: RectificationStatus = RectificationStatus.PENDING


class CreditBody(BaseModel):
    actual_investment_10k: Money | None = None
    actual_output_10k: Money | None = None
    actual_tax_10k: Money | None = None
    note: str | None = Field(None, max_length=2000)


class CreditCreate(CreditBody):
    project_name: str = Field(min_length=1, max_length=128)
    enterprise: str = Field(description="统一社会信用代码")
    year: int = Field(ge=2000, le=2100)
    promised_investment_10k: Money
    promised_output_10k: Money
    promised_tax_10k: Money


def _d(value) -> str | None:
    return None if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))


# --- enterprises ----------------------------------------------------------------


def _enterprise_view(session, e: Enterprise) -> dict:
    gov = svc.governance(session, e)
    history = session.scalars(select(ClassificationDecision).where(ClassificationDecision.enterprise_id == e.id)
                              .order_by(ClassificationDecision.id)).all()
    return {
        "credit_code": e.credit_code, "name": e.name,
        "classification": gov.classification.value if gov and gov.classification else None,
        "classification_label": gov.classification.label if gov and gov.classification else None,
        "reason": gov.reason if gov else None, "decided_on": _d(gov.decided_on) if gov else None,
        "decided_by": gov.decided_by.username if gov and gov.decided_by else None,
        "clearance_status": gov.clearance_status.value if gov and gov.clearance_status else None,
        "clearance_deadline": _d(gov.clearance_deadline) if gov else None,
        "version": gov.row_version if gov else 0,
        "history": [{"classification": h.classification.value, "reason": h.reason, "decided_on": _d(h.decided_on),
                     "decided_by": h.decided_by.username if h.decided_by else None,
                     "suggested_grade": h.suggested_grade} for h in history],
        **_register_fields(session, e),
    }


def _register_fields(session, e: Enterprise) -> dict:
    """The register's fields of an enterprise (一库), its parcels and their 亩, the latest fixed class."""
    parcels = session.execute(
        select(Parcel.code, Parcel.land_area_mu, RenewalBlock.code.label("block_code"), Unit.name.label("unit_name"))
        .outerjoin(RenewalBlock, RenewalBlock.id == Parcel.block_id).outerjoin(Unit, Unit.id == Parcel.unit_id)
        .where(Parcel.enterprise_id == e.id).order_by(Parcel.code)).all()
    land = sum((p.land_area_mu for p in parcels), Decimal(0))
    return {
        "industry_code": e.industry_code, "industry_name": e.industry_name,
        "scale": e.scale.value if e.scale else None, "scale_label": e.scale.label if e.scale else None,
        "production_year": e.production_year, "address": e.address,
        "unit_code": e.unit.code if e.unit else None, "unit_name": e.unit.name if e.unit else None,
        "credit_code_pending": e.credit_code_pending,
        "parcels": [{"code": p.code, "land_area_mu": float(p.land_area_mu), "block_code": p.block_code,
                     "unit_name": p.unit_name} for p in parcels],
        "land_mu": round(float(land), 2) if parcels else None,
        "evaluation_grade": e.evaluation_grade, "evaluation_year": e.evaluation_year,
    }


@router.get("/enterprises/{credit_code}", summary="企业：当前分类、分类历史、清退进度（ETag）",
            response_model=EnterpriseView, responses=FOUND)
def enterprise(credit_code: str, _user: CurrentUser, session: SessionDep, response: Response) -> dict:
    view = _enterprise_view(session, svc.enterprise_by_code(session, credit_code))
    set_etag(response, view["version"])
    return view


@router.put("/enterprises/{credit_code}/classification", summary="企业分类（理由、日期、决定人）；已有分类时需 If-Match",
            response_model=EnterpriseView, responses=WRITE)
def classify(credit_code: str, body: ClassifyBody, request: Request, user: CurrentUser, session: SessionDep,
             response: Response) -> dict:
    e = svc.enterprise_by_code(session, credit_code)
    svc.require_for_enterprise(session, user, e)
    gov = svc.governance(session, e)
    check_if_match(session, request, gov, "企业分类", required=gov is not None, subject=f"enterprise:{e.credit_code}")
    svc.classify(session, user, e, body.classification, body.reason, body.decided_on)
    return enterprise(credit_code, user, session, response)


@router.put("/enterprises/{credit_code}/clearance", summary="整治清退进度（需 If-Match）", response_model=EnterpriseView,
            responses=WRITE)
def clearance(credit_code: str, body: ClearanceBody, request: Request, user: CurrentUser, session: SessionDep,
              response: Response) -> dict:
    e = svc.enterprise_by_code(session, credit_code)
    svc.require_for_enterprise(session, user, e)
    gov = svc.governance(session, e)
    if gov is None:
        raise NotFound(message("enterprise_not_classified", name=e.name))
    check_if_match(session, request, gov, "清退进度")
    svc.set_clearance(session, gov, body.status, body.deadline)
    return enterprise(credit_code, user, session, response)


@router.put("/enterprises/{credit_code}/figures/{year}", summary="企业年度税收、产出（万元）：GIS 数据员、管理员",
            dependencies=[Depends(require_role(Role.GIS_STAFF, Role.ADMIN))], response_model=EnterpriseFigures,
            responses=FOUND)
def enterprise_figures(credit_code: str, year: Annotated[int, Field(ge=2000, le=2100)], body: FiguresBody,
                       session: SessionDep) -> dict:
    e = svc.enterprise_by_code(session, credit_code)
    row = svc.put_figures(session, year=year, tax=body.tax_10k_yuan, output=body.output_10k_yuan, enterprise=e)
    return {"credit_code": e.credit_code, "year": row.year, "tax_10k_yuan": float(row.tax_10k_yuan),
            "output_10k_yuan": float(row.output_10k_yuan), **(svc.evaluation_row(session, e, year) or {})}


@router.get("/evaluation", summary="亩均评价：亩均税收、亩均产出、A/B/C/D 分级与建议分类；厂中厂单列",
            response_model=Evaluation, responses=FOUND)
def evaluation(_user: CurrentUser, session: SessionDep, year: Annotated[int, Query(ge=2000, le=2100)],
               unit: Annotated[str | None, Query(description="单位代码")] = None) -> dict:
    unit_row = None
    if unit:
        unit_row = session.scalar(select(Unit).where(Unit.code == unit))
        if unit_row is None:
            raise NotFound(message("unknown_unit", code=unit))
    return svc.evaluate(session, year, unit_row)


@router.get("/grading", summary="亩均分级阈值（万元/亩）", response_model=GradingRules)
def grading(_user: CurrentUser, session: SessionDep) -> dict:
    rows = session.scalars(select(GradingRule).order_by(GradingRule.grade)).all()
    return {"data": [{"grade": r.grade, "min_tax_per_mu_10k": _d(r.min_tax_per_mu_10k),
                      "min_output_per_mu_10k": _d(r.min_output_per_mu_10k),
                      "suggested_classification": r.suggested_classification.value, "version": r.row_version}
                     for r in rows]}


@router.put("/grading/{grade}", summary="修改分级阈值（管理员，需 If-Match）",
            dependencies=[Depends(require_role(Role.ADMIN))], response_model=GradingSaved, responses=WRITE)
def set_grading(grade: str, body: GradingBody, request: Request, session: SessionDep, response: Response) -> dict:
    rule = session.get(GradingRule, grade.upper())
    if rule is None:
        raise NotFound(message("grade_not_found", grade=grade))
    check_if_match(session, request, rule, "分级阈值")
    svc.set_threshold(session, rule, min_tax=body.min_tax_per_mu_10k, min_output=body.min_output_per_mu_10k,
                      suggested=body.suggested_classification)
    set_etag(response, rule.row_version)
    return {"grade": rule.grade, "version": rule.row_version}


@router.post("/enterprises/{credit_code}/referrals", status_code=201, summary="列入十剑联动（仅整治清退企业）",
             response_model=ReferralCreated, responses=error_responses(404, 409))
def refer(credit_code: str, body: ReferralBody, user: CurrentUser, session: SessionDep) -> dict:
    e = svc.enterprise_by_code(session, credit_code)
    svc.require_for_enterprise(session, user, e)
    ref = svc.refer(session, user, e, body.reason, body.referred_on)
    return {"id": ref.id, "credit_code": e.credit_code, "status": ref.status.value, "version": ref.row_version}


@router.post("/referrals/{referral_id}/close", summary="十剑联动办结（评审人员、管理员）",
             dependencies=[Depends(require_role(Role.REVIEWER, Role.ADMIN))], response_model=ReferralClosed,
             responses=error_responses(404, 409))
def close_referral(referral_id: int, body: ReferralClose, session: SessionDep) -> dict:
    ref = session.get(EnforcementReferral, referral_id)
    if ref is None:
        raise NotFound(message("referral_not_found"))
    svc.close_referral(session, ref, body.outcome, body.closed_on)
    return {"id": ref.id, "status": ref.status.value}


def _xlsx(data: bytes, name: str, count: int) -> Response:
    return Response(data, media_type=exports.XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{name}", "X-Row-Count": str(count)})


EXCEL = content(media={XLSX: BINARY}, description="Excel 文件；X-Row-Count 响应头为行数")


@router.get("/exports/clearance.xlsx", summary="整治清退清单（Excel）", response_class=Response, responses=EXCEL)
def export_clearance(_user: CurrentUser, session: SessionDep) -> Response:
    data, n = exports.clearance_list(session)
    return _xlsx(data, "%E6%95%B4%E6%B2%BB%E6%B8%85%E9%80%80%E6%B8%85%E5%8D%95.xlsx", n)


@router.get("/exports/enforcement.xlsx", summary="十剑联动清单（Excel）", response_class=Response, responses=EXCEL)
def export_enforcement(_user: CurrentUser, session: SessionDep) -> Response:
    data, n = exports.enforcement_list(session)
    return _xlsx(data, "%E5%8D%81%E5%89%91%E8%81%94%E5%8A%A8%E6%B8%85%E5%8D%95.xlsx", n)


# --- 厂中厂 ----------------------------------------------------------------------


def _tenant_view(t: Tenant, user, figures: list | None = None) -> dict:
    """A tenant as the 厂中厂 list shows it: where, the lease, its yearly figures and inspections, and
    what this caller may change (the unit's officer or an admin; figures also GIS staff)."""
    parcel = t.parcel
    writer = svc.may_write_unit(user, parcel.unit_id)
    return {"id": t.id, "parcel": parcel.code, "unit": parcel.unit.code, "unit_name": parcel.unit.name,
            "block_name": parcel.block.name if parcel.block is not None else None,
            "lessee": t.lessee, "credit_code": t.credit_code,
            "leased_area_m2": float(t.leased_area_m2), "business": t.business, "lease_start": _d(t.lease_start),
            "lease_end": _d(t.lease_end), "lease_id": t.lease_id, "version": t.row_version,
            "figures": [{"year": f.year, "tax_10k_yuan": float(f.tax_10k_yuan),
                         "output_10k_yuan": float(f.output_10k_yuan)} for f in figures or []],
            "can_edit": writer, "can_enter_figures": writer or user.role == Role.GIS_STAFF,
            "inspections": [{"id": i.id, "inspected_on": _d(i.inspected_on), "inspector": i.inspector,
                             "findings": i.findings, "rectification_status": i.rectification_status.value,
                             "rectification_label": i.rectification_status.label,
                             "rectify_by": _d(i.rectify_by), "rectified_on": _d(i.rectified_on),
                             "version": i.row_version} for i in t.inspections]}


def _tenant(session, tenant_id: int) -> Tenant:
    t = session.get(Tenant, tenant_id)
    if t is None:
        raise NotFound(message("tenant_not_found"))
    return t


def _listed_tenants(user: CurrentUser, session: SessionDep,
                    parcel: Annotated[str | None, Query(max_length=64, description="宗地编号")] = None,
                    unit: Annotated[str | None, Query(max_length=32, description="镇（街道、开发区）代码")] = None,
                    block: Annotated[str | None, Query(max_length=32, description="区块编号（其现有宗地）")] = None
                    ) -> tuple[list[Tenant], dict]:
    """The tenants the list and its Excel file show, by the same filters and the same reading rights."""
    own = svc.readable_unit(session, user, svc.TENANT_READERS, message("read_tenants"), unit)
    return svc.tenants_for(session, own, parcel=svc.parcel_by_code(session, parcel) if parcel else None,
                           unit=unit, block=block)


ListedTenants = Annotated[tuple[list[Tenant], dict], Depends(_listed_tenants)]


@router.get("/tenants", summary="厂中厂租户（按宗地或单位），含年度税收产出与检查整改", response_model=TenantList,
            responses=FOUND)
def tenants(user: CurrentUser, listed: ListedTenants) -> dict:
    rows, figures = listed
    return {"data": [_tenant_view(t, user, figures[t.id]) for t in rows], "count": len(rows)}


@router.get("/tenants/export.xlsx", summary="厂中厂清单（Excel，按同样的筛选）", response_class=Response, responses=EXCEL)
def export_tenants(listed: ListedTenants) -> Response:
    data, n = exports.tenants_list(*listed)
    return _xlsx(data, "%E5%8E%82%E4%B8%AD%E5%8E%82%E6%B8%85%E5%8D%95.xlsx", n)


@router.post("/tenants", status_code=201, summary="登记厂中厂租户（所在单位经办人、管理员）", response_model=TenantView,
             responses=FOUND)
def create_tenant(body: TenantCreate, user: CurrentUser, session: SessionDep, response: Response) -> dict:
    parcel = svc.parcel_by_code(session, body.parcel)
    svc.require_unit_of(user, parcel.unit_id, "该宗地的厂中厂登记")
    values = body.model_dump(exclude={"parcel"})
    t = svc.save_tenant(session, Tenant(parcel=parcel, created_by_id=user.id), values)
    set_etag(response, t.row_version)
    return _tenant_view(t, user)


@router.patch("/tenants/{tenant_id}", summary="修改厂中厂租户（需 If-Match）", response_model=TenantView, responses=WRITE)
def update_tenant(tenant_id: int, body: TenantBody, request: Request, user: CurrentUser, session: SessionDep,
                  response: Response) -> dict:
    t = _tenant(session, tenant_id)
    svc.require_unit_of(user, t.parcel.unit_id, "该厂中厂租户")
    check_if_match(session, request, t, "厂中厂租户")
    svc.save_tenant(session, t, body.model_dump(exclude_unset=True))
    set_etag(response, t.row_version)
    return _tenant_view(t, user, svc.figures_of_tenants(session, [t.id])[t.id])


@router.put("/tenants/{tenant_id}/figures/{year}", summary="租户年度税收、产出（万元）", response_model=TenantFigures,
            responses=FOUND)
def tenant_figures(tenant_id: int, year: Annotated[int, Field(ge=2000, le=2100)], body: FiguresBody,
                   user: CurrentUser, session: SessionDep) -> dict:
    t = _tenant(session, tenant_id)
    if user.role != Role.GIS_STAFF:
        svc.require_unit_of(user, t.parcel.unit_id, "该租户的年度数据")
    row = svc.put_figures(session, year=year, tax=body.tax_10k_yuan, output=body.output_10k_yuan, tenant=t)
    return {"tenant": t.id, "year": row.year, "tax_10k_yuan": float(row.tax_10k_yuan),
            "output_10k_yuan": float(row.output_10k_yuan)}


@router.post("/tenants/{tenant_id}/inspections", status_code=201, summary="登记检查发现与整改要求",
             response_model=InspectionSaved, responses=FOUND)
def create_inspection(tenant_id: int, body: InspectionCreate, user: CurrentUser, session: SessionDep) -> dict:
    t = _tenant(session, tenant_id)
    svc.require_unit_of(user, t.parcel.unit_id, "该租户的检查记录")
    i = svc.save_inspection(session, TenantInspection(tenant=t), body.model_dump())
    return {"id": i.id, "version": i.row_version, "rectification_status": i.rectification_status.value}


@router.patch("/inspections/{inspection_id}", summary="更新整改状态（需 If-Match）", response_model=InspectionSaved,
              responses=WRITE)
def update_inspection(inspection_id: int, body: InspectionBody, request: Request, user: CurrentUser,
                      session: SessionDep, response: Response) -> dict:
    i = session.get(TenantInspection, inspection_id)
    if i is None:
        raise NotFound(message("inspection_not_found"))
    svc.require_unit_of(user, i.tenant.parcel.unit_id, "该检查记录")
    check_if_match(session, request, i, "检查记录")
    svc.save_inspection(session, i, body.model_dump(exclude_unset=True))
    set_etag(response, i.row_version)
    return {"id": i.id, "version": i.row_version, "rectification_status": i.rectification_status.value}


# --- 投资履约 --------------------------------------------------------------------


def _credit_view(r: CreditRecord, ratio: float) -> dict:
    return {"id": r.id, "project_name": r.project_name, "enterprise": r.enterprise.name,
            "credit_code": r.enterprise.credit_code, "unit": r.unit.code, "year": r.year,
            **{k: _d(getattr(r, k)) for k in ("promised_investment_10k", "actual_investment_10k", "promised_output_10k",
                                                "actual_output_10k", "promised_tax_10k", "actual_tax_10k")},
            "note": r.note, "version": r.row_version, **svc.credit_status(r, ratio)}


@router.get("/credit-records", summary="投资履约记录；defaulters=true 只列失信（未达承诺）项目", response_model=CreditList)
def credit_records(user: CurrentUser, session: SessionDep, settings: Annotated[Settings, Depends(get_settings)],
                   year: Annotated[int | None, Query(ge=2000, le=2100)] = None, defaulters: bool = False) -> dict:
    own = svc.readable_unit(session, user, svc.CREDIT_READERS, message("read_credit_records"))
    q = select(CreditRecord).order_by(CreditRecord.year, CreditRecord.project_name)
    if year:
        q = q.where(CreditRecord.year == year)
    if own is not None:
        q = q.where(CreditRecord.unit_id == own)
    rows = [_credit_view(r, settings.credit_default_ratio) for r in session.scalars(q)]
    if defaulters:
        rows = [r for r in rows if r["is_defaulter"]]
    return {"data": rows, "count": len(rows), "default_ratio": settings.credit_default_ratio}


@router.post("/credit-records", status_code=201, summary="登记项目投资履约（所在单位经办人、管理员）",
             response_model=CreditView, responses=FOUND)
def create_credit(body: CreditCreate, user: CurrentUser, session: SessionDep,
                  settings: Annotated[Settings, Depends(get_settings)]) -> dict:
    e = svc.enterprise_by_code(session, body.enterprise)
    units = svc.enterprise_units(session, e)
    unit_id = user.unit_id if user.role == Role.UNIT_OFFICER else (min(units) if units else None)
    if unit_id is None:
        raise NotFound(message("enterprise_without_parcels", name=e.name))
    if user.role == Role.UNIT_OFFICER and unit_id not in units:
        raise NotAllowed(message("enterprise_other_unit", name=e.name))
    svc.require_unit_of(user, unit_id, "该项目的投资履约登记")
    r = svc.save_credit(session, CreditRecord(enterprise=e, unit_id=unit_id, created_by_id=user.id),
                        body.model_dump(exclude={"enterprise"}))
    session.refresh(r)
    return _credit_view(r, settings.credit_default_ratio)


@router.patch("/credit-records/{record_id}", summary="填报实际投资、产出、税收（需 If-Match）", response_model=CreditView,
              responses=WRITE)
def update_credit(record_id: int, body: CreditBody, request: Request, user: CurrentUser, session: SessionDep,
                  settings: Annotated[Settings, Depends(get_settings)], response: Response) -> dict:
    r = session.get(CreditRecord, record_id)
    if r is None:
        raise NotFound(message("credit_record_not_found"))
    svc.require_unit_of(user, r.unit_id, "该项目的投资履约记录")
    check_if_match(session, request, r, "投资履约记录")
    svc.save_credit(session, r, body.model_dump(exclude_unset=True))
    set_etag(response, r.row_version)
    return _credit_view(r, settings.credit_default_ratio)


# --- audit -------------------------------------------------------------------------


@router.get("/audit", summary="审计日志：按对象或按用户查询（评审人员、管理员）",
            dependencies=[Depends(require_role(Role.REVIEWER, Role.ADMIN))], response_model=AuditLog)
def audit_log(session: SessionDep,
              subject: Annotated[str | None, Query(description="对象，如 plan:TX2022-CF-01、enterprise:<信用代码>")] = None,
              object_type: Annotated[str | None, Query(description="表名，如 block_versions")] = None,
              object_id: str | None = None,
              user: Annotated[str | None, Query(description="用户名")] = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Annotated[int, Query(ge=0)] = 0) -> dict:
    q = select(AuditEntry)
    if subject:
        q = q.where(AuditEntry.subject == subject)
    if object_type:
        q = q.where(AuditEntry.object_type == object_type)
    if object_id:
        q = q.where(AuditEntry.object_id == object_id)
    if user:
        q = q.where(AuditEntry.username == user)
    rows = session.scalars(q.order_by(AuditEntry.id).offset(offset).limit(limit)).all()
    return {"data": [{"id": a.id, "at": a.at.isoformat(), "user": a.username, "action": a.action,
                      "object_type": a.object_type, "object_id": a.object_id, "object_version": a.object_version,
                      "subject": a.subject, "subject_version": a.subject_version, "before": audit.masked(a.before),
                      "after": audit.masked(a.after)}
                     for a in rows], "count": len(rows)}
