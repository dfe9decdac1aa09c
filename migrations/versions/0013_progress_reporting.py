"""The towns' monthly progress reports (月报): entries, evidence, submissions, deadlines, Excel imports.

* ``action_plans.report_due_day`` — the day of the following month by which a month's 月报 is due
  (桐政办发〔2022〕11号 sets none; 5 is the office's practice and the default); one month's deadline
  can be moved while it is open (``report_deadlines``).
* ``parcels.built_floor_area_m2`` / ``parcel_status_events.built_floor_area_m2`` — 建成建筑面积, the
  floor area actually built, as reported (the new-floor-area indicator prefers it to the planned one).
* ``progress_entries`` — one report of a parcel's status or a block's stage, dated by the day it
  happened, with the history event it wrote and, once withdrawn (撤回), the event that undid it;
* ``progress_evidence`` — the attached files (PDF, JPEG, PNG), stored with their SHA-256;
* ``progress_submissions`` — a unit's 月报 of a month: submitted, or returned by the office;
* ``progress_imports`` — an Excel sheet of reports staged with its per-row report until committed.

The history triggers (0011) learn two settings: ``cloudmap.event_day`` (the day a change happened,
for a status other than 已完成, which keeps its completion date: a reported 改造中, the demo data's
date) and ``cloudmap.event_fix`` (this change replaces the parcel's or block's latest event: a
withdrawn report), and copy ``built_floor_area_m2``.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SETTINGS = """
    src text := coalesce(nullif(current_setting('cloudmap.event_source', true), ''), 'edit');
    who text := nullif(current_setting('cloudmap.event_actor', true), '');
    why text := nullif(current_setting('cloudmap.event_note', true), '');
    given date := nullif(current_setting('cloudmap.event_day', true), '')::date;
    fix boolean := coalesce(current_setting('cloudmap.event_fix', true), '') = 'on';
    today date := (now() AT TIME ZONE 'Asia/Shanghai')::date;
