"""Request and response models of /api/admissions (money in 万元, floor area in m², dates ISO 8601)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..enums import ReviewStatus
from ..workflow.schemas import UserRef
from .service import AdmissionInput


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AdmissionBody(BaseModel):
    """An application as the officer writes it."""

    block: str = Field(min_length=1, max_length=32, description="区块编号（须为已认定区块），如 TX2022-CF-01")
    parcels: list[str] = Field(min_length=1, max_length=200, description="项目用地的宗地编号（须在区块现行方案的宗地清单中）")
    enterprise: str = Field(min_length=1, max_length=18, description="企业统一社会信用代码")
    enterprise_name: str | None = Field(None, max_length=128, description="企业名称：只在企业尚未入企业库时填写（新企业）")
    project_name: str = Field(min_length=1, max_length=128, description="项目名称")
    industry_code: str = Field(min_length=1, max_length=16, description="项目行业代码（GB/T 4754-2017，如 C1713）")
    investment_10k: Decimal = Field(ge=0, le=10_000_000, max_digits=14, decimal_places=2, description="计划总投资（万元）")
    output_10k: Decimal = Field(ge=0, le=100_000_000, max_digits=14, decimal_places=2, description="达产后预计年产出（万元）")
    tax_10k: Decimal = Field(ge=0, le=10_000_000, max_digits=14, decimal_places=2, description="达产后预计年税收（万元）")
    floor_area_m2: Decimal = Field(ge=0, le=100_000_000, max_digits=14, decimal_places=2, description="规划建筑面积（平方米）")
    far: Decimal = Field(ge=0, le=20, max_digits=6, decimal_places=2, description="规划容积率")
    start_on: dt.date = Field(description="计划开工日期")
    complete_on: dt.date = Field(description="计划竣工（达产）日期")
    note: str | None = Field(None, max_length=2000, description="备注")

    def to_input(self) -> AdmissionInput:
        return AdmissionInput(**self.model_dump())


class ApproveBody(BaseModel):
    comment: str | None = Field(None, max_length=2000, description="审核意见；检查有须审慎研判的问题时必填（同意的理由）")
    doc_no: str | None = Field(None, max_length=64, description="准入文号（可不填）")
    approval_date: dt.date | None = Field(None, description="准入日期（默认今天）")


class ReturnBody(BaseModel):
    comment: str = Field(min_length=1, max_length=2000, description="退回理由")


class Flag(Out):
    code: str = Field(description="检查项代码（程序用）")
    severity: Literal["error", "warning", "info"] = Field(description="error 须审慎研判 / warning 提示 / info 说明")
    severity_label: str
    message_zh: str = Field(description="检查结果（中文）")
    values: dict[str, Any]


class Report(Out):
    """The checks: never block a submission (``passed`` is always true); ``flagged`` when an error was found."""

    passed: bool
    flagged: bool = Field(description="有须审慎研判的问题（审核人同意准入须写理由）")
    flags: list[Flag]
    figures: dict[str, Any] = Field(description="用地（亩，EPSG:4549 计算）、预计亩均税收与产出、评价档次线、容积率下限、产业导向")
    enterprise: dict[str, Any] = Field(description="企业：分类、亩均评价档次、十剑联动移交、投资履约未达承诺的项目")
    checked_at: str


class AdmissionView(Out):
    id: int
    code: str = Field(description="准入编号，如 ZR-0007")
    status: ReviewStatus = Field(description="draft 起草中 / submitted 已提交 / returned 已退回 / approved 已准入")
    status_label: str
    block: str
    block_name: str
    plan_version_no: int = Field(description="区块方案现行版本号（填写时）")
    unit: str
    unit_name: str
    enterprise_name: str
    credit_code: str
    enterprise_registered: bool = Field(description="企业已在企业库中")
    parcels: list[str]
    project_name: str
    industry_code: str
    industry_name: str | None
    investment_10k: float
    output_10k: float
    tax_10k: float
    floor_area_m2: float
    far: float
    start_on: str
    complete_on: str
    note: str | None
    created_at: str | None
    created_by: UserRef | None
    submitted_at: str | None
    submitted_by: UserRef | None
    reviewed_at: str | None
    reviewed_by: UserRef | None
    review_comment: str | None
    approval_doc_no: str | None
    approval_date: str | None
    credit_record_id: int | None = Field(description="同意准入后登记的投资履约记录")
    flagged: bool
    version: int = Field(description="版本号（ETag）")
    can_edit: bool
    can_decide: bool
    report: Report | None = Field(None, description="检查结果：已准入或已退回的为决定时的结果，其余为当前结果")


class AdmissionList(Out):
    data: list[AdmissionView]
    count: int


class BlockParcel(Out):
    code: str
    land_area_mu: float
    enterprise_name: str | None


class AdmissionBlock(Out):
    code: str
    name: str
    unit: str
    unit_name: str
    plan_version_no: int
    industry_guidance: list[str]
    industry_guidance_names: list[str]
    parcels: list[BlockParcel]


class AdmissionBlocks(Out):
    data: list[AdmissionBlock]


class BlockAdmissions(Out):
    block: str
    block_name: str
    industry_guidance: list[str]
    industry_guidance_names: list[str]
    data: list[AdmissionView]
    count: int
