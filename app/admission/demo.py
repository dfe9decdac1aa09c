"""The demo's 项目准入 applications (``cloudmap db seed``), so the page and the block panel show what the
feature does: one project admitted into 崇福东兴羽绒区块 in 2023 (its 投资履约 record shows a default in 2023),
one awaiting review in 梧桐百桃工业区块 whose industry is outside the block's 产业导向 (the reviewer sees the
flag), and one returned there because its FAR is below the 行动计划's floor.

Run after the approved blocks are adopted as plans (their versions in force) and after the register,
the 亩均 classes and the 转让与租赁 demo; idempotent: nothing is added when an application exists.

The demo accounts do not exist yet at seed time, so nobody is named as author or reviewer (the views say
演示数据). Each row is checked with the service's own code (``service._checked``, ``service._write``,
``service.checks``), so the stored report is what the live check says, and the admitted one's 投资履约
record is made by approval's own effect (``service.credit_record``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core import review
from ..enums import ReviewStatus
from ..workflow.models import CreditRecord
from . import service
from .models import ProjectAdmission

CST = dt.timezone(dt.timedelta(hours=8))


def _at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), CST)


def _input(**values) -> service.AdmissionInput:
    for key in ("investment_10k", "output_10k", "tax_10k", "floor_area_m2", "far"):
        values[key] = Decimal(values[key])
    for key in ("start_on", "complete_on"):
        values[key] = dt.date.fromisoformat(values[key])
    return service.AdmissionInput(**values)


# 崇福镇: an A-class textile enterprise of the block renews its own parcel (C1713 within 纺织 C17).
ADMITTED = _input(
    block="TX2022-CF-01", parcels=["330483-CF-0014"], enterprise="91330483198050716H",
    project_name="汇航纺织高档功能面料智能化改造项目", industry_code="C1713", investment_10k="9600",
    output_10k="4800", tax_10k="480", floor_area_m2="19200", far="2.4", start_on="2023-03-01",
    complete_on="2023-12-31", note="拆除老旧厂房，新建四层标准厂房，引进智能织造生产线")
ADMITTED_SUBMITTED, ADMITTED_APPROVED = "2023-02-10", "2023-02-24"
ADMITTED_DOC_NO = "桐有更准〔2023〕2号"
ADMITTED_COMMENT = "符合区块产业导向，容积率与亩均效益达到要求，同意准入"
# 2023 actuals of the admitted project: investment on track, output and tax below 80 % of the promise
ADMITTED_ACTUALS = {"actual_investment_10k": Decimal("8900"), "actual_output_10k": Decimal("3100"),
                    "actual_tax_10k": Decimal("290")}

# 梧桐街道: a 化纤 project (C2822) in a block whose 产业导向 is 电气、电子、装备 (C38, C39, C34, C35).
SUBMITTED = _input(
    block="TX2022-WT-01", parcels=["330483-WT-0006"], enterprise="9133048396978738FL",
    project_name="隆拓新材料年产 3 万吨功能性涤纶长丝项目", industry_code="C2822", investment_10k="15000",
    output_10k="9000", tax_10k="650", floor_area_m2="30600", far="2.2", start_on="2024-04-01",
    complete_on="2025-12-31", note="企业自有用地改扩建，新增差别化纤维生产线")
SUBMITTED_ON = "2023-12-18"

# 梧桐街道: within the guidance (家用电器 C3859 in 电气 C38), but a FAR of 1.6 under the plan's floor of 2.0: returned.
RETURNED = _input(
    block="TX2022-WT-01", parcels=["330483-WT-0004", "330483-WT-0005"], enterprise="9133048302015804Y8",
    project_name="丰辉电器智能小家电扩产项目", industry_code="C3859", investment_10k="7800", output_10k="5200",
    tax_10k="420", floor_area_m2="27200", far="1.6", start_on="2024-03-01", complete_on="2025-06-30",
    note="整合相邻闲置宗地，新建单层及两层厂房")
RETURNED_SUBMITTED, RETURNED_ON = "2023-11-06", "2023-11-22"
RETURNED_COMMENT = "规划容积率 1.6 低于行动计划改造后容积率 2.0 的下限，请优化建筑方案（建设多层标准厂房）后重新提交"


def _application(session: Session, data: service.AdmissionInput, status: ReviewStatus, submitted: str,
                 created: str) -> ProjectAdmission:
    """A row as the service writes it, with its checks as stored on submission."""
    checked = service._checked(session, data)
    a = ProjectAdmission(status=status, created_by_id=None)
    service._write(a, checked, data)
    a.created_at = a.updated_at = _at(created, 9)
    a.submitted_at = _at(submitted)
    report = service.checks(session, a)
    report["checked_at"] = a.submitted_at.astimezone(dt.UTC).isoformat()  # as the live check writes it
    a.report, a.report_passed = report, bool(report["passed"])
    session.add(a)
    session.flush()
    return a


def _decide(a: ProjectAdmission, on: str, comment: str, doc_no: str | None = None) -> review.Decision:
    a.reviewed_at = a.updated_at = _at(on, 15)
    a.review_comment = comment
    decision = review.Decision(comment=comment, doc_no=doc_no, decided_on=dt.date.fromisoformat(on))
    if a.status == ReviewStatus.APPROVED:
        a.approval_doc_no, a.approval_date = decision.doc_no, decision.decided_on
    return decision


def seed_admissions(session: Session) -> int:
    """The three demo applications and the admitted one's 投资履约 record; 0 when any application exists."""
    if session.scalar(select(ProjectAdmission.id).limit(1)) is not None:
        return 0
    written = 0
    admitted = _application(session, ADMITTED, ReviewStatus.APPROVED, ADMITTED_SUBMITTED, "2023-02-06")
    decision = _decide(admitted, ADMITTED_APPROVED, ADMITTED_COMMENT, ADMITTED_DOC_NO)
    record: CreditRecord = service.credit_record(session, admitted, decision, created_by_id=None)
    admitted.credit_record = record
    record.created_at = admitted.reviewed_at
    for key, value in ADMITTED_ACTUALS.items():
        setattr(record, key, value)
    written += 2
    returned = _application(session, RETURNED, ReviewStatus.RETURNED, RETURNED_SUBMITTED, "2023-11-01")
    _decide(returned, RETURNED_ON, RETURNED_COMMENT)
    _application(session, SUBMITTED, ReviewStatus.SUBMITTED, SUBMITTED_ON, "2023-12-15")
    written += 2
    session.flush()
    return written
