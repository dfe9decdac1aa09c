"""/api/parks: the 开发区 and 镇街工业园区 as GeoJSON (the shared read path), one park with its ETag, and
the GIS staff's attribute corrections and removal (If-Match). Boundaries come by upload (target parks)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from ..auth.deps import Principal, require_role
from ..auth.roles import Role
from ..core.concurrency import check_if_match, set_etag
from ..core.db import SessionDep
from ..core.read import sql
from ..core.read.layers import layers
from ..core.read.params import BBoxQuery
from ..core.read.pool import reader_for
from ..enums import ParkKind
from ..errors import NotFound, error_responses
from ..messages import message
from ..serve.routes import COLLECTION, GEOJSON, PagingDep, _collection, _must_exist
from ..serve.schemas import Feature, GeoJSONDoc, content
from . import service
from .schemas import ParkDeleted, ParkUpdate

router = APIRouter(prefix="/api/parks", tags=["开发区和镇街工业园区"])
Editor = Annotated[Principal, Depends(require_role(Role.GIS_STAFF, Role.ADMIN))]


@router.get("", summary="开发区和镇街工业园区（GeoJSON）", response_class=GeoJSONDoc, responses=COLLECTION)
async def list_parks(
    request: Request,
    paging: PagingDep,
    bbox: BBoxQuery = None,
    unit: Annotated[str | None, Query(description="所属镇（街道）代码，如 chongfu")] = None,
    kind: Annotated[ParkKind | None, Query(description="类型：development_zone 开发区 / town_park 镇街工业园区")] = None,
) -> Response:
    filters: list[tuple[str, object]] = []
    if unit is not None:
        filters.append(("unit", unit))
    if kind is not None:
        filters.append(("kind", kind.value))
    page, response = await _collection(request, layers()["parks"], paging, filters, bbox)
    if page.number_matched == 0:
        await _must_exist(reader_for(request), "unit", unit)
    return response


@router.get("/{code}", summary="一个园区（GeoJSON Feature，ETag 为其版本）", response_class=GeoJSONDoc,
            responses={**content(Feature), **error_responses(404)})
def get_park(session: SessionDep, code: str) -> Response:
    park = service.get(session, code)
    feature = sql.one_feature_on(session, layers()["parks"], code)
    if feature is None:  # pragma: no cover - the row was just read
        raise NotFound(message("park_not_found", code=code))
    response = Response(feature, media_type=GEOJSON)
    set_etag(response, park.row_version)
    return response


@router.patch("/{code}", summary="修改园区属性（GIS 人员、管理员，需 If-Match；范围通过上传更新）",
              response_class=GeoJSONDoc,
              responses={**content(Feature), **error_responses(400, 401, 403, 404, 409, 422, 428)})
def update_park(session: SessionDep, user: Editor, code: str, body: ParkUpdate, request: Request) -> Response:
    park = service.get(session, code)
    check_if_match(session, request, park, message("park_what"))
    service.update(session, park, body)
    feature = sql.one_feature_on(session, layers()["parks"], code)
    response = Response(feature, media_type=GEOJSON)
    set_etag(response, park.row_version)
    return response


@router.delete("/{code}", summary="删除园区（GIS 人员、管理员，需 If-Match）", response_model=ParkDeleted,
               responses=error_responses(401, 403, 404, 409, 428))
def delete_park(session: SessionDep, user: Editor, code: str, request: Request) -> dict:
    park = service.get(session, code)
    check_if_match(session, request, park, message("park_what"))
    service.delete(session, park)
    return {"code": code, "deleted": True}
