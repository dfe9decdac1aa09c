"""Tile invalidation collects an unchanged geometry once, not twice.

``tiles_dirty`` (migration 0003) collected the old and the new geometry of every updated row
that changed. When only attributes changed (a re-upload with new floor areas, a classification),
both are the same shape: 100 000 rows meant 200 000 geometries collected into the invalidation and
intersected with the cached tiles. Now the old one is added only when the geometry moved.

Revision ID: 0022
Revises: 0021
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE OR REPLACE FUNCTION tiles_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
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
        EXECUTE 'SELECT ST_Collect(g) FROM (SELECT unnest(__GEOMETRIES__) AS g '
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
ONCE = "CASE WHEN o.geom IS DISTINCT FROM n.geom THEN ARRAY[o.geom, n.geom] ELSE ARRAY[n.geom] END"
BOTH = "ARRAY[o.geom, n.geom]"


def upgrade() -> None:
    op.execute(FUNCTION.replace("__GEOMETRIES__", ONCE))


def downgrade() -> None:
    op.execute(FUNCTION.replace("__GEOMETRIES__", BOTH))
