"""The OGC API's OpenAPI 3.0 document (conformance class oas30).

FastAPI writes OpenAPI 3.1; OGC API – Features Part 1 and its clients (GDAL, QGIS,
the CITE suite) expect 3.0. The /ogc paths are taken from FastAPI's document and the
few 3.1-only constructs it uses are rewritten: ``anyOf [X, null]`` → ``nullable``,
``examples`` → ``example``, numeric ``exclusiveMinimum/Maximum`` → boolean form.
The result is checked with openapi-spec-validator in the tests.

Paths are relative to the server URL, which ends in ``/ogc`` (``/collections/{collectionId}/items``),
and every collection has its own items path (``/collections/parcels/items``) listing its queryables as
query parameters and ``filter-lang`` with the older name ``cql-text`` too: that is where GDAL's OAPIF
driver (and QGIS on top of it) looks to decide that ``-where`` and expression filters go to the server.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from ..core.read.layers import Layer, collections

PREFIX = "/ogc"
ITEMS = "/collections/{collectionId}/items"
FILTER_LANGS = ["cql2-text", "cql2-json", "cql-text"]  # cql-text: the draft name GDAL 3.6 and QGIS look for


def _to_30(node: Any) -> Any:
    if isinstance(node, list):
        return [_to_30(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_30(v) for k, v in node.items()}
    any_of = out.get("anyOf")
    if isinstance(any_of, list) and any(isinstance(s, dict) and s.get("type") == "null" for s in any_of):
        rest = [s for s in any_of if not (isinstance(s, dict) and s.get("type") == "null")]
        del out["anyOf"]
        if len(rest) == 1:
            out.update(rest[0])
        else:
            out["anyOf"] = rest
        out["nullable"] = True
    if isinstance(out.get("type"), list):
        types = [t for t in out["type"] if t != "null"]
        if len(types) != len(out["type"]):
            out["nullable"] = True
        out["type"] = types[0] if types else "string"
    if "examples" in out and isinstance(out["examples"], list) and "in" not in out:
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    for bound, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), (int, float)) and not isinstance(out.get(bound), bool):
            out[flag] = out.pop(bound)
            out[bound] = True
    out.pop("const", None) if "enum" in out else None
    return out


def _queryable_parameter(q) -> dict:
    schema: dict = {"type": q.type}
    if q.enum is not None:
        schema["enum"] = [m.value for m in q.enum]
    description = f"{q.title}等于此值" + (f"（{q.schema()['description']}）" if q.enum is not None else "")
    return {"name": q.name, "in": "query", "required": False, "style": "form", "explode": False,
            "description": description, "schema": schema}


def _collection_items(generic: dict, c: Layer) -> dict:
    """The items operation of one collection: no collectionId, its queryables as parameters."""
    op = copy.deepcopy(generic)
    op["operationId"] = f"{op.get('operationId', 'items')}_{c.id}"
    op["summary"] = f"{c.title}：{op.get('summary', '')}"
    op["parameters"] = [p for p in op.get("parameters", []) if p.get("name") != "collectionId"]
    op["parameters"] += [_queryable_parameter(q) for q in c.queryable.values()]
    return op


def ogc_openapi(app: FastAPI, server_url: str) -> dict:
    """The document for the server URL ``server_url`` (the service's /ogc)."""
    full = copy.deepcopy(app.openapi())
    paths = {(p[len(PREFIX):] or "/"): _to_30(v) for p, v in full.get("paths", {}).items()
             if p == PREFIX or p.startswith(PREFIX + "/")}
    for item in paths.values():
        for op in item.values():
            for param in op.get("parameters", []):
                # 3.0 parameters carry ``example``/``examples`` (a map), never a list.
                if isinstance(param.get("examples"), list):
                    param["example"] = param.pop("examples")[0]
                if param.get("name") == "filter-lang":
                    param["schema"] = {"type": "string", "enum": FILTER_LANGS, "default": "cql2-text"}
    generic = paths.get(ITEMS, {}).get("get")
    if generic is not None:
        for c in collections().values():
            paths[f"/collections/{c.id}/items"] = {"get": _collection_items(generic, c)}
    components = _to_30(full.get("components", {}))
    used = _refs(paths)
    schemas = components.get("schemas", {})
    # Keep only the schemas the OGC paths use (and what they use in turn).
    keep: dict = {}
    pending = list(used)
    while pending:
        name = pending.pop()
        if name in keep or name not in schemas:
            continue
        keep[name] = schemas[name]
        pending.extend(_refs(schemas[name]))
    doc = {
        "openapi": "3.0.3",
        "info": {
            "title": "桐乡工业全域治理云图 OGC API",
            "version": full.get("info", {}).get("version", "0.1.0"),
            "description": "OGC API – Features Part 1 (Core, GeoJSON, HTML, OpenAPI 3.0), Part 2 (CRS), "
            "Part 3 (Queryables, CQL2 text/JSON) 与 WebMercatorQuad 矢量切片。只读；API Key 可放在 X-API-Key "
            "请求头、apikey 查询参数或 HTTP Basic 认证的密码中。",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": keep,
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "ApiKeyQuery": {"type": "apiKey", "in": "query", "name": "apikey"},
                "Basic": {"type": "http", "scheme": "basic", "description": "密码填 API Key，用户名任意"},
            },
        },
        "security": [{}, {"ApiKey": []}, {"ApiKeyQuery": []}, {"Basic": []}],
    }
    return doc


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for v in node.values():
            found |= _refs(v)
    elif isinstance(node, list):
        for v in node:
            found |= _refs(v)
    return found
