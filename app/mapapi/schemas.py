"""Response models of the map's endpoints: /api/search, /api/map/units, /api/map/blocks/{code}/summary
and /api/map/config (the GeoJSON ones use app.serve.schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..enums import Classification
from ..serve.schemas import FeatureCollection


class Out(BaseModel):
    """A response model: a key the code returns but the model lacks fails loudly (FastAPI validates responses)."""

    model_config = ConfigDict(extra="forbid")


class ClassificationMu(Out):
    upgrade: float | None = Field(description="改造提升（亩）")
    transform: float | None = Field(description="优化转型（亩）")
    clear_out: float | None = Field(description="整治清退（亩）")


class UnitFigures(Out):
    """One unit's figures over the filtered parcels."""

    code: str = Field(description="单位代码，如 chongfu")
    name: str
    area_mu: float = Field(description="辖区面积（亩）")
    is_schematic: bool = Field(description="边界为示意（非法定界线）")
    label_point: list[float] = Field(description="标注点 [经度, 纬度]（面内一点）")
    block_count: int = Field(description="区块数（按 year、stage 筛选）")
    parcel_count: int = Field(description="宗地数")
    land_area_mu: float | None = Field(description="宗地面积合计（亩）；无宗地为空")
    contiguous_mu: float | None = Field(description="其中连片（区块内）")
    scattered_mu: float | None = Field(description="其中零星")
    classification_mu: ClassificationMu = Field(description="按分类的面积（亩）")
    far: float | None = Field(description="现状容积率（有建筑面积的宗地）")
    tax_per_mu: float | None = Field(description="亩均税收（万元/亩）")


class MapUnits(Out):
    units: list[UnitFigures]
    parcel_count: int = Field(description="宗地数合计")


class SearchHit(Out):
    kind: Literal["block", "parcel", "enterprise", "unit"] = Field(
        description="block 区块 / parcel 宗地 / enterprise 企业 / unit 镇街")
    code: str | None = Field(description="区块编号、宗地编号、统一社会信用代码或单位代码；信用代码待补充的企业为 null")
    label: str = Field(description="显示名称")
    unit_name: str | None = Field(description="所在镇（街道、开发区）")
    block_code: str | None = Field(description="所在区块编号")
    parcel_code: str | None = Field(description="宗地编号（企业为其第一宗地）")
    bbox: list[float] = Field(description="范围 [最小经度, 最小纬度, 最大经度, 最大纬度]")
    point: list[float] = Field(description="面内一点 [经度, 纬度]")


class SearchResults(Out):
    query: str = Field(description="去掉首尾空白后的关键字")
    results: list[SearchHit] = Field(description="精确匹配在前")


class ClassificationRef(Out):
    code: Classification
    label: str


class BlockEnterprise(Out):
    name: str
    credit_code: str | None = Field(description="统一社会信用代码；由上传登记、尚待补充的为 null（信用代码待补充）")
    classifications: list[ClassificationRef] = Field(description="该企业在区块内宗地的分类")
    land_area_mu: float | None = Field(description="该企业在区块内的用地（亩）")
    parcel_codes: list[str]
    tax_per_mu: float | None = Field(description="亩均税收（万元/亩，按企业全部用地）")
    evaluation_grade: str | None = Field(None, description="最近一次定档的亩均效益综合评价等级（A/B/C/D）；未定档或不参评为 null")
    evaluation_year: int | None = Field(None, description="该等级的评价年度")


class BlockSummary(Out):
    code: str
    parcel_count: int
    parcels_land_mu: float | None = Field(description="宗地面积合计（亩）")
    far_now: float | None = Field(description="现状容积率")
    far_planned: float | None = Field(description="规划容积率")
    parcels_without_enterprise: int = Field(description="未关联企业的宗地数")
    enterprises: list[BlockEnterprise]


class ParcelTiles(Out):
    url: str = Field(description="宗地矢量切片地址模板（OGC API – Tiles，MVT）")
    minzoom: int
    properties: list[str] = Field(description="切片所带属性")


class MapConfig(Out):
    basemap_url: str | None = Field(description="底图 XYZ 地址模板；空为无底图")
    basemap_attribution: str | None
    tianditu_key: str | None = Field(description="天地图浏览器端密钥；空则不提供天地图底图")
    parcel_tiles: ParcelTiles | None = Field(description="宗地矢量切片；未启用 OGC API 时为空")


class BlockExport(FeatureCollection):
    """GET /api/blocks/{code}/export?format=geojson (written by GDAL, RFC 7946): the block outline first
    (``properties.layer`` = block), then its parcels (``layer`` = parcel)."""

    name: str = Field(description="图层名（block）")
    xy_coordinate_resolution: float | None = Field(None, description="坐标精度（度），如 1e-07")