"""

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION parcel_status_events_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE {SETTINGS}
BEGIN
    INSERT INTO parcel_status_events (parcel_id, status, completed_on, land_area_mu, floor_area_m2,
        planned_floor_area_m2, built_floor_area_m2, far, planned_far, happened_on, known_on, source, recorded_by, note)
    SELECT n.id, n.status, n.completed_on, n.land_area_mu, n.floor_area_m2, n.planned_floor_area_m2,
           n.built_floor_area_m2, n.far, n.planned_far, h.day,
           CASE WHEN src IN ('seed', 'backfill') THEN h.day ELSE greatest(today, h.day) END, src, who, why
    FROM new_rows n
    CROSS JOIN LATERAL (SELECT CASE WHEN n.status = 'completed' AND n.completed_on IS NOT NULL THEN n.completed_on
                                    ELSE coalesce(given, today) END AS day) h
    WHERE n.status <> 'not_started';
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION parcel_status_events_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE {SETTINGS}
BEGIN
    WITH changed AS (
        SELECT n.*, o.status AS old_status, o.completed_on AS old_completed_on,
               (src = 'correction' OR fix OR (o.status = 'completed' AND n.status = 'completed'
                                              AND o.completed_on IS DISTINCT FROM n.completed_on)) AS is_fix
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.status, n.completed_on) IS DISTINCT FROM (o.status, o.completed_on)
           OR ((n.status = 'completed' OR o.status = 'completed')
               AND (n.land_area_mu, n.floor_area_m2, n.planned_floor_area_m2, n.built_floor_area_m2)
                   IS DISTINCT FROM (o.land_area_mu, o.floor_area_m2, o.planned_floor_area_m2, o.built_floor_area_m2))
           OR (given IS NOT NULL AND n.built_floor_area_m2 IS DISTINCT FROM o.built_floor_area_m2)
    ), prev AS (
        SELECT DISTINCT ON (e.parcel_id) e.parcel_id, e.id, e.happened_on
        FROM parcel_status_events e JOIN changed c ON c.id = e.parcel_id AND c.is_fix
        WHERE NOT EXISTS (SELECT 1 FROM parcel_status_events x WHERE x.corrects_id = e.id)
        ORDER BY e.parcel_id, e.happened_on DESC, e.known_on DESC, e.id DESC
    )
    INSERT INTO parcel_status_events (parcel_id, status, completed_on, land_area_mu, floor_area_m2,
        planned_floor_area_m2, built_floor_area_m2, far, planned_far, happened_on, known_on, source, recorded_by,
        note, corrects_id)
    SELECT c.id, c.status, c.completed_on, c.land_area_mu, c.floor_area_m2, c.planned_floor_area_m2,
           c.built_floor_area_m2, c.far, c.planned_far, h.day,
           CASE WHEN src IN ('seed', 'backfill') THEN h.day ELSE greatest(today, h.day) END, src, who, why,
           CASE WHEN c.is_fix THEN p.id END
    FROM changed c
    LEFT JOIN prev p ON p.parcel_id = c.id
    CROSS JOIN LATERAL (SELECT CASE
        WHEN c.status = 'completed' AND c.completed_on IS NOT NULL
             AND (c.is_fix OR c.old_status <> 'completed' OR c.old_completed_on IS NULL) THEN c.completed_on
        WHEN given IS NOT NULL THEN given
        WHEN src = 'correction' OR fix THEN coalesce(p.happened_on, today)
        ELSE today END AS day) h;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION block_stage_events_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE {SETTINGS}
    day date;
    prev_id bigint;
    prev_day date;
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.stage, NEW.completed_on) IS NOT DISTINCT FROM (OLD.stage, OLD.completed_on) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND (src = 'correction' OR fix OR (OLD.stage = 'completed' AND NEW.stage = 'completed')) THEN
        SELECT e.id, e.happened_on INTO prev_id, prev_day FROM block_stage_events e
        WHERE e.block_id = NEW.id AND NOT EXISTS (SELECT 1 FROM block_stage_events x WHERE x.corrects_id = e.id)
        ORDER BY e.happened_on DESC, e.known_on DESC, e.id DESC LIMIT 1;
    END IF;
    day := CASE WHEN NEW.stage = 'completed' AND NEW.completed_on IS NOT NULL
                     AND (TG_OP = 'INSERT' OR OLD.completed_on IS DISTINCT FROM NEW.completed_on) THEN NEW.completed_on
                WHEN given IS NOT NULL THEN given
                WHEN src = 'correction' OR fix THEN coalesce(prev_day, today)
                ELSE today END;
    INSERT INTO block_stage_events (block_id, stage, completed_on, happened_on, known_on, source, recorded_by,
                                    note, corrects_id)
    VALUES (NEW.id, NEW.stage, NEW.completed_on, day,
            CASE WHEN src IN ('seed', 'backfill') THEN day ELSE greatest(today, day) END, src, who, why, prev_id);
    RETURN NULL;
END
$$;
"""


