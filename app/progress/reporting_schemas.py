"""Request and response models of the 月报 API (app/progress/reporting_routes.py)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .schemas import Out

Status = Literal["not_submitted", "submitted", "returned", "overdue", "not_required"]


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parcel_code: str | None = Field(None, max_length=64, description="宗地编号（与 block_code 二选一）")
    block_code: str | None = Field(None, max_length=64, description="区块编号")
    status: str = Field("", max_length=32, description="新状态：宗地 not_started/vacating/rebuilding/completed；"
                        "区块 planned/started/in_progress/completed（也可用中文名称）")
    happened_on: str | None = Field(None, max_length=32, description="发生日期 YYYY-MM-DD")
    built_floor_area_m2: float | str | None = Field(None, description="建成建筑面积（平方米，宗地）")
    note: str | None = Field(None, max_length=2000, description="说明")
    evidence: list[int] = Field(default_factory=list, max_length=20, description="佐证材料（POST /api/progress/evidence 的 id）")
    unit: str | None = Field(None, max_length=64, description="单位（管理员代报时填写）")


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100)
    month: int = Field(ge=1, le=12)
    summary: str | None = Field(None, max_length=4000, description="本月工作说明")
    unit: str | None = Field(None, max_length=64, description="单位（管理员代报时填写）")


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=2000, description="退回原因")


class DeadlineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_on: dt.date = Field(description="新的截止日")
    reason: str = Field("", max_length=2000, description="调整原因")


class Evidence(Out):
    id: int
    filename: str
    content_type: Literal["application/pdf", "image/jpeg", "image/png"]
    type_label: str
    size_bytes: int
    sha256: str
    url: str


class Submission(Out):
    id: int
    unit_code: str
    unit_name: str
    year: int
    month: int
    status: Literal["submitted", "returned"]
    status_label: str
    summary: str
    submitted_at: str | None
    submitted_by_name: str | None
    returned_at: str | None
    returned_by_name: str | None
    return_reason: str | None
    entries: int = Field(description="本月有效报送条数（不含撤回）")
    etag: str


class Entry(Out):
    id: int
    year: int
    month: int = Field(description="所属月报的月份（补报记入当前月报）")
    unit_code: str
    unit_name: str
    kind: Literal["parcel", "block"]
    parcel_code: str | None
    block_code: str | None
    subject_label: str
    status: str
    status_label: str
    previous_status: str | None
    previous_status_label: str | None
    happened_on: str
    built_floor_area_m2: float | None
    note: str
    late: bool = Field(description="补报：发生在已截止的月份，自记录之日起计入")
    source: Literal["browser", "excel"]
    evidence: list[Evidence]
    recorded_by: str
    recorded_by_name: str
    recorded_at: str | None
    withdrawn: bool
    withdrawn_at: str | None
    can_withdraw: bool


class Entries(Out):
    entries: list[Entry]


class OpenMonth(Out):
    year: int
    month: int
    label: str
    due_on: str
    days_left: int
    submission: Submission | None


class UnitRef(Out):
    code: str
    name: str


class OpenMonths(Out):
    today: str
    unit: UnitRef | None
    months: list[OpenMonth]


class UnitReporting(Out):
    unit_code: str
    unit_name: str
    status: Status
    status_label: str
    submission: Submission | None
    entries: int
    completed_parcels: int
    completed_mu: float


class MonthOverview(Out):
    year: int
    month: int
    label: str
    due_on: str
    open: bool
    deadline_moved: bool
    deadline_reason: str | None
    submitted: int
    total: int
    units: list[UnitReporting]


class ReportableParcel(Out):
    code: str
    block_code: str | None
    block_name: str | None
    enterprise_name: str | None
    status: str
    status_label: str
    completed_on: str | None
    land_area_mu: float | None
    floor_area_m2: float | None
    planned_floor_area_m2: float | None
    built_floor_area_m2: float | None
    last_reported_on: str | None


class ReportableBlock(Out):
    code: str
    name: str
    stage: str
    stage_label: str
    completed_on: str | None


class Reportable(Out):
    unit: UnitRef
    parcels: list[ReportableParcel]
    blocks: list[ReportableBlock]


class RowProblem(Out):
    field: str | None
    message: str


class ImportRow(Out):
    row: int
    parcel_code: str | None
    status: str | None
    status_label: str | None
    happened_on: str | None
    built_floor_area_m2: float | None
    evidence_files: list[str]
    note: str
    problems: list[RowProblem]


class ImportCounts(Out):
    rows: int
    ok: int
    problems: int
    unchanged: int


class ImportReport(Out):
    id: str
    year: int
    month: int
    unit_code: str
    unit_name: str
    filename: str
    status: Literal["staged", "committed"]
    rows: list[ImportRow]
    counts: ImportCounts
    can_commit: bool


class ImportCommitted(Out):
    entries: int
    year: int
    month: int
