"""Malformed and hostile input never gets a 5xx, and never costs the client its keep-alive connection.

Each family of issue 18's 500s (NUL bytes, integers beyond int4/int8, CQL2 arithmetic faults and
nesting, non-finite or out-of-domain coordinates, long CRS codes, forged cursors, broken multipart,
the empty progress list) is sent to a live uvicorn over one httpx.Client; every answer is the error
envelope with a Chinese detail (or a normal 2xx/404), and the next request rides the same connection.
An unexpected exception inside a route is a 500 envelope with a request id, on a connection that stays open.
"""

from __future__ import annotations

import base64
import json
import re

import httpx
import orjson
import pytest
from sqlalchemy import create_engine

from app.auth.service import create_user
from app.core.db import new_session

from app.settings import Settings
from tests.app.live_server import Live
from tests.dbutil import demo_database

PASSWORD = "hostile-test-pass-2022"
ITEMS = "/ogc/collections/parcels/items"
EPSG_4549 = "http://www.opengis.net/def/crs/EPSG/0/4549"
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def live():
    with demo_database("txmap_test_hostile") as url:
        engine = create_engine(url)
        with new_session(engine) as session:
            create_user(session, username="hostile_admin", role="admin", password=PASSWORD)
        engine.dispose()
        with Live(Settings(database_url=url)) as server:
            yield server


