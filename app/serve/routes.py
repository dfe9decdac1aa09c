"""The first-cut read API: /api/units, /api/blocks, /api/parcels as RFC 7946 GeoJSON."""

from __future__ import annotations

import math
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select, text

from ..core.db import SessionDep
from ..enums import Classification, Stage
from ..errors import InvalidParameter, NotFound
from ..messages import message
from ..models import Parcel, RenewalBlock, Unit
from ..settings import Settings, get_settings
from . import queries
from .queries import BBox

GEOJSON = "application/geo+json"

router = APIRouter(prefix="/api", tags=["一图 GeoJSON"])


def parse_bbox(raw: str | None) -> BBox | None:
    """``minLon,minLat,maxLon,maxLat`` in EPSG:4490 degrees, or a 400 saying what is wrong."""
    if raw is None or raw == "":
        return None
    parts = raw.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InvalidParameter("bbox", message("bbox_format"))
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidParameter("bbox", message("bbox_range"))
    if minx > maxx or miny > maxy:
        raise InvalidParameter("bbox", message("bbox_order"))
    return BBox(minx, miny, maxx, maxy)


class Paging:
    """``limit`` / ``offset`` with the configured default and maximum."""

    def __init__(
        self,
        settings: Annotated[Settings, Depends(get_settings)],
        limit: Annotated[int | None, Query(ge=1, description="每页要素数（默认 1000，最大 5000，可配置）")] = None,
        offset: Annotated[int, Query(ge=0, description="跳过的要素数")] = 0,
    ) -> None:
        if limit is not None and limit > settings.page_max_limit:
            raise InvalidParameter("limit", f"不能大于 {settings.page_max_limit}")
        self.limit = limit or settings.page_default_limit
        self.offset = offset


BBoxQuery = Annotated[
    str | None,
    Query(description="经纬度范围（EPSG:4490）：最小经度,最小纬度,最大经度,最大纬度", examples=["120.50,30.60,120.60,30.70"]),
]
PagingDep = Annotated[Paging, Depends()]


def _links(request: Request, page: queries.Page, paging: Paging) -> list[dict]:
    links = [{"rel": "self", "type": GEOJSON, "href": str(request.url)}]
    if paging.offset + page.number_returned < page.number_matched:
        nxt = request.url.include_query_params(offset=paging.offset + paging.limit, limit=paging.limit)
        links.append({"rel": "next", "type": GEOJSON, "href": str(nxt)})
    if paging.offset > 0:
        prev = request.url.include_query_params(offset=max(0, paging.offset - paging.limit), limit=paging.limit)
        links.append({"rel": "prev", "type": GEOJSON, "href": str(prev)})
    return links


def collection_response(request: Request, page: queries.Page, paging: Paging) -> Response:
    head = orjson.dumps(
        {
            "type": "FeatureCollection",
            "numberMatched": page.number_matched,
            "numberReturned": page.number_returned,
            "links": _links(request, page, paging),
        }
    )
    # Splice the features text from PostgreSQL in without re-parsing it.
    body = head[:-1] + b',"features":' + page.features_json.encode() + b"}"
    return Response(body, media_type=GEOJSON)


def _unit_id(session, code: str | None) -> int | None:
    if code is None:
        return None
    unit_id = session.scalar(select(Unit.id).where(Unit.code == code))
    if unit_id is None:
        raise InvalidParameter("unit", message("unknown_unit", code=code))
    return unit_id


@router.get("/units", summary="镇（街道、开发区）边界", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def list_units(request: Request, session: SessionDep, paging: PagingDep, bbox: BBoxQuery = None) -> Response:
    layer = queries.layers()["units"]
    where = []
    if (box := parse_bbox(bbox)) is not None:
        where.append(queries.bbox_filter(layer.geom, box))
    page = queries.feature_page(session, layer, where, paging.limit, paging.offset)
    return collection_response(request, page, paging)


@router.get("/blocks", summary="连片改造区块", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def list_blocks(
    request: Request,
    session: SessionDep,
    paging: PagingDep,
    bbox: BBoxQuery = None,
    unit: Annotated[str | None, Query(description="镇（街道、开发区）代码，如 chongfu")] = None,
    stage: Annotated[Stage | None, Query(description="阶段：planned 谋划 / started 启动 / in_progress 推进 / completed 完成")] = None,
) -> Response:
    layer = queries.layers()["blocks"]
    where = []
    if (box := parse_bbox(bbox)) is not None:
        where.append(queries.bbox_filter(layer.geom, box))
    if (unit_id := _unit_id(session, unit)) is not None:
        where.append(RenewalBlock.unit_id == unit_id)
    if stage is not None:
        where.append(RenewalBlock.stage == stage)
    page = queries.feature_page(session, layer, where, paging.limit, paging.offset)
    return collection_response(request, page, paging)


@router.get("/parcels", summary="宗地", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def list_parcels(
    request: Request,
    session: SessionDep,
    paging: PagingDep,
    bbox: BBoxQuery = None,
    unit: Annotated[str | None, Query(description="镇（街道、开发区）代码")] = None,
    block: Annotated[str | None, Query(description="区块编号；scattered 表示零星地块（不在区块内）")] = None,
    classification: Annotated[
        Classification | None, Query(description="分类：upgrade 改造提升 / transform 优化转型 / clear_out 整治清退")
    ] = None,
) -> Response:
    layer = queries.layers()["parcels"]
    where = []
    if (box := parse_bbox(bbox)) is not None:
        where.append(queries.bbox_filter(layer.geom, box))
    if (unit_id := _unit_id(session, unit)) is not None:
        where.append(Parcel.unit_id == unit_id)
    if block == "scattered":
        where.append(Parcel.block_id.is_(None))
    elif block is not None:
        block_id = session.scalar(select(RenewalBlock.id).where(RenewalBlock.code == block))
        if block_id is None:
            raise InvalidParameter("block", message("unknown_block", code=block))
        where.append(Parcel.block_id == block_id)
    if classification is not None:
        where.append(Parcel.classification == classification)
    page = queries.feature_page(session, layer, where, paging.limit, paging.offset)
    return collection_response(request, page, paging)


@router.get("/blocks/{code}", summary="单个区块及其宗地", response_class=Response, responses={200: {"content": {GEOJSON: {}}}})
def get_block(code: str, session: SessionDep) -> Response:
    blocks = queries.layers()["blocks"]
    page = queries.feature_page(session, blocks, [RenewalBlock.code == code])
    if page.number_returned == 0:
        raise NotFound(message("not_found", what=f"区块“{code}”"))
    block_id = session.scalar(select(RenewalBlock.id).where(RenewalBlock.code == code))
    parcels = queries.feature_page(session, queries.layers()["parcels"], [Parcel.block_id == block_id])
    feature = page.features_json.strip()[1:-1]  # the one feature object of the array
    body = (
        feature[:-1]
        + ',"parcels":{"type":"FeatureCollection","numberMatched":%d,"numberReturned":%d,"features":%s}}'
        % (parcels.number_matched, parcels.number_returned, parcels.features_json)
    )
    return Response(body.encode(), media_type=GEOJSON)


@router.get("/config", summary="前端配置", tags=["service"])
def frontend_config(settings: Annotated[Settings, Depends(get_settings)]) -> dict:
    return {
        "basemap_url": settings.basemap_url or None,
        "basemap_attribution": settings.basemap_attribution or None,
    }


health_router = APIRouter(tags=["service"])


@health_router.get("/healthz", summary="健康检查（含数据库）")
def healthz(session: SessionDep) -> dict:
    postgis = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    return {"status": "ok", "database": "ok", "postgis": postgis}
