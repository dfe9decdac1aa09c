"""Tables of the OGC API: API keys for other systems, and the tile-invalidation log.

Created by migration 0003; registered in ``app.models_all``.
"""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, CheckConstraint, DateTime, Integer, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from spatial import STORAGE_SRID

from ..models import Base


class ApiKey(Base):
    """A read-only key for another department's system (经信, 自然资源, 税务, 市场监管 …).

    The key itself is shown once, at creation; only ``prefix`` (to find the row) and a
    salted SHA-256 of the secret are kept. See docs/ogc.md for why not argon2.
    """

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint("rate_limit_per_minute > 0", name="rate_positive"),
        CheckConstraint("scope IN ('ogc_read', 'figures_write')", name="scope"),
        CheckConstraint("scope <> 'figures_write' OR department IS NOT NULL", name="figures_department"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))  # who holds it, e.g. 市场监管局 企业画像系统
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(160))  # sha256$<salt hex>$<digest hex>
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # ogc_read: reads /ogc only. figures_write: a department's system sends its yearly figures
    # (POST /api/enterprises/figures) as ``department``, only the figures listed (NULL = all of them).
    scope: Mapped[str] = mapped_column(String(16), server_default="ogc_read", default="ogc_read")
    department: Mapped[str | None] = mapped_column(String(64))
    figure_fields: Mapped[list | None] = mapped_column(JSONB)


class TileInvalidation(Base):
    """One statement's changed geometries (old and new) on a table that feeds tiles.

    Written only by the ``tiles_dirty_*`` triggers; read by every server's tile cache.
    ``geom`` NULL means the whole table changed (TRUNCATE).
    """

    __tablename__ = "tile_invalidations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_table: Mapped[str] = mapped_column(String(63))
    tx: Mapped[int] = mapped_column(BigInteger, server_default=text("txid_current()"), index=True)
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("GEOMETRY", srid=STORAGE_SRID, spatial_index=False))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
