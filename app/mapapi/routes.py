"""The map's endpoints: /api/search, /api/map/parcels, /api/map/units, /api/export, /api/blocks/{code}/export."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select

import spatial

from ..core.db import SessionDep
from ..core.read import sql
from ..core.read.crs import crs84
from ..core.read.geojson import feature_collection
from ..core.read.layers import collections, layers
from ..core.read.params import BBoxQuery, parse_bbox
from ..core.read.pool import reader_for
from ..enums import Classification, Stage
from ..errors import InvalidParameter, NotFound, error_responses
from ..messages import message
from ..models import RenewalBlock
from ..ogc import cql
from ..serve.schemas import BINARY, FeatureCollection, GeoJSONDoc, content
from ..settings import Settings, get_settings
from . import layer_export, queries
from .schemas import BlockExport, BlockSummary, MapConfig, MapUnits, SearchResults

GEOJSON = "application/geo+json"
MAP_PARCELS_MAX = 20000
SEARCH_MAX_CHARS = 64

router = APIRouter(prefix="/api", tags=["一图 map"])


async def map_filter(
    unit: Annotated[str | None, Query(description="镇（街道、开发区）代码，如 chongfu")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="区块认定年度；给出时只含区块内宗地")] = None,
    stage: Annotated[Stage | None, Query(description="区块阶段；给出时只含区块内宗地")] = None,
    classification: Annotated[Classification | None, Query(description="宗地分类")] = None,
    kind: Annotated[
        Literal["contiguous", "scattered"] | None, Query(description="contiguous 连片（区块内）/ scattered 零星")
    ] = None,
) -> queries.MapFilter:
    return queries.MapFilter(
        unit=unit or None,
        year=year,
        stage=stage.value if stage else None,
        classification=classification.value if classification else None,
        kind=kind,
    )


FilterDep = Annotated[queries.MapFilter, Depends(map_filter)]


@router.get(
    "/map/parcels",
    summary="地图绘制用宗地（精简属性，含亩均税收）",
    response_class=GeoJSONDoc,
    responses=content(FeatureCollection),
)
async def map_parcels(
    request: Request,
    flt: FilterDep,
    bbox: BBoxQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAP_PARCELS_MAX, description=f"最多返回的宗地数（≤ {MAP_PARCELS_MAX}）")] = 5000,
) -> Response:
    """Parcels for drawing, with ``tax_per_mu`` (万元/亩) for the 亩均税收 choropleth.

    ``truncated`` is true when more parcels match than ``limit``: the map then asks again
    for a smaller box.
    """
    query = sql.page_query(layers()["map_parcels"], limit=limit, filters=flt.filters(), box=parse_bbox(bbox))
    page = await sql.feature_page(reader_for(request), query, count=False)
    head = {"numberReturned": page.number_returned, "truncated": page.has_more}
    return Response(feature_collection(head, page.features_json), media_type=GEOJSON)


def _ratio(numerator, denominator) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(float(numerator) / float(denominator), 2)


@router.get("/map/units", summary="各镇（街道、开发区）汇总：宗地数、亩数、分类、容积率、亩均税收", response_model=MapUnits)
def map_units(session: SessionDep, flt: FilterDep) -> dict:
    """Per-unit aggregates of the filtered parcels, for the map's low-zoom view and the legend."""
    units = []
    for r in queries.unit_summary_rows(session, flt):
        land_with_floor_m2 = float(r["land_with_floor_mu"] or 0) * spatial.M2_PER_MU
        far = spatial.floor_area_ratio(
            None if r["floor_area_m2"] is None else float(r["floor_area_m2"]), land_with_floor_m2
        ) if land_with_floor_m2 > 0 else None
        units.append(
            {
                "code": r["code"],
                "name": r["name"],
                "area_mu": float(r["area_mu"]),
                "is_schematic": r["is_schematic"],
                "label_point": [r["label_lon"], r["label_lat"]],
                "block_count": r["block_count"],
                "parcel_count": r["parcel_count"],
                "land_area_mu": _num(r["land_area_mu"]),
                "contiguous_mu": _num(r["contiguous_mu"]),
                "scattered_mu": _num(r["scattered_mu"]),
                "classification_mu": {
                    "upgrade": _num(r["upgrade_mu"]),
                    "transform": _num(r["transform_mu"]),
                    "clear_out": _num(r["clear_out_mu"]),
                },
                "far": None if far is None else round(far, 2),
                "tax_per_mu": _ratio(r["tax_10k_yuan"], r["land_with_tax_mu"]),
            }
        )
    return {"units": units, "parcel_count": sum(u["parcel_count"] for u in units)}


