"""Per-process state of the OGC API: tile cache, key store, the listener (rate limits: app.core.ratelimit).

Created by :func:`app.ogc.install`; kept on ``app.state.ogc``.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from geoalchemy2 import functions as gf
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from ..core.db import conninfo, new_session
from ..core.ratelimit import Limiter
from .apikeys import KeyStore, lookup_in
from . import tiles
from .cache import CachedTile, InvalidationListener, TileCache
from ..core.read.layers import Layer, by_source_table
from ..core.read.pool import Reader
from .models import TileInvalidation

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger("cloudmap.ogc")


class OgcRuntime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache = TileCache(settings.ogc_tile_cache_mb * 1024 * 1024)
        self.limiter = KeyBudgets(self)
        self._shared: Limiter | None = None
        self.keys = KeyStore(self._lookup_key)
        self.engine: Engine | None = None
        self.listener: InvalidationListener | None = None
        self._start_lock = threading.Lock()
        self._sources = by_source_table()

    # -- lifecycle --------------------------------------------------------------------
    def attach(self, engine: Engine, sessions: sessionmaker[Session]) -> None:
        """Install the tile cache's invalidation on the application's sessions (after each commit)."""
        self.engine = engine
        event.listen(sessions, "before_commit", _remember_txid)
        event.listen(sessions, "after_commit", self._after_commit)

    def ensure_listener(self) -> None:
        """Start listening on first use (tiles or keys); most requests never need it."""
        if self.listener is not None or self.engine is None:
            return
        with self._start_lock:
            if self.listener is not None:
                return
            self.listener = InvalidationListener(
                conninfo(self.engine),
                self.cache,
                self._apply_from_psycopg,
                self.keys.clear,
                self._connected,
            )
            self.listener.start()

    # -- tiles ------------------------------------------------------------------------
    async def tile(self, reader: Reader, collection: Layer, z: int, x: int, y: int) -> CachedTile:
        """A tile from the cache, or rendered (and cached unless an invalidation ran meanwhile)."""
        self.ensure_listener()
        key = (collection.id, z, x, y)
        cached = self.cache.get(key)
        if cached is None:
            generation = self.cache.generation
            cached = self.cache.put(key, await tiles.render_tile(reader, collection, z, x, y), generation)
        return cached

    async def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener = None

    def _connected(self, on: bool) -> None:
        self.cache.enabled = on
        self.keys.set_caching(on)

    # -- invalidation -----------------------------------------------------------------
    def _apply_from_psycopg(self, conn, batch_id: int) -> None:
        if self.cache.seen(batch_id):
            return
        row = conn.execute(
            "SELECT source_table, ST_AsBinary(geom) FROM tile_invalidations WHERE id = %s", (batch_id,)
        ).fetchone()
        if row is not None:
            self._apply(batch_id, row[0], row[1])
        self.cache.mark_processed(batch_id)

    def _apply(self, batch_id: int, table: str, wkb: bytes | None) -> None:
        n = self.cache.invalidate(self._sources.get(table, ()), None if wkb is None else bytes(wkb))
        log.debug("tile invalidation %s on %s: %d cached tiles evicted", batch_id, table, n)

    def _after_commit(self, session: Session) -> None:
        """Writes committed through this process's sessions are applied before the caller goes on."""
        txid = session.info.pop("cloudmap_txid", None)
        if txid is None or self.engine is None or self.listener is None:
            return
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(TileInvalidation.id, TileInvalidation.source_table, gf.ST_AsBinary(TileInvalidation.geom))
                .where(TileInvalidation.tx == txid)
                .order_by(TileInvalidation.id)
            ).all()
        for batch_id, table, wkb in rows:
            if not self.cache.seen(batch_id):
                self._apply(batch_id, table, wkb)
                self.cache.mark_processed(batch_id)

    # -- keys -------------------------------------------------------------------------
    def _lookup_key(self, prefix: str):
        assert self.engine is not None
        with new_session(self.engine) as session:
            return lookup_in(session, prefix)


class KeyBudgets:
    """``take(who, rate)`` for callers outside the gate (app.enterprises' figures keys): the shared limiter."""

    def __init__(self, runtime: OgcRuntime) -> None:
        self.runtime = runtime

    def take(self, who: object, rate_per_minute: int) -> float:
        runtime = self.runtime
        if runtime._shared is None:
            with runtime._start_lock:
                if runtime._shared is None:
                    runtime._shared = Limiter(runtime.settings, runtime.engine)
        return runtime._shared.take("key", repr(who), rate_per_minute)


def _remember_txid(session: Session) -> None:
    # NULL when the transaction wrote nothing: then there is nothing to invalidate.
    session.info["cloudmap_txid"] = session.execute(select(func.txid_current_if_assigned())).scalar()
