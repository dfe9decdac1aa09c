"""The OpenAPI contract (/openapi.json): a client generated from it handles the real answers.

* every 2xx but 204 names its content with a schema;
* every operation has the error envelope for 400, 422, 500 and 503, and FastAPI's
  HTTPValidationError (a shape this service never sends) appears nowhere;
* every route that needs a login declares 401 and 403, every route that checks If-Match
  declares 409 and 428 — found by walking the app's routes, so a new route that forgets them fails;
* the document is valid OpenAPI 3.1;
* real answers, errors (401, 403, 404, 409, 428) and successes (JSON and GeoJSON), validate
  against the schemas the document publishes for them.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap
from functools import lru_cache

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from openapi_schema_validator import OAS31Validator
from sqlalchemy import select

from app.auth.deps import current_user
from app.main import create_app
from app.models import Enterprise, Parcel, RenewalBlock
from app.settings import Settings

METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}
ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}


@lru_cache(maxsize=1)
def _app():
    # The document is built from the routes alone: no database is needed (or touched).
    return create_app(Settings(database_url="postgresql://openapi@127.0.0.1:1/none"))


@lru_cache(maxsize=1)
def _doc() -> dict:
    return _app().openapi()


def _operations() -> list[tuple[str, str]]:
    return [(method, path) for path, item in _doc()["paths"].items() for method in item if method in METHODS]


def _op(method: str, path: str) -> dict:
    return _doc()["paths"][path][method]


OPERATIONS = [pytest.param(m, p, id=f"{m.upper()} {p}") for m, p in _operations()]


def test_the_document_is_valid_openapi_31():
    from openapi_spec_validator import validate

    doc = _doc()
    assert doc["openapi"].startswith("3.1")
    validate(doc)
    assert len(OPERATIONS) > 60  # the whole API is in it


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_success_names_its_content_with_a_schema(method, path):
    responses = _op(method, path)["responses"]
    successes = [s for s in responses if s.startswith("2")]
    assert successes, "no 2xx declared"
    for status in successes:
        if status == "204":
            assert not responses[status].get("content"), "a 204 has no content"
            continue
        content = responses[status].get("content")
        assert content, f"{status}: no content"
        for media_type, entry in content.items():
            assert entry.get("schema"), f"{status} {media_type}: no schema"


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_has_the_error_envelope(method, path):
    responses = _op(method, path)["responses"]
    for status in ("400", "422", "500", "503"):
        assert status in responses, status
    for status, response in responses.items():
        if status[0] in "45":
            assert response["content"] == {"application/json": {"schema": ENVELOPE}}, status
            assert response.get("description"), status


def test_http_validation_error_appears_nowhere():
    doc = _doc()
    assert "HTTPValidationError" not in str(doc)
    assert "ErrorEnvelope" in doc["components"]["schemas"]


# --- which routes must declare which errors, from the routes themselves ----------------------


def _dependency_calls(dependant) -> set:
    out = {dependant.call}
    for sub in dependant.dependencies:
        out |= _dependency_calls(sub)
    return out


def _called_names(node: ast.AST) -> set[str]:
    """Names a function calls: the module's own functions (``f(…)``), and ``check_if_match``
    however it is reached (``concurrency.check_if_match(…)`` too)."""
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            if isinstance(sub.func, ast.Name):
                names.add(sub.func.id)
            elif isinstance(sub.func, ast.Attribute) and sub.func.attr == "check_if_match":
                names.add(sub.func.attr)
    return names


@lru_cache(maxsize=None)
def _if_match_callers(module_name: str) -> frozenset[str]:
    """Functions of a module that call check_if_match, directly or through the module's own helpers."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(importlib.import_module(module_name))))
    functions = {n.name: _called_names(n) for n in ast.walk(tree)
                 if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    callers = {"check_if_match"}
    while True:
        more = {name for name, calls in functions.items() if calls & callers} - callers
        if not more:
            return frozenset(callers)
        callers |= more


def _route_table() -> list[tuple[str, str, bool, bool]]:
    """(method, path, needs a login, checks If-Match) for every documented API route."""
    out = []
    for route in iter_route_contexts(_app().routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        endpoint = route.endpoint
        signed_in = current_user in _dependency_calls(route.dependant)
        if_match = endpoint.__name__ in _if_match_callers(endpoint.__module__)
        for method in route.methods:
            out.append((method.lower(), route.path, signed_in, if_match))
    return out


def test_the_route_table_finds_logins_and_if_match():
    table = {(m, p): (s, i) for m, p, s, i in _route_table()}
    assert table[("get", "/api/units")] == (False, False)
    assert table[("get", "/api/plans")] == (True, False)
    assert table[("patch", "/api/plans/{code}/draft")] == (True, True)  # through _plan_to_change
    assert table[("patch", "/api/users/{username}")] == (True, True)
    assert table[("put", "/api/progress/config/{year}")] == (True, False)  # require_role through ProgressAdmin
    assert table[("post", "/api/uploads")][0]  # the router's own dependency


@pytest.mark.parametrize(("method", "path", "signed_in", "if_match"),
                         [pytest.param(*row, id=f"{row[0].upper()} {row[1]}") for row in _route_table()])
def test_logins_and_if_match_declare_their_errors(method, path, signed_in, if_match):
    responses = _op(method, path)["responses"]
    if signed_in:
        assert {"401", "403"} <= responses.keys(), "a login is required: declare 401 and 403"
    if if_match:
        assert {"409", "428"} <= responses.keys(), "If-Match is checked: declare 409 and 428"


def test_ogc_declares_api_key_and_rate_limit():
    for method, path in _operations():
        if path == "/ogc" or path.startswith("/ogc/"):
            assert {"401", "429"} <= _op(method, path)["responses"].keys(), path


# --- real answers against the published schemas ------------------------------------------------


def _template(method: str, url: str) -> str:
    """The documented path a concrete URL answers to (the most literal match)."""
    path = url.split("?", 1)[0]
    found = []
    for template, item in _doc()["paths"].items():
        if method in item and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path):
            found.append(template)
    assert found, f"{method.upper()} {path} is not documented"
    return max(found, key=lambda t: len(re.sub(r"\{[^}]+\}", "", t)))


def _check(method: str, url: str, response) -> None:
    """The answer's status is documented, and its body validates against the schema for its media type."""
    op = _op(method, _template(method, url))
    status = str(response.status_code)
    assert status in op["responses"], f"{method.upper()} {url}: {status} is not documented ({response.text[:200]})"
    content = op["responses"][status].get("content")
    if status == "204":
        assert not content and not response.content
        return
    media_type = response.headers["content-type"].split(";")[0].strip()
    entry = next((v for k, v in content.items() if k.split(";")[0] == media_type), None)
    assert entry is not None, f"{method.upper()} {url}: {media_type} is not documented ({list(content)})"
    schema = entry["schema"]
    if schema.get("type") == "string":  # files, tiles, pages
        assert response.content
        return
    OAS31Validator({**schema, "components": _doc()["components"]}).validate(response.json())


def _call(client, method: str, url: str, **kwargs):
    response = client.request(method.upper(), url, **kwargs)
    _check(method, url, response)
    return response


def test_error_answers_validate_against_the_envelope(client, login_as):
    assert _call(client, "get", "/api/plans").status_code == 401
    assert _call(client, "get", "/api/notifications").status_code == 401
    planner = login_as("planner")
    assert _call(planner, "get", "/api/users").status_code == 403
    assert _call(planner, "put", "/api/progress/config/2023", json={}).status_code == 403
    assert _call(client, "get", "/api/blocks/NO-SUCH-BLOCK").status_code == 404
    assert _call(client, "get", "/ogc/collections/nothing/items").status_code == 404
    admin = login_as("admin")
    assert _call(admin, "get", "/api/plans/NO-SUCH-PLAN").status_code == 404
    user = admin.get("/api/users").json()["data"][0]
    r = _call(admin, "patch", f"/api/users/{user['username']}", json={"display_name": "改名"})
    assert r.status_code == 428 and r.json()["code"] == "if_match_required"
    r = _call(admin, "patch", f"/api/users/{user['username']}", json={"display_name": "改名"},
              headers={"If-Match": f'"{user["version"] + 7}"'})
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    r = _call(admin, "post", "/api/users", json={"username": user["username"], "role": "planner",
                                                 "password": "another-pass-2022"})
    assert r.status_code == 409
    assert _call(admin, "get", "/api/progress/monthly?year=2023&month=13").status_code == 422


@pytest.fixture()
def demo_codes(db_session) -> dict[str, str]:
    block = db_session.scalars(select(RenewalBlock.code).order_by(RenewalBlock.code)).first()
    parcel = db_session.scalars(select(Parcel.code).where(Parcel.block_id.is_not(None)).order_by(Parcel.code)).first()
    enterprise = db_session.scalars(select(Enterprise.credit_code).join(Parcel, Parcel.enterprise_id == Enterprise.id)
                                    .order_by(Enterprise.credit_code)).first()
    return {"block": block, "parcel": parcel, "enterprise": enterprise}


def test_open_answers_validate_against_their_schemas(client, demo_codes):
    block, parcel = demo_codes["block"], demo_codes["parcel"]
    for url in ["/healthz", "/api/config", "/api/map/config", "/api/units?limit=2", "/api/blocks?limit=2",
                "/api/parcels?limit=3&offset=1", f"/api/blocks/{block}", f"/api/blocks/{block}/analysis",
                f"/api/map/blocks/{block}/summary", "/api/map/units", "/api/map/parcels?limit=5",
                "/api/search?q=崇福", f"/api/blocks/{block}/export?format=geojson",
                f"/api/blocks/{block}/export?format=xlsx", f"/api/blocks/{block}/export?format=shp",
                "/api/progress/monthly?year=2022&month=12", "/api/progress/indicators?as_of=2023-06-30",
                "/api/progress/parcels?year=2022", "/api/progress/targets?year=2022", "/api/progress/scores?year=2022",
                "/api/progress/config/2022", "/api/progress/reports", "/api/progress/monthly.xlsx?year=2022&month=12",
                "/ogc", "/ogc?f=html", "/ogc/conformance", "/ogc/collections", "/ogc/collections/parcels",
                "/ogc/collections/parcels/queryables", "/ogc/collections/parcels/items?limit=2",
                f"/ogc/collections/parcels/items/{parcel}", "/ogc/collections/parcels/tiles",
                "/ogc/collections/parcels/tiles/WebMercatorQuad",
                "/ogc/collections/parcels/tiles/WebMercatorQuad/tilejson.json", "/ogc/api"]:
        assert _call(client, "get", url).status_code == 200, url
    scattered = {"kind": "scattered", "parcels": {"type": "Feature", "properties": {"code": "A"}, "geometry": {
        "type": "Polygon", "coordinates": [[[120.5, 30.6], [120.503, 30.6], [120.503, 30.603], [120.5, 30.603],
                                            [120.5, 30.6]]]}}}
    assert _call(client, "post", "/api/analysis", json=scattered).json()["kind"] == "scattered"


def test_signed_in_answers_validate_against_their_schemas(login_as, demo_codes):
    admin = login_as("admin")
    block, enterprise = demo_codes["block"], demo_codes["enterprise"]
    for url in ["/api/auth/me", "/api/users", "/api/notifications", "/api/plans", f"/api/plans/{block}",
                f"/api/plans/{block}/versions", f"/api/plans/{block}/versions/1", f"/api/plans/{block}/check",
                f"/api/plans/{block}/compare?from=1&to=1", "/api/review/batch", f"/api/enterprises/{enterprise}",
                "/api/evaluation?year=2022", "/api/grading", "/api/tenants", "/api/credit-records",
                "/api/audit?limit=5", "/api/exports/clearance.xlsx", "/api/exports/enforcement.xlsx"]:
        assert _call(admin, "get", url).status_code == 200, url
    assert _call(admin, "post", "/api/auth/logout").status_code == 204
