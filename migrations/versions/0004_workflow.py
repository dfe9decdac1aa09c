"""Workflow and governance: users and login sessions, block plans with frozen versions,
reviews, notifications, enterprise classification and 亩均 figures, grading thresholds,
十剑联动 referrals, 厂中厂 tenants and inspections, 投资履约 credit records, the audit log.

Triggers: ``audit_log`` is append-only; an approved block version's boundary, 四至 and
parcel / enterprise lists cannot change. Default grading thresholds are inserted.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 亩均 grading defaults (万元/亩): see docs/workflow.md. Admins edit them in the table.
GRADING_DEFAULTS = [
    {"grade": "A", "min_tax_per_mu_10k": 30, "min_output_per_mu_10k": 300, "suggested_classification": "upgrade", "row_version": 1},
    {"grade": "B", "min_tax_per_mu_10k": 15, "min_output_per_mu_10k": 150, "suggested_classification": "upgrade", "row_version": 1},
    {"grade": "C", "min_tax_per_mu_10k": 5, "min_output_per_mu_10k": 60, "suggested_classification": "transform", "row_version": 1},
    {"grade": "D", "min_tax_per_mu_10k": None, "min_output_per_mu_10k": None, "suggested_classification": "clear_out", "row_version": 1},
]

TRIGGERS = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE FUNCTION block_version_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER block_version_frozen BEFORE UPDATE ON block_versions
    FOR EACH ROW EXECUTE FUNCTION block_version_frozen();
CREATE FUNCTION block_version_approved_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'approved' THEN
        RAISE EXCEPTION 'block version % is approved and frozen', OLD.id USING ERRCODE = 'integrity_constraint_violation',
            CONSTRAINT = 'block_version_frozen';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER block_version_approved_no_delete BEFORE DELETE ON block_versions
    FOR EACH ROW EXECUTE FUNCTION block_version_approved_no_delete();

CREATE FUNCTION block_version_list_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    vid integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.version_id ELSE NEW.version_id END;
BEGIN
    IF EXISTS (SELECT 1 FROM block_versions WHERE id = vid AND status = 'approved')
       OR (TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM block_versions WHERE id = OLD.version_id AND status = 'approved')) THEN
        RAISE EXCEPTION 'the lists of approved block version % are frozen', vid USING ERRCODE = 'integrity_constraint_violation',
            CONSTRAINT = 'block_version_frozen';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER block_version_parcels_frozen BEFORE INSERT OR UPDATE OR DELETE ON block_version_parcels
    FOR EACH ROW EXECUTE FUNCTION block_version_list_frozen();
CREATE TRIGGER block_version_enterprises_frozen BEFORE INSERT OR UPDATE OR DELETE ON block_version_enterprises
    FOR EACH ROW EXECUTE FUNCTION block_version_list_frozen();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS block_version_enterprises_frozen ON block_version_enterprises;
DROP TRIGGER IF EXISTS block_version_parcels_frozen ON block_version_parcels;
DROP FUNCTION IF EXISTS block_version_list_frozen();
DROP TRIGGER IF EXISTS block_version_approved_no_delete ON block_versions;
DROP FUNCTION IF EXISTS block_version_approved_no_delete();
DROP TRIGGER IF EXISTS block_version_frozen ON block_versions;
DROP FUNCTION IF EXISTS block_version_frozen();
DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
DROP FUNCTION IF EXISTS audit_log_append_only();
"""


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('object_type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.String(length=128), nullable=False),
    sa.Column('object_version', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=128), nullable=True),
    sa.Column('subject_version', sa.Integer(), nullable=True),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_object', 'audit_log', ['object_type', 'object_id'], unique=False)
    op.create_index('ix_audit_log_subject', 'audit_log', ['subject', 'subject_version'], unique=False)
    op.create_index(op.f('ix_audit_log_user_id'), 'audit_log', ['user_id'], unique=False)
    op.create_index(op.f('ix_audit_log_username'), 'audit_log', ['username'], unique=False)
    op.create_table('grading_rules',
    sa.Column('grade', sa.String(length=1), nullable=False),
    sa.Column('min_tax_per_mu_10k', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('min_output_per_mu_10k', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('suggested_classification', sa.Enum('upgrade', 'transform', 'clear_out', name='classification', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("grade IN ('A', 'B', 'C', 'D')", name=op.f('ck_grading_rules_grade')),
    sa.PrimaryKeyConstraint('grade', name=op.f('pk_grading_rules'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.Enum('planner', 'gis_staff', 'unit_officer', 'reviewer', 'admin', name='user_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(role = 'unit_officer') = (unit_id IS NOT NULL)", name=op.f('ck_users_officer_has_unit')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_users_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_index(op.f('ix_users_unit_id'), 'users', ['unit_id'], unique=False)
    op.create_table('block_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'submitted', 'returned', 'approved', name='review_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('current_version_no', sa.Integer(), nullable=True),
    sa.Column('working_version_no', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['block_id'], ['renewal_blocks.id'], name=op.f('fk_block_plans_block_id_renewal_blocks')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_block_plans_created_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_block_plans_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_plans')),
    sa.UniqueConstraint('block_id', name=op.f('uq_block_plans_block_id')),
    sa.UniqueConstraint('code', name=op.f('uq_block_plans_code'))
    )
    op.create_index(op.f('ix_block_plans_unit_id'), 'block_plans', ['unit_id'], unique=False)
    op.create_table('credit_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_name', sa.String(length=128), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('promised_investment_10k', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('actual_investment_10k', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('promised_output_10k', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('actual_output_10k', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('promised_tax_10k', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('actual_tax_10k', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.CheckConstraint('promised_investment_10k >= 0 AND promised_output_10k >= 0 AND promised_tax_10k >= 0', name=op.f('ck_credit_records_promised_non_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_credit_records_created_by_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_credit_records_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_credit_records_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_records')),
    sa.UniqueConstraint('project_name', 'year', name='uq_credit_records_project_year')
    )
    op.create_index(op.f('ix_credit_records_enterprise_id'), 'credit_records', ['enterprise_id'], unique=False)
    op.create_index(op.f('ix_credit_records_unit_id'), 'credit_records', ['unit_id'], unique=False)
    op.create_table('enforcement_referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('referred_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('open', 'closed', name='referral_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_enforcement_referrals_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['referred_by_id'], ['users.id'], name=op.f('fk_enforcement_referrals_referred_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enforcement_referrals'))
    )
    op.create_index(op.f('ix_enforcement_referrals_enterprise_id'), 'enforcement_referrals', ['enterprise_id'], unique=False)
    op.create_table('enterprise_classifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('classification', sa.Enum('upgrade', 'transform', 'clear_out', name='classification', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('suggested_grade', sa.String(length=1), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_enterprise_classifications_decided_by_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_enterprise_classifications_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_classifications'))
    )
    op.create_index(op.f('ix_enterprise_classifications_enterprise_id'), 'enterprise_classifications', ['enterprise_id'], unique=False)
    op.create_table('enterprise_governance',
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('classification', sa.Enum('upgrade', 'transform', 'clear_out', name='classification', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('clearance_status', sa.Enum('listed', 'rectifying', 'cleared', name='clearance_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('clearance_deadline', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_enterprise_governance_decided_by_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_enterprise_governance_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('enterprise_id', name=op.f('pk_enterprise_governance'))
    )
    op.create_table('login_sessions',
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('client', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_sha256', name=op.f('pk_login_sessions'))
    )
    op.create_index(op.f('ix_login_sessions_user_id'), 'login_sessions', ['user_id'], unique=False)
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('plan_code', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    op.create_index(op.f('ix_notifications_user_id'), 'notifications', ['user_id'], unique=False)
    op.create_geospatial_table('block_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'returned', 'approved', name='review_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, from_text='ST_GeomFromEWKT', spatial_index=False, name='geometry', nullable=False), nullable=False),
    sa.Column('area_mu', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('four_east', sa.Text(), nullable=True),
    sa.Column('four_south', sa.Text(), nullable=True),
    sa.Column('four_west', sa.Text(), nullable=True),
    sa.Column('four_north', sa.Text(), nullable=True),
    sa.Column('planned_new_floor_area_m2', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('change_note', sa.Text(), nullable=True),
    sa.Column('based_on_version_no', sa.Integer(), nullable=True),
    sa.Column('is_imported', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('approval_doc_no', sa.String(length=64), nullable=True),
    sa.Column('approval_date', sa.Date(), nullable=True),
    sa.Column('report', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('report_passed', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_block_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['plan_id'], ['block_plans.id'], name=op.f('fk_block_versions_plan_id_block_plans')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_block_versions_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_block_versions_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_block_versions')),
    sa.UniqueConstraint('plan_id', 'version_no', name='uq_block_versions_plan_version')
    )
    op.create_geospatial_index('idx_block_versions_geom', 'block_versions', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_block_versions_plan_id'), 'block_versions', ['plan_id'], unique=False)
    op.create_table('tenants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parcel_id', sa.Integer(), nullable=False),
    sa.Column('lessee', sa.String(length=128), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=True),
    sa.Column('leased_area_m2', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('business', sa.String(length=128), nullable=True),
    sa.Column('lease_start', sa.Date(), nullable=False),
    sa.Column('lease_end', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.CheckConstraint('lease_end IS NULL OR lease_end >= lease_start', name=op.f('ck_tenants_lease_dates')),
    sa.CheckConstraint('leased_area_m2 > 0', name=op.f('ck_tenants_leased_area_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tenants_created_by_id_users')),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_tenants_parcel_id_parcels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants'))
    )
    op.create_index(op.f('ix_tenants_parcel_id'), 'tenants', ['parcel_id'], unique=False)
    op.create_table('block_version_enterprises',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('classification', sa.Enum('upgrade', 'transform', 'clear_out', name='classification', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_block_version_enterprises_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['version_id'], ['block_versions.id'], name=op.f('fk_block_version_enterprises_version_id_block_versions')),
    sa.PrimaryKeyConstraint('version_id', 'enterprise_id', name=op.f('pk_block_version_enterprises'))
    )
    op.create_index(op.f('ix_block_version_enterprises_enterprise_id'), 'block_version_enterprises', ['enterprise_id'], unique=False)
    op.create_table('block_version_parcels',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('parcel_id', sa.Integer(), nullable=False),
    sa.Column('parcel_code', sa.String(length=64), nullable=False),
    sa.Column('land_area_mu', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_block_version_parcels_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_block_version_parcels_parcel_id_parcels')),
    sa.ForeignKeyConstraint(['version_id'], ['block_versions.id'], name=op.f('fk_block_version_parcels_version_id_block_versions')),
    sa.PrimaryKeyConstraint('version_id', 'parcel_id', name=op.f('pk_block_version_parcels'))
    )
    op.create_index(op.f('ix_block_version_parcels_parcel_id'), 'block_version_parcels', ['parcel_id'], unique=False)
    op.create_table('plan_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.Enum('approve', 'return', name='review_decision', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('approval_doc_no', sa.String(length=64), nullable=True),
    sa.Column('approval_date', sa.Date(), nullable=True),
    sa.Column('report_passed', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_plan_reviews_reviewer_id_users')),
    sa.ForeignKeyConstraint(['version_id'], ['block_versions.id'], name=op.f('fk_plan_reviews_version_id_block_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_reviews'))
    )
    op.create_index(op.f('ix_plan_reviews_version_id'), 'plan_reviews', ['version_id'], unique=False)
    op.create_table('tenant_inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('inspector', sa.String(length=64), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('rectification_status', sa.Enum('none_needed', 'pending', 'in_progress', 'done', name='rectification_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('rectify_by', sa.Date(), nullable=True),
    sa.Column('rectified_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenant_inspections_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenant_inspections'))
    )
    op.create_index(op.f('ix_tenant_inspections_tenant_id'), 'tenant_inspections', ['tenant_id'], unique=False)
    op.create_table('yearly_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('tax_10k_yuan', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('output_10k_yuan', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.CheckConstraint('(enterprise_id IS NULL) <> (tenant_id IS NULL)', name=op.f('ck_yearly_figures_one_subject')),
    sa.CheckConstraint('tax_10k_yuan >= 0 AND output_10k_yuan >= 0', name=op.f('ck_yearly_figures_non_negative')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_yearly_figures_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_yearly_figures_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_yearly_figures')),
    sa.UniqueConstraint('enterprise_id', 'year', name='uq_yearly_figures_enterprise_year'),
    sa.UniqueConstraint('tenant_id', 'year', name='uq_yearly_figures_tenant_year')
    )
    grading = sa.table(
        "grading_rules",
        sa.column("grade", sa.String), sa.column("min_tax_per_mu_10k", sa.Numeric),
        sa.column("min_output_per_mu_10k", sa.Numeric), sa.column("suggested_classification", sa.String),
        sa.column("row_version", sa.Integer),
    )
    op.bulk_insert(grading, GRADING_DEFAULTS)
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute(DROP_TRIGGERS)
    op.drop_table('yearly_figures')
    op.drop_index(op.f('ix_tenant_inspections_tenant_id'), table_name='tenant_inspections')
    op.drop_table('tenant_inspections')
    op.drop_index(op.f('ix_plan_reviews_version_id'), table_name='plan_reviews')
    op.drop_table('plan_reviews')
    op.drop_index(op.f('ix_block_version_parcels_parcel_id'), table_name='block_version_parcels')
    op.drop_table('block_version_parcels')
    op.drop_index(op.f('ix_block_version_enterprises_enterprise_id'), table_name='block_version_enterprises')
    op.drop_table('block_version_enterprises')
    op.drop_index(op.f('ix_tenants_parcel_id'), table_name='tenants')
    op.drop_table('tenants')
    op.drop_index(op.f('ix_block_versions_plan_id'), table_name='block_versions')
    op.drop_geospatial_index('idx_block_versions_geom', table_name='block_versions', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('block_versions')
    op.drop_index(op.f('ix_notifications_user_id'), table_name='notifications')
    op.drop_table('notifications')
    op.drop_index(op.f('ix_login_sessions_user_id'), table_name='login_sessions')
    op.drop_table('login_sessions')
    op.drop_table('enterprise_governance')
    op.drop_index(op.f('ix_enterprise_classifications_enterprise_id'), table_name='enterprise_classifications')
    op.drop_table('enterprise_classifications')
    op.drop_index(op.f('ix_enforcement_referrals_enterprise_id'), table_name='enforcement_referrals')
    op.drop_table('enforcement_referrals')
    op.drop_index(op.f('ix_credit_records_unit_id'), table_name='credit_records')
    op.drop_index(op.f('ix_credit_records_enterprise_id'), table_name='credit_records')
    op.drop_table('credit_records')
    op.drop_index(op.f('ix_block_plans_unit_id'), table_name='block_plans')
    op.drop_table('block_plans')
    op.drop_index(op.f('ix_users_unit_id'), table_name='users')
    op.drop_table('users')
    op.drop_table('grading_rules')
    op.drop_index(op.f('ix_audit_log_username'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_user_id'), table_name='audit_log')
    op.drop_index('ix_audit_log_subject', table_name='audit_log')
    op.drop_index('ix_audit_log_object', table_name='audit_log')
    op.drop_table('audit_log')
