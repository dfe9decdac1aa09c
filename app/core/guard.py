"""The edge of the app: one pure ASGI middleware, just inside Starlette's ServerErrorMiddleware.

* Every response carries ``X-Request-Id`` (a fresh id, or a sane one the client sent).
* The request target is checked before any route sees it: a path or query string longer than
  ``MAX_TARGET`` is a 414; a NUL byte or another C0 control character (tab, CR and LF are allowed in
  query values, where CQL2 text may span lines) in the path or any query name or value is a 400
  naming the parameter. PostgreSQL refuses NUL in text, and nothing here means a control character.
* Anything a route or an inner middleware raises and nobody handled becomes the 500 envelope, with
  the request id in the message and the traceback in the log under that id. Starlette's
  ServerErrorMiddleware would answer too, but then re-raise, and uvicorn closes the keep-alive
  connection; answering here keeps it open. Nothing of the exception reaches the client.
"""

from __future__ import annotations

import logging
import re
import uuid
from urllib.parse import parse_qsl

from ..errors import FieldError, envelope
from ..messages import field_label, message

log = logging.getLogger("cloudmap")

MAX_TARGET = 8192  # bytes of path + query string
REQUEST_ID = "x-request-id"
_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_CONTROL_PATH = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_QUERY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def new_request_id() -> str:
    return uuid.uuid4().hex[:12]


def check_target(path: str, query: str) -> tuple[int, str, str, list[FieldError]] | None:
    """What is wrong with the request target (status, code, detail, errors), or None."""
    if len(path.encode("utf-8", "surrogateescape")) + len(query) > MAX_TARGET:
        return 414, "uri_too_long", message("uri_too_long", limit=MAX_TARGET), []
    if _CONTROL_PATH.search(path):
        reason = message("control_character")
        return 400, "invalid_parameter", message("invalid_path", reason=reason), [FieldError("path", reason)]
    if query and ("%" in query or _CONTROL_QUERY.search(query)):
        for name, value in parse_qsl(query, keep_blank_values=True):
            if _CONTROL_QUERY.search(name) or _CONTROL_QUERY.search(value):
                reason = message("control_character")
                detail = message("invalid_parameter", field=_label(name), reason=reason)
                return 400, "invalid_parameter", detail, [FieldError(name if name.isprintable() else None, reason)]
    return None


def _label(name: str) -> str:
    label = field_label(name)
    return f"“{name}”" if label == "该项" and name.isprintable() and len(name) <= 40 else label


class Guard:
    """ASGI middleware: request id, target checks, and the last-resort 500 that keeps the connection."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _client_request_id(scope) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (REQUEST_ID.encode(), request_id.encode())
        started = False

        async def send_with_id(event) -> None:
            nonlocal started
            if event["type"] == "http.response.start":
                started = True
                event = {**event, "headers": [*event.get("headers", ()), header]}
            await send(event)

        query = scope.get("query_string", b"").decode("latin-1")
        problem = check_target(scope.get("path", ""), query)
        if problem is not None:
            status, code, detail, errors = problem
            await envelope(status, code, detail, errors)(scope, receive, send_with_id)
            return
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error %s on %s %s", request_id, scope.get("method"), scope.get("path"))
            if started:
                raise  # the status line is out: nothing sensible can follow it
            response = envelope(500, "internal_error", message("internal_error", request_id=request_id))
            await response(scope, receive, send_with_id)


def _client_request_id(scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _CLIENT_ID.fullmatch(text) else None
    return None
