"""Response schemas of the OGC API at /ogc (documents the routes build themselves and send as JSON
text; features use app.serve.schemas). They must also be valid OpenAPI 3.0 once
app.ogc.openapi rewrites them (no ``const`` without ``enum``, no tuples)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ..serve.schemas import Link, const

SCHEMA_JSON = "application/schema+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


class Out(BaseModel):
    """A response model (a key the code sends but the model lacks is an error, never silently dropped)."""

    model_config = ConfigDict(extra="forbid")


class SchemaJSONDoc(JSONResponse):
    """``response_class`` naming application/schema+json, so a model is documented under it
    (the route returns its own ``Response``)."""

    media_type = SCHEMA_JSON


class Landing(Out):
    title: str
    description: str
    links: list[Link] = Field(description="service-desc、conformance、data 等")


class Conformance(Out):
    conformsTo: list[str] = Field(description="符合的标准类（URI）")


class SpatialExtent(Out):
    bbox: list[list[float]] = Field(description="[[最小经度, 最小纬度, 最大经度, 最大纬度]]")
    crs: str = Field(description="CRS84")


class Extent(Out):
    spatial: SpatialExtent


class Collection(Out):
    id: str = Field(description="集合编号，如 units、blocks、parcels")
    title: str
    description: str
    itemType: str = const("feature")
    crs: list[str] = Field(description="可用的输出坐标系（URI）")
    storageCrs: str = Field(description="存储坐标系（CGCS2000，EPSG:4490）")
    links: list[Link]
    extent: Extent | None = Field(None, description="范围；集合为空时没有此项")


class Collections(Out):
    links: list[Link]
    crs: list[str] = Field(description="可用的输出坐标系（URI）")
    collections: list[Collection]


class Queryables(Out):
    """The JSON Schema of a collection's queryable and sortable properties (OGC API – Features Part 3)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: str = Field(alias="$schema", description="https://json-schema.org/draft/2020-12/schema")
    id_: str = Field(alias="$id", description="本文档地址")
    type: str = const("object")
    title: str
    properties: dict[str, dict[str, Any]] = Field(description="属性名 → JSON Schema（title、type、enum …）")
    additionalProperties: bool


class TileMatrixSetLink(Out):
    title: str
    dataType: str = const("vector")
    crs: str
    tileMatrixSetURI: str
    links: list[Link]


class TileSets(Out):
    links: list[Link]
    tilesets: list[TileMatrixSetLink]


class TileMatrixLimits(Out):
    tileMatrix: str = Field(description="缩放级别")
    minTileRow: int
    maxTileRow: int
    minTileCol: int
    maxTileCol: int


class TileLayer(Out):
    id: str
    dataType: str = const("vector")
    geometryType: str = const("polygons")
    minTileMatrix: str
    maxTileMatrix: str


class TileSet(Out):
    title: str
    dataType: str = const("vector")
    crs: str
    tileMatrixSetURI: str
    tileMatrixSetLimits: list[TileMatrixLimits] = Field(description="提供切片的级别及其行列范围")
    layers: list[TileLayer]
    links: list[Link] = Field(description="item 为切片地址模板 {tileMatrix}/{tileCol}/{tileRow}")


class VectorLayer(Out):
    id: str
    description: str | None = Field(None, description="图层说明")
    fields: dict[str, str] = Field(description="属性名 → Number 或 String")
    minzoom: int
    maxzoom: int


class TileJSON(Out):
    """TileJSON 3.0.0 of a collection's vector tiles (MapLibre, Mapbox GL, QGIS)."""

    tilejson: str = const("3.0.0")
    name: str
    description: str
    scheme: str = const("xyz")
    tiles: list[str] = Field(description="切片地址模板 {z}/{x}/{y}")
    minzoom: int
    maxzoom: int
    bounds: list[float] = Field(description="[最小经度, 最小纬度, 最大经度, 最大纬度]")
    center: list[float] = Field(description="[经度, 纬度, 缩放级别]")
    vector_layers: list[VectorLayer]


# --- /api/apikeys (the admin's screen) ---------------------------------------------------------


class ApiKeyOut(Out):
    """An API key as the admin sees it: who holds it, how fast it may ask, whether it still works."""

    id: int = Field(description="密钥编号")
    name: str = Field(description="使用单位（系统名称）")
    prefix: str = Field(description="密钥前缀（用于辨认，不是密钥）")
    hint: str = Field(description="密钥的开头，如 cmk_1a2b3c4d_…")
    rate_limit_per_minute: int = Field(description="每分钟请求上限")
    created_at: str = Field(description="创建时间")
    revoked: bool = Field(description="已停用")
    revoked_at: str | None = Field(description="停用时间")
    scope: Literal["ogc_read", "figures_write"] = Field(description="用途：ogc_read 只读（OGC 接口）/ figures_write 报送部门数据")
    department: str | None = Field(description="报送部门（报送部门数据的密钥）")
    figure_fields: list[str] | None = Field(description="可报送的数据项；为空表示全部")


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="完整密钥：只在新建时给出一次，之后无法再查看")


class ApiKeyList(Out):
    keys: list[ApiKeyOut]
