"""The Host check and the public URL (issue 18): the outermost middleware of the application.

* A request whose ``Host`` is not one of ``CLOUDMAP_ALLOWED_HOSTS`` (an exact name, ``*.example.cn`` for
  its subdomains, or ``*`` for any) is answered 400 in the error envelope before anything else runs.
* When ``CLOUDMAP_PUBLIC_URL`` is set, the request is rewritten to it (scheme, ``Host``, server), so every
  absolute link the service writes — OGC and OWS documents, the OpenAPI server URL, paging links — names
  the public address and never what a client put in its ``Host`` header.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..errors import FieldError, envelope
from ..messages import message


def _host_name(value: str) -> str:
    """``example.cn:8000`` → ``example.cn``; ``[::1]:8000`` → ``::1``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value[1:]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(host: str, allowed: list[str]) -> bool:
    name = _host_name(host)
    for pattern in allowed:
        pattern = pattern.strip().lower()
        if pattern == "*" or pattern == name:
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:]):
            return True
    return False


class HostCheck:
    """Pure ASGI: refuse hosts that are not allowed; then present the public URL as the request's own."""

    def __init__(self, app, allowed_hosts: list[str], public_url: str = "") -> None:
        self.app = app
        self.allowed = list(allowed_hosts)
        self.any_host = "*" in self.allowed
        self.public = None
        if public_url:
            parts = urlsplit(public_url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            self.public = (parts.scheme, parts.netloc.encode("latin-1"), (parts.hostname or "", port))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        if not self.any_host:
            host = next((v for k, v in headers if k == b"host"), b"").decode("latin-1")
            if not host_allowed(host, self.allowed):
                detail = message("host_not_allowed")
                response = envelope(400, "host_not_allowed", detail, [FieldError("Host", detail)])
                await response(scope, receive, send)
                return
        if self.public is not None:
            scheme, netloc, server = self.public
            scope = dict(scope)
            scope["scheme"] = scheme if scope["type"] == "http" else ("wss" if scheme == "https" else "ws")
            scope["server"] = server
            scope["headers"] = [(k, v) for k, v in headers if k != b"host"] + [(b"host", netloc)]
        await self.app(scope, receive, send)
