"""The tables of the 转让与租赁 register (migration 0020).

A record is one transfer or lease: its kind, its parties (name, credit code, the register's enterprise
when the code is known), its dates, area, price or rent and the parcels it is about (each with the
renewal block whose version was in force on the record's date). Its flags are decided when the record
is saved, from the facts as of its date (evaluation/market.py), and stored: a later classification, a
later evaluation or a later plan change never alters a past record's flags. A flag referred to 十剑联动
keeps the referral it created.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import Base, Enterprise, Parcel, RenewalBlock, Unit, _enum
from ..workflow.models import EnforcementReferral
from .enums import AreaBasis, FlagKind, MarketKind


class MarketRecord(Base):
    """股权转让、土地转让、厂房转让 or 出租 of parcels in renewal blocks."""

    __tablename__ = "market_records"
    __table_args__ = (
        CheckConstraint("area_m2 IS NULL OR area_m2 > 0", name="area_positive"),
        CheckConstraint("price_10k_yuan IS NULL OR price_10k_yuan >= 0", name="price_non_negative"),
        CheckConstraint("rent_yuan_per_m2_year IS NULL OR rent_yuan_per_m2_year >= 0", name="rent_non_negative"),
        CheckConstraint("lease_end IS NULL OR lease_start IS NULL OR lease_end >= lease_start", name="lease_dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MarketKind] = mapped_column(_enum(MarketKind, "market_kind"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)  # the unit of the parcels
    signed_on: Mapped[dt.date] = mapped_column(Date)  # 签订日期: the date the flags are as of
    lease_start: Mapped[dt.date | None] = mapped_column(Date)
    lease_end: Mapped[dt.date | None] = mapped_column(Date)
    from_name: Mapped[str] = mapped_column(String(128))  # 转让方 / 出租方
    from_credit_code: Mapped[str | None] = mapped_column(String(18))
    from_enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    to_name: Mapped[str] = mapped_column(String(128))  # 受让方 / 承租方
    to_credit_code: Mapped[str | None] = mapped_column(String(18))
    to_enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    area_basis: Mapped[AreaBasis | None] = mapped_column(_enum(AreaBasis, "area_basis"))
    price_10k_yuan: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # 转让价款（万元）
    rent_yuan_per_m2_year: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))  # 租金（元/平方米·年）
    industry_code: Mapped[str | None] = mapped_column(String(5))  # 受让方/承租方行业代码 (GB/T 4754)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit] = relationship()
    from_enterprise: Mapped[Enterprise | None] = relationship(foreign_keys=[from_enterprise_id])
    to_enterprise: Mapped[Enterprise | None] = relationship(foreign_keys=[to_enterprise_id])
    parcels: Mapped[list[MarketRecordParcel]] = relationship(
        back_populates="record", order_by="MarketRecordParcel.parcel_code", cascade="all, delete-orphan")
    flags: Mapped[list[MarketFlag]] = relationship(
        back_populates="record", order_by="MarketFlag.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": row_version}

    def audit_subject(self) -> str:
        return f"market:{self.id}"


class MarketRecordParcel(Base):
    """A parcel of a record, with the renewal block it lay in on the record's date."""

    __tablename__ = "market_record_parcels"

    record_id: Mapped[int] = mapped_column(ForeignKey("market_records.id", ondelete="CASCADE"), primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), primary_key=True, index=True)
    parcel_code: Mapped[str] = mapped_column(String(64))
    block_id: Mapped[int] = mapped_column(ForeignKey("renewal_blocks.id"), index=True)
    block_version_id: Mapped[int | None] = mapped_column(ForeignKey("block_versions.id"))  # None: no plan

    record: Mapped[MarketRecord] = relationship(back_populates="parcels")
    parcel: Mapped[Parcel] = relationship()
    block: Mapped[RenewalBlock] = relationship()


class MarketFlag(Base):
    """A flag of a record: its kind, the enterprise (and parcel) it names, and its sentence as decided."""

    __tablename__ = "market_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("market_records.id", ondelete="CASCADE"), index=True)
    kind: Mapped[FlagKind] = mapped_column(_enum(FlagKind, "market_flag_kind"))
    party: Mapped[str] = mapped_column(String(4))  # "from" / "to"
    name: Mapped[str] = mapped_column(String(128))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    parcel_code: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_referrals.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    record: Mapped[MarketRecord] = relationship(back_populates="flags")
    enterprise: Mapped[Enterprise | None] = relationship()
    referral: Mapped[EnforcementReferral | None] = relationship()

    __table_args__ = (CheckConstraint("party IN ('from', 'to')", name="party"),)
