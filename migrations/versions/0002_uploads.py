"""Uploads: the upload record, its staged features, and the history of replaced parcels and blocks.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('uploads',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('uploader', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('target', sa.Enum('parcels', 'blocks', name='upload_target', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=True),
    sa.Column('layer', sa.String(length=255), nullable=True),
    sa.Column('layers', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('encoding', sa.String(length=32), nullable=True),
    sa.Column('encoding_source', sa.String(length=16), nullable=True),
    sa.Column('crs_epsg', sa.Integer(), nullable=True),
    sa.Column('crs', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('crs_source', sa.String(length=16), nullable=True),
    sa.Column('crs_confirmed', sa.Boolean(), nullable=False),
    sa.Column('mapping', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('options', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('counts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.Enum('staging', 'staged', 'committed', 'failed', name='upload_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('progress', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('outcome', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads'))
    )
    op.create_index(op.f('ix_uploads_file_sha256'), 'uploads', ['file_sha256'], unique=False)
    op.create_geospatial_table('feature_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('layer', sa.String(length=32), nullable=False),
    sa.Column('feature_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('upload_id', sa.Uuid(), nullable=True),
    sa.Column('replaced_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('area_mu', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_feature_history_upload_id_uploads'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feature_history'))
    )
    op.create_index('ix_feature_history_layer_code', 'feature_history', ['layer', 'code'], unique=False)
    op.create_index(op.f('ix_feature_history_upload_id'), 'feature_history', ['upload_id'], unique=False)
    op.create_geospatial_table('upload_features',
    sa.Column('upload_id', sa.Uuid(), nullable=False),
    sa.Column('feature_no', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('repaired_geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('area_mu', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('repaired_area_mu', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('far', sa.Numeric(precision=8, scale=4), nullable=True),
    sa.Column('planned_far', sa.Numeric(precision=8, scale=4), nullable=True),
    sa.Column('mapped_values', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('problems', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('existing_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('block_id', sa.Integer(), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_upload_features_upload_id_uploads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('upload_id', 'feature_no', name=op.f('pk_upload_features'))
    )


def downgrade() -> None:
    op.drop_geospatial_table('upload_features')
    op.drop_index(op.f('ix_feature_history_upload_id'), table_name='feature_history')
    op.drop_index('ix_feature_history_layer_code', table_name='feature_history')
    op.drop_geospatial_table('feature_history')
    op.drop_index(op.f('ix_uploads_file_sha256'), table_name='uploads')
    op.drop_table('uploads')