@pytest.fixture(scope="module")
def client(live):
    """Anonymous: the read endpoints."""
    with httpx.Client(base_url=live.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def admin(live):
    """Logged in as admin, with the CSRF header: the write endpoints."""
    with httpx.Client(base_url=live.url, timeout=30) as c:
        r = c.post("/api/auth/login", json={"username": "hostile_admin", "password": PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        yield c


def _port(response: httpx.Response) -> int:
    """The client side's port: the same number means the same TCP connection."""
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


def _nested(depth: int) -> str:
    """CQL2-JSON: ``depth`` NOTs around one comparison (as text: json.dumps would hit the recursion limit)."""
    return '{"op":"not","args":[' * depth + '{"op":"=","args":[{"property":"code"},"x"]}' + "]}" * depth


def _forged_cursor(client: httpx.Client) -> str:
    """A real next-page cursor on a numeric sort key, its value swapped for text (signature intact)."""
    r = client.get(ITEMS, params={"limit": 1, "sortby": "far"})
    assert r.status_code == 200, r.text
    link = next(x["href"] for x in r.json()["links"] if x["rel"] == "next")
    token = httpx.URL(link).params["cursor"]
    doc = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    doc["v"] = ["not-a-number"] + doc["v"][1:]
    return base64.urlsafe_b64encode(orjson.dumps(doc)).decode().rstrip("=")


BIG8 = str(2**63)  # one beyond int8
CASES = [
    # NUL bytes and other control characters
    ("nul_search", "GET", "/api/search", {"q": "\x00"}),
    ("nul_parcels_unit", "GET", "/api/parcels", {"unit": "\x00"}),
    ("nul_ogc_code", "GET", ITEMS, {"code": "\x00"}),
    ("bell_in_query", "GET", "/api/search", {"q": "宗地\x07"}),
    ("nul_in_path", "GET", "/api/blocks/%00", None),
    ("nul_in_param_name", "GET", "/api/parcels", {"un\x00it": "x"}),
    ("nul_in_cql", "GET", ITEMS, {"filter": "code='\x00'"}),
    ("too_long_target", "GET", "/api/search", {"q": "宗" * 4000}),
    # integers beyond int4/int8
    ("offset_int8", "GET", "/api/units", {"offset": BIG8}),
    ("offset_ogc_int8", "GET", ITEMS, {"offset": BIG8}),
    ("limit_int8", "GET", ITEMS, {"limit": BIG8}),
    ("notification_int4", "POST", "/api/notifications/99999999999/read", None),
    ("notification_int8", "POST", f"/api/notifications/{BIG8}/read", None),
    ("notification_huge", "POST", "/api/notifications/" + "9" * 400 + "/read", None),
    ("cql_literal_int8", "GET", ITEMS, {"filter": f"far > {BIG8}"}),
    ("cql_literal_huge", "GET", ITEMS, {"filter": "far > " + "9" * 400}),
    # CQL2 arithmetic
    ("cql_div_zero", "GET", ITEMS, {"filter": "far/0>1"}),
    ("cql_div_zero_float", "GET", ITEMS, {"filter": "far/0.0>1"}),
    ("cql_div_by_column", "GET", ITEMS, {"filter": "far/(far-far)>1"}),
    ("cql_overflow", "GET", ITEMS, {"filter": "far*1e308*1e308>1"}),
    ("cql_int_overflow", "GET", ITEMS, {"filter": "land_area_mu*9223372036854775807*9223372036854775807>1"}),
    ("cql_json_div_zero", "GET", ITEMS, {"filter-lang": "cql2-json",
                                         "filter": '{"op":">","args":[{"op":"/","args":[{"property":"far"},0]},1]}'}),
    # coordinates
    ("bbox_inf", "GET", "/api/parcels", {"bbox": "120,30,inf,31"}),
    ("bbox_nan", "GET", ITEMS, {"bbox": "nan,30,121,31"}),
    ("bbox_huge", "GET", ITEMS, {"bbox": "120,30,1e999,31"}),
    ("bbox_4549_inf", "GET", ITEMS, {"bbox": "3400000,400000,inf,500000", "bbox-crs": EPSG_4549}),
    ("bbox_4549_far", "GET", ITEMS, {"bbox": "-1e300,-1e300,1e300,1e300", "bbox-crs": EPSG_4549}),
    ("bbox_4549_outside", "GET", ITEMS, {"bbox": "0,0,10,10", "bbox-crs": EPSG_4549}),
    ("cql_point_outside", "GET", ITEMS, {"filter": "S_INTERSECTS(geometry,POINT(1000 1000))"}),
    ("cql_point_4549_far", "GET", ITEMS, {"filter": "S_INTERSECTS(geometry,POINT(1e300 1e300))",
                                          "filter-crs": EPSG_4549}),
    ("cql_bbox_inf", "GET", ITEMS, {"filter": "S_INTERSECTS(geometry,BBOX(120,30,1e999,31))"}),
    ("cql_json_point_huge", "GET", ITEMS, {"filter-lang": "cql2-json", "filter": json.dumps(
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [1e308, 1e308]}]})}),
    # CRS codes
    ("crs_long", "GET", ITEMS, {"crs": "EPSG:" + "9" * 5000}),
    ("crs_long_uri", "GET", ITEMS, {"crs": "http://www.opengis.net/def/crs/EPSG/0/" + "4" * 3000}),
    ("bbox_crs_long", "GET", ITEMS, {"bbox": "1,1,2,2", "bbox-crs": "EPSG:" + "9" * 400}),
    ("filter_crs_long", "GET", ITEMS, {"filter": "S_INTERSECTS(geometry,POINT(1 1))", "filter-crs": "EPSG:" + "9" * 400}),
    # cursors
    ("cursor_garbage", "GET", ITEMS, {"cursor": "!!!not-base64!!!"}),
    ("cursor_forged", "GET", ITEMS, "forged_cursor"),
    # nesting
    ("cql_json_deep", "GET", ITEMS, {"filter-lang": "cql2-json", "filter": _nested(300)}),
    ("cql_json_deeper", "GET", ITEMS, {"filter-lang": "cql2-json", "filter": "[" * 3000 + "]" * 3000}),
    ("cql_json_deep_900", "GET", ITEMS, {"filter-lang": "cql2-json", "filter": _nested(900)}),
    ("cql_literal_inf", "GET", ITEMS, {"filter": "far > 1e999"}),
    ("cql_text_deep", "GET", ITEMS, {"filter": "(" * 300 + "code='x'" + ")" * 300}),
    ("cql_text_not_deep", "GET", ITEMS, {"filter": "NOT " * 300 + "code='x'"}),
    # the empty progress list
    ("progress_empty", "GET", "/api/progress/parcels", {"unit": "no-such-unit", "year": 2000}),
    ("progress_empty_month", "GET", "/api/progress/parcels", {"year": 2100, "month": 12}),
]


