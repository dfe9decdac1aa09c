"""Parks (issue 19): 开发区 and 镇街工业园区 polygons, the ``parks`` upload target, the plan's
园区外面积容差 (``action_plans.max_outside_park_mu``) and the parks' tile triggers.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the /ogc tiles of the parks collection change with these columns (tiles_dirty of migration 0003)
TILE_COLUMNS = ("code", "name", "kind", "is_schematic")
TARGETS_BEFORE = ("parcels", "blocks")
TARGETS_AFTER = ("parcels", "blocks", "parks")


def _target_check(values: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_uploads_upload_target"), "uploads", type_="check")
    listed = ", ".join(f"'{v}'" for v in values)
    op.create_check_constraint(op.f("ck_uploads_upload_target"), "uploads", f"target IN ({listed})")


def upgrade() -> None:
    op.create_geospatial_table(
        "parks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.Enum("development_zone", "town_park", name="park_kind", native_enum=False,
                                  create_constraint=True, length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("approval", sa.Text(), nullable=True),
        sa.Column("is_schematic", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("geom", Geometry(geometry_type="MULTIPOLYGON", srid=4490, dimension=2, spatial_index=False,
                                   from_text="ST_GeomFromEWKT", name="geometry", nullable=False), nullable=False),
        sa.Column("area_mu", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("row_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_parks_unit_id_units"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parks")),
        sa.UniqueConstraint("code", name=op.f("uq_parks_code")),
    )
    op.create_geospatial_index("idx_parks_geom", "parks", ["geom"], unique=False, postgresql_using="gist",
                               postgresql_ops={})
    op.create_index(op.f("ix_parks_unit_id"), "parks", ["unit_id"], unique=False)
    args = ", ".join(f"'{c}'" for c in TILE_COLUMNS)
    for event, ref in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(f"CREATE TRIGGER tiles_dirty_{event.lower()} AFTER {event} ON parks "
                   f"REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION tiles_dirty({args})")
    op.execute("CREATE TRIGGER tiles_dirty_truncate AFTER TRUNCATE ON parks FOR EACH STATEMENT EXECUTE FUNCTION tiles_dirty()")

    op.add_column("action_plans", sa.Column("max_outside_park_mu", sa.Numeric(precision=10, scale=2),
                                            server_default="0.5", nullable=False))
    op.create_check_constraint(op.f("ck_action_plans_max_outside_park_mu_non_negative"), "action_plans",
                               "max_outside_park_mu >= 0")
    _target_check(TARGETS_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM uploads WHERE target = 'parks'")
    _target_check(TARGETS_BEFORE)
    op.drop_constraint(op.f("ck_action_plans_max_outside_park_mu_non_negative"), "action_plans", type_="check")
    op.drop_column("action_plans", "max_outside_park_mu")
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS tiles_dirty_{event} ON parks")
    op.drop_index(op.f("ix_parks_unit_id"), table_name="parks")
    op.drop_geospatial_index("idx_parks_geom", table_name="parks", postgresql_using="gist", column_name="geom")
    op.drop_geospatial_table("parks")