def _functions_of_0011() -> str:
    """The triggers' functions as 0011 made them (a downgrade puts them back)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("m0011", Path(__file__).with_name("0011_parcel_history.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FUNCTIONS.split("CREATE FUNCTION history_events_append_only")[0]


def upgrade() -> None:
    op.add_column("action_plans", sa.Column("report_due_day", sa.SmallInteger(), server_default="5", nullable=False))
    op.create_check_constraint(op.f("ck_action_plans_report_due_day_range"), "action_plans", "report_due_day BETWEEN 1 AND 28")
    op.add_column("parcels", sa.Column("built_floor_area_m2", sa.Numeric(14, 2), nullable=True))
    op.create_check_constraint(op.f("ck_parcels_built_floor_area_non_negative"), "parcels",
                               "built_floor_area_m2 IS NULL OR built_floor_area_m2 >= 0")
    op.add_column("parcel_status_events", sa.Column("built_floor_area_m2", sa.Numeric(14, 2), nullable=True))
    op.execute(FUNCTIONS)

    op.create_table(
        "report_deadlines",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name=op.f("ck_report_deadlines_month_range")),
        sa.CheckConstraint("due_on > make_date(year, month, 1)", name=op.f("ck_report_deadlines_after_month_start")),
        sa.PrimaryKeyConstraint("year", "month", name=op.f("pk_report_deadlines")),
    )
    op.create_table(
        "progress_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", name=op.f("fk_progress_submissions_unit_id_units")),
                  nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False, server_default=""),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_by", sa.String(64), nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint("status IN ('submitted', 'returned')", name=op.f("ck_progress_submissions_status")),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name=op.f("ck_progress_submissions_month_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_submissions")),
        sa.UniqueConstraint("unit_id", "year", "month", name=op.f("uq_progress_submissions_unit_id")),
    )
    op.create_table(
        "progress_imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", name=op.f("fk_progress_imports_unit_id_units")),
                  nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="staged"),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('staged', 'committed')", name=op.f("ck_progress_imports_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_imports")),
    )
    op.create_table(
        "progress_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", name=op.f("fk_progress_entries_unit_id_units")),
                  nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), sa.ForeignKey("parcels.id", ondelete="CASCADE",
                                                           name=op.f("fk_progress_entries_parcel_id_parcels")),
                  nullable=True),
        sa.Column("block_id", sa.Integer(), sa.ForeignKey("renewal_blocks.id", ondelete="CASCADE",
                                                          name=op.f("fk_progress_entries_block_id_renewal_blocks")),
                  nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("previous_status", sa.String(32), nullable=True),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("built_floor_area_m2", sa.Numeric(14, 2), nullable=True),
        sa.Column("previous_built_floor_area_m2", sa.Numeric(14, 2), nullable=True),
        sa.Column("previous_completed_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False, server_default="browser"),
        sa.Column("import_id", sa.Uuid(), sa.ForeignKey("progress_imports.id",
                                                        name=op.f("fk_progress_entries_import_id_progress_imports")),
                  nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(64), nullable=True),
        sa.Column("withdraw_event_id", sa.BigInteger(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint("(parcel_id IS NULL) <> (block_id IS NULL)", name=op.f("ck_progress_entries_one_subject")),
        sa.CheckConstraint("source IN ('browser', 'excel')", name=op.f("ck_progress_entries_source")),
        sa.CheckConstraint("built_floor_area_m2 IS NULL OR built_floor_area_m2 >= 0",
                           name=op.f("ck_progress_entries_built_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_entries")),
    )
    op.create_index("ix_progress_entries_month", "progress_entries", ["year", "month", "unit_id"])
    op.create_index("ix_progress_entries_parcel_id", "progress_entries", ["parcel_id"])
    op.create_index("ix_progress_entries_block_id", "progress_entries", ["block_id"])
    op.create_table(
        "progress_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id", name=op.f("fk_progress_evidence_unit_id_units")),
                  nullable=False),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("progress_entries.id", ondelete="CASCADE",
                                                          name=op.f("fk_progress_evidence_entry_id_progress_entries")),
                  nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("content_type IN ('application/pdf', 'image/jpeg', 'image/png')",
                           name=op.f("ck_progress_evidence_type")),
        sa.CheckConstraint("size_bytes = octet_length(content)", name=op.f("ck_progress_evidence_size")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_evidence")),
    )
    op.create_index("ix_progress_evidence_entry_id", "progress_evidence", ["entry_id"])


def downgrade() -> None:
    op.drop_table("progress_evidence")
    op.drop_table("progress_entries")
    op.drop_table("progress_imports")
    op.drop_table("progress_submissions")
    op.drop_table("report_deadlines")
    op.execute(_functions_of_0011().replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
    op.drop_column("parcel_status_events", "built_floor_area_m2")
    op.drop_column("parcels", "built_floor_area_m2")
    op.drop_column("action_plans", "report_due_day")
