"""The one rate limiter of every process: API keys, anonymous /ogc and /ows, and logins.

Built on the ``limits`` library (fixed one-minute windows, :class:`limits.strategies.FixedWindowRateLimiter`)
with shared storage, so N processes give the limit once, not N times:

* Redis (``limits``' own ``RedisStorage``) when ``CLOUDMAP_REDIS_URL`` is set;
* otherwise PostgreSQL: :class:`PostgresStorage` (scheme ``postgresql+cloudmap://``) over the UNLOGGED
  table ``rate_limit_counters`` (migration 0017) — one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``
  per check, an expired window restarted in the same statement, and expired rows deleted now and then;
* ``CLOUDMAP_RATELIMIT_STORAGE`` (e.g. ``memory://``) wins over both: tests that say so.

The client address (:func:`client_address`) is the peer's, or — only when the peer is one of
``CLOUDMAP_TRUSTED_PROXIES`` — the last address of ``X-Forwarded-For`` that is not a trusted proxy.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import threading
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout
from sqlalchemy import Engine, event

from ..settings import Settings
from .db import DEADLINE_GRACE_S, watchdog

log = logging.getLogger("cloudmap.ratelimit")
SCHEME = "postgresql+cloudmap"
POOL_SIZE = 4  # connections of the limiter's own pool, per process (opened when needed, closed when idle)
POOL_TIMEOUT_S = 1.0  # the limiter never holds a request: past this it lets it through (logged)
STATEMENT_TIMEOUT_MS = 1000  # a counter that takes longer is not worth waiting for (the request is served)
_CLEANUP_EVERY = 500  # on average, one delete of expired rows per this many increments

_INCR = (
    "INSERT INTO rate_limit_counters AS c (key, count, expires_at)"
    " VALUES (%(key)s, %(amount)s, now() + make_interval(secs => %(expiry)s))"
    " ON CONFLICT (key) DO UPDATE SET"
    " count = CASE WHEN c.expires_at <= now() THEN excluded.count ELSE c.count + excluded.count END,"
    " expires_at = CASE WHEN c.expires_at <= now() THEN excluded.expires_at ELSE c.expires_at END"
    " RETURNING count"
)


class PostgresStorage(Storage):
    """``limits`` storage over ``rate_limit_counters``: one autocommit statement a call on a small pool of
    its own (opened on first use, closed with the application's engine)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, engine: Engine | None = None,
                 **options) -> None:
        if engine is None:
            raise ValueError("PostgresStorage needs the application's engine")
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._pool: ConnectionPool | None = None
        self._pool_lock = threading.Lock()
        event.listen(engine, "engine_disposed", lambda _engine: self.close())
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return psycopg.Error, PoolTimeout

    def _connection(self):
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ConnectionPool(
                        self._conninfo, min_size=0, max_size=POOL_SIZE, max_idle=60, timeout=POOL_TIMEOUT_S,
                        kwargs={"autocommit": True, "connect_timeout": 2,
                                "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"},
                        name="cloudmap-ratelimit", open=True)
        return self._pool.connection()

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    @staticmethod
    def _execute(conn, sql: str, params: dict | None = None):
        """One statement under the watchdog: a paused server (no answer at all, so no statement_timeout
        either) fails the call within the deadline instead of holding the request."""
        token = watchdog.arm(conn.pgconn.socket, STATEMENT_TIMEOUT_MS / 1000 + DEADLINE_GRACE_S / 2)
        try:
            return conn.execute(sql, params or {})
        finally:
            watchdog.disarm(token)

    def _one(self, sql: str, params: dict | None = None):
        with self._connection() as conn:
            return self._execute(conn, sql, params).fetchone()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with self._connection() as conn:
            count = self._execute(conn, _INCR, {"key": key, "amount": amount, "expiry": float(expiry)}).fetchone()[0]
            if random.randrange(_CLEANUP_EVERY) == 0:
                self._execute(conn, "DELETE FROM rate_limit_counters WHERE expires_at < now()")
        return count

    def get(self, key: str) -> int:
        row = self._one("SELECT count FROM rate_limit_counters WHERE key = %(key)s AND expires_at > now()",
                        {"key": key})
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._one("SELECT extract(epoch FROM expires_at) FROM rate_limit_counters"
                        " WHERE key = %(key)s AND expires_at > now()", {"key": key})
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._one("SELECT 1")
        except (psycopg.Error, PoolTimeout):
            return False
        return True

    def reset(self) -> int | None:
        with self._connection() as conn:
            return self._execute(conn, "DELETE FROM rate_limit_counters").rowcount

    def clear(self, key: str) -> None:
        self._one("DELETE FROM rate_limit_counters WHERE key = %(key)s RETURNING 1", {"key": key})


def storage_uri(settings: Settings) -> str:
    return settings.ratelimit_storage or settings.redis_url or f"{SCHEME}://"


