"""Parcel tiles carry their block's stage and year, their enterprise's 亩均税收 and grade: their writes invalidate.

The parcel vector tiles now carry what the map's colour modes and filters read (the layer
registry's ``tile_sources`` for parcels, app/core/read/layers.py; tested against these
triggers). So, besides the parcels' own columns (the ``tiles_dirty`` trigger of 0003, now
with ``planned_far`` and the three foreign keys):

* an UPDATE of ``code``/``stage``/``designated_year`` of a block, of ``code`` of a unit or of
  ``tax_10k_yuan``/``evaluation_grade`` of an enterprise invalidates the tiles of exactly the
  parcels that refer to the changed rows (``parcel_tiles_dirty``: their geometries, one
  ``tile_invalidations`` row with ``source_table = 'parcels'``). INSERT needs nothing (no
  parcel refers to a new row yet); a DELETE sets or cascades the parcels' foreign keys,
  which the parcels' own trigger sees; TRUNCATE invalidates every parcel tile;
* 亩均税收 is the enterprise's tax over all its land, so a parcel inserted, deleted, moved
  to another enterprise or given another area changes the figure of the enterprise's other
  parcels: ``parcel_tiles_coheld`` adds their geometries.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARCEL_COLUMNS = ("code", "classification", "status", "renewal_mode", "land_area_mu", "far",
                  "planned_far", "unit_id", "block_id", "enterprise_id")
OLD_PARCEL_COLUMNS = ("code", "classification", "status", "renewal_mode", "land_area_mu", "far")
# table → (the parcels' foreign key to it, its columns the parcel tiles carry)
REFERENCED = {
    "units": ("unit_id", ("code",)),
    "renewal_blocks": ("block_id", ("code", "stage", "designated_year")),
    "enterprises": ("enterprise_id", ("tax_10k_yuan", "evaluation_grade")),
}

VIA_FUNCTION = """
CREATE FUNCTION parcel_tiles_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed geometry;
    batch bigint;
    differs text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        changed := NULL;
    ELSE
        -- TG_ARGV[0]: the parcels' foreign key; the rest: the columns the tiles carry.
        SELECT string_agg(format('o.%1$I IS DISTINCT FROM n.%1$I', c), ' OR ')
          INTO differs FROM unnest(TG_ARGV[1:]) AS c;
        EXECUTE format('SELECT ST_Collect(p.geom) FROM parcels p WHERE p.%I IN '
                       '(SELECT o.id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE %s)', TG_ARGV[0], differs)
          INTO changed;
        IF changed IS NULL THEN RETURN NULL; END IF;
    END IF;
    INSERT INTO tile_invalidations (source_table, geom) VALUES ('parcels', changed) RETURNING id INTO batch;
    PERFORM pg_notify('cloudmap_tiles', batch::text);
    RETURN NULL;
END
$$
"""

COHELD_FUNCTION = """
CREATE FUNCTION parcel_tiles_coheld() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed geometry;
    batch bigint;
    ids bigint[];
BEGIN
    -- The enterprises whose land changed, then their other parcels: the statement's own rows
    -- are left out, tiles_dirty has their geometries already (a bulk load is not collected twice).
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT enterprise_id) INTO ids FROM new_rows WHERE enterprise_id IS NOT NULL;
        IF ids IS NULL THEN RETURN NULL; END IF;
        SELECT ST_Collect(p.geom) INTO changed FROM parcels p
         WHERE p.enterprise_id IN (SELECT unnest(ids)) AND NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = p.id);
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT enterprise_id) INTO ids FROM old_rows WHERE enterprise_id IS NOT NULL;
        IF ids IS NULL THEN RETURN NULL; END IF;
        SELECT ST_Collect(p.geom) INTO changed FROM parcels p WHERE p.enterprise_id IN (SELECT unnest(ids));
    ELSE
        SELECT array_agg(DISTINCT e) INTO ids FROM (
            SELECT unnest(ARRAY[o.enterprise_id, n.enterprise_id]) AS e
              FROM old_rows o JOIN new_rows n ON n.id = o.id
             WHERE o.enterprise_id IS DISTINCT FROM n.enterprise_id
                OR o.land_area_mu IS DISTINCT FROM n.land_area_mu) s
         WHERE e IS NOT NULL;
        IF ids IS NULL THEN RETURN NULL; END IF;
        SELECT ST_Collect(p.geom) INTO changed FROM parcels p
         WHERE p.enterprise_id IN (SELECT unnest(ids))
           AND NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                            WHERE n.id = p.id AND (o.enterprise_id IS DISTINCT FROM n.enterprise_id
                                                   OR o.land_area_mu IS DISTINCT FROM n.land_area_mu));
    END IF;
    IF changed IS NULL THEN RETURN NULL; END IF;
    INSERT INTO tile_invalidations (source_table, geom) VALUES ('parcels', changed) RETURNING id INTO batch;
    PERFORM pg_notify('cloudmap_tiles', batch::text);
    RETURN NULL;
END
$$
"""

_EVENTS = (
    ("insert", "INSERT", "NEW TABLE AS new_rows"),
    ("update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("delete", "DELETE", "OLD TABLE AS old_rows"),
)


def _args(columns: Sequence[str]) -> str:
    return ", ".join(f"'{c}'" for c in columns)


def _parcels_update_trigger(columns: Sequence[str]) -> None:
    op.execute("DROP TRIGGER tiles_dirty_update ON parcels")
    op.execute(
        "CREATE TRIGGER tiles_dirty_update AFTER UPDATE ON parcels "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION tiles_dirty({_args(columns)})"
    )


def upgrade() -> None:
    _parcels_update_trigger(PARCEL_COLUMNS)
    op.execute(COHELD_FUNCTION)
    for name, event, ref in _EVENTS:
        op.execute(
            f"CREATE TRIGGER parcel_tiles_coheld_{name} AFTER {event} ON parcels "
            f"REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION parcel_tiles_coheld()"
        )
    op.execute(VIA_FUNCTION)
    for table, (fk, columns) in REFERENCED.items():
        op.execute(
            f"CREATE TRIGGER parcel_tiles_dirty_update AFTER UPDATE ON {table} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION parcel_tiles_dirty({_args((fk, *columns))})"
        )
        op.execute(
            f"CREATE TRIGGER parcel_tiles_dirty_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION parcel_tiles_dirty()"
        )


def downgrade() -> None:
    for table in REFERENCED:
        op.execute(f"DROP TRIGGER IF EXISTS parcel_tiles_dirty_update ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS parcel_tiles_dirty_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS parcel_tiles_dirty()")
    for name, _event, _ref in _EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS parcel_tiles_coheld_{name} ON parcels")
    op.execute("DROP FUNCTION IF EXISTS parcel_tiles_coheld()")
    _parcels_update_trigger(OLD_PARCEL_COLUMNS)
