"""一库: the enterprise register's fields, its imports and the history of every changed field.

* ``enterprises`` gains the register's fields: ``industry_code`` (行业代码, GB/T 4754-2017, e.g. C1713),
  ``industry_name`` (行业名称), ``scale`` (规模: above_scale 规上 / below_scale 规下),
  ``production_year`` (投产年份), ``address`` (地址) and ``unit_id`` (所在镇街);
* ``enterprise_imports`` — a register sheet staged with its rows and field mapping until committed;
* ``enterprise_field_history`` — one row per field an import changed (old → new, source, who, when),
  and one per name-only enterprise merged into a registered one.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("enterprises", sa.Column("industry_code", sa.String(5), nullable=True))
    op.add_column("enterprises", sa.Column("industry_name", sa.String(64), nullable=True))
    op.add_column("enterprises", sa.Column("scale", sa.String(32), nullable=True))
    op.create_check_constraint(op.f("ck_enterprises_enterprise_scale"), "enterprises",
                               "scale IN ('above_scale', 'below_scale')")
    op.add_column("enterprises", sa.Column("production_year", sa.Integer(), nullable=True))
    op.add_column("enterprises", sa.Column("address", sa.String(255), nullable=True))
    op.add_column("enterprises", sa.Column("unit_id", sa.Integer(), nullable=True))
    op.create_foreign_key(op.f("fk_enterprises_unit_id_units"), "enterprises", "units", ["unit_id"], ["id"],
                          ondelete="SET NULL")
    op.create_index(op.f("ix_enterprises_unit_id"), "enterprises", ["unit_id"])

    op.create_table(
        "enterprise_imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file_format", sa.String(8), nullable=False),
        sa.Column("encoding", sa.String(16), nullable=True),
        sa.Column("header_row", sa.Integer(), nullable=False),
        sa.Column("fields", postgresql.JSONB(), nullable=False),
        sa.Column("mapping", postgresql.JSONB(), nullable=False),
        sa.Column("rows", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", postgresql.JSONB(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("committed_by", sa.String(64), nullable=True),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('staged', 'committed')", name=op.f("ck_enterprise_imports_status")),
        sa.CheckConstraint("kind IN ('register')", name=op.f("ck_enterprise_imports_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_imports")),
    )
    op.create_table(
        "enterprise_field_history",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("import_id", sa.Uuid(), nullable=True),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_enterprise_field_history_enterprise_id_enterprises"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["import_id"], ["enterprise_imports.id"],
                                name=op.f("fk_enterprise_field_history_import_id_enterprise_imports"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_field_history")),
    )
    op.create_index(op.f("ix_enterprise_field_history_enterprise_id"), "enterprise_field_history", ["enterprise_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_enterprise_field_history_enterprise_id"), table_name="enterprise_field_history")
    op.drop_table("enterprise_field_history")
    op.drop_table("enterprise_imports")
    op.drop_index(op.f("ix_enterprises_unit_id"), table_name="enterprises")
    op.drop_constraint(op.f("fk_enterprises_unit_id_units"), "enterprises", type_="foreignkey")
    for column in ("unit_id", "address", "production_year", "scale", "industry_name", "industry_code"):
        op.drop_column("enterprises", column)
