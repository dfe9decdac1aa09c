"""A block plan's whole draft: the declared plan FAR, the renewal mode, where the boundary came from,
and the reason of each enterprise's classification on the list; all frozen with the approved version.

* ``block_versions.planned_far`` — 规划容积率（方案）, as the plan states it;
* ``block_versions.renewal_mode`` — the block's renewal mode ("3+X");
* ``block_versions.boundary_source`` — derived (from the parcels), drawn (on the map) or file
  (read from an uploaded file); existing versions are ``derived`` unless imported (``file``);
* ``block_version_enterprises.classification_reason`` — why the enterprise is classified so;
* ``renewal_blocks.boundary_derived`` — the published boundary was derived from the parcels (the
  roads between them are in it by construction, so the block's report does not flag them as gaps).

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FROZEN = """
CREATE OR REPLACE FUNCTION block_version_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'approved' AND (
        NEW.geom IS DISTINCT FROM OLD.geom OR NEW.name IS DISTINCT FROM OLD.name
        OR NEW.four_east IS DISTINCT FROM OLD.four_east OR NEW.four_south IS DISTINCT FROM OLD.four_south
        OR NEW.four_west IS DISTINCT FROM OLD.four_west OR NEW.four_north IS DISTINCT FROM OLD.four_north
        OR NEW.status IS DISTINCT FROM OLD.status OR NEW.plan_id IS DISTINCT FROM OLD.plan_id
        OR NEW.version_no IS DISTINCT FROM OLD.version_no
        OR NEW.approval_doc_no IS DISTINCT FROM OLD.approval_doc_no
        OR NEW.approval_date IS DISTINCT FROM OLD.approval_date
        OR NEW.planned_new_floor_area_m2 IS DISTINCT FROM OLD.planned_new_floor_area_m2
        OR NEW.planned_far IS DISTINCT FROM OLD.planned_far
        OR NEW.renewal_mode IS DISTINCT FROM OLD.renewal_mode
        OR NEW.boundary_source IS DISTINCT FROM OLD.boundary_source) THEN
        RAISE EXCEPTION 'block version % is approved and frozen', OLD.id USING ERRCODE = 'integrity_constraint_violation',
            CONSTRAINT = 'block_version_frozen';
    END IF;
    RETURN NEW;
END $$;
"""

FROZEN_BEFORE = """
CREATE OR REPLACE FUNCTION block_version_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'approved' AND (
        NEW.geom IS DISTINCT FROM OLD.geom OR NEW.name IS DISTINCT FROM OLD.name
        OR NEW.four_east IS DISTINCT FROM OLD.four_east OR NEW.four_south IS DISTINCT FROM OLD.four_south
        OR NEW.four_west IS DISTINCT FROM OLD.four_west OR NEW.four_north IS DISTINCT FROM OLD.four_north
        OR NEW.status IS DISTINCT FROM OLD.status OR NEW.plan_id IS DISTINCT FROM OLD.plan_id
        OR NEW.version_no IS DISTINCT FROM OLD.version_no
        OR NEW.approval_doc_no IS DISTINCT FROM OLD.approval_doc_no
        OR NEW.approval_date IS DISTINCT FROM OLD.approval_date
        OR NEW.planned_new_floor_area_m2 IS DISTINCT FROM OLD.planned_new_floor_area_m2) THEN
        RAISE EXCEPTION 'block version % is approved and frozen', OLD.id USING ERRCODE = 'integrity_constraint_violation',
            CONSTRAINT = 'block_version_frozen';
    END IF;
    RETURN NEW;
END $$;
"""

RENEWAL_MODES = ("government", "enterprise", "social_capital", "other")
BOUNDARY_SOURCES = ("derived", "drawn", "file")


def upgrade() -> None:
    op.add_column("block_versions", sa.Column("planned_far", sa.Numeric(precision=6, scale=2), nullable=True))
    op.add_column("block_versions", sa.Column(
        "renewal_mode", sa.Enum(*RENEWAL_MODES, name="renewal_mode", native_enum=False, create_constraint=True,
                                length=32), nullable=True))
    op.add_column("block_versions", sa.Column(
        "boundary_source", sa.Enum(*BOUNDARY_SOURCES, name="boundary_source", native_enum=False,
                                   create_constraint=True, length=32), server_default="derived", nullable=False))
    op.add_column("block_version_enterprises", sa.Column("classification_reason", sa.Text(), nullable=True))
    op.add_column("renewal_blocks", sa.Column("boundary_derived", sa.Boolean(), server_default=sa.false(),
                                              nullable=False))
    op.execute("ALTER TABLE block_versions DISABLE TRIGGER block_version_frozen")
    op.execute("UPDATE block_versions SET boundary_source = 'file' WHERE is_imported")
    op.execute("ALTER TABLE block_versions ENABLE TRIGGER block_version_frozen")
    op.execute(FROZEN)


def downgrade() -> None:
    op.execute(FROZEN_BEFORE)
    op.drop_column("renewal_blocks", "boundary_derived")
    op.drop_column("block_version_enterprises", "classification_reason")
    op.drop_column("block_versions", "boundary_source")
    op.drop_column("block_versions", "renewal_mode")
    op.drop_column("block_versions", "planned_far")
