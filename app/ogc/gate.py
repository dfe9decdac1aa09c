"""The door in front of /ogc and /ows (/wms, /wfs): read-only, API keys, rate limits, and cached tiles.

Every keyed request counts against its key's budget a minute, every anonymous one against its client
address's (``ogc_anonymous_rate_per_minute``), in the shared limiter of app.core.ratelimit: the budgets
hold across processes. When anonymous reads are off (production's default), a signed-in user of the
service's own pages (the map's parcel tiles) passes with their login session, on a budget of their own.

A key is taken from the ``X-API-Key`` header, the ``apikey`` query parameter (QGIS and GDAL keep it
in the layer URL) or the password of HTTP Basic authentication (QGIS's Basic configuration; the user
name is ignored, or is the key when the password is empty). A key from the query is removed from the
request before anything else sees it — the routes, the access log — and kept in
``scope["cloudmap.apikey"]`` so that the links the service writes carry it on (:func:`keyed`).

A pure ASGI middleware, so that a tile costs no routing and no dependency injection: a
warm one is answered (200 or 304) from the cache right here, and one that is not cached
is rendered here (one statement on the read pool) and cached. Everything else — and
every request that is not an ordinary tile — goes on to the FastAPI routes.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import time
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, quote, urlencode

import anyio

from ..auth.deps import SESSION_COOKIE
from ..auth.service import session_for_token, token_digest
from ..core.db import get_session, new_session
from ..core.ratelimit import client_address, limiter_of
from ..errors import AppError, FieldError, envelope
from ..messages import message
from . import tiles
from .apikeys import HEADER, KeyStore, split_key
from ..core.read.layers import collections
from .runtime import OgcRuntime

TILE_PATH = re.compile(r"^/ogc/collections/([a-z_]+)/tiles/WebMercatorQuad/(\d{1,2})/(\d{1,7})/(\d{1,7})$")
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
GATED = ("/ogc", "/ows", "/wms", "/wfs")  # the read-only services for other systems
QUERY_KEY = "apikey"
SESSION_MEMORY_S = 30.0  # how long a login session's check is remembered (a logout takes this long here)
SCOPE_KEY = "cloudmap.apikey"  # the key a client sent in the query, to be carried into links


def gated(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in GATED)


def keyed(scope_or_request, href: str) -> str:
    """``href`` with the client's ``apikey`` parameter added, when the key came in the query."""
    scope = getattr(scope_or_request, "scope", scope_or_request)
    key = scope.get(SCOPE_KEY)
    if not key or f"{QUERY_KEY}=" in href:
        return href
    return f"{href}{'&' if '?' in href else '?'}{QUERY_KEY}={quote(key, safe='')}"


def _take_query_key(scope) -> str | None:
    """Remove ``apikey`` (any case) from the request's query string; the first value, if any."""
    raw = scope.get("query_string", b"")
    if b"apikey" not in raw.lower():
        return None
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    found = [v for k, v in pairs if k.lower() == QUERY_KEY]
    if not found:
        return None
    scope["query_string"] = urlencode([(k, v) for k, v in pairs if k.lower() != QUERY_KEY],
                                      encoding="latin-1").encode("latin-1")
    return found[0].strip()