@pytest.mark.parametrize(("method", "path", "params"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_input_is_a_4xx_envelope_on_the_same_connection(request, method, path, params):
    client = request.getfixturevalue("admin" if method == "POST" else "client")
    if params == "forged_cursor":
        params = {"cursor": _forged_cursor(client)}
    before = client.get("/healthz")
    assert before.status_code == 200
    r = client.request(method, path, params=params)
    assert r.status_code < 500, (r.status_code, r.text[:500])
    assert r.headers.get("x-request-id")
    if r.status_code >= 400:
        body = r.json()
        assert set(body) >= {"detail", "code", "errors"}, body
        assert HAN.search(body["detail"]), body
        assert "Traceback" not in r.text and "psycopg" not in r.text
    after = client.get("/healthz")
    assert after.status_code == 200
    assert _port(after) == _port(r) == _port(before), "the connection was dropped"


MULTIPART = [
    ("no_boundary", "multipart/form-data", b"--x\r\n\r\n"),
    ("bad_header", "multipart/form-data; boundary=x",
     b"--x\r\nContent-Disposition form-data name=file\r\n\r\nabc\r\n--x--\r\n"),
    ("truncated", "multipart/form-data; boundary=x",
     b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n\r\nabc'),
    ("garbage", "multipart/form-data; boundary=x", b"\x00\xff" * 50),
    ("nul_in_filename", "multipart/form-data; boundary=x",
     b'--x\r\nContent-Disposition: form-data; name="file"; filename="a\x00.zip"\r\n\r\nabc\r\n--x--\r\n'),
]


@pytest.mark.parametrize(("content_type", "body"), [m[1:] for m in MULTIPART], ids=[m[0] for m in MULTIPART])
def test_a_malformed_upload_is_a_400(admin, content_type, body):
    client = admin
    r = client.post("/api/uploads", content=body, headers={"Content-Type": content_type})
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    assert HAN.search(r.json()["detail"])
    after = client.get("/healthz")
    assert _port(after) == _port(r)


def test_long_target_is_414(client):
    r = client.get("/api/search", params={"q": "x" * 9000})
    assert r.status_code == 414
    assert r.json()["code"] == "uri_too_long"


def test_nul_names_the_parameter(client):
    r = client.get("/api/search", params={"q": "a\x00b"})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid_parameter"
    assert body["errors"][0]["field"] == "q"
    assert "搜索内容" in body["detail"]


def test_tab_and_newline_are_allowed_in_a_query(client):
    r = client.get("/api/search", params={"q": "崇福\t\n"})
    assert r.status_code == 200, r.text


def test_every_response_has_a_request_id(client):
    a, b = client.get("/healthz"), client.get("/healthz")
    assert a.headers["x-request-id"] != b.headers["x-request-id"]
    assert client.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["x-request-id"] == "abc-123"
    assert client.get("/healthz", headers={"X-Request-Id": "<script>"}).headers["x-request-id"] != "<script>"


def test_an_unexpected_error_is_a_500_envelope_and_keeps_the_connection(client, monkeypatch, caplog):
    from app.mapapi import routes

    def boom(*_a, **_kw):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(routes.queries, "search", boom)
    with caplog.at_level("ERROR", logger="cloudmap"):
        r = client.get("/api/search", params={"q": "崇福"})
    assert r.status_code == 500
    body = r.json()
    request_id = r.headers["x-request-id"]
    assert body["code"] == "internal_error" and request_id in body["detail"]
    assert "secret internals" not in r.text
    assert any(request_id in rec.getMessage() and rec.exc_info for rec in caplog.records)
    monkeypatch.undo()
    after = client.get("/api/search", params={"q": "崇福"})
    assert after.status_code == 200
    assert _port(after) == _port(r)


@pytest.mark.parametrize(("lang", "text"), [("cql2-text", "far >> 1"), ("cql2-text", "code =\n'x'"),
                                            ("cql2-json", "{not json")])
def test_a_cql_syntax_error_is_said_in_chinese(client, lang, text):
    r = client.get(ITEMS, params={"filter": text, "filter-lang": lang})
    assert r.status_code == 400
    assert not re.search(r"[A-Za-z]{4,}", r.json()["detail"].replace("JSON", "")), r.json()["detail"]
