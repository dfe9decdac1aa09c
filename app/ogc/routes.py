"""OGC API – Features (Parts 1, 2, 3) and vector tiles, rooted at /ogc."""

from __future__ import annotations

import hashlib
import math
from typing import Annotated

import anyio
import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from ..core.read import crs as crs_mod
from ..core.read import sql
from ..core.read.crs import ServedCrs
from ..core.read.geojson import feature_collection
from ..core.read.layers import Layer, Prop, collections
from ..core.read.params import BBoxQuery, CursorQuery, LimitQuery, page_limit, parse_bbox
from ..core.read.pool import reader_for
from ..errors import InvalidParameter, NotFound, error_responses
from ..messages import message
from ..serve.schemas import BINARY, TEXT, Feature, FeatureCollection, GeoJSONDoc, content
from ..settings import Settings
from . import cql, html, tiles
from .gate import SCOPE_KEY, keyed
from .schemas import (
    Collection,
    Collections,
    Conformance,
    Landing,
    Queryables,
    SchemaJSONDoc,
    TileJSON,
    TileSet,
    TileSets,
)

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
MVT = "application/vnd.mapbox-vector-tile"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/sortables",
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
]

ITEMS_PARAMS = {"f", "limit", "bbox", "bbox-crs", "crs", "filter", "filter-lang", "filter-crs", "sortby", "cursor",
                "datetime"}

# The gate (app.ogc.gate) answers 401 for a missing or revoked API key (when anonymous use is off) and 429
# over the key's rate limit, on every /ogc route.
router = APIRouter(prefix="/ogc", tags=["OGC API – Features"], responses=error_responses(401, 429))
UNKNOWN = error_responses(404)  # an unknown collection, feature or tile


# -- representation -------------------------------------------------------------------
def wants_html(request: Request, f: str | None) -> bool:
    if f is not None:
        value = f.lower()
        if value in {"html", "text/html"}:
            return True
        if value in {"json", "geojson", "application/json", "application/geo+json"}:
            return False
        raise InvalidParameter("f", message("ogc_bad_format", value=f))
    accept = request.headers.get("accept", "")
    return HTML in accept and "json" not in accept.split(HTML)[0]


FormatQuery = Annotated[str | None, Query(description="返回格式：json 或 html（也可用 Accept 请求头）")]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _carry(request: Request, node):
    """Every link of a document with the client's ``apikey`` added when it came in the query (in place)."""
    if request.scope.get(SCOPE_KEY) is None:
        return node
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "href" and isinstance(v, str):
                node[k] = keyed(request, v)
            elif k == "tiles" and isinstance(v, list):
                node[k] = [keyed(request, t) if isinstance(t, str) else t for t in v]
            elif isinstance(v, (dict, list)):
                _carry(request, v)
    elif isinstance(node, list):
        for v in node:
            _carry(request, v)
    return node


def _json(request: Request, doc: dict, media_type: str = JSON, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(_carry(request, doc)), media_type=media_type, headers=headers)


def _settings(request: Request) -> Settings:
    """The app's settings (the object ``create_app`` was given), without a dependency to resolve."""
    return request.app.state.ogc.settings


def _collection_or_404(collection_id: str) -> Layer:
    c = collections().get(collection_id)
    if c is None:
        raise NotFound(message("ogc_unknown_collection", id=collection_id, ids="、".join(collections())))
    return c


def _resolve_crs(field: str, raw: str | None, default: ServedCrs) -> ServedCrs:
    if raw is None or raw == "":
        return default
    served = crs_mod.resolve(raw)
    if served is None:
        raise InvalidParameter(
            field, message("ogc_unsupported_crs", crs=raw, allowed="、".join(crs_mod.served_crs()))
        )
    return served


# -- landing, conformance, API --------------------------------------------------------
@router.get("", summary="OGC API 入口（landing page）", response_class=Response,
            responses=content(Landing, {HTML: TEXT}))
