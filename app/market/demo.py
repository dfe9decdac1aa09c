"""The demo's 转让与租赁 register: three records in the approved 2022 blocks, one of them flagged — a lease by
an enterprise of 崇福镇 classified 整治清退 (decided 2023-03-01) to a firm not registered as a 厂中厂.

Run by ``cloudmap db seed`` after the blocks are adopted as plans (their versions in force); idempotent
(nothing is done when the register has a record).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.roles import Role
from ..credit_code import check_character
from ..enums import Classification
from ..models import Enterprise, Parcel
from ..workflow.enums import ClearanceStatus
from ..workflow.models import ClassificationDecision, EnterpriseGovernance
from . import service
from .enums import AreaBasis, MarketKind
from .models import MarketRecord

CLEAR_OUT_PARCEL = "330483-CF-0005"
CLEAR_OUT_ON = dt.date(2023, 3, 1)
SEEDER = SimpleNamespace(role=Role.ADMIN, unit_id=None, id=None, username="seed")


def _code(serial: int) -> str:
    first17 = f"91330483MA{serial:07d}"
    return first17 + check_character(first17)


def _owner(session: Session, parcel_code: str) -> Enterprise | None:
    parcel = session.scalar(select(Parcel).where(Parcel.code == parcel_code))
    return parcel.enterprise if parcel is not None else None


def seed_market(session: Session) -> int:
    if session.scalar(select(MarketRecord.id).limit(1)) is not None:
        return 0
    owner = _owner(session, CLEAR_OUT_PARCEL)
    if owner is None or owner.credit_code is None:
        return 0
    written = 0
    if session.get(EnterpriseGovernance, owner.id) is None:  # decided as the workflow would have recorded it
        reason = "亩均税收连续两年低于 1 万元，列入整治清退清单"
        session.add(EnterpriseGovernance(enterprise=owner, classification=Classification.CLEAR_OUT, reason=reason,
                                         decided_on=CLEAR_OUT_ON, clearance_status=ClearanceStatus.LISTED))
        session.add(ClassificationDecision(enterprise_id=owner.id, classification=Classification.CLEAR_OUT,
                                           reason=reason, decided_on=CLEAR_OUT_ON))
        written += 2
    session.flush()
    drafts = [service.Draft(kind=MarketKind.LEASE, parcels=[CLEAR_OUT_PARCEL], signed_on=dt.date(2024, 5, 10),
                            from_name=owner.name, from_credit_code=owner.credit_code, to_name="桐乡市某某针织加工厂",
                            to_credit_code=_code(3_300_101), lease_start=dt.date(2024, 6, 1),
                            lease_end=dt.date(2027, 5, 31), area_m2=Decimal("1500.00"), area_basis=AreaBasis.FLOOR,
                            rent_yuan_per_m2_year=Decimal("160.00"), industry_code="C1762",
                            note="演示数据：出租方已列入整治清退清单")]
    seller, buyer = _owner(session, "330483-WT-0001"), _owner(session, "330483-WT-0002")
    if seller is not None and buyer is not None:
        drafts.append(service.Draft(kind=MarketKind.LAND_TRANSFER, parcels=["330483-WT-0001"],
                                    signed_on=dt.date(2023, 8, 20), from_name=seller.name,
                                    from_credit_code=seller.credit_code, to_name=buyer.name,
                                    to_credit_code=buyer.credit_code, area_m2=Decimal("8600.00"),
                                    area_basis=AreaBasis.LAND, price_10k_yuan=Decimal("2600.00"),
                                    industry_code=buyer.industry_code, note="演示数据：区块内企业之间的土地转让"))
    shimen = _owner(session, "330483-SM-0001")
    if shimen is not None:
        drafts.append(service.Draft(kind=MarketKind.EQUITY_TRANSFER, parcels=["330483-SM-0001"],
                                    signed_on=dt.date(2023, 11, 6), from_name=shimen.name,
                                    from_credit_code=shimen.credit_code, to_name="嘉兴某某投资有限公司",
                                    to_credit_code=_code(3_300_102), price_10k_yuan=Decimal("1200.00"),
                                    note="演示数据：股权转让（受让方为投资公司）"))
    checked = [service.check(session, SEEDER, d) for d in drafts]
    ok = [c for c in checked if not c.errors]
    written += len(service.write_many(session, SEEDER, ok))
    return written
