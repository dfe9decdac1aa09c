"""Request bodies of the parks API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..enums import ParkKind


class ParkUpdate(BaseModel):
    """The attributes of a park that can be corrected without a new upload (the boundary comes by upload)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=128, description="园区名称")
    kind: ParkKind | None = Field(None, description="类型：development_zone 开发区 / town_park 镇街工业园区")
    unit: str | None = Field(None, max_length=32, description="所属镇（街道）代码（镇街工业园区）；空字符串表示无")
    approval: str | None = Field(None, max_length=2000, description="批准文件 / 设立依据")
    is_schematic: bool | None = Field(None, description="范围为示意")


class ParkDeleted(BaseModel):
    code: str = Field(description="园区编号")
    deleted: bool = True
