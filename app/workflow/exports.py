"""The 整治清退 list (清单制) and the 十剑联动 joint-enforcement list as Excel workbooks."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..enums import Classification
from ..messages import message
from ..models import Enterprise, Parcel, Unit
from .enums import ReferralStatus
from .models import EnforcementReferral, EnterpriseGovernance

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _parcels_of(session: Session, enterprise_id: int) -> tuple[str, str]:
    rows = session.execute(select(Parcel.code, Unit.name).join(Unit, Parcel.unit_id == Unit.id)
                           .where(Parcel.enterprise_id == enterprise_id).order_by(Parcel.code)).all()
    return "、".join(r[0] for r in rows), "、".join(dict.fromkeys(r[1] for r in rows))


def _book(title: str, header: list[str], rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for row in rows:
        ws.append(row)
    for k, width in enumerate([6, 36, 22, 30, 16] + [18] * (len(header) - 5), start=1):
        ws.column_dimensions[ws.cell(row=1, column=k).column_letter].width = width
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _grade(e: Enterprise) -> str:
    """The latest fixed class, e.g. 2023 年度 D 档; — when none."""
    return message("evaluation_grade_cell", year=e.evaluation_year, grade=e.evaluation_grade) \
        if e.evaluation_grade else "—"


def clearance_list(session: Session) -> tuple[bytes, int]:
    rows = []
    q = (select(EnterpriseGovernance, Enterprise).join(Enterprise)
         .where(EnterpriseGovernance.classification == Classification.CLEAR_OUT).order_by(Enterprise.credit_code))
    for k, (gov, e) in enumerate(session.execute(q), start=1):
        parcels, units = _parcels_of(session, e.id)
        rows.append([k, e.name, e.credit_code or message("credit_code_pending"), parcels, units, gov.reason, gov.decided_on,
                     gov.decided_by.display_name if gov.decided_by else None,
                     gov.clearance_status.label if gov.clearance_status else None, gov.clearance_deadline,
                     _grade(e)])
    header = ["序号", "企业名称", "统一社会信用代码", "宗地编号", "镇（街道、开发区）", "整治清退理由", "分类日期",
              "决定人", "清退进度", "清退期限", "亩均效益综合评价"]
    return _book("整治清退清单", header, rows), len(rows)


def enforcement_list(session: Session) -> tuple[bytes, int]:
    rows = []
    q = (select(EnforcementReferral, Enterprise, EnterpriseGovernance).join(Enterprise, EnforcementReferral.enterprise)
         .outerjoin(EnterpriseGovernance, EnterpriseGovernance.enterprise_id == Enterprise.id)
         .order_by(EnforcementReferral.referred_on, EnforcementReferral.id))
    for k, (ref, e, gov) in enumerate(session.execute(q), start=1):
        parcels, units = _parcels_of(session, e.id)
        rows.append([k, e.name, e.credit_code or message("credit_code_pending"), parcels, units, gov.reason if gov else None,
                     gov.decided_on if gov else None, ref.reason, ref.referred_on,
                     ref.referred_by.display_name if ref.referred_by else None,
                     "联动执法中" if ref.status == ReferralStatus.OPEN else "已办结", ref.closed_on, ref.outcome])
    header = ["序号", "企业名称", "统一社会信用代码", "宗地编号", "镇（街道、开发区）", "整治清退理由", "列入清退日期",
              "移交理由", "移交日期", "移交人", "状态", "办结日期", "办理结果"]
    return _book("十剑联动清单", header, rows), len(rows)
