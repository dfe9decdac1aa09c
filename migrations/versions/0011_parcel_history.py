"""Dated history of parcels and blocks, so that the figures for a past day never move ("as-of truth").

* ``parcel_status_events`` — a parcel's status, completion date and measures (亩, floor areas, FARs)
  from ``happened_on`` (the day it became true), counted in the figures from ``known_on``: the day it
  was recorded, or, for the history as first loaded (sources ``backfill`` and ``seed``), the day it
  happened. ``source`` says who wrote it (backfill / seed / upload / report / correction / edit),
  ``recorded_by`` and ``note`` who and why; ``corrects_id`` names the event a correction replaces.
* ``block_stage_events`` — the same for a block's stage (谋划 → 完成) and its completion date.

Both are written by triggers on ``parcels`` and ``renewal_blocks`` (statement-level with transition
tables for parcels, so a 100k-parcel upload writes its events in one INSERT … SELECT), whatever writes
the rows: the ORM, the upload commit's INSERT … SELECT, the seed, the CLI or an SQL fix. The writer
names itself in the transaction's settings ``cloudmap.event_source`` / ``cloudmap.event_actor`` /
``cloudmap.event_note`` (``app.core.history.event_source``); without them an event is an ``edit``.
A change of a completed parcel's completion date, and every event of source ``correction``, corrects
the latest event of the parcel (``corrects_id``). Events are never updated (a trigger refuses it);
they go with their parcel or block when it is deleted.

Existing rows are backfilled: one event per parcel that has a status other than 未启动 (happened and
known on its ``completed_on``, else on the migration day) and one per block.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = "source IN ('backfill', 'seed', 'upload', 'report', 'correction', 'edit')"

SETTINGS = """
    src text := coalesce(nullif(current_setting('cloudmap.event_source', true), ''), 'edit');
    who text := nullif(current_setting('cloudmap.event_actor', true), '');
    why text := nullif(current_setting('cloudmap.event_note', true), '');
    today date := (now() AT TIME ZONE 'Asia/Shanghai')::date;
"""

FUNCTIONS = f"""
CREATE FUNCTION parcel_status_events_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE {SETTINGS}
BEGIN
    INSERT INTO parcel_status_events (parcel_id, status, completed_on, land_area_mu, floor_area_m2,
        planned_floor_area_m2, far, planned_far, happened_on, known_on, source, recorded_by, note)
    SELECT n.id, n.status, n.completed_on, n.land_area_mu, n.floor_area_m2, n.planned_floor_area_m2,
           n.far, n.planned_far, h.day,
           CASE WHEN src IN ('seed', 'backfill') THEN h.day ELSE greatest(today, h.day) END, src, who, why
    FROM new_rows n
    CROSS JOIN LATERAL (SELECT CASE WHEN n.status = 'completed' AND n.completed_on IS NOT NULL
                                    THEN n.completed_on ELSE today END AS day) h
    WHERE n.status <> 'not_started';
    RETURN NULL;
END
$$;

