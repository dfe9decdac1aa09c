"""The demo's 厂中厂 tenants (``cloudmap db seed``): four firms renting space inside factories of the approved
2022 blocks, with their yearly tax and output and the inspections of 2026 — one finding still to be
rectified, one rectified, one with nothing to rectify — so the 规范管理 → 厂中厂 tab and its Excel list show
what the feature does.

Run after the register (the parcels' owners) and after the 转让与租赁 demo, whose flagged lease stays an
unregistered 厂中厂 on purpose; idempotent: nothing is added when a tenant exists.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..credit_code import check_character
from ..models import Parcel
from .enums import RectificationStatus
from .models import Tenant, TenantInspection, YearlyFigures


def _code(serial: int) -> str:
    first17 = f"92330483MA{serial:07d}"  # 92: 个体工商户, as many small 厂中厂 firms are
    return first17 + check_character(first17)


def _day(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


# parcel, lessee, serial, m², business, lease start, lease end, {year: (tax, output)}, inspections
TENANTS = [
    ("330483-CF-0002", "桐乡市崇福某某羽绒分拣加工点", 3_300_201, "1200.00", "羽绒分拣", "2023-03-01", "2028-02-29",
     {2024: ("18.50", "420.00"), 2025: ("21.00", "465.00")},
     [("2026-09-15", "崇福镇消防站", "仓库内羽绒原料堆放超高，部分疏散通道被占用", RectificationStatus.PENDING,
       "2026-12-31", None)]),
    ("330483-CF-0010", "桐乡市某某服饰辅料加工店", 3_300_202, "650.00", "服饰辅料加工", "2024-07-01", "2027-06-30",
     {2025: ("6.20", "150.00")},
     [("2026-05-20", "崇福镇安监站", "配电箱未加锁，电线私拉乱接", RectificationStatus.DONE, "2026-06-30",
       "2026-06-10")]),
    ("330483-CF-0019", "桐乡市某某包装材料经营部", 3_300_203, "900.00", "纸箱包装", "2022-10-01", None,
     {2024: ("9.80", "260.00"), 2025: ("10.40", "275.00")},
     [("2026-10-08", "崇福镇环保所", "未发现问题", RectificationStatus.NONE_NEEDED, None, None)]),
    ("330483-WT-0003", "桐乡市梧桐某某袜业加工点", 3_300_204, "800.00", "袜业加工", "2023-01-01", "2025-12-31",
     {2024: ("4.10", "98.00")}, []),
]


def seed_tenants(session: Session) -> int:
    if session.scalar(select(Tenant.id).limit(1)) is not None:
        return 0
    parcels = {p.code: p for p in session.scalars(select(Parcel).where(Parcel.code.in_([t[0] for t in TENANTS])))}
    written = 0
    for code, lessee, serial, area, business, start, end, years, checks in TENANTS:
        parcel = parcels.get(code)
        if parcel is None:
            continue
        tenant = Tenant(parcel=parcel, lessee=lessee, credit_code=_code(serial), leased_area_m2=Decimal(area),
                        business=business, lease_start=_day(start), lease_end=_day(end))
        session.add(tenant)
        session.flush()
        for year, (tax, output) in years.items():
            session.add(YearlyFigures(year=year, tenant_id=tenant.id, tax_10k_yuan=Decimal(tax),
                                      output_10k_yuan=Decimal(output)))
        for on, inspector, findings, status, by, done in checks:
            session.add(TenantInspection(tenant=tenant, inspected_on=_day(on), inspector=inspector, findings=findings,
                                         rectification_status=status, rectify_by=_day(by), rectified_on=_day(done)))
        written += 1 + len(years) + len(checks)
    session.flush()
    return written
