"""Request and response bodies of the subsidy ledger and the boundary query. Amounts are 万元, exact
decimal strings in answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Money = Decimal
MAX_MONEY = Decimal("999999999999.99")


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FundIn(In):
    name: str = Field(min_length=1, max_length=128, description="资金名称")
    total_10k: Money = Field(ge=0, le=MAX_MONEY, decimal_places=2, description="资金总额（万元），不低于已审核承诺额")
    note: str | None = Field(None, max_length=2000, description="说明")


class ApplyIn(In):
    enterprise: str | None = Field(None, max_length=18, description="企业统一社会信用代码（与 parcel 二选一）")
    parcel: str | None = Field(None, max_length=64, description="宗地编号（与 enterprise 二选一）")
    project_name: str | None = Field(None, max_length=128, description="项目名称（缺省为所选准入项目的名称）")
    admission_id: int | None = Field(None, ge=1, le=2**31 - 1, description="已准入项目的编号（项目准入，可选）")
    applied_on: dt.date = Field(description="申请日期：按当日施行的区块方案认定范围")
    amount_10k: Money = Field(gt=0, le=MAX_MONEY, decimal_places=2, description="申请金额（万元）")
    basis: str = Field(min_length=1, max_length=2000, description="申请依据")


class ApproveIn(In):
    approved_10k: Money = Field(gt=0, le=MAX_MONEY, decimal_places=2, description="核定金额（万元），不超过申请金额")
    comment: str | None = Field(None, max_length=2000, description="审核意见")


class RejectIn(In):
    comment: str = Field(min_length=1, max_length=2000, description="不予通过的理由")


class PaymentIn(In):
    paid_on: dt.date = Field(description="拨付日期")
    amount_10k: Money = Field(gt=0, le=MAX_MONEY, decimal_places=2, description="拨付金额（万元）")
    note: str | None = Field(None, max_length=2000, description="说明（如拨付文号）")


class Sums(Out):
    entries: int
    pending_10k: str = Field(description="待审核的申请金额（万元）")
    committed_10k: str = Field(description="已审核承诺（万元）")
    paid_10k: str = Field(description="已拨付（万元）")
    unpaid_10k: str = Field(description="已承诺未拨付（万元）")


class BlockSums(Sums):
    block: str
    block_name: str
    unit: str
    unit_name: str


class UnitSums(Sums):
    unit: str
    unit_name: str


class FundView(Out):
    stored: bool = Field(description="资金是否已设置（否：显示默认值 20000 万元）")
    fund: int | None
    name: str
    note: str | None = None
    total_10k: str
    committed_10k: str
    paid_10k: str
    unpaid_10k: str
    pending_10k: str
    remaining_10k: str = Field(description="可承诺余额 = 总额 − 已审核承诺")
    entries: int
    blocks: list[BlockSums]
    units: list[UnitSums]
    updated_by: str | None = None
    version: int = Field(description="版本号（ETag）；未设置为 0")


class Payment(Out):
    id: int
    paid_on: str
    amount_10k: str
    note: str | None
    recorded_by: str


class Entry(Out):
    id: int
    status: Literal["applied", "approved", "rejected"]
    status_label: str
    subject: dict[str, Any] = Field(description="kind（enterprise 企业 / parcel 宗地）、code、name")
    project_name: str | None
    admission_id: int | None = Field(description="已准入项目的编号（项目准入）")
    block: str
    block_name: str
    unit: str
    unit_name: str
    applied_on: str
    amount_applied_10k: str
    basis: str
    plan_version_no: int | None
    approval_doc_no: str | None
    approved_10k: str | None
    paid_10k: str
    unpaid_10k: str
    review_comment: str | None
    reviewed_by: str | None
    reviewed_at: str | None
    applied_by: str
    payments: list[Payment]
    version: int
    can: dict[str, bool] = Field(description="当前用户可做的操作：approve、reject、pay")


class EntryList(Out):
    data: list[Entry]
    total: int
    limit: int
    offset: int


class BlockSummary(Out):
    block: str
    block_name: str
    entries: int
    pending_10k: str
    committed_10k: str
    paid_10k: str
    unpaid_10k: str


class Interval(Out):
    block: str
    block_name: str
    unit: str
    unit_name: str
    version_no: int | None
    doc_no: str | None
    approval_date: str | None
    from_: str = Field(alias="from", serialization_alias="from")
    to: str | None
    listed: bool
    share_inside: float | None


class Membership(Interval):
    since: str = Field(description="自该日起连续在该区块认定范围内")


class MembershipAnswer(Out):
    subject: dict[str, Any]
    on: str
    inside: bool
    membership: Membership | None
    sentence: str
    history: list[Interval]
    min_share: float = Field(description="宗地面积在认定边界内的最低比例")