def _basic_key(value: bytes | None) -> str | None:
    """The key in an ``Authorization: Basic`` header: the password, or the user name if there is none."""
    if value is None or not value[:6].lower() == b"basic ":
        return None
    try:
        user, _, password = base64.b64decode(value[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ""  # malformed: a wrong key, not an anonymous request
    return (password or user).strip()


class OgcGate:
    def __init__(self, app, runtime: OgcRuntime) -> None:
        self.app = app
        self.runtime = runtime
        self._sessions: dict[str, tuple[int | None, float]] = {}  # token digest -> (user id, until)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not gated(scope["path"]):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in READ_METHODS:
            await _send(scope, receive, send, envelope(405, "read_only", message("ogc_read_only")))
            return
        settings = self.runtime.settings
        headers = _headers(scope)
        query_key = _take_query_key(scope)  # always removed, whichever key is used
        header_key = headers.get(HEADER.encode())
        if header_key is not None:
            key = header_key.decode("latin-1").strip()
        elif query_key is not None:
            key = query_key
            scope[SCOPE_KEY] = query_key
        else:
            key = _basic_key(headers.get(b"authorization"))
        if key is None and not settings.ogc_allow_anonymous:
            # The service's own pages (the map's parcel tiles) for a signed-in user: that user's budget.
            user_id = await self._signed_in(headers)
            if user_id is None:
                await _send(scope, receive, send, _unauthorized(message("ogc_key_required")))
                return
            rate = settings.ogc_default_rate_limit_per_minute
            wait = await self._take(scope, "ogc-user", user_id, rate)
            if wait > 0:
                await _send(scope, receive, send, _rate_limited(message("ogc_user_rate_limited", rate=rate), wait))
                return
        elif key is None:
            rate = settings.ogc_anonymous_rate_per_minute
            wait = await self._take(scope, "ogc-anonymous", client_address(scope, settings.trusted_proxies), rate)
            if wait > 0:
                await _send(scope, receive, send, _rate_limited(message("ogc_anonymous_rate_limited", rate=rate), wait))
                return
        else:
            record = await self._check_key(key)
            if record is None:
                await _send(scope, receive, send, _unauthorized(message("ogc_key_invalid")))
                return
            if record.scope != "ogc_read":  # a department's key that sends figures does not read
                detail = message("figures_key_not_for_ogc")
                await _send(scope, receive, send, envelope(403, "forbidden", detail, [FieldError("X-API-Key", detail)]))
                return
            wait = await self._take(scope, "ogc-key", record.id, record.rate_limit_per_minute)
            if wait > 0:
                detail = message("ogc_rate_limited", rate=record.rate_limit_per_minute)
                await _send(scope, receive, send, _rate_limited(detail, wait))
                return
        if scope["method"] == "GET" and (m := TILE_PATH.match(scope["path"])):
            cid, z, x, y = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4))
            cached = self.runtime.cache.get((cid, z, x, y))
            if cached is None:
                try:
                    cached = await self._render_tile(scope, cid, z, x, y)
                except AppError as exc:  # outside the app's exception handlers here
                    await _send(scope, receive, send, envelope(exc.status_code, exc.code, exc.detail, exc.errors))
                    return
            if cached is not None:
                await self._send_tile(send, headers, cached)
                return
        await self.app(scope, receive, send)

    async def _render_tile(self, scope, cid: str, z: int, x: int, y: int):
        """A tile that is not cached, rendered right here: None leaves the request to the route.

        The route answers whatever is not an ordinary tile (an unknown collection, a tile
        outside the matrix or the collection's zoom levels: 404s with their messages), and
        every tile when ``get_session`` is overridden (the tests' shared transaction).
        """
        c = collections().get(cid)
        if c is None or not tiles.is_valid_tile(z, x, y) or not c.tile_minzoom <= z <= c.tile_maxzoom:
            return None
        if get_session in scope["app"].dependency_overrides:
            return None
        return await self.runtime.tile(scope["app"].state.reads, c, z, x, y)

    async def _take(self, scope, namespace: str, who: object, per_minute: int) -> float:
        """One request counted in the shared limiter (a statement or a Redis call: off the event loop)."""
        limiter = limiter_of(scope["app"])
        return await anyio.to_thread.run_sync(limiter.take, namespace, who, per_minute)

    async def _signed_in(self, headers: dict[bytes, bytes]) -> int | None:
        """The user of a valid login session cookie, or None (remembered a short while per token)."""
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get(b"cookie", b"").decode("latin-1"))
        except CookieError:
            return None
        morsel = cookies.get(SESSION_COOKIE)
        if morsel is None or not morsel.value:
            return None
        digest = token_digest(morsel.value)
        now = time.monotonic()
        hit = self._sessions.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        user_id = await anyio.to_thread.run_sync(self._session_user, morsel.value)
        if len(self._sessions) > 10_000:
            self._sessions.clear()  # forged cookies must not grow memory without bound
        self._sessions[digest] = (user_id, now + SESSION_MEMORY_S)
        return user_id

    def _session_user(self, token: str) -> int | None:
        engine = self.runtime.engine
        if engine is None:
            return None
        with new_session(engine) as session:
            row = session_for_token(session, token)
            return row.user_id if row is not None else None

    async def _check_key(self, key: str):
        parts = split_key(key)
        if parts is None:
            return None
        prefix, secret = parts
        store = self.runtime.keys
        self.runtime.ensure_listener()
        known, record = store.cached(prefix)
        if not known:
            record = await anyio.to_thread.run_sync(store.load, prefix)
        return KeyStore.check(record, secret)

    async def _send_tile(self, send, headers: dict[bytes, bytes], cached) -> None:
        settings = self.runtime.settings
        scope_word = b"public" if settings.ogc_allow_anonymous else b"private"
        common = [
            (b"etag", cached.etag.encode()),
            (b"cache-control", scope_word + b", max-age=" + str(settings.ogc_tile_max_age_s).encode()),
            (b"vary", b"X-API-Key, Authorization"),
        ]
        if cached.etag.encode() in headers.get(b"if-none-match", b""):
            await send({"type": "http.response.start", "status": 304, "headers": common})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/vnd.mapbox-vector-tile"),
                (b"content-length", str(len(cached.body)).encode()),
                *common,
            ],
        })
        await send({"type": "http.response.body", "body": cached.body})


def _headers(scope) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in scope.get("headers", [])}


def _rate_limited(detail: str, wait: float):
    response = envelope(429, "rate_limited", detail)
    response.headers["Retry-After"] = str(math.ceil(wait))
    return response


def _unauthorized(detail: str):
    response = envelope(401, "unauthorized", detail, [FieldError("X-API-Key", detail)])
    # Basic first: QGIS, GDAL and browsers answer it with the key as the password.
    response.headers["WWW-Authenticate"] = 'Basic realm="cloudmap", charset="UTF-8"'
    response.headers.append("WWW-Authenticate", 'ApiKey header="X-API-Key", query="apikey"')
    return response


async def _send(scope, receive, send, response) -> None:
    await response(scope, receive, send)

