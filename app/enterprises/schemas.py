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
