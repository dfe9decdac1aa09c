"""项目准入 (project admission): the block plan's 产业导向 and the admissions of new projects.

* ``block_versions.industry_guidance`` — 产业导向: the industry codes (GB/T 4754, ``C17``, ``C1711``) a
  project entering the block should be in; empty = no guidance. Frozen with the approved version.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FROZEN = """
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
        OR NEW.boundary_source IS DISTINCT FROM OLD.boundary_source{extra}) THEN
        RAISE EXCEPTION 'block version % is approved and frozen', OLD.id USING ERRCODE = 'integrity_constraint_violation',
            CONSTRAINT = 'block_version_frozen';
    END IF;
    RETURN NEW;
END $$;
"""
FROZEN = _FROZEN.replace("{extra}", "\n        OR NEW.industry_guidance IS DISTINCT FROM OLD.industry_guidance")
FROZEN_BEFORE = _FROZEN.replace("{extra}", "")


def upgrade() -> None:
    op.add_column("block_versions", sa.Column(
        "industry_guidance", postgresql.ARRAY(sa.String(5)), server_default=sa.text("'{}'::varchar(5)[]"),
        nullable=False))
    op.execute(FROZEN)


def downgrade() -> None:
    op.execute(FROZEN_BEFORE)
    op.drop_column("block_versions", "industry_guidance")
