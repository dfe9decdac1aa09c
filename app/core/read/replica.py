"""Reads on a streaming replica, with read-your-writes (docs/deployment.md, "Replica").

When ``DATABASE_REPLICA_URL`` is set, the read path's statements (:class:`~app.core.read.pool.ReadPool`
readers: GeoJSON pages of /api and /ogc, features, tiles) run on the replica; the ORM sessions (every
write, logins, sessions), the tile cache's LISTEN and the rate limiter stay on the primary.

Read-your-writes is by WAL position, not by a time window:

* after a request that may have written (any method but GET/HEAD/OPTIONS that succeeded), the
  middleware reads the primary's ``pg_current_wal_lsn()`` — at or after the commit's — and sets the
  signed cookie ``cloudmap_lsn`` (``read_your_writes_s`` long);
* a request carrying it reads on the replica only once ``pg_last_wal_replay_lsn()`` there has reached
  that position, else on the primary. The replica's replay position is cached per process and
  asked again only when a request needs a later one.

The tile cache is invalidated from the primary (LISTEN): a tile rendered from a replica that has not
replayed the change yet would be cached stale. So when the process's tile cache has seen an
invalidation (its ``generation`` moved), the primary's position becomes a floor every read must
have replayed, whoever asks.

A replica that cannot be reached is left alone for ``RETRY_S`` and the reads go to the primary
(logged once per outage).
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

from ...errors import ServiceUnavailable
from .pool import ReadPool, Sql

log = logging.getLogger("cloudmap.read")

COOKIE = "cloudmap_lsn"
RETRY_S = 30.0  # a replica that failed is tried again after this long
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REPLAY = Sql("SELECT pg_last_wal_replay_lsn()::text", {}, {}, True)
_CURRENT = Sql("SELECT pg_current_wal_lsn()::text", {}, {}, True)

# The WAL position this request's reads must see (from its cookie); 0: any.
required_lsn: contextvars.ContextVar[int] = contextvars.ContextVar("cloudmap_required_lsn", default=0)


def parse_lsn(text: str | None) -> int:
    """``'16/B374D848'`` → an integer (0 for NULL: a server that is not replaying)."""
    if not text:
        return 0
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def sign(lsn: int, secret: str) -> str:
    mac = hmac.new(secret.encode(), str(lsn).encode(), hashlib.sha256).hexdigest()[:32]
    return f"{lsn}.{mac}"


def unsign(value: str, secret: str) -> int:
    """The LSN of a cookie value, or 0 when it is malformed or not ours."""
    lsn, _, mac = value.partition(".")
    if not lsn.isdigit() or not hmac.compare_digest(sign(int(lsn), secret), value):
        return 0
    return int(lsn)


class RoutedReads:
    """The read path's reader when there is a replica: the replica when it is current enough."""

    def __init__(self, primary: ReadPool, replica: ReadPool, generation: Callable[[], int] = lambda: 0) -> None:
        self.primary = primary
        self.replica = replica
        self._generation = generation
        self._seen_generation = generation()
        self._floor = 0  # the primary's position when this process last saw a tile invalidation
        self._replayed = 0  # the replica's replay position last read
        self._down_until = 0.0
        self.replica_reads = 0  # counters, for tests and diagnostics
        self.primary_reads = 0

    @property
    def connects(self) -> int:
        return self.primary.connects + self.replica.connects

    async def one(self, sql: Sql, values: dict[str, Any] | None = None) -> tuple | None:
        if await self._replica_usable(required_lsn.get()):
            try:
                row = await self.replica.one(sql, values)
            except ServiceUnavailable as exc:
                self._mark_down(exc)
            else:
                self.replica_reads += 1
                return row
        self.primary_reads += 1
        return await self.primary.one(sql, values)

    async def replica_current(self) -> bool:
        """Whether this request may read on the replica (what /ows asks before choosing its mapfile)."""
        return await self._replica_usable(required_lsn.get())

    async def current_lsn(self) -> int:
        row = await self.primary.one(_CURRENT)
        return parse_lsn(row[0] if row else None)

    async def _replica_usable(self, need: int) -> bool:
        if self._down_until and time.monotonic() < self._down_until:
            return False
        generation = self._generation()
        if generation != self._seen_generation:
            self._seen_generation = generation
            self._floor = max(self._floor, await self.current_lsn())
        need = max(need, self._floor)
        if need <= self._replayed:
            return True
        try:
            row = await self.replica.one(_REPLAY)
        except ServiceUnavailable as exc:
            self._mark_down(exc)
            return False
        if self._down_until:
            log.warning("read replica reachable again")
            self._down_until = 0.0
        self._replayed = max(self._replayed, parse_lsn(row[0] if row else None))
        return need <= self._replayed

    def _mark_down(self, exc: BaseException) -> None:
        if not self._down_until:
            log.error("read replica unavailable (%s); reading on the primary", exc.__cause__ or exc)
        self._down_until = time.monotonic() + RETRY_S

    async def close(self) -> None:
        await self.replica.close()
        await self.primary.close()


class ReadYourWrites:
    """ASGI middleware: the ``cloudmap_lsn`` cookie in (:data:`required_lsn`), and out after a write."""

    def __init__(self, app, *, secret: str, max_age_s: int, secure: bool) -> None:
        self.app = app
        self.secret = secret
        self.max_age_s = max_age_s
        self.secure = secure

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lsn = 0
        for name, value in scope.get("headers", ()):
            if name == b"cookie" and COOKIE.encode() in value:
                morsel = SimpleCookie(value.decode("latin-1")).get(COOKIE)
                if morsel is not None:
                    lsn = unsign(morsel.value, self.secret)
        token = required_lsn.set(lsn)
        writing = scope["method"] not in _SAFE_METHODS

        async def send_with_cookie(message) -> None:
            if writing and message["type"] == "http.response.start" and message["status"] < 400:
                reads = getattr(getattr(scope.get("app"), "state", None), "reads", None)
                if isinstance(reads, RoutedReads):
                    try:
                        position = await reads.current_lsn()
                    except ServiceUnavailable:
                        position = 0
                    if position:
                        message = {**message, "headers": [*message.get("headers", ()), self._cookie(position)]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            required_lsn.reset(token)

    def _cookie(self, lsn: int) -> tuple[bytes, bytes]:
        attrs = f"{COOKIE}={sign(lsn, self.secret)}; Max-Age={self.max_age_s}; Path=/; HttpOnly; SameSite=Lax"
        if self.secure:
            attrs += "; Secure"
        return b"set-cookie", attrs.encode()
