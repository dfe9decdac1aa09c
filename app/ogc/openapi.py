"""The OGC API's OpenAPI 3.0 document (conformance class oas30).

FastAPI writes OpenAPI 3.1; OGC API – Features Part 1 and its clients (GDAL, QGIS,
the CITE suite) expect 3.0. The /ogc paths are taken from FastAPI's document and the
few 3.1-only constructs it uses are rewritten: ``anyOf [X, null]`` → ``nullable``,
``examples`` → ``example``, numeric ``exclusiveMinimum/Maximum`` → boolean form.
The result is checked with openapi-spec-validator in the tests.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI


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


def ogc_openapi(app: FastAPI, server_url: str) -> dict:
    full = copy.deepcopy(app.openapi())
    paths = {p: _to_30(v) for p, v in full.get("paths", {}).items() if p == "/ogc" or p.startswith("/ogc/")}
    for item in paths.values():
        for op in item.values():
            for param in op.get("parameters", []):
                # 3.0 parameters carry ``example``/``examples`` (a map), never a list.
                if isinstance(param.get("examples"), list):
                    param["example"] = param.pop("examples")[0]
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
            "Part 3 (Queryables, CQL2 text/JSON) 与 WebMercatorQuad 矢量切片。只读；API Key 用 X-API-Key 请求头。",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": keep,
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
        "security": [{}, {"ApiKey": []}],
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
