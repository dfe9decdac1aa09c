"""A size cap on every request body but the uploads', checked while the body streams in.

A pure ASGI middleware: a ``Content-Length`` over the cap is refused before anything is read;
a body without one (chunked) is counted chunk by chunk, and the read that passes the cap
raises :class:`BodyTooLarge` (413 in the error envelope) instead of buffering the rest. So
a client cannot make the process hold more than one cap's worth of a body per request.

``multipart/form-data`` bodies (uploads, evidence files, objections) are left to their own
routes, which stream them to disk under their own limits (app.ingest, CLOUDMAP_UPLOAD_MAX_MB).
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import AppError, envelope
from ..messages import message


def _mb(limit: int) -> str:
    return f"{limit / (1024 * 1024):g}"


class BodyTooLarge(AppError, HTTPException):
    """An AppError (the envelope's handler) that FastAPI's body reading passes on unchanged
    (it turns other exceptions of a body read into a 400)."""

    status_code = 413
    code = "payload_too_large"

    def __init__(self, limit: int) -> None:
        detail = message("body_too_large", mb=_mb(limit))
        HTTPException.__init__(self, status_code=413, detail=detail)
        self.detail = detail
        self.errors = []


class BodyLimit:
    """``default`` bytes for a body; ``larger`` maps path prefixes to their own cap."""

    def __init__(self, app: ASGIApp, default: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.larger = sorted((larger or {}).items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.larger:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = None
        for name, value in scope["headers"]:
            if name == b"content-type" and value.lower().startswith(b"multipart/form-data"):
                await self.app(scope, receive, send)
                return
            if name == b"content-length":
                length = value
        limit = self.limit_for(scope["path"])
        if length is not None and (not length.isdigit() or int(length) > limit):
            response = envelope(413, BodyTooLarge.code, message("body_too_large", mb=_mb(limit)))
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return msg

        await self.app(scope, counted, send)
