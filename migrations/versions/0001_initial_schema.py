"""Initial schema: units, annual targets, enterprises, renewal blocks, parcels (EPSG:4490).

Revision ID: 0001
Revises: 
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # PostGIS may already exist (created by the cluster set-up or a DBA); never dropped on downgrade.
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('enterprises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('tax_10k_yuan', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('output_10k_yuan', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('data_year', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'", name=op.f('ck_enterprises_credit_code_format')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprises')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_enterprises_credit_code'))
    )
    op.create_geospatial_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('development_zone', 'subdistrict', 'town', name='unit_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('area_mu', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('is_schematic', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('code', name=op.f('uq_units_code')),
    sa.UniqueConstraint('name', name=op.f('uq_units_name'))
    )
    op.create_geospatial_index('idx_units_geom', 'units', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('annual_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('renewal_mu', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('contiguous_mu', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('scattered_mu', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.CheckConstraint('contiguous_mu >= 0 AND scattered_mu >= 0', name=op.f('ck_annual_targets_non_negative')),
    sa.CheckConstraint('renewal_mu = contiguous_mu + scattered_mu', name=op.f('ck_annual_targets_sum')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_annual_targets_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_targets')),
    sa.UniqueConstraint('unit_id', 'year', name='uq_annual_targets_unit_year')
    )
    op.create_geospatial_table('renewal_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('designated_year', sa.Integer(), nullable=True),
    sa.Column('stage', sa.Enum('planned', 'started', 'in_progress', 'completed', name='stage', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('review_status', sa.Enum('draft', 'submitted', 'returned', 'approved', name='review_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('area_mu', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('four_east', sa.Text(), nullable=True),
    sa.Column('four_south', sa.Text(), nullable=True),
    sa.Column('four_west', sa.Text(), nullable=True),
    sa.Column('four_north', sa.Text(), nullable=True),
    sa.Column('planned_far', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('planned_new_floor_area_m2', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('approval_doc_no', sa.String(length=64), nullable=True),
    sa.Column('approval_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_renewal_blocks_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renewal_blocks')),
    sa.UniqueConstraint('code', name=op.f('uq_renewal_blocks_code'))
    )
    op.create_geospatial_index('idx_renewal_blocks_geom', 'renewal_blocks', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_renewal_blocks_unit_id'), 'renewal_blocks', ['unit_id'], unique=False)
    op.create_geospatial_table('parcels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('land_area_mu', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('floor_area_m2', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('planned_floor_area_m2', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('far', sa.Numeric(precision=8, scale=4), nullable=True),
    sa.Column('planned_far', sa.Numeric(precision=8, scale=4), nullable=True),
    sa.Column('land_use', sa.String(length=64), nullable=True),
    sa.Column('classification', sa.Enum('upgrade', 'transform', 'clear_out', name='classification', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('renewal_mode', sa.Enum('government', 'enterprise', 'social_capital', 'other', name='renewal_mode', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('renewal_type', sa.Enum('secondary_upgrade', 'industrial_to_industrial', 'zero_land', name='renewal_type', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('status', sa.Enum('not_started', 'vacating', 'rebuilding', 'completed', name='parcel_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('floor_area_m2 IS NULL OR floor_area_m2 >= 0', name=op.f('ck_parcels_floor_area_non_negative')),
    sa.CheckConstraint('planned_floor_area_m2 IS NULL OR planned_floor_area_m2 >= 0', name=op.f('ck_parcels_planned_floor_area_non_negative')),
    sa.ForeignKeyConstraint(['block_id'], ['renewal_blocks.id'], name=op.f('fk_parcels_block_id_renewal_blocks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_parcels_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_parcels_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parcels')),
    sa.UniqueConstraint('code', name=op.f('uq_parcels_code'))
    )
    op.create_geospatial_index('idx_parcels_geom', 'parcels', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_parcels_block_id'), 'parcels', ['block_id'], unique=False)
    op.create_index('ix_parcels_classification', 'parcels', ['classification'], unique=False)
    op.create_index(op.f('ix_parcels_enterprise_id'), 'parcels', ['enterprise_id'], unique=False)
    op.create_index(op.f('ix_parcels_unit_id'), 'parcels', ['unit_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_parcels_unit_id'), table_name='parcels')
    op.drop_index(op.f('ix_parcels_enterprise_id'), table_name='parcels')
    op.drop_index('ix_parcels_classification', table_name='parcels')
    op.drop_index(op.f('ix_parcels_block_id'), table_name='parcels')
    op.drop_geospatial_index('idx_parcels_geom', table_name='parcels', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('parcels')
    op.drop_index(op.f('ix_renewal_blocks_unit_id'), table_name='renewal_blocks')
    op.drop_geospatial_index('idx_renewal_blocks_geom', table_name='renewal_blocks', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('renewal_blocks')
    op.drop_table('annual_targets')
    op.drop_geospatial_index('idx_units_geom', table_name='units', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('units')
    op.drop_table('enterprises')
