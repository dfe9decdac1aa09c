"""Request and response models of the 转让与租赁 endpoints."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .enums import AreaBasis, MarketKind

Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Rent = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]
Area = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
Name = Annotated[str, Field(min_length=1, max_length=128)]
Code = Annotated[str, Field(max_length=40)]


class Out(BaseModel):
    """A response model: a key the code returns but the model lacks fails loudly."""

    model_config = ConfigDict(extra="forbid")


class RecordBody(BaseModel):
    """A change of a record: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    kind: MarketKind | None = Field(None, description="类型：equity_transfer 股权转让、land_transfer 土地转让、"
                                                        "factory_transfer 厂房转让、lease 出租")
    parcels: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None, max_length=50, description="宗地编号（须在签订日期时位于已认定的连片改造区块内）")
    signed_on: dt.date | None = Field(None, description="签订日期")
    lease_start: dt.date | None = Field(None, description="租期起（出租）")
    lease_end: dt.date | None = Field(None, description="租期止（出租）")
    from_name: Name | None = Field(None, description="转让方/出租方名称")
    from_credit_code: Code | None = Field(None, description="转让方/出租方统一社会信用代码")
    to_name: Name | None = Field(None, description="受让方/承租方名称")
    to_credit_code: Code | None = Field(None, description="受让方/承租方统一社会信用代码")
    area_m2: Area | None = Field(None, description="面积（平方米）")
    area_basis: AreaBasis | None = Field(None, description="面积类型：land 土地面积、floor 建筑面积")
    price_10k_yuan: Money | None = Field(None, description="转让价款（万元，转让）")
    rent_yuan_per_m2_year: Rent | None = Field(None, description="租金（元/平方米·年，出租）")
    industry_code: Annotated[str, Field(max_length=12)] | None = Field(
        None, description="受让方/承租方行业代码（GB/T 4754-2017，如 C1761）")
    note: Annotated[str, Field(max_length=2000)] | None = Field(None, description="备注")


class RecordCreate(RecordBody):
    kind: MarketKind
    parcels: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(min_length=1, max_length=50)
    signed_on: dt.date
    from_name: Name
    to_name: Name


class ReferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    referred_on: dt.date | None = Field(None, description="移交日期（默认今天）")
    note: Annotated[str, Field(max_length=500)] | None = Field(None, description="补充说明（附在移交理由后）")


class TenantBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parcel: Annotated[str, Field(max_length=64)] | None = Field(None, description="登记到哪一宗宗地（记录只有一宗时可不填）")
    tenant_id: int | None = Field(None, ge=1, le=2_147_483_647, description="关联已登记的厂中厂租户（不新建）")
    business: Annotated[str, Field(max_length=128)] | None = Field(None, description="经营内容")


class PartyView(Out):
    name: str
    credit_code: str | None
    registered: bool = Field(description="在企业库中")


class ParcelView(Out):
    code: str
    block_code: str
    block_name: str


class FlagView(Out):
    id: int
    kind: str
    kind_label: str
    party: str = Field(description="from 转让方/出租方，to 受让方/承租方")
    name: str
    credit_code: str | None
    parcel: str | None
    text: str = Field(description="预警（中文一句）")
    status: str = Field(description="open 待处理、referred 已移交十剑联动、registered 已登记为厂中厂")
    status_label: str
    referral_id: int | None
    can_refer: bool = Field(description="可一键移交十剑联动：所涉企业在企业库中且现为整治清退企业")
    can_register: bool


class TenantLink(Out):
    id: int
    parcel: str
    lessee: str


class RecordView(Out):
    id: int
    kind: str
    kind_label: str
    unit_code: str
    unit_name: str
    signed_on: str
    lease_start: str | None
    lease_end: str | None
    from_party: PartyView
    to_party: PartyView
    from_label: str
    to_label: str
    parcels: list[ParcelView]
    area_m2: float | None
    area_basis: str | None
    area_basis_label: str | None
    price_10k_yuan: float | None
    rent_yuan_per_m2_year: float | None
    industry_code: str | None
    note: str | None
    flags: list[FlagView]
    tenants: list[TenantLink]
    created_at: str | None
    version: int
    can_edit: bool


class RecordList(Out):
    data: list[RecordView]
    count: int
    flagged: int


class ImportRow(Out):
    row: int
    kind: str | None
    parcels: str | None
    from_name: str | None
    to_name: str | None
    signed_on: str | None
    problems: list[str]
    flags: list[str]
    id: int | None = None


class ImportReport(Out):
    dry_run: bool
    rows: list[ImportRow]
    count: int
    refused: int
    created: int
    flagged: int
    can_commit: bool
