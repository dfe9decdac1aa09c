"""转让与租赁 endpoints: the register (list, one, enter, change, delete), the sheet import and its template,
the Excel list, the flagged parcels as GeoJSON, and the two actions of a flag (移交十剑联动, 登记为厂中厂)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from ..auth.deps import CurrentUser, Principal
from ..auth.roles import Role
from ..core.concurrency import check_if_match, set_etag
from ..core.db import SessionDep
from ..core.forms import read_form
from ..core.read.geojson import feature_collection
from ..errors import error_responses
from ..messages import message
from ..serve.schemas import BINARY, XLSX, content
from . import exports, imports, layers
from . import service as svc
from .enums import MarketKind
from .models import MarketFlag, MarketRecord
from .schemas import ImportReport, RecordBody, RecordCreate, RecordList, RecordView, ReferBody, TenantBody

router = APIRouter(prefix="/api/market", tags=["转让与租赁 market"], responses=error_responses(401, 403))
FOUND = error_responses(404)
WRITE = error_responses(404, 409, 428)
EXCEL = content(media={XLSX: BINARY}, description="Excel 文件；X-Row-Count 响应头为行数")
GEOJSON = "application/geo+json"
MAX_SHEET_BYTES = 10 * 1024 * 1024
RecordId = Annotated[int, Path(ge=1, le=2_147_483_647, description="记录编号")]
FlagId = Annotated[int, Path(ge=1, le=2_147_483_647, description="预警编号")]


def _d(value) -> str | None:
    return None if value is None else value.isoformat()


def _n(value) -> float | None:
    return None if value is None else float(value)


def view(record: MarketRecord, principal: Principal, tenants: list) -> dict:
    writer = svc.may_write(principal, record.unit_id)
    flags = []
    for f in record.flags:
        status = svc.flag_status(f, tenants)
        flags.append({
            "id": f.id, "kind": f.kind.value, "kind_label": f.kind.label, "party": f.party, "name": f.name,
            "credit_code": f.credit_code, "parcel": f.parcel_code, "text": f.text, "status": status,
            "status_label": message(f"market_flag_status_{status}"), "referral_id": f.referral_id,
            # 十剑联动 takes any flagged enterprise the register knows (svc.refer); one without a credit code, not
            "can_refer": status == "open" and f.enterprise_id is not None
                         and (writer or principal.role == Role.REVIEWER),
            "can_register": status == "open" and writer and f.kind.value == "unregistered_tenant",
        })
    return {
        "id": record.id, "kind": record.kind.value, "kind_label": record.kind.label, "unit_code": record.unit.code,
        "unit_name": record.unit.name, "signed_on": record.signed_on.isoformat(),
        "lease_start": _d(record.lease_start), "lease_end": _d(record.lease_end),
        "from_party": {"name": record.from_name, "credit_code": record.from_credit_code,
                       "registered": record.from_enterprise_id is not None},
        "to_party": {"name": record.to_name, "credit_code": record.to_credit_code,
                     "registered": record.to_enterprise_id is not None},
        "from_label": svc.party_label(record.kind, "from"), "to_label": svc.party_label(record.kind, "to"),
        "parcels": [{"code": p.parcel_code, "block_code": p.block.code, "block_name": p.block.name}
                    for p in record.parcels],
        "area_m2": _n(record.area_m2), "area_basis": record.area_basis.value if record.area_basis else None,
        "area_basis_label": record.area_basis.label if record.area_basis else None,
        "price_10k_yuan": _n(record.price_10k_yuan), "rent_yuan_per_m2_year": _n(record.rent_yuan_per_m2_year),
        "industry_code": record.industry_code, "note": record.note, "flags": flags,
        "tenants": [{"id": t.id, "parcel": t.parcel.code, "lessee": t.lessee} for t in tenants],
        "created_at": record.created_at.isoformat() if record.created_at else None,
        "version": record.row_version, "can_edit": writer,
    }


def _one(session, principal: Principal, record: MarketRecord, response: Response | None = None) -> dict:
    session.refresh(record)
    out = view(record, principal, svc.tenants_of(session, [record.id]).get(record.id, []))
    if response is not None:
        set_etag(response, record.row_version)
    return out


@router.get("/records", summary="转让与租赁记录（镇街经办人只看本单位；可按类型、单位、区块、宗地、仅预警筛选）",
            response_model=RecordList, responses=FOUND)
def list_records(user: CurrentUser, session: SessionDep,
                 kind: Annotated[MarketKind | None, Query(description="类型")] = None,
                 unit: Annotated[str | None, Query(max_length=32, description="镇（街道、开发区）代码")] = None,
                 block: Annotated[str | None, Query(max_length=32, description="区块编号")] = None,
                 parcel: Annotated[str | None, Query(max_length=64, description="宗地编号")] = None,
                 flagged: Annotated[bool, Query(description="只列有预警的记录")] = False) -> dict:
    rows = svc.records(session, user, kind=kind, unit=unit, block=block, parcel=parcel, flagged=flagged)
    tenants = svc.tenants_of(session, [r.id for r in rows])
    data = [view(r, user, tenants.get(r.id, [])) for r in rows]
    return {"data": data, "count": len(data), "flagged": sum(1 for r in data if r["flags"])}


@router.get("/records/{record_id}", summary="一条转让与租赁记录（ETag）", response_model=RecordView, responses=FOUND)
def get_record(record_id: RecordId, user: CurrentUser, session: SessionDep, response: Response) -> dict:
    record = svc.get_record(session, record_id)
    svc.require_read(session, user, record)
    return _one(session, user, record, response)


@router.post("/records", status_code=201, summary="登记转让或出租（本单位经办人、管理员）：预警按签订日期自动判定",
             response_model=RecordView, responses=error_responses(422))
def create_record(body: RecordCreate, user: CurrentUser, session: SessionDep, response: Response) -> dict:
    record = svc.create(session, user, svc.Draft(**body.model_dump()))
    return _one(session, user, record, response)


@router.patch("/records/{record_id}", summary="修改转让与租赁记录（需 If-Match）：预警重新判定，已移交的保留",
              response_model=RecordView, responses={**WRITE, **error_responses(422)})
def update_record(record_id: RecordId, body: RecordBody, request: Request, user: CurrentUser, session: SessionDep,
                  response: Response) -> dict:
    record = svc.get_record(session, record_id)
    svc.require_read(session, user, record)
    svc.require_writer(user)
    check_if_match(session, request, record, message("read_market"))
    svc.update(session, user, record, body.model_dump(exclude_unset=True))
    return _one(session, user, record, response)


@router.delete("/records/{record_id}", status_code=204, summary="删除转让与租赁记录（需 If-Match；已移交的不能删除）",
               responses=WRITE)
def delete_record(record_id: RecordId, request: Request, user: CurrentUser, session: SessionDep) -> Response:
    record = svc.get_record(session, record_id)
    svc.require_read(session, user, record)
    svc.require_writer(user)
    check_if_match(session, request, record, message("read_market"))
    svc.delete(session, user, record)
    return Response(status_code=204)


def _flag(session, user: Principal, flag_id: int) -> MarketFlag:
    flag = svc.get_flag(session, flag_id)
    svc.require_read(session, user, flag.record)
    return flag


@router.post("/flags/{flag_id}/refer", summary="一键移交十剑联动：为预警所涉企业建立联动执法记录（理由取自预警）",
             response_model=RecordView, responses=error_responses(404, 409))
def refer_flag(flag_id: FlagId, body: ReferBody, user: CurrentUser, session: SessionDep, response: Response) -> dict:
    flag = _flag(session, user, flag_id)
    svc.refer(session, user, flag, body.referred_on, body.note)
    return _one(session, user, flag.record, response)


@router.post("/records/{record_id}/tenant", status_code=201,
             summary="登记为厂中厂：由租赁记录建立厂中厂租户，或关联已登记的租户（本单位经办人、管理员）",
             response_model=RecordView, responses=error_responses(404, 409))
def register_tenant(record_id: RecordId, body: TenantBody, user: CurrentUser, session: SessionDep,
                    response: Response) -> dict:
    record = svc.get_record(session, record_id)
    svc.require_read(session, user, record)
    svc.register_tenant(session, user, record, parcel_code=body.parcel, tenant_id=body.tenant_id,
                        business=body.business)
    return _one(session, user, record, response)


@router.get("/flags", summary="有预警的宗地（GeoJSON，地图“转让租赁预警”图层；镇街经办人只看本单位）",
            response_class=Response, responses=content(media={GEOJSON: {"type": "object"}}, description="GeoJSON"))
def flags(user: CurrentUser, session: SessionDep) -> Response:
    own = svc.readable_unit(session, user)
    page = layers.flagged_page(session, own)
    head = {"numberMatched": page.number_returned, "numberReturned": page.number_returned}
    return Response(feature_collection(head, page.features_json), media_type=GEOJSON)


@router.get("/export.xlsx", summary="转让与租赁登记表（Excel，按同样的筛选）", response_class=Response, responses=EXCEL)
def export(user: CurrentUser, session: SessionDep,
           kind: Annotated[MarketKind | None, Query(description="类型")] = None,
           unit: Annotated[str | None, Query(max_length=32, description="镇（街道、开发区）代码")] = None,
           block: Annotated[str | None, Query(max_length=32, description="区块编号")] = None,
           flagged: Annotated[bool, Query(description="只列有预警的记录")] = False) -> Response:
    rows = svc.records(session, user, kind=kind, unit=unit, block=block, flagged=flagged)
    data, n = exports.workbook(rows, svc.tenants_of(session, [r.id for r in rows]))
    return Response(data, media_type=exports.XLSX, headers={
        "Content-Disposition": "attachment; filename*=UTF-8''%E8%BD%AC%E8%AE%A9%E4%B8%8E%E7%A7%9F%E8%B5%81.xlsx",
        "X-Row-Count": str(n)})


@router.get("/template.xlsx", summary="转让与租赁导入模板（Excel）", response_class=Response, responses=EXCEL)
def template(_user: CurrentUser) -> Response:
    return Response(imports.template(), media_type=exports.XLSX, headers={
        "Content-Disposition": "attachment; filename*=UTF-8''%E8%BD%AC%E8%AE%A9%E4%B8%8E%E7%A7%9F%E8%B5%81"
                               "%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx", "X-Row-Count": "2"})


@router.post("/imports", summary="从表格导入（multipart 字段 file：.xlsx、.xls 或 UTF-8/GBK 的 .csv；dry_run=true 只检查"
                                 "并预览预警，不写入；否则全部写入，或一行有问题就全部不写入）",
             response_model=ImportReport, responses=error_responses(413, 415, 422))
async def import_sheet(request: Request, user: CurrentUser, session: SessionDep,
                       dry_run: Annotated[bool, Query(description="只检查，不写入")] = True) -> dict:
    svc.require_writer(user)
    form = await read_form(request, max_file=MAX_SHEET_BYTES, max_total=MAX_SHEET_BYTES, max_files=1)
    return imports.import_sheet(session, user, form, dry_run=dry_run)