CREATE FUNCTION parcel_status_events_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE {SETTINGS}
BEGIN
    WITH changed AS (
        SELECT n.*, o.status AS old_status, o.completed_on AS old_completed_on,
               (src = 'correction' OR (o.status = 'completed' AND n.status = 'completed'
                                       AND o.completed_on IS DISTINCT FROM n.completed_on)) AS is_fix
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.status, n.completed_on) IS DISTINCT FROM (o.status, o.completed_on)
           OR ((n.status = 'completed' OR o.status = 'completed')
               AND (n.land_area_mu, n.floor_area_m2, n.planned_floor_area_m2)
                   IS DISTINCT FROM (o.land_area_mu, o.floor_area_m2, o.planned_floor_area_m2))
    ), prev AS (
        SELECT DISTINCT ON (e.parcel_id) e.parcel_id, e.id, e.happened_on
        FROM parcel_status_events e JOIN changed c ON c.id = e.parcel_id AND c.is_fix
        WHERE NOT EXISTS (SELECT 1 FROM parcel_status_events x WHERE x.corrects_id = e.id)
        ORDER BY e.parcel_id, e.happened_on DESC, e.known_on DESC, e.id DESC
    )
    INSERT INTO parcel_status_events (parcel_id, status, completed_on, land_area_mu, floor_area_m2,
        planned_floor_area_m2, far, planned_far, happened_on, known_on, source, recorded_by, note, corrects_id)
    SELECT c.id, c.status, c.completed_on, c.land_area_mu, c.floor_area_m2, c.planned_floor_area_m2,
           c.far, c.planned_far, h.day,
           CASE WHEN src IN ('seed', 'backfill') THEN h.day ELSE greatest(today, h.day) END, src, who, why,
           CASE WHEN c.is_fix THEN p.id END
    FROM changed c
    LEFT JOIN prev p ON p.parcel_id = c.id
    CROSS JOIN LATERAL (SELECT CASE
        WHEN c.status = 'completed' AND c.completed_on IS NOT NULL
             AND (c.is_fix OR c.old_status <> 'completed' OR c.old_completed_on IS NULL) THEN c.completed_on
        WHEN src = 'correction' THEN coalesce(p.happened_on, today)
        ELSE today END AS day) h;
    RETURN NULL;
END
$$;

CREATE FUNCTION block_stage_events_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE {SETTINGS}
    day date;
    prev_id bigint;
    prev_day date;
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.stage, NEW.completed_on) IS NOT DISTINCT FROM (OLD.stage, OLD.completed_on) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND (src = 'correction' OR (OLD.stage = 'completed' AND NEW.stage = 'completed')) THEN
        SELECT e.id, e.happened_on INTO prev_id, prev_day FROM block_stage_events e
        WHERE e.block_id = NEW.id AND NOT EXISTS (SELECT 1 FROM block_stage_events x WHERE x.corrects_id = e.id)
        ORDER BY e.happened_on DESC, e.known_on DESC, e.id DESC LIMIT 1;
    END IF;
    day := CASE WHEN NEW.stage = 'completed' AND NEW.completed_on IS NOT NULL
                     AND (TG_OP = 'INSERT' OR OLD.completed_on IS DISTINCT FROM NEW.completed_on) THEN NEW.completed_on
                WHEN src = 'correction' THEN coalesce(prev_day, today)
                ELSE today END;
    INSERT INTO block_stage_events (block_id, stage, completed_on, happened_on, known_on, source, recorded_by,
                                    note, corrects_id)
    VALUES (NEW.id, NEW.stage, NEW.completed_on, day,
            CASE WHEN src IN ('seed', 'backfill') THEN day ELSE greatest(today, day) END, src, who, why, prev_id);
    RETURN NULL;
END
$$;

CREATE FUNCTION history_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'history event % cannot be changed: record a correction instead', OLD.id
        USING ERRCODE = 'restrict_violation', CONSTRAINT = TG_TABLE_NAME || '_append_only';
END
$$;
"""

TRIGGERS = """
CREATE TRIGGER parcels_status_events_insert AFTER INSERT ON parcels
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION parcel_status_events_on_insert();
CREATE TRIGGER parcels_status_events_update AFTER UPDATE ON parcels
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION parcel_status_events_on_update();
CREATE TRIGGER renewal_blocks_stage_events AFTER INSERT OR UPDATE ON renewal_blocks
    FOR EACH ROW EXECUTE FUNCTION block_stage_events_record();
CREATE TRIGGER parcel_status_events_append_only BEFORE UPDATE ON parcel_status_events
    FOR EACH ROW EXECUTE FUNCTION history_events_append_only();
CREATE TRIGGER block_stage_events_append_only BEFORE UPDATE ON block_stage_events
    FOR EACH ROW EXECUTE FUNCTION history_events_append_only();
