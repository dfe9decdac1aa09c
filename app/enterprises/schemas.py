"""Request and response bodies of the register import (一库)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..ingest.schemas import MappingField


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterProblem(Out):
    field: str | None = Field(description="系统字段，如 credit_code、name、unit（整行的问题为空）")
    column: str | None = Field(description="文件中的列名（该字段未对应时为空）")
    severity: Literal["error", "warning", "info"] = Field(
        description="error 须改正才能导入；warning 提醒（如 名称变更）；info 说明（如 将合并同名企业）")
    message: str = Field(description="中文说明，以“第 N 行“列名”：”开头")


class RegisterChange(Out):
    field: str = Field(description="系统字段")
    label: str = Field(description="中文名称，如 行业代码")
    old: str | None = Field(description="企业库中的原值（新企业为空）")
    new: str | None = Field(description="导入后的值")


class RegisterRow(Out):
    row: int = Field(description="文件中的行号（与 Excel 中看到的一致）")
    credit_code: str | None
    name: str | None
    action: Literal["create", "update", "unchanged", "refused"] = Field(
        description="create 新增；update 更新已有企业；unchanged 无变化；refused 有须改正的问题")
    enterprise_id: int | None = Field(description="已有企业的编号（新企业为空）")
    problems: list[RegisterProblem]
    changes: list[RegisterChange] = Field(description="将写入的字段（旧值 → 新值）")


class RegisterCounts(Out):
    rows: int
    create: int
    update: int
    unchanged: int
    refused: int
    warnings: int
    merges: int


class RegisterOutcome(Out):
    id: str
    created: int = Field(description="新增企业数")
    updated: int = Field(description="更新的已有企业数")
    fields_changed: int = Field(description="写入字段变更历史的条数")
    merged: int = Field(description="合并的按名称登记企业数")
    parcels_moved: int = Field(description="随合并转到登记企业的宗地数")
    parcels_linked: int = Field(description="按上传时的统一社会信用代码关联到企业的宗地数")


class RegisterOutcomeStored(Out):
    created: int
    updated: int
    fields_changed: int
    merged: int
    parcels_moved: int
    parcels_linked: int


class RegisterImport(Out):
    id: str
    kind: Literal["register"]
    filename: str
    file_format: Literal["xlsx", "xls", "csv"]
    encoding: str | None = Field(description="CSV 的编码（utf-8、gbk 或 gb18030，自动识别）；Excel 为空")
    header_row: int = Field(description="表头所在行")
    status: Literal["staged", "committed"]
    fields: list[str] = Field(description="文件的列名，按顺序")
    mapping: dict[str, str] = Field(description="系统字段 → 文件列名")
    targets: list[MappingField] = Field(description="可对应的系统字段、中文名称、是否必填、未对应字段的候选列")
    mapping_problems: list[str] = Field(description="字段对应的问题（如缺少必填字段）")
    counts: RegisterCounts
    rows: list[RegisterRow] = Field(description="逐行检查结果（已导入后为空）")
    outcome: RegisterOutcomeStored | None
    created_by: str
    created_at: str | None
    can_commit: bool = Field(description="没有须改正的问题、字段对应完整、且有要写入的企业")


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mapping: dict[str, str | None] = Field(
        description="要改的对应：系统字段 → 文件列名；null 或空串取消对应；未列出的字段保持不变")
    departments: dict[str, str] | None = Field(
        None, description="仅部门数据：指标 → 报送部门（如 {\"tax_10k\": \"税务局\"}）；未列出的指标保持上传时的部门")


# --- the departments' figures --------------------------------------------------------------

class FigureChange(Out):
    field: str = Field(description="指标，如 tax_10k")
    label: str = Field(description="中文名称和单位，如 税收（万元）")
    old: str | None = Field(description="系统中现行的值（没有时为空）")
    new: str = Field(description="文件中的值")
    kind: Literal["new", "changed", "unchanged"] = Field(description="new 新增；changed 变更（原值留作历史）；unchanged 不变")
    department: str | None = Field(description="报送部门")


class FiguresRow(Out):
    row: int = Field(description="文件中的行号")
    credit_code: str | None
    name: str | None = Field(description="文件中的企业名称（有此列时）")
    enterprise_id: int | None
    action: Literal["write", "unchanged", "refused"] = Field(
        description="write 有新增或变更的数据；unchanged 与现行数据相同；refused 有须改正的问题")
    problems: list[RegisterProblem]
    changes: list[FigureChange]


class FiguresCounts(Out):
    rows: int
    refused: int = Field(description="有问题的行数")
    new: int = Field(description="新增的数据项数")
    changed: int = Field(description="变更的数据项数")
    unchanged: int = Field(description="不变的数据项数")


class FiguresOutcomeStored(Out):
    new: int
    changed: int
    unchanged: int


class FiguresImport(Out):
    id: str
    kind: Literal["figures"]
    year: int = Field(description="数据年度")
    filename: str
    file_format: Literal["xlsx", "xls", "csv"]
    encoding: str | None
    header_row: int
    status: Literal["staged", "committed"]
    fields: list[str]
    mapping: dict[str, str]
    departments: dict[str, str] = Field(description="已对应的指标 → 报送部门")
    targets: list[MappingField]
    mapping_problems: list[str] = Field(description="与行无关的问题：缺少统一社会信用代码列、列的单位不符（如 元）等")
    counts: FiguresCounts
    rows: list[FiguresRow]
    outcome: FiguresOutcomeStored | None
    created_by: str
    created_at: str | None
    can_commit: bool


class FiguresOutcome(Out):
    id: str
    year: int
    new: int = Field(description="新增的数据项数")
    changed: int = Field(description="变更的数据项数（原值留作历史）")
    unchanged: int = Field(description="与现行数据相同、未重写的数据项数")


class FiguresSubmitted(Out):
    year: int
    department: str = Field(description="记录的报送部门（密钥的部门）")
    rows: int
    new: int
    changed: int
    unchanged: int


class FigureValue(Out):
    value: str = Field(description="数值（按指标的单位）")
    note: str | None = Field(description="说明，如 扣分原因")
    department: str = Field(description="报送部门")
    source: str = Field(description="来源：导入文件名或接口密钥名称")
    recorded_by: str
    recorded_at: str
    superseded_at: str | None = Field(description="被新值取代的时间（现行值为空）")


class FigureField(Out):
    field: str
    label: str = Field(description="中文名称和单位")
    name: str
    unit: str
    current: FigureValue | None = Field(description="现行值（没有报送时为空）")
    history: list[FigureValue] = Field(description="被取代的旧值，新的在前")


class EnterpriseFigures(Out):
    credit_code: str
    name: str
    year: int
    years: list[int] = Field(description="有数据的年度，新的在前")
    fields: list[FigureField]