def landing(request: Request, f: FormatQuery = None) -> Response:
    base = _base(request)
    doc = {
        "title": "桐乡工业全域治理云图 OGC API",
        "description": "镇街、连片改造区块与宗地的 OGC API – Features（含 CRS、CQL2 过滤）与矢量切片。",
        "links": [
            {"rel": "self", "type": JSON, "title": "本页（JSON）", "href": f"{base}?f=json"},
            {"rel": "alternate", "type": HTML, "title": "本页（HTML）", "href": f"{base}?f=html"},
            {"rel": "service-desc", "type": OPENAPI, "title": "OpenAPI 3.0 定义", "href": f"{base}/api"},
            {"rel": "service-doc", "type": HTML, "title": "接口文档", "href": f"{base}/api?f=html"},
            {"rel": "conformance", "type": JSON, "title": "符合的标准类", "href": f"{base}/conformance"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/conformance", "type": JSON, "href": f"{base}/conformance"},
            {"rel": "data", "type": JSON, "title": "要素集合", "href": f"{base}/collections"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/data", "type": JSON, "href": f"{base}/collections"},
        ],
    }
    if wants_html(request, f):
        return HTMLResponse(html.landing(_carry(request, doc)))
    return _json(request, doc)


@router.get("/conformance", summary="符合的标准类（conformance）", response_class=Response,
            responses=content(Conformance, {HTML: TEXT}))
def conformance(request: Request, f: FormatQuery = None) -> Response:
    doc = {"conformsTo": CONFORMANCE}
    if wants_html(request, f):
        return HTMLResponse(html.conformance(_carry(request, doc)))
    return _json(request, doc)


@router.get("/api", summary="OpenAPI 3.0 定义", response_class=Response,
            responses=content(media={OPENAPI: {"type": "object", "description": "OpenAPI 3.0 文档"}, HTML: TEXT}))
def api_definition(request: Request, f: FormatQuery = None) -> Response:
    if wants_html(request, f):
        return HTMLResponse(html.redirect_page("/docs"))
    from .openapi import ogc_openapi

    return _json(request, ogc_openapi(request.app, _base(request)), media_type=OPENAPI)


# -- collections ----------------------------------------------------------------------
def _collection_doc(request: Request, c: Layer, extent: list[float] | None) -> dict:
    base = _base(request)
    href = f"{base}/collections/{c.id}"
    doc = {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": list(crs_mod.served_crs()),
        "storageCrs": crs_mod.storage().uri,
        "links": [
            {"rel": "self", "type": JSON, "href": f"{href}?f=json"},
            {"rel": "alternate", "type": HTML, "href": f"{href}?f=html"},
            {"rel": "items", "type": GEOJSON, "title": "要素（GeoJSON）", "href": f"{href}/items?f=json"},
            {"rel": "items", "type": HTML, "title": "要素（HTML）", "href": f"{href}/items?f=html"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": SCHEMA_JSON,
             "title": "可查询属性", "href": f"{href}/queryables"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/sortables", "type": SCHEMA_JSON,
             "title": "可排序属性", "href": f"{href}/queryables"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "type": JSON,
             "title": "矢量切片", "href": f"{href}/tiles"},
        ],
    }
    if extent is not None:
        doc["extent"] = {"spatial": {"bbox": [extent], "crs": crs_mod.CRS84}}
    return doc


@router.get("/collections", summary="要素集合列表", response_class=Response,
            responses=content(Collections, {HTML: TEXT}))
async def list_collections(request: Request, f: FormatQuery = None) -> Response:
    base = _base(request)
    reader = reader_for(request)
    docs = [_collection_doc(request, c, await sql.extent(reader, c)) for c in collections().values()]
    doc = {
        "links": [
            {"rel": "self", "type": JSON, "href": f"{base}/collections?f=json"},
            {"rel": "alternate", "type": HTML, "href": f"{base}/collections?f=html"},
        ],
        "crs": list(crs_mod.served_crs()),
        "collections": docs,
    }
    if wants_html(request, f):
        return HTMLResponse(html.collections(_carry(request, doc)))
    return _json(request, doc)


CollectionId = Annotated[str, Path(description="集合编号：units、blocks、parcels")]


@router.get("/collections/{collectionId}", summary="单个要素集合", response_class=Response,
            responses={**content(Collection, {HTML: TEXT}), **UNKNOWN})
async def get_collection(
    request: Request, collection_id: Annotated[str, Path(alias="collectionId")], f: FormatQuery = None,
) -> Response:
    c = _collection_or_404(collection_id)
    doc = _collection_doc(request, c, await sql.extent(reader_for(request), c))
    if wants_html(request, f):
        return HTMLResponse(html.collection(_carry(request, doc), c))
    return _json(request, doc)


@router.get("/collections/{collectionId}/queryables", summary="可查询、可排序的属性（JSON Schema）",
            response_class=SchemaJSONDoc, responses={**content(Queryables, {HTML: TEXT}), **UNKNOWN})
def queryables(
    request: Request, collection_id: Annotated[str, Path(alias="collectionId")], f: FormatQuery = None
) -> Response:
    c = _collection_or_404(collection_id)
    href = f"{_base(request)}/collections/{c.id}/queryables"
    props = {"geometry": {"title": "几何（多面）", "format": "geometry-multipolygon",
                          "$ref": "https://geojson.org/schema/MultiPolygon.json"}}
    props.update({q.name: q.schema() for q in c.queryable.values()})
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": href,
        "type": "object",
        "title": c.title,
        "properties": props,
        "additionalProperties": False,
    }
    if wants_html(request, f):
        return HTMLResponse(html.queryables(_carry(request, doc), c))
    return _json(request, doc, media_type=SCHEMA_JSON)


# -- items ----------------------------------------------------------------------------
def _property_filters(c: Layer, request: Request) -> list[tuple[str, object]]:
    """``name=value`` parameters: each a queryable's equality (``=name``) and its value, checked and typed."""
    where: list[tuple[str, object]] = []
    for name, value in request.query_params.multi_items():
        if name in ITEMS_PARAMS:
            continue
        q: Prop | None = c.queryable.get(name)
        if q is None:
            allowed = "、".join(sorted(ITEMS_PARAMS | set(c.queryable)))
            raise InvalidParameter(name, message("ogc_unknown_parameter", name=name, allowed=allowed))
        if q.enum is not None and value not in {m.value for m in q.enum}:
            raise InvalidParameter(
                name, message("unknown_enum", value=value, choices="、".join(f"{m.value}（{m.label}）" for m in q.enum))
            )
        if q.type in {"number", "integer"}:
            try:
                number = float(value) if q.type == "number" else int(value)
            except ValueError:
                raise InvalidParameter(name, message("ogc_not_number", value=value)) from None
            if isinstance(number, float) and not math.isfinite(number):
                raise InvalidParameter(name, message("ogc_not_number", value=value))
            where.append((f"={name}", number))
        else:
            where.append((f"={name}", value))
    return where


def _page_links(request: Request, page: sql.Page, cursor: sql.Cursor | None, signature: str,
                limit: int) -> list[dict]:
    def with_cursor(values: tuple, backwards: bool) -> str:
        token = sql.encode_cursor(signature, values, backwards)
        return str(request.url.include_query_params(cursor=token, limit=limit))

    links = [
        {"rel": "self", "type": GEOJSON, "href": str(request.url)},
        {"rel": "alternate", "type": HTML, "href": str(request.url.include_query_params(f="html"))},
        {"rel": "collection", "type": JSON, "href": str(request.url.replace(query="")).rsplit("/items", 1)[0]},
    ]
    backwards = cursor is not None and cursor.backwards
    # Forward walk: "next" when more rows follow; "prev" when we came through a cursor.
    # Backward walk (via "prev"): "prev" when more rows precede; "next" always (we came from there).
    if page.last_key is not None and (backwards or page.has_more):
        links.append({"rel": "next", "type": GEOJSON, "title": "下一页", "href": with_cursor(page.last_key, False)})
    if page.first_key is not None and (page.has_more if backwards else cursor is not None):
        links.append({"rel": "prev", "type": GEOJSON, "title": "上一页", "href": with_cursor(page.first_key, True)})
    return _carry(request, links)


@router.get("/collections/{collectionId}/items", summary="要素（分页、bbox、属性过滤、CQL2、排序、坐标系）",
            response_class=GeoJSONDoc, responses={**content(FeatureCollection, {HTML: TEXT}), **UNKNOWN})
async def items(
    request: Request,
    collection_id: Annotated[str, Path(alias="collectionId")],
    f: FormatQuery = None,
    limit: LimitQuery = None,
    bbox: BBoxQuery = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", description="bbox 的坐标系 URI")] = None,
    crs: Annotated[str | None, Query(description="输出坐标系 URI（默认 CRS84）")] = None,
    filter: Annotated[str | None, Query(description="CQL2 过滤表达式")] = None,  # noqa: A002 - the OGC name
    filter_lang: Annotated[str | None, Query(alias="filter-lang",
                                             description="cql2-text（默认，也可写 cql-text）或 cql2-json")] = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs", description="过滤表达式中几何的坐标系（默认 CRS84）")] = None,
    sortby: Annotated[str | None, Query(description="排序：属性名，前加 - 为降序，逗号分隔，如 -far,code")] = None,
    cursor: CursorQuery = None,
    datetime: Annotated[str | None, Query(description="时间过滤（这些集合没有时间属性，忽略）")] = None,
) -> Response:
    c = _collection_or_404(collection_id)
    limit = page_limit(_settings(request), limit)
    out_crs = _resolve_crs("crs", crs, crs_mod.crs84())
    filters = _property_filters(c, request)
    box = parse_bbox(bbox, _resolve_crs("bbox-crs", bbox_crs, crs_mod.crs84()))
    condition = None
    if filter:
        lang = cql.language(filter_lang)
        # Parsing a long filter is pure Python: in a worker thread, not in the event loop.
        condition = await anyio.to_thread.run_sync(
            cql.to_sql, c, filter, lang, _resolve_crs("filter-crs", filter_crs, crs_mod.crs84())
        )
    keys = sql.sort_keys(c, sortby)
    digest = hashlib.sha1(
        orjson.dumps([sorted((k, v) for k, v in request.query_params.multi_items()
                             if k not in {"cursor", "limit", "f", "crs"})])
    ).hexdigest()
    signature = sql.sort_signature(keys, digest)
    parsed_cursor = sql.decode_cursor(cursor, signature, len(keys)) if cursor else None
    html_out = wants_html(request, f)
    query = sql.page_query(c, crs=out_crs, keys=keys, limit=limit, cursor=parsed_cursor, filters=filters, box=box,
                           cql=condition)
    page = await sql.feature_page(reader_for(request), query)
    links = _page_links(request, page, parsed_cursor, signature, limit)
    head = {"type": "FeatureCollection", "numberMatched": page.number_matched,
            "numberReturned": page.number_returned, "links": links}
    if html_out:
        # Up to 5000 table rows: built in a worker thread, not in the event loop.
        return HTMLResponse(await anyio.to_thread.run_sync(html.items, head, page.features_json, c, out_crs))
    return Response(feature_collection(head, page.features_json), media_type=GEOJSON, headers={"Content-Crs": f"<{out_crs.uri}>"})


@router.get("/collections/{collectionId}/items/{featureId}", summary="单个要素", response_class=GeoJSONDoc,
            responses={**content(Feature, {HTML: TEXT}), **UNKNOWN})
async def item(
    request: Request,
    collection_id: Annotated[str, Path(alias="collectionId")],
    feature_id: Annotated[str, Path(alias="featureId", description="要素编号（宗地编号、区块编号、镇街代码）")],
    f: FormatQuery = None,
    crs: Annotated[str | None, Query(description="输出坐标系 URI（默认 CRS84）")] = None,
) -> Response:
    c = _collection_or_404(collection_id)
    for name in request.query_params:
        if name not in {"f", "crs"}:
            raise InvalidParameter(name, message("ogc_unknown_parameter", name=name, allowed="f、crs"))
    out_crs = _resolve_crs("crs", crs, crs_mod.crs84())
    text = await sql.one_feature(reader_for(request), c, feature_id, out_crs)
    if text is None:
        raise NotFound(message("not_found", what=f"{c.title}“{feature_id}”"))
    base = f"{_base(request)}/collections/{c.id}"
    links = [
        {"rel": "self", "type": GEOJSON, "href": str(request.url)},
        {"rel": "alternate", "type": HTML, "href": str(request.url.include_query_params(f="html"))},
        {"rel": "collection", "type": JSON, "href": base},
    ]
    _carry(request, links)
    if wants_html(request, f):
        return HTMLResponse(html.item(text, c, links))
    body = text[:-1] + ',"links":' + orjson.dumps(links).decode() + "}"
    return Response(body.encode(), media_type=GEOJSON, headers={"Content-Crs": f"<{out_crs.uri}>"})


# -- tiles ----------------------------------------------------------------------------
def _tiles_base(request: Request, c: Layer) -> str:
    return f"{_base(request)}/collections/{c.id}/tiles"


@router.get("/collections/{collectionId}/tiles", summary="矢量切片集列表", response_class=Response,
            responses={**content(TileSets), **UNKNOWN})
def tilesets(request: Request, collection_id: Annotated[str, Path(alias="collectionId")]) -> Response:
    c = _collection_or_404(collection_id)
    base = _tiles_base(request, c)
    return _json(request, {
        "links": [{"rel": "self", "type": JSON, "href": base}],
        "tilesets": [{
            "title": c.title,
            "dataType": "vector",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
            "tileMatrixSetURI": tiles.TMS_URI,
            "links": [
                {"rel": "self", "type": JSON, "href": f"{base}/{tiles.TMS_ID}"},
                {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": JSON, "href": tiles.TMS_URI},
            ],
        }],
    })


@router.get("/collections/{collectionId}/tiles/WebMercatorQuad", summary="切片集描述", response_class=Response,
            responses={**content(TileSet), **UNKNOWN})
def tileset(request: Request, collection_id: Annotated[str, Path(alias="collectionId")]) -> Response:
    c = _collection_or_404(collection_id)
    base = _tiles_base(request, c)
    return _json(request, {
        "title": c.title,
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": tiles.TMS_URI,
        "tileMatrixSetLimits": [{"tileMatrix": str(z), "minTileRow": 0, "maxTileRow": (1 << z) - 1,
                                 "minTileCol": 0, "maxTileCol": (1 << z) - 1}
                                for z in range(c.tile_minzoom, c.tile_maxzoom + 1)],
        "layers": [{"id": c.id, "dataType": "vector", "geometryType": "polygons",
                    "minTileMatrix": str(c.tile_minzoom), "maxTileMatrix": str(c.tile_maxzoom)}],
        "links": [
            {"rel": "self", "type": JSON, "href": f"{base}/{tiles.TMS_ID}"},
            {"rel": "item", "type": MVT, "templated": True,
             "href": f"{base}/{tiles.TMS_ID}/{{tileMatrix}}/{{tileCol}}/{{tileRow}}"},
            {"rel": "describedby", "type": JSON, "title": "TileJSON", "href": f"{base}/{tiles.TMS_ID}/tilejson.json"},
        ],
    })


@router.get("/collections/{collectionId}/tiles/WebMercatorQuad/tilejson.json", summary="TileJSON 3.0",
            response_class=Response, responses={**content(TileJSON), **UNKNOWN})
async def tilejson(request: Request, collection_id: Annotated[str, Path(alias="collectionId")]) -> Response:
    c = _collection_or_404(collection_id)
    base = _tiles_base(request, c)
    extent = await sql.extent(reader_for(request), c) or [-180, -85.0511, 180, 85.0511]
    fields = {name: ("Number" if c.prop[name].type in {"number", "integer"} else "String")
              for name in c.tile_properties}
    return _json(request, {
        "tilejson": "3.0.0",
        "name": c.id,
        "description": c.title,
        "scheme": "xyz",
        "tiles": [f"{base}/{tiles.TMS_ID}/{{z}}/{{x}}/{{y}}"],
        "minzoom": c.tile_minzoom,
        "maxzoom": c.tile_maxzoom,
        "bounds": extent,
        "center": [(extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2, max(c.tile_minzoom, 12)],
        "vector_layers": [{"id": c.id, "fields": fields, "minzoom": c.tile_minzoom, "maxzoom": c.tile_maxzoom}]
        + ([{"id": f"{c.id}_label", "description": "标注点（每宗地一个，只在其所在的切片中）",
             "fields": {name: "String" for name in c.tile_labels},
             "minzoom": max(c.tile_minzoom, tiles.LABEL_MINZOOM), "maxzoom": c.tile_maxzoom}]
           if c.tile_labels else []),
    })


def tile_headers(settings: Settings, etag: str) -> dict[str, str]:
    scope = "public" if settings.ogc_allow_anonymous else "private"
    return {"ETag": etag, "Cache-Control": f"{scope}, max-age={settings.ogc_tile_max_age_s}",
            "Vary": "X-API-Key, Authorization"}


def tile_response(request: Request, settings: Settings, body: bytes, etag: str) -> Response:
    headers = tile_headers(settings, etag)
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MVT, headers=headers)


@router.get("/collections/{collectionId}/tiles/WebMercatorQuad/{z}/{x}/{y}", summary="MVT 矢量切片",
            response_class=Response,
            responses={**content(media={MVT: BINARY}, description="MVT 切片（ETag；If-None-Match 相同时 304）"),
                       304: {"description": "未改变（If-None-Match 与 ETag 相同）"}, **UNKNOWN})
async def tile(
    request: Request,
    collection_id: Annotated[str, Path(alias="collectionId")],
    z: Annotated[int, Path(description="缩放级别（tileMatrix）")],
    x: Annotated[int, Path(description="列号（tileCol）")],
    y: Annotated[int, Path(description="行号（tileRow）")],
) -> Response:
    c = _collection_or_404(collection_id)
    if not tiles.is_valid_tile(z, x, y):
        raise NotFound(message("ogc_tile_outside", z=z, x=x, y=y))
    if not c.tile_minzoom <= z <= c.tile_maxzoom:
        raise NotFound(message("ogc_tile_zoom", title=c.title, z=z, min=c.tile_minzoom, max=c.tile_maxzoom))
    runtime = request.app.state.ogc
    cached = await runtime.tile(reader_for(request), c, z, x, y)
    return tile_response(request, runtime.settings, cached.body, cached.etag)
