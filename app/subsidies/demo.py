"""Demo data of the subsidy ledger and the typical cases (``cloudmap db seed``): the plan's fund of
20000 万元, a few entries (applied, approved, paid) on the demo's approved blocks, and one quarter's
现场会 block with a photo. Idempotent: nothing is added when the fund already has entries."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import zlib
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cases.models import SiteMeeting, SiteMeetingPhoto
from ..models import RenewalBlock
from . import boundary
from .models import SubsidyEntry, SubsidyFund, SubsidyPayment
from .service import DEFAULT_FUND_NAME, DEFAULT_FUND_TOTAL

SEEDER = "演示数据"
# (enterprise credit code or parcel code, project, applied on, applied, approved, [(paid on, amount)], basis)
ENTRIES = [
    ("9133048317555134CX", None, "2023-03-10", "300", "250", [("2023-05-20", "100"), ("2023-09-15", "100")],
     "腾退老旧厂房、新建标准厂房，按区块扶持政策申请改造奖励"),
    ("330483-SM-0001", "石门羔羊区块标准厂房项目", "2023-04-12", "500", "500", [("2023-08-01", "500")],
     "宗地整合归宗后新建多层厂房，容积率提升至 2.0 以上"),
    ("9133048332155419FA", None, "2023-10-08", "180", None, [], "企业技改投入，申请有机更新技改补助"),
]


def _png(width: int = 64, height: int = 40) -> bytes:
    """A small PNG (a green-grey gradient) standing in for a site photo."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in ((60 + x) % 256, (120 + y) % 256, 90)) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def seed_subsidies(session: Session) -> int:
    changed = 0
    fund = session.scalar(select(SubsidyFund).order_by(SubsidyFund.id).limit(1))
    if fund is None:
        fund = SubsidyFund(name=DEFAULT_FUND_NAME, total_10k=DEFAULT_FUND_TOTAL, updated_by=SEEDER,
                           note="行动计划（桐政办发〔2022〕11号）三.（四）.5：市财政安排不少于 2 亿元")
        session.add(fund)
        session.flush()
        changed += 1
    if session.scalar(select(SubsidyEntry.id).where(SubsidyEntry.fund_id == fund.id).limit(1)) is None:
        for code, project, applied_on, applied, approved, payments, basis in ENTRIES:
            is_parcel = "-" in code
            who = boundary.subject(session, parcel=code if is_parcel else None, enterprise=None if is_parcel else code)
            on = dt.date.fromisoformat(applied_on)
            found = boundary.membership(session, on=on, who=who)
            if found is None:
                continue
            block = session.scalar(select(RenewalBlock).where(RenewalBlock.code == found["block"]))
            e = SubsidyEntry(fund_id=fund.id, block_id=block.id, unit_id=block.unit_id,
                             enterprise_id=None if is_parcel else who.id, parcel_id=who.id if is_parcel else None,
                             project_name=project, applied_on=on, amount_applied_10k=Decimal(applied), basis=basis,
                             plan_version_no=found["version_no"], approval_doc_no=found["doc_no"],
                             status="approved" if approved else "applied", applied_by=SEEDER,
                             approved_10k=Decimal(approved) if approved else None,
                             reviewed_by=SEEDER if approved else None,
                             reviewed_at=dt.datetime.combine(on + dt.timedelta(days=20), dt.time(10),
                                                             dt.timezone(dt.timedelta(hours=8))) if approved else None,
                             review_comment="符合区块扶持政策" if approved else None,
                             paid_10k=sum((Decimal(a) for _, a in payments), Decimal(0)))
            e.payments = [SubsidyPayment(paid_on=dt.date.fromisoformat(d), amount_10k=Decimal(a), recorded_by=SEEDER)
                          for d, a in payments]
            session.add(e)
            changed += 1
    if session.scalar(select(SiteMeeting.id).limit(1)) is None:
        block = session.scalar(select(RenewalBlock).where(RenewalBlock.code == "TX2022-CF-01"))
        if block is not None:
            data = _png()
            m = SiteMeeting(year=2023, quarter=2, block_id=block.id, held_on=dt.date(2023, 6, 28), created_by=SEEDER,
                            notes="全市工业园区有机更新现场会在崇福东兴羽绒区块召开：整体腾退低效羽绒加工厂房，"
                                  "统一规划建设标准厂房，“退低进高”引进高端制造项目。")
            m.photos = [SiteMeetingPhoto(filename="现场会示意.png", content_type="image/png", size_bytes=len(data),
                                         sha256=hashlib.sha256(data).hexdigest(), content=data, uploaded_by=SEEDER)]
            session.add(m)
            changed += 1
    session.flush()
    return changed
