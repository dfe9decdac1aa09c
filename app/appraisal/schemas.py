"""Request and response bodies of the 亩均效益综合评价 endpoints. Decimals are exact strings."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Num = str | None


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConfigView(Out):
    year: int
    stored: bool = Field(description="是否已保存本年度配置（否：显示默认配置）")
    version: int = Field(description="版本号（ETag）；未保存为 0")
    config: dict[str, Any] = Field(description="评价配置：评价组、指标、权重、基准值、封顶、分档、不参评规则、加减分上限（见 docs/evaluation.md）")
    labels: dict[str, Any] = Field(description="配置界面所需的全部中文名称")
    updated_by: str | None
    updated_at: str | None
    frozen: bool = Field(description="本年度已定档，配置不能再修改")


class ConfigIn(In):
    config: dict[str, Any] = Field(description="完整的评价配置（与 GET 返回的 config 同形）")


class RunIn(In):
    note: str | None = Field(None, max_length=500, description="说明，如“税务数据更新后重新试算”")


class PublishIn(In):
    publicity_start: dt.date = Field(description="公示开始日期")
    publicity_end: dt.date = Field(description="公示结束日期（含）")


class ReasonIn(In):
    reason: str = Field(min_length=1, max_length=2000, description="理由")


class ResolveIn(In):
    decision: Literal["upheld", "rejected"] = Field(description="upheld 采纳 / rejected 不予采纳")
    resolution: str = Field(min_length=1, max_length=2000, description="处理意见")


class RunCounts(Out):
    enterprises: int
    graded: int
    not_graded: int
    A: int
    B: int
    C: int
    D: int


class ObjectionCounts(Out):
    open: int
    upheld: int
    rejected: int


class Run(Out):
    id: int
    year: int
    number: int = Field(description="本年度第几次评价")
    status: Literal["computed", "published", "final", "withdrawn"]
    status_label: str = Field(description="试算 / 公示中 / 已定档 / 已撤回")
    created_at: str
    created_by: str
    note: str | None
    figures_as_of: str = Field(description="所用数据的时间点")
    counts: RunCounts
    publicity_start: str | None
    publicity_end: str | None
    in_publicity: bool
    published_at: str | None
    published_by: str | None
    publicity_closed_at: str | None
    publicity_close_reason: str | None
    fixed_at: str | None
    fixed_by: str | None
    based_on: int | None = Field(description="定档时据以重算的公示结果编号")
    objections: ObjectionCounts
    changed_figures: int = Field(description="评价之后有变化的数据项数")
    version: int = Field(description="版本号（ETag）")
    actions: list[Literal["publish", "close_publicity", "withdraw", "fix", "object"]] = Field(
        description="当前用户现在可做的操作")
    fix_blocked_by: str | None = Field(description="暂不能定档的原因")
    created_by_name: str = Field(description="试算人姓名")
    published_by_name: str | None
    fixed_by_name: str | None
    publicity_closed_by_name: str | None


class RunList(Out):
    year: int
    runs: list[Run]


class Evidence(Out):
    id: int
    filename: str
    size_bytes: int
    url: str


class Correction(Out):
    field: str
    label: str
    in_run: Num
    claimed: str


class Objection(Out):
    id: int
    run_id: int
    credit_code: str
    name: str
    unit_name: str | None
    reason: str
    corrections: list[Correction]
    status: Literal["open", "upheld", "rejected"]
    status_label: str
    resolution: str | None
    filed_by: str
    filed_by_name: str = Field(description="提出人姓名")
    filed_at: str
    resolved_by: str | None
    resolved_by_name: str | None
    resolved_at: str | None
    evidence: list[Evidence]
    version: int
    actions: list[Literal["resolve"]]


class ObjectionList(Out):
    objections: list[Objection]


class IndicatorValue(Out):
    code: str
    label: str
    unit: str
    value: Num
    weight: Num
    benchmark: Num
    score: Num
    capped: bool
    note: str | None


class ChangedFigure(Out):
    field: str
    label: str
    in_run: Num
    now: Num
    department: str | None
    recorded_at: str | None


class EnterpriseRow(Out):
    credit_code: str
    name: str
    scale: str
    scale_label: str
    group: str | None
    group_label: str | None
    unit_code: str | None
    unit_name: str | None
    land_mu: Num
    indicators: list[IndicatorValue]
    indicator_score: Num
    adjustment_score: Num
    total: Num
    rank: int | None
    group_size: int | None
    grade: Literal["A", "B", "C", "D"] | None
    reason: str | None = Field(description="不参评的原因，如“不参评：投产不满两年”")
    explanations: list[str]
    changed_figures: list[ChangedFigure]
    objections: list[Objection]
    classification: str | None
    classification_label: str | None
    proposed_clearance: bool = Field(description="已定档的 D 档企业、尚未列为整治清退：建议整治清退")


class GroupIndicator(Out):
    code: str
    label: str
    unit: str
    weight: Num
    mean: Num
    benchmark: Num


class Group(Out):
    code: str
    label: str
    graded: int
    not_graded: int
    cut_ranks: dict[str, int]
    counts: dict[str, int]
    indicators: list[GroupIndicator]


class Results(Out):
    year: int
    run: Run | None
    groups: list[Group]
    enterprises: list[EnterpriseRow]


class FigureSource(Out):
    value: Num
    note: str | None
    department: str
    source: str
    recorded_at: str | None


class EnterpriseResult(Out):
    year: int
    run: Run
    enterprise: EnterpriseRow
    sources: dict[str, FigureSource]