@dataclass(frozen=True)
class Backoff:
    """A login's failures for one account from one address: wait ``retry_after`` seconds when > 0."""

    retry_after: float


class Limiter:
    """Shared counters: ``take`` for budgets a minute, ``failures`` and ``backoff`` for logins."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        uri = storage_uri(settings)
        options = {"engine": engine} if uri.startswith(SCHEME) else {}
        self.storage = storage_from_string(uri, wrap_exceptions=True, **options)
        self.strategy = FixedWindowRateLimiter(self.storage)

    def take(self, namespace: str, who: object, per_minute: int) -> float:
        """Count one request of ``who``: 0 when allowed, else the seconds until its window ends (Retry-After)."""
        return self._wait(self.strategy.hit, namespace, who, per_minute)

    def exhausted(self, namespace: str, who: object, per_minute: int) -> float:
        """0 while ``who`` has budget left this minute (nothing counted), else the seconds to wait."""
        return self._wait(self.strategy.test, namespace, who, per_minute)

    def _wait(self, allowed, namespace: str, who: object, per_minute: int) -> float:
        item = RateLimitItemPerMinute(per_minute)
        try:
            if allowed(item, namespace, str(who)):
                return 0.0
            reset = self.strategy.get_window_stats(item, namespace, str(who)).reset_time
        except StorageError:
            # The counters' store is down: serve (the database's own timeouts answer 503 if it is the database).
            log.warning("rate limiter storage unavailable; %s not limited", namespace, exc_info=True)
            return 0.0
        return max(1.0, reset - time.time())

    def spend(self, namespace: str, who: object, per_minute: int) -> None:
        """Count one (failed) attempt of ``who`` against its budget a minute."""
        try:
            self.strategy.hit(RateLimitItemPerMinute(per_minute), namespace, str(who))
        except StorageError:
            log.warning("rate limiter storage unavailable; %s not counted", namespace, exc_info=True)

    # -- login back-off -------------------------------------------------------------------
    # After ``login_max_failures`` failures of one account from one address, that address waits
    # 1, 2, 4 … minutes (up to ``login_backoff_max_minutes``) before each next attempt on it.
    # Keyed by the name typed, so an unknown name is backed off exactly like an existing one.

    def backoff(self, account: str, address: str) -> float:
        """Seconds the address must still wait before trying this account (0: it may try)."""
        key = _login_key("wait", account, address)
        try:
            if self.storage.get(key) <= 0:
                return 0.0
            return max(1.0, self.storage.get_expiry(key) - time.time())
        except StorageError:
            log.warning("rate limiter storage unavailable; login back-off not checked", exc_info=True)
            return 0.0

    def failed(self, account: str, address: str) -> float:
        """Count a failure; the back-off it starts, in seconds (0 while under the threshold)."""
        try:
            count = self.storage.incr(_login_key("failures", account, address), 86_400)  # the failures of a day
            over = count - self.settings.login_max_failures
            if over < 0:
                return 0.0
            wait = min(60.0 * 2 ** over, 60.0 * self.settings.login_backoff_max_minutes)
            self.storage.incr(_login_key("wait", account, address), max(1, int(wait)))
        except StorageError:
            log.warning("rate limiter storage unavailable; login failure not counted", exc_info=True)
            return 0.0
        return wait

    def succeeded(self, account: str, address: str) -> None:
        try:
            self.storage.clear(_login_key("failures", account, address))
            self.storage.clear(_login_key("wait", account, address))
        except StorageError:
            log.warning("rate limiter storage unavailable; login failures not cleared", exc_info=True)


def _login_key(kind: str, account: str, address: str) -> str:
    return f"login-{kind}/{account.strip().lower()[:64]}/{address}"


_lock = threading.Lock()


def limiter_of(app) -> Limiter:
    """The application's limiter, made on first use (on ``app.state.engine`` for PostgreSQL)."""
    limiter = getattr(app.state, "limiter", None)
    if limiter is None:
        with _lock:
            limiter = getattr(app.state, "limiter", None)
            if limiter is None:
                limiter = Limiter(app.state.settings, getattr(app.state, "engine", None))
                app.state.limiter = limiter
    return limiter


# -- the client's address --------------------------------------------------------------------


def _networks(entries: list[str]) -> tuple:
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


_network_cache: dict[tuple[str, ...], tuple] = {}


def _trusted(address: str, entries: list[str]) -> bool:
    key = tuple(entries)
    nets = _network_cache.get(key)
    if nets is None:
        nets = _network_cache[key] = _networks(entries)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in nets)


def client_address(scope, trusted_proxies: list[str]) -> str:
    """The peer's address; behind a trusted proxy, the nearest untrusted address of X-Forwarded-For."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if not trusted_proxies or not _trusted(peer, trusted_proxies):
        return peer
    forwarded = b",".join(v for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-for")
    hops = [h.strip() for h in forwarded.decode("latin-1").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted_proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a forged, unparsable entry: count the proxy itself
    return hops[0] if hops else peer