def _num(value) -> float | None:
    return None if value is None else round(float(value), 2)


@router.get("/search", summary="搜索：宗地编号、企业名称或统一社会信用代码、区块名称或编号、镇街",
            response_model=SearchResults)
def search(
    session: SessionDep,
    q: Annotated[str, Query(description="关键字，至少 1 个字符", examples=["崇福", "330483-CF-0001"])],
    limit: Annotated[int, Query(ge=1, le=50, description="最多返回条数")] = 20,
) -> dict:
    text = q.strip()
    if not text:
        raise InvalidParameter("q", message("search_empty"))
    if len(text) > SEARCH_MAX_CHARS:
        raise InvalidParameter("q", message("search_too_long", limit=SEARCH_MAX_CHARS))
    results = [
        {
            "kind": r["kind"],
            "code": r["code"],
            "label": r["label"],
            "unit_name": r["unit_name"],
            "block_code": r["block_code"],
            "parcel_code": r["parcel_code"],
            "bbox": [r["minx"], r["miny"], r["maxx"], r["maxy"]],
            "point": [r["lon"], r["lat"]],
        }
        for r in queries.search(session, text, limit)
    ]
    return {"query": text, "results": results}


EXPORT_MEDIA = {f.media_type: BINARY for f in layer_export.FORMATS.values() if f.id != "geojson"}
FormatParam = Annotated[str, Query(description="geojson / gpkg / shp（zip）/ csv / kml / dxf / xlsx")]
CrsParam = Annotated[str | None, Query(
    description="坐标系：EPSG:4490（默认，CGCS2000 经纬度）、EPSG:4549（3 度带 中央经线 120°）、EPSG:4528（3 度带 40 带）；"
                "文件中一律东坐标在前。KML 只有经纬度", examples=["EPSG:4549"])]
EncodingParam = Annotated[str, Query(description="Shapefile 属性编码：gbk（默认，中文字段名）或 utf-8（英文字段名）")]


def _download(out: layer_export.Export) -> Response:
    disposition = f"attachment; filename=\"{out.ascii_filename}\"; filename*=UTF-8''{quote(out.filename)}"
    return Response(out.body, media_type=out.media_type, headers={"Content-Disposition": disposition})


@router.get(
    "/export",
    summary="导出图层：GeoJSON、GeoPackage、Shapefile、CSV、KML、DXF、Excel，可选坐标系与筛选",
    response_class=GeoJSONDoc,
    responses={**content(FeatureCollection, EXPORT_MEDIA,
                         description="一个文件（Content-Disposition 给出中文文件名）：format=geojson 为 GeoJSON，"
                         "shp 为 zip 打包的 Shapefile（含 .prj/.cpg），其余为各自格式"),
               **error_responses(413)},
)
def export_layer(
    session: SessionDep,
    layer: Annotated[str, Query(description="图层：parcels 宗地 / blocks 连片改造区块 / approved_blocks 已认定区块 / units 镇街")],
    format: FormatParam = "geojson",  # noqa: A002 - the API's word
    crs: CrsParam = None,
    encoding: EncodingParam = "gbk",
    unit: Annotated[str | None, Query(description="镇（街道、开发区）代码，如 chongfu")] = None,
    block: Annotated[str | None, Query(description="区块编号；宗地图层可用 scattered 表示零星")] = None,
    classification: Annotated[str | None, Query(description="宗地分类：upgrade / transform / clear_out")] = None,
    kind: Annotated[str | None, Query(
        description="宗地：contiguous 连片 / scattered 零星；镇街：town / subdistrict / development_zone")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="区块认定年度")] = None,
    stage: Annotated[str | None, Query(description="区块阶段：planned / started / in_progress / completed")] = None,
    bbox: BBoxQuery = None,
    filter: Annotated[str | None, Query(description="CQL2 过滤表达式（按图层的可查询属性）")] = None,  # noqa: A002
    filter_lang: Annotated[str | None, Query(alias="filter-lang", description="cql2-text（默认）或 cql2-json")] = None,
) -> Response:
    """Every feature of ``layer`` matching the filters, as one file in ``crs`` (at most
    :data:`~app.mapapi.layer_export.MAX_FEATURES`; more is a 413). A ``crs`` not offered is a 400."""
    spec = layer_export.spec_for(layer)
    fmt = layer_export.format_for(format)
    srid = layer_export.srid_for(crs, fmt)
    enc = layer_export.encoding_for(encoding)
    filters = layer_export.request_filters(spec, unit=unit, block=block, classification=classification, kind=kind,
                                           year=year, stage=stage)
    box = parse_bbox(bbox)
    condition = None
    if filter:
        condition = cql.to_sql(spec.layer, filter, cql.language(filter_lang), crs84())
    selection = layer_export.Selection(spec, filters, box, condition)
    return _download(layer_export.export(session, selection, fmt, srid, enc))


