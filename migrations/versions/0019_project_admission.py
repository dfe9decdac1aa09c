"""项目准入 (project admission): the block plan's 产业导向 and the admissions of new projects.

* ``block_versions.industry_guidance`` — 产业导向: the industry codes (GB/T 4754, ``C17``, ``C1711``) a
  project entering the block should be in; empty = no guidance. Frozen with the approved version.
* ``project_admissions`` — 项目准入 applications, reviewed on the core's engine (the Reviewable columns):
  the block and plan version in force, the enterprise (registered, or a new one's name and credit code),
  the parcels, the project's figures and dates, and the 投资履约 record its approval created.

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
    op.create_table(
        "project_admissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum("draft", "submitted", "returned", "approved", name="review_status",
                                    native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("plan_version_no", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("enterprise_name", sa.String(128), nullable=True),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("parcel_codes", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("project_name", sa.String(128), nullable=False),
        sa.Column("industry_code", sa.String(5), nullable=False),
        sa.Column("investment_10k", sa.Numeric(14, 2), nullable=False),
        sa.Column("output_10k", sa.Numeric(14, 2), nullable=False),
        sa.Column("tax_10k", sa.Numeric(14, 2), nullable=False),
        sa.Column("floor_area_m2", sa.Numeric(14, 2), nullable=False),
        sa.Column("far", sa.Numeric(6, 2), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("complete_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("credit_record_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("approval_doc_no", sa.String(64), nullable=True),
        sa.Column("approval_date", sa.Date(), nullable=True),
        sa.Column("report", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("report_passed", sa.Boolean(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("investment_10k >= 0 AND output_10k >= 0 AND tax_10k >= 0 AND floor_area_m2 >= 0"
                           " AND far >= 0", name=op.f("ck_project_admissions_figures_non_negative")),
        sa.CheckConstraint("complete_on >= start_on", name=op.f("ck_project_admissions_dates_in_order")),
        sa.CheckConstraint("enterprise_id IS NOT NULL OR (enterprise_name IS NOT NULL AND credit_code IS NOT NULL)",
                           name=op.f("ck_project_admissions_enterprise_named")),
        sa.ForeignKeyConstraint(["block_id"], ["renewal_blocks.id"],
                                name=op.f("fk_project_admissions_block_id_renewal_blocks")),
        sa.ForeignKeyConstraint(["plan_id"], ["block_plans.id"], name=op.f("fk_project_admissions_plan_id_block_plans")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_project_admissions_unit_id_units")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_project_admissions_enterprise_id_enterprises")),
        sa.ForeignKeyConstraint(["credit_record_id"], ["credit_records.id"],
                                name=op.f("fk_project_admissions_credit_record_id_credit_records")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_project_admissions_created_by_id_users")),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["users.id"],
                                name=op.f("fk_project_admissions_submitted_by_id_users")),
        sa.ForeignKeyConstraint(["reviewed_by_id"], ["users.id"], name=op.f("fk_project_admissions_reviewed_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_admissions")),
        sa.UniqueConstraint("credit_record_id", name=op.f("uq_project_admissions_credit_record_id")),
    )
    for column in ("block_id", "plan_id", "unit_id", "enterprise_id"):
        op.create_index(op.f(f"ix_project_admissions_{column}"), "project_admissions", [column])


def downgrade() -> None:
    op.drop_table("project_admissions")
    op.execute(FROZEN_BEFORE)
    op.drop_column("block_versions", "industry_guidance")
