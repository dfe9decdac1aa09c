"""``GET /ows`` (and ``/wms``, ``/wfs``): WMS 1.3.0 and WFS 2.0, answered by MapServer.

The API-key gate (app.ogc.gate) has already let the request in. The query string goes to
MapServer as it came (``service=WMS&request=GetMap&…``, any case), so its OGC exception
reports answer malformed requests, as OGC clients expect; only a missing or failing MapServer
is answered by the service, with the error envelope (503).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.engine import make_url

from ..core.read.pool import reader_for
from ..errors import InvalidParameter, error_responses
from ..messages import message
from ..ogc.gate import SCOPE_KEY
from .proxy import OwsRuntime

SERVICES = ("WMS", "WFS")
router = APIRouter(tags=["WMS / WFS"])

BINARY = {"type": "string", "format": "binary"}
TEXT = {"type": "string"}
ANSWERS = {
    200: {
        "description": "MapServer 的应答：能力文档、地图图片、要素（GML 3.2 或 GeoJSON）、图例或 OGC 异常报告",
        "content": {
            "text/xml": {"schema": TEXT},
            "application/gml+xml": {"schema": TEXT},
            "application/json": {"schema": {"type": "object"}},
            "image/png": {"schema": BINARY},
            "image/jpeg": {"schema": BINARY},
            "text/html": {"schema": TEXT},
            "text/plain": {"schema": TEXT},
        },
    },
    **error_responses(400, 503),
}
DESCRIPTION = (
    "OGC WMS 1.3.0（GetCapabilities、GetMap、GetFeatureInfo、GetLegendGraphic）与 WFS 2.0"
    "（GetCapabilities、DescribeFeatureType、GetFeature，支持 count/startIndex 分页、bbox、FES 过滤，"
    "GML 3.2 与 GeoJSON 输出）。参数按 OGC 标准写在查询串中，例如 service=WMS&request=GetCapabilities。"
    "图层：units、blocks、approved_blocks、parcels。"
)


def _runtime(request: Request) -> OwsRuntime:
    state = request.app.state
    runtime = getattr(state, "ows", None)
    if runtime is None:
        replica = state.settings.database_replica_url
        runtime = state.ows = OwsRuntime(state.engine.url, make_url(replica) if replica else None)
    return runtime


def _check_service(request: Request) -> None:
    """``service`` (any case) must be WMS or WFS: without it MapServer answers an English HTML page."""
    params = {k.lower(): v for k, v in reversed(request.query_params.multi_items())}  # the first value wins
    service = params.get("service")
    if service is None and params.get("request", "").lower() == "getmetadata":
        return  # the layers' ISO 19139 metadata, linked from the capabilities without a service
    if service is None or service.strip().upper() not in SERVICES:
        raise InvalidParameter("service", message("ows_service_required", value=service or ""))


async def ows(request: Request) -> Response:
    _check_service(request)
    url = request.url
    base = str(url.replace(query="", fragment=""))
    answer = await _runtime(request).run(
        reader_for(request), url.query, base, request.scope.get(SCOPE_KEY),
        url.hostname or "localhost", str(url.port or (443 if url.scheme == "https" else 80)),
    )
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type, headers=answer.headers)


for _path, _summary in (("/ows", "WMS 与 WFS（MapServer）"), ("/wms", "WMS（/ows 的别名）"), ("/wfs", "WFS（/ows 的别名）")):
    router.add_api_route(_path, ows, methods=["GET"], summary=_summary, description=DESCRIPTION,
                         response_class=Response, responses=ANSWERS, name=f"ows{_path.replace('/', '_')}")