@router.get(
    "/blocks/{code}/export",
    summary="导出区块：GeoJSON、GeoPackage、Shapefile、CSV、KML、DXF 或 Excel，可选坐标系",
    response_class=GeoJSONDoc,
    responses={**content(BlockExport, EXPORT_MEDIA,
                         description="format=geojson：区块与宗地（properties.layer 为 block 或 parcel）；"
                         "shp：zip 打包的两个 Shapefile；csv：zip 打包的两个 CSV；gpkg、kml：两个图层；"
                         "dxf：区块边界与按分类分层的宗地；xlsx：Excel（区块、宗地、企业）"),
               **error_responses(404)},
)
def export_block(
    code: str,
    session: SessionDep,
    format: FormatParam = "geojson",  # noqa: A002 - the API's word
    crs: CrsParam = None,
    encoding: EncodingParam = "gbk",
) -> Response:
    fmt = layer_export.format_for(format)
    srid = layer_export.srid_for(crs, fmt)
    enc = layer_export.encoding_for(encoding)
    return _download(layer_export.block_export(session, code, fmt, srid, enc))


def _far(floor_m2, land_mu) -> float | None:
    """FAR through ``spatial`` from summed floor area and land (亩 → m²)."""
    if floor_m2 is None or not land_mu:
        return None
    ratio = spatial.floor_area_ratio(float(floor_m2), float(land_mu) * spatial.M2_PER_MU)
    return None if ratio is None else round(ratio, 2)


@router.get("/map/blocks/{code}/summary", summary="区块面板：现状与规划容积率、企业名单（含分类、亩均税收）",
            response_model=BlockSummary, responses=error_responses(404))
def block_summary(code: str, session: SessionDep) -> dict:
    block_id = session.scalar(select(RenewalBlock.id).where(RenewalBlock.code == code))
    if block_id is None:
        raise NotFound(message("block_not_found", code=code))
    sums = queries.block_sums(session, block_id)
    enterprises = [
        {
            "name": e["name"],
            "credit_code": e["credit_code"],
            "classifications": [{"code": c, "label": Classification(c).label} for c in (e["classifications"] or [])],
            "land_area_mu": _num(e["land_area_mu"]),
            "parcel_codes": e["parcel_codes"],
            "tax_per_mu": _ratio(e["tax_10k_yuan"], e["all_land_mu"]),
            "evaluation_grade": e["evaluation_grade"],
            "evaluation_year": e["evaluation_year"],
        }
        for e in queries.block_enterprises(session, block_id)
    ]
    return {
        "code": code,
        "parcel_count": sums["parcel_count"],
        "parcels_land_mu": _num(sums["land_area_mu"]),
        "far_now": _far(sums["floor_area_m2"], sums["land_with_floor_mu"]),
        "far_planned": _far(sums["planned_floor_area_m2"], sums["land_with_planned_mu"]),
        "parcels_without_enterprise": sums["parcels_without_enterprise"],
        "enterprises": enterprises,
    }


def _parcel_tiles(request: Request) -> dict | None:
    """The OGC API's parcel vector tiles and the properties they carry, when that API is routed."""
    template = "/ogc/collections/{collectionId}/tiles/WebMercatorQuad/{z}/{x}/{y}"
    # Included routers are not flattened into app.routes here; the OpenAPI paths (built once, cached) are.
    if template not in request.app.openapi().get("paths", {}):
        return None
    parcels = collections().get("parcels")
    if parcels is None:
        return None
    return {
        "url": "/ogc/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}",
        "minzoom": parcels.tile_minzoom,
        "properties": list(parcels.tile_properties),
    }


@router.get("/map/config", summary="地图前端配置：底图、矢量切片", tags=["service"], response_model=MapConfig)
def map_config(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> dict:
    """What the map may offer. The 天地图 key is a browser key by design (tiles are fetched by the browser)."""
    return {
        "basemap_url": settings.basemap_url or None,
        "basemap_attribution": settings.basemap_attribution or None,
        "tianditu_key": settings.tianditu_key or None,
        "parcel_tiles": _parcel_tiles(request),
    }
