"""OGC API: API keys for other systems, and tile-cache invalidation by trigger.

``api_keys`` holds read-only keys (hashed). ``tile_invalidations`` is written by
statement-level triggers on the three tables that feed vector tiles: for every INSERT,
UPDATE, DELETE (ORM, ``INSERT … SELECT``, COPY, psql) the old and new geometries of the
rows whose geometry or *tile attributes* changed are collected into one row, and
``NOTIFY cloudmap_tiles`` carries its id to every server (app/ogc/cache.py). TRUNCATE
writes a row with a NULL geometry: everything. The tile attributes are the trigger
arguments and must equal ``tile_properties`` in app/ogc/collections.py (tested).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table → the columns its tiles carry (besides geom and id)
TILE_COLUMNS = {
    "units": ("code", "name", "kind"),
    "renewal_blocks": ("code", "name", "stage", "review_status", "area_mu", "planned_far"),
    "parcels": ("code", "classification", "status", "renewal_mode", "land_area_mu", "far"),
}

DIRTY_FUNCTION = """
CREATE FUNCTION tiles_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed geometry;
    batch bigint;
    differs text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        changed := NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT ST_Collect(geom) INTO changed FROM new_rows;
        IF changed IS NULL THEN RETURN NULL; END IF;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT ST_Collect(geom) INTO changed FROM old_rows;
        IF changed IS NULL THEN RETURN NULL; END IF;
    ELSE
        -- Only rows whose geometry or a tile attribute changed; the column names are
        -- the trigger's arguments, quoted with %I.
        SELECT string_agg(format('o.%1$I IS DISTINCT FROM n.%1$I', c), ' OR ')
          INTO differs FROM unnest(TG_ARGV) AS c;
        EXECUTE 'SELECT ST_Collect(g) FROM (SELECT unnest(ARRAY[o.geom, n.geom]) AS g '
             || 'FROM old_rows o JOIN new_rows n ON n.id = o.id '
             || 'WHERE o.geom IS DISTINCT FROM n.geom OR ' || differs || ') s'
          INTO changed;
        IF changed IS NULL THEN RETURN NULL; END IF;
    END IF;
    INSERT INTO tile_invalidations (source_table, geom) VALUES (TG_TABLE_NAME, changed)
        RETURNING id INTO batch;
    PERFORM pg_notify('cloudmap_tiles', batch::text);
    RETURN NULL;
END
$$
"""

APIKEYS_NOTIFY_FUNCTION = """
CREATE FUNCTION api_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cloudmap_apikeys', '');
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=160), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("rate_limit_per_minute > 0", name=op.f("ck_api_keys_rate_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.execute(APIKEYS_NOTIFY_FUNCTION)
    op.execute(
        "CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE ON api_keys "
        "FOR EACH STATEMENT EXECUTE FUNCTION api_keys_changed()"
    )

    op.create_table(
        "tile_invalidations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("source_table", sa.String(length=63), nullable=False),
        sa.Column("tx", sa.BigInteger(), server_default=sa.text("txid_current()"), nullable=False),
        sa.Column("geom", Geometry(geometry_type="GEOMETRY", srid=4490, spatial_index=False), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tile_invalidations")),
    )
    op.create_index(op.f("ix_tile_invalidations_tx"), "tile_invalidations", ["tx"], unique=False)
    op.create_index(op.f("ix_tile_invalidations_created_at"), "tile_invalidations", ["created_at"], unique=False)
    op.execute(DIRTY_FUNCTION)
    for table, columns in TILE_COLUMNS.items():
        args = ", ".join(f"'{c}'" for c in columns)
        for event, ref in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER tiles_dirty_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION tiles_dirty({args})"
            )
        op.execute(
            f"CREATE TRIGGER tiles_dirty_truncate AFTER TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION tiles_dirty()"
        )


def downgrade() -> None:
    for table in TILE_COLUMNS:
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS tiles_dirty_{event} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS tiles_dirty()")
    op.drop_index(op.f("ix_tile_invalidations_created_at"), table_name="tile_invalidations")
    op.drop_index(op.f("ix_tile_invalidations_tx"), table_name="tile_invalidations")
    op.drop_table("tile_invalidations")
    op.execute("DROP TRIGGER IF EXISTS api_keys_changed ON api_keys")
    op.execute("DROP FUNCTION IF EXISTS api_keys_changed()")
    op.drop_table("api_keys")
