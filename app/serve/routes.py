"""The read API: /api/units, /api/blocks, /api/parcels as RFC 7946 GeoJSON (offset paging).

The same layers and the same compiled statements as /ogc (app.core.read), on the same pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import String, bindparam, select, text

from ..core.db import SessionDep
from ..core.read import sql
from ..core.read.geojson import feature_collection
from ..core.read.layers import Layer, layers
from ..core.read.params import BBoxQuery, LimitQuery, OffsetQuery, page_limit, parse_bbox
from ..core.read.pool import Reader, Sql, compile_sql, reader_for
from ..enums import Classification, Stage
from ..errors import InvalidParameter, NotFound, error_responses
from ..messages import message
from ..models import RenewalBlock, Unit
from ..settings import Settings, get_settings
from .schemas import BlockFeature, FeatureCollection, FrontendConfig, GeoJSONDoc, Health, content

GEOJSON = "application/geo+json"
BLOCK_PARCELS_MAX = 100_000  # a block's parcels come in one response

router = APIRouter(prefix="/api", tags=["一图 GeoJSON"])


@dataclass(frozen=True)
class Paging:
    """``limit`` / ``offset`` with the configured default and maximum."""

    limit: int
    offset: int


async def paging(request: Request, limit: LimitQuery = None, offset: OffsetQuery = 0) -> Paging:
    # async, and the settings from the app itself: a page costs no thread hop for its parameters
    return Paging(page_limit(request.app.state.settings, limit), offset)


PagingDep = Annotated[Paging, Depends(paging)]


def _links(request: Request, page: sql.Page, paging: Paging) -> list[dict]:
    links = [{"rel": "self", "type": GEOJSON, "href": str(request.url)}]
    if paging.offset + page.number_returned < page.number_matched:
        nxt = request.url.include_query_params(offset=paging.offset + paging.limit, limit=paging.limit)
        links.append({"rel": "next", "type": GEOJSON, "href": str(nxt)})
    if paging.offset > 0:
        prev = request.url.include_query_params(offset=max(0, paging.offset - paging.limit), limit=paging.limit)
        links.append({"rel": "prev", "type": GEOJSON, "href": str(prev)})
    return links


async def _collection(request: Request, layer: Layer, paging: Paging, filters: list[tuple[str, object]],
                      bbox: str | None) -> tuple[sql.Page, Response]:
    query = sql.page_query(layer, limit=paging.limit, offset=paging.offset, filters=filters, box=parse_bbox(bbox))
    page = await sql.feature_page(reader_for(request), query)
    head = {"numberMatched": page.number_matched, "numberReturned": page.number_returned,
            "links": _links(request, page, paging)}
    return page, Response(feature_collection(head, page.features_json), media_type=GEOJSON)


@lru_cache(maxsize=2)
def _exists_sql(kind: str) -> Sql:
    column = Unit.code if kind == "unit" else RenewalBlock.code
    return compile_sql(select(column).where(column == bindparam("code", type_=String)))


async def _must_exist(reader: Reader, kind: str, code: str | None) -> None:
    """A filter naming a unit or block that does not exist is a 400 (asked only when nothing matched)."""
    if code is None or await reader.one(_exists_sql(kind), {"code": code}) is not None:
        return
    key = "unknown_unit" if kind == "unit" else "unknown_block"
    raise InvalidParameter(kind, message(key, code=code))


COLLECTION = content(FeatureCollection)


@router.get("/units", summary="镇（街道、开发区）边界", response_class=GeoJSONDoc, responses=COLLECTION)
async def list_units(request: Request, paging: PagingDep, bbox: BBoxQuery = None) -> Response:
    _page, response = await _collection(request, layers()["units"], paging, [], bbox)
    return response


@router.get("/blocks", summary="连片改造区块", response_class=GeoJSONDoc, responses=COLLECTION)
async def list_blocks(
    request: Request,
    paging: PagingDep,
    bbox: BBoxQuery = None,
    unit: Annotated[str | None, Query(description="镇（街道、开发区）代码，如 chongfu")] = None,
    stage: Annotated[Stage | None, Query(description="阶段：planned 谋划 / started 启动 / in_progress 推进 / completed 完成")] = None,
) -> Response:
    filters: list[tuple[str, object]] = []
    if unit is not None:
        filters.append(("unit", unit))
    if stage is not None:
        filters.append(("stage", stage.value))
    page, response = await _collection(request, layers()["blocks"], paging, filters, bbox)
    if page.number_matched == 0:
        await _must_exist(reader_for(request), "unit", unit)
    return response


@router.get("/parcels", summary="宗地", response_class=GeoJSONDoc, responses=COLLECTION)
async def list_parcels(
    request: Request,
    paging: PagingDep,
    bbox: BBoxQuery = None,
    unit: Annotated[str | None, Query(description="镇（街道、开发区）代码")] = None,
    block: Annotated[str | None, Query(description="区块编号；scattered 表示零星地块（不在区块内）")] = None,
    classification: Annotated[
        Classification | None, Query(description="分类：upgrade 改造提升 / transform 优化转型 / clear_out 整治清退")
    ] = None,
) -> Response:
    filters: list[tuple[str, object]] = []
    if unit is not None:
        filters.append(("unit", unit))
    if block == "scattered":
        filters.append(("scattered", None))
    elif block is not None:
        filters.append(("block", block))
    if classification is not None:
        filters.append(("classification", classification.value))
    page, response = await _collection(request, layers()["parcels"], paging, filters, bbox)
    if page.number_matched == 0:
        reader = reader_for(request)
        await _must_exist(reader, "unit", unit)
        await _must_exist(reader, "block", None if block == "scattered" else block)
    return response


@router.get("/blocks/{code}", summary="单个区块及其宗地", response_class=GeoJSONDoc,
            responses={**content(BlockFeature), **error_responses(404)})
async def get_block(request: Request, code: str) -> Response:
    reader = reader_for(request)
    feature = await sql.one_feature(reader, layers()["blocks"], code)
    if feature is None:
        raise NotFound(message("block_not_found", code=code))
    query = sql.page_query(layers()["parcels"], limit=BLOCK_PARCELS_MAX, filters=[("block", code)])
    parcels = await sql.feature_page(reader, query)
    nested = feature_collection({"numberMatched": parcels.number_matched, "numberReturned": parcels.number_returned},
                                parcels.features_json)
    body = feature[:-1].encode() + b',"parcels":' + nested + b"}"
    return Response(body, media_type=GEOJSON)


@router.get("/config", summary="前端配置", tags=["service"], response_model=FrontendConfig)
def frontend_config(settings: Annotated[Settings, Depends(get_settings)]) -> dict:
    return {
        "basemap_url": settings.basemap_url or None,
        "basemap_attribution": settings.basemap_attribution or None,
    }


health_router = APIRouter(tags=["service"])


@health_router.get("/healthz", summary="健康检查（含数据库）", response_model=Health)
def healthz(session: SessionDep) -> dict:
    postgis = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    return {"status": "ok", "database": "ok", "postgis": postgis}

