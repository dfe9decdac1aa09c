"""The 整治清退 list (清单制), the 十剑联动 joint-enforcement list and the 厂中厂 list as Excel workbooks (app.core.excel:
title and export time, A4 landscape, the header on every page)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.excel import Column, exported_line, new_workbook, table_sheet, to_bytes
from ..enums import Classification
from ..messages import message
from ..models import Enterprise, Parcel, Unit
from .enums import ReferralStatus
from .models import EnforcementReferral, EnterpriseGovernance, Tenant, YearlyFigures

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_LEAD = [Column("序号", "int", 6), Column("企业名称", width=30), Column("统一社会信用代码", width=21),
         Column("宗地编号", width=24), Column("镇（街道、开发区）", width=14), Column("用地面积（亩）", "mu")]


def _parcels_of(session: Session, enterprise_id: int) -> tuple[str, str, Decimal | None]:
    """The enterprise's parcel codes, their units and their land in 亩 (None without parcels)."""
    rows = session.execute(select(Parcel.code, Unit.name, Parcel.land_area_mu).join(Unit, Parcel.unit_id == Unit.id)
                           .where(Parcel.enterprise_id == enterprise_id).order_by(Parcel.code)).all()
    mu = sum((r[2] for r in rows if r[2] is not None), Decimal(0)) if rows else None
    return "、".join(r[0] for r in rows), "、".join(dict.fromkeys(r[1] for r in rows)), mu


def _book(name: str, title: str, columns: list[Column], rows: list[list]) -> bytes:
    wb = new_workbook()
    table_sheet(wb, name, columns, rows, title=title, date_line=exported_line())
    return to_bytes(wb)


def _grade(e: Enterprise) -> str:
    """The latest fixed class, e.g. 2023 年度 D 档; — when none."""
    return message("evaluation_grade_cell", year=e.evaluation_year, grade=e.evaluation_grade) \
        if e.evaluation_grade else "—"


def clearance_list(session: Session) -> tuple[bytes, int]:
    rows = []
    q = (select(EnterpriseGovernance, Enterprise).join(Enterprise)
         .where(EnterpriseGovernance.classification == Classification.CLEAR_OUT).order_by(Enterprise.credit_code))
    for k, (gov, e) in enumerate(session.execute(q), start=1):
        parcels, units, mu = _parcels_of(session, e.id)
        rows.append([k, e.name, e.credit_code or message("credit_code_pending"), parcels, units, mu, gov.reason, gov.decided_on,
                     gov.decided_by.display_name if gov.decided_by else None,
                     gov.clearance_status.label if gov.clearance_status else None, gov.clearance_deadline,
                     _grade(e)])
    columns = [*_LEAD, Column("整治清退理由", width=30), Column("分类日期", "date"), Column("决定人", width=10),
               Column("清退进度", width=10), Column("清退期限", "date"), Column("亩均效益综合评价", width=16)]
    return _book("整治清退清单", message("clearance_list_title"), columns, rows), len(rows)


def enforcement_list(session: Session) -> tuple[bytes, int]:
    rows = []
    q = (select(EnforcementReferral, Enterprise, EnterpriseGovernance).join(Enterprise, EnforcementReferral.enterprise)
         .outerjoin(EnterpriseGovernance, EnterpriseGovernance.enterprise_id == Enterprise.id)
         .order_by(EnforcementReferral.referred_on, EnforcementReferral.id))
    for k, (ref, e, gov) in enumerate(session.execute(q), start=1):
        parcels, units, mu = _parcels_of(session, e.id)
        rows.append([k, e.name, e.credit_code or message("credit_code_pending"), parcels, units, mu,
                     gov.reason if gov else None,
                     gov.decided_on if gov else None, ref.reason, ref.referred_on,
                     ref.referred_by.display_name if ref.referred_by else None,
                     ReferralStatus(ref.status).label, ref.closed_on, ref.outcome])
    columns = [*_LEAD, Column("整治清退理由", width=26), Column("列入清退日期", "date"), Column("移交理由", width=26),
               Column("移交日期", "date"), Column("移交人", width=10), Column("状态", width=10),
               Column("办结日期", "date"), Column("办理结果", width=26)]
    return _book("十剑联动清单", message("enforcement_list_title"), columns, rows), len(rows)


TENANT_COLUMNS = [
    Column("序号", "int", 6), Column("镇（街道、开发区）", width=14), Column("宗地编号", width=22),
    Column("所在区块", width=22), Column("承租企业", width=28), Column("统一社会信用代码", width=21),
    Column("租赁面积（平方米）", "money"), Column("经营内容", width=18), Column("租期起", "date"), Column("租期止", "date"),
    Column("最近年度", "int", 9), Column("年度税收（万元）", "money"), Column("年度产出（万元）", "money"),
    Column("检查与整改", width=46),
]


def tenants_list(tenants: list[Tenant], figures: dict[int, list[YearlyFigures]]) -> tuple[bytes, int]:
    """The 厂中厂 list: one row per tenant, its newest year's figures and every inspection with its status."""
    rows = []
    for n, t in enumerate(tenants, start=1):
        latest = (figures.get(t.id) or [None])[0]
        checks = "\n".join(message("tenant_sheet_inspection", day=i.inspected_on.isoformat(), inspector=i.inspector,
                                   findings=i.findings, status=i.rectification_status.label)
                           for i in t.inspections)
        rows.append([
            n, t.parcel.unit.name, t.parcel.code, t.parcel.block.name if t.parcel.block else None, t.lessee,
            t.credit_code, t.leased_area_m2, t.business, t.lease_start, t.lease_end,
            latest.year if latest else None, latest.tax_10k_yuan if latest else None,
            latest.output_10k_yuan if latest else None, checks or None,
        ])
    title = message("tenant_sheet_title")
    return _book(title, title, TENANT_COLUMNS, rows), len(rows)