"""

BACKFILL = """
INSERT INTO parcel_status_events (parcel_id, status, completed_on, land_area_mu, floor_area_m2,
    planned_floor_area_m2, far, planned_far, happened_on, known_on, source, note)
SELECT id, status, completed_on, land_area_mu, floor_area_m2, planned_floor_area_m2, far, planned_far,
       coalesce(completed_on, (now() AT TIME ZONE 'Asia/Shanghai')::date),
       coalesce(completed_on, (now() AT TIME ZONE 'Asia/Shanghai')::date), 'backfill', 'migration 0011'
FROM parcels WHERE status <> 'not_started' ORDER BY id;
INSERT INTO block_stage_events (block_id, stage, completed_on, happened_on, known_on, source, note)
SELECT id, stage, completed_on, d.day, d.day, 'backfill', 'migration 0011'
FROM renewal_blocks
CROSS JOIN LATERAL (SELECT least(coalesce(completed_on, approval_date, (now() AT TIME ZONE 'Asia/Shanghai')::date),
                                 (now() AT TIME ZONE 'Asia/Shanghai')::date) AS day) d
ORDER BY id;
"""


def _event_columns() -> list:
    return [
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("known_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("corrects_id", sa.BigInteger(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "parcel_status_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("land_area_mu", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("floor_area_m2", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("planned_floor_area_m2", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("far", sa.Numeric(precision=8, scale=4), nullable=True),
        sa.Column("planned_far", sa.Numeric(precision=8, scale=4), nullable=True),
        *_event_columns(),
        sa.CheckConstraint(SOURCES, name=op.f("ck_parcel_status_events_source")),
        sa.CheckConstraint("known_on >= happened_on", name=op.f("ck_parcel_status_events_known_after_happened")),
        sa.ForeignKeyConstraint(["parcel_id"], ["parcels.id"], name=op.f("fk_parcel_status_events_parcel_id_parcels"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["corrects_id"], ["parcel_status_events.id"],
                                name=op.f("fk_parcel_status_events_corrects_id_parcel_status_events"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parcel_status_events")),
    )
    op.create_index("ix_parcel_status_events_as_of", "parcel_status_events",
                    ["parcel_id", "happened_on", "known_on", "id"])
    op.create_index("ix_parcel_status_events_known_on", "parcel_status_events", ["known_on"])
    op.create_index("ix_parcel_status_events_corrects_id", "parcel_status_events", ["corrects_id"],
                    postgresql_where=sa.text("corrects_id IS NOT NULL"))
    op.create_table(
        "block_stage_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        *_event_columns(),
        sa.CheckConstraint(SOURCES, name=op.f("ck_block_stage_events_source")),
        sa.CheckConstraint("known_on >= happened_on", name=op.f("ck_block_stage_events_known_after_happened")),
        sa.ForeignKeyConstraint(["block_id"], ["renewal_blocks.id"],
                                name=op.f("fk_block_stage_events_block_id_renewal_blocks"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["corrects_id"], ["block_stage_events.id"],
                                name=op.f("fk_block_stage_events_corrects_id_block_stage_events"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_stage_events")),
    )
    op.create_index("ix_block_stage_events_as_of", "block_stage_events", ["block_id", "happened_on", "known_on", "id"])
    op.execute(FUNCTIONS)
    op.execute(BACKFILL)
    op.execute(TRIGGERS)


def downgrade() -> None:
    for trigger, table in (("parcels_status_events_insert", "parcels"), ("parcels_status_events_update", "parcels"),
                           ("renewal_blocks_stage_events", "renewal_blocks")):
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    op.drop_table("block_stage_events")
    op.drop_table("parcel_status_events")
    for fn in ("parcel_status_events_on_insert", "parcel_status_events_on_update", "block_stage_events_record",
               "history_events_append_only"):
        op.execute(f"DROP FUNCTION {fn}()")
