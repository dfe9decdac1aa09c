"""The upload report's schema: what POST /api/uploads, GET /api/uploads/{id} and its commit answer.

The report is assembled as bytes (the problems and the staged features come from PostgreSQL as
JSON text and are spliced in), so these models document it; ``tests/app/test_upload.py`` checks
real reports against them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..serve.schemas import FeatureCollection, Out
from .problems import ProblemOut


class EncodingOut(Out):
    name: str | None = Field(description="属性表的字符编码，如 GBK、UTF-8")
    source: str | None = Field(description="编码从何而来：cpg 文件、检测、上传时指定 …")
    samples: list[dict[str, Any]] = Field(description="按该编码解出的前几行属性，供核对有无乱码")


class CrsOut(Out):
    """The layer's coordinate system, how it was decided and whether the clerk must confirm it."""

    model_config = Out.model_config | {"extra": "allow"}  # the guess's own explanation fields

    epsg: int | None = Field(description="EPSG 代码，如 4549")
    source: str | None = Field(description="prj / format / guess（根据坐标推断）/ override（上传时指定）")
    confirmed: bool = Field(description="是否已确认（推断所得的坐标系须在入库时确认）")
    needs_confirmation: bool = Field(description="入库时须带 confirm_crs: true")
    name: str | None = Field(None, description="坐标系名称")
    explanation_zh: str | None = Field(None, description="判断依据（中文）")


class MappingSuggestion(Out):
    """A field of the file that may be this model field (the mapping does not use it by itself)."""

    source: str = Field(description="文件中的字段，如 宗地编好")
    kind: Literal["close", "pinyin", "english"] = Field(
        description="依据：close 与中文名称相近；pinyin 拼音首字母（如 ZDBH）；english 英文名称（如 PARCEL_CD）")
    like: str = Field(description="它像的已知名称，如 宗地编号")
    score: float = Field(ge=0, le=1, description="相似度，1 为同名（已被其他字段使用或被取消对应）")


class MappingField(Out):
    field: str = Field(description="系统字段，如 code、enterprise、floor_area_m2")
    label: str = Field(description="中文名称，如 宗地编号")
    required: bool = Field(description="是否必须对应")
    suggestions: list[MappingSuggestion] = Field(
        description="尚未对应时：文件中可能是它的字段，最可能的在前（没有则为空）")


class OwnerName(Out):
    name: str = Field(description="权利人名称（文件中的写法）")
    count: int = Field(ge=1, description="涉及的要素数")
    features: list[int] = Field(description="涉及的要素序号（最多列出 50 个）")


class UnknownOwners(Out):
    """Owners (权利人) the enterprise register does not know; the commit must say what to do with them."""

    count: int = Field(ge=1, description="不在企业库中的权利人个数")
    features: int = Field(ge=1, description="涉及的宗地数")
    names: list[OwnerName] = Field(description="权利人及其要素，涉及宗地多的在前（最多列出 200 个）")


class UploadFeatures(FeatureCollection):
    """The staged features (EPSG:4490 lon/lat); each feature's ``properties``: feature, code, severity,
    area_mu, far, planned_far, existing, repairable, values (mapped), source (the file's row), problems."""


class UploadReport(Out):
    """检查报告：一次上传的格式、图层、编码、坐标系、字段对应、计数，以及逐要素的问题。"""

    id: str = Field(description="上传编号（UUID）")
    status: Literal["staging", "staged", "committed", "failed"] = Field(description="暂存中 / 已暂存 / 已入库 / 失败")
    uploader: str
    created_at: str | None
    filename: str
    file_sha256: str
    file_size_bytes: int
    target: Literal["parcels", "blocks", "parks"] = Field(description="导入目标：宗地、连片改造区块或开发区和镇街工业园区")
    format: str | None = Field(description="shapefile / gpkg / geojson / csv")
    layer: str | None
    layers: list[str] | None = Field(description="文件中的全部图层")
    geometry_type: str | None
    encoding: EncodingOut
    crs: CrsOut
    revision: int = Field(ge=0, description="报告的版本（即 ETag）：暂存时为 0，每次重新检查加 1")
    fields: list[str] = Field(description="文件中的字段，按文件顺序")
    mapping: dict[str, str] = Field(description="系统字段 → 文件字段")
    mapping_fields: list[MappingField]
    mapping_missing: list[str] = Field(
        description="尚未对应的必填系统字段（每个要素都有“字段未对应”错误）；改字段对应用 PUT …/mapping")
    mapping_remembered: bool = Field(description="字段对应沿用了上次同样字段的文件的修改")
    declared_area_unit: str | None = Field(description="文件填写的面积单位：mu（亩）或 m2")
    counts: dict[str, Any] = Field(description="要素数、无问题、警告、错误、可修复、修复后仍有错、新增、已有、未变、面积（亩）")
    can_commit: bool
    needs_repair_acceptance: bool = Field(description="只有接受修复（accept_repairs）才能入库")
    previous_upload: str | None = Field(description="同一文件此前已入库的上传编号")
    notes: list[dict[str, Any]] = Field(description="整个文件的提示：不在企业库中的权利人（code enterprise_unknown）、"
                                              "多图层文件中自动选取的图层（layer_chosen）、区块导出文件中未导入的另一类要素（kinds_split）")
    unknown_owners: UnknownOwners | None = Field(description="不在企业库中的权利人；没有则为 null")
    needs_owner_choice: bool = Field(description="入库时须给出 unknown_owners（register 或 none）")
    progress: dict[str, Any] | None = Field(description="暂存进度（Prefer: respond-async）：phase、done、total")
    outcome: dict[str, Any] | None = Field(description="入库结果（新增、替换、保留、未变）或失败原因")
    committed_at: str | None
    problems: list[ProblemOut] | None = Field(None, description="全部问题，按要素顺序")
    features: UploadFeatures | None = Field(None, description="暂存要素（GeoJSON，只在 GET 时给出）")


class UploadAccepted(Out):
    """202 (Prefer: respond-async): the upload is being staged; GET its Location for the report."""

    id: str
    status: Literal["staging"] = "staging"
    progress: dict[str, Any] | None = None


class BoundaryFile(Out):
    """POST /api/boundaries/read: the one polygon of a boundary file, for the officer's draft."""

    geometry: dict[str, Any] = Field(description="边界（GeoJSON 面，EPSG:4490 经纬度）")
    crs: str | None = Field(description="文件的坐标系（EPSG 代码）")
    crs_name: str | None = Field(description="文件的坐标系名称")
    area_mu: float = Field(description="边界面积（亩，EPSG:4549）")
    problems: list[str] = Field(description="图形问题（已自动修复的也列出）")
    repaired: bool = Field(description="图形无效，已自动修复")
