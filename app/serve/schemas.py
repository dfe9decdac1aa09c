"""Response schemas of the read API: RFC 7946 GeoJSON (Feature, FeatureCollection with the OGC
paging members numberMatched / numberReturned / links), reused by /api, /api/map, /ogc and the
plan versions; and the small helpers that declare, in the OpenAPI document, what a route that
returns its own ``Response`` (GeoJSON text spliced in PostgreSQL, Excel, zip, MVT, HTML) sends.

The GeoJSON models describe the answer; they are not used to build it (the text comes from
PostgreSQL), so they cost nothing per request.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"
MVT = "application/vnd.mapbox-vector-tile"

BINARY: dict[str, Any] = {"type": "string", "format": "binary"}
TEXT: dict[str, Any] = {"type": "string"}

GeometryType = Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                       "GeometryCollection"]


def const(value: str, description: str | None = None) -> Any:
    """A single-valued string field whose schema also lists ``enum`` (OpenAPI 3.0 has no ``const``;
    the OGC API's 3.0 document drops ``const`` where ``enum`` says the same)."""
    return Field(description=description, json_schema_extra={"enum": [value]})


class Out(BaseModel):
    """Base of every response model: a key the code returns but the model lacks is an error
    (FastAPI validates responses), never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Link(Out):
    rel: str = Field(description="关系，如 self、next、prev、alternate、collection")
    type: str | None = Field(None, description="媒体类型")
    title: str | None = Field(None, description="标题")
    href: str = Field(description="地址")
    templated: bool | None = Field(None, description="href 为 URI 模板（切片地址）")


class Geometry(Out):
    """An RFC 7946 geometry, lon/lat (CRS84 axis order) unless the answer names another CRS."""

    type: GeometryType
    coordinates: list[Any] | None = Field(None, description="坐标（GeometryCollection 无此项）")
    geometries: list[Geometry] | None = Field(None, description="GeometryCollection 的成员")
    bbox: list[float] | None = None


class Feature(Out):
    """An RFC 7946 Feature."""

    type: Literal["Feature"] = const("Feature")
    id: str | int | None = Field(None, description="要素编号（宗地编号、区块编号、镇街代码…）")
    geometry: Geometry | None
    properties: dict[str, Any] | None = Field(description="属性（各图层的属性见 /ogc/collections/{id}/queryables）")
    bbox: list[float] | None = None
    links: list[Link] | None = Field(None, description="相关链接（OGC API 单个要素）")


class FeatureCollection(Out):
    """An RFC 7946 FeatureCollection with the OGC API – Features paging members."""

    type: Literal["FeatureCollection"] = const("FeatureCollection")
    numberMatched: int | None = Field(None, description="符合条件的要素总数")
    numberReturned: int | None = Field(None, description="本页返回的要素数")
    truncated: bool | None = Field(None, description="符合条件的要素多于 limit，只返回了前 limit 个（地图绘制用）")
    links: list[Link] | None = Field(None, description="self、next、prev 等链接")
    bbox: list[float] | None = None
    features: list[Feature]


class BlockFeature(Feature):
    """One renewal block as a Feature, with its parcels as a FeatureCollection (a foreign member)."""

    parcels: FeatureCollection = Field(description="区块内的宗地")


class FrontendConfig(Out):
    basemap_url: str | None = Field(description="底图 XYZ 地址模板；空为无底图")
    basemap_attribution: str | None = Field(description="底图版权说明")


class Health(Out):
    status: Literal["ok"] = const("ok")
    database: Literal["ok"] = const("ok")
    postgis: str = Field(description="PostGIS 版本")


# --- documenting routes that return their own Response ------------------------------------


class GeoJSONDoc(JSONResponse):
    """``response_class`` of a route that returns its own GeoJSON ``Response``: it only names the
    media type, so ``responses=content(model=FeatureCollection)`` documents the model under
    application/geo+json (FastAPI puts a response model under the route's response class's media
    type, and leaves the model's schema alone only for JSON response classes)."""

    media_type = GEOJSON


def content(model: type[BaseModel] | None = None, media: dict[str, dict[str, Any]] | None = None, *,
            status: int = 200, description: str | None = None) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a 2xx a route sends as its own ``Response``: ``model`` (under the route's
    response class's media type, application/json for a plain ``Response``) and other media types
    with their schema, e.g. ``content(FeatureCollection, {HTML: TEXT})`` or ``content(media={XLSX: BINARY})``."""
    out: dict[str, Any] = {}
    if model is not None:
        out["model"] = model
    if media:
        out["content"] = {media_type: {"schema": schema} for media_type, schema in media.items()}
    if description:
        out["description"] = description
    return {status: out}
