"""一库: the departments' yearly figures and the 亩均效益综合评价 (configurations, runs, objections).

* ``enterprise_figures`` — one value of one enterprise, year and figure (税收, 营业收入 … 加减分), with the
  department that sent it and how (an import or an API key); a changed value supersedes the old row
  (``superseded_at``), so the figures as known at any moment can be read back;
* ``enterprise_imports`` takes ``kind = 'figures'`` with its ``year`` and each column's department;
* ``api_keys`` gain a ``scope``: ``ogc_read`` (the OGC keys, read-only) or ``figures_write`` (a department's
  system sends its figures), with the department and the figures the key may write;
* ``evaluation_configs`` — each year's configuration (the pure engine's ``config_to_dict``);
* ``evaluation_runs`` — a computed run with its frozen configuration, inputs and result, published for a
  公示 period and fixed (定档) once; ``evaluation_objections`` (异议) with their evidence files;
* ``enterprises`` gain the class of the latest fixed evaluation (``evaluation_grade``, ``evaluation_year``).

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURE_FIELDS = ("tax_10k", "revenue_10k", "value_added_10k", "energy_tce", "emission_t", "electricity_10k_kwh",
                 "employees", "rd_10k", "safety_points", "environment_points", "innovation_points")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_enterprise_imports_kind"), "enterprise_imports", type_="check")
    op.create_check_constraint(op.f("ck_enterprise_imports_kind"), "enterprise_imports",
                               "kind IN ('register', 'figures')")
    op.add_column("enterprise_imports", sa.Column("year", sa.Integer(), nullable=True))
    op.add_column("enterprise_imports", sa.Column("departments", postgresql.JSONB(), nullable=True))
    op.create_check_constraint(op.f("ck_enterprise_imports_figures_year"), "enterprise_imports",
                               "(kind = 'figures') = (year IS NOT NULL)")

    op.add_column("api_keys", sa.Column("scope", sa.String(16), server_default="ogc_read", nullable=False))
    op.add_column("api_keys", sa.Column("department", sa.String(64), nullable=True))
    op.add_column("api_keys", sa.Column("figure_fields", postgresql.JSONB(), nullable=True))
    op.create_check_constraint(op.f("ck_api_keys_scope"), "api_keys", "scope IN ('ogc_read', 'figures_write')")
    op.create_check_constraint(op.f("ck_api_keys_figures_department"), "api_keys",
                               "scope <> 'figures_write' OR department IS NOT NULL")

    op.create_table(
        "enterprise_figures",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("value", sa.Numeric(18, 4), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("import_id", sa.Uuid(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(_in("field", FIGURE_FIELDS), name=op.f("ck_enterprise_figures_field")),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_enterprise_figures_year")),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_enterprise_figures_enterprise_id_enterprises"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["import_id"], ["enterprise_imports.id"],
                                name=op.f("fk_enterprise_figures_import_id_enterprise_imports"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"],
                                name=op.f("fk_enterprise_figures_api_key_id_api_keys"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_figures")),
    )
    op.create_index("uq_enterprise_figures_current", "enterprise_figures", ["enterprise_id", "year", "field"],
                    unique=True, postgresql_where=sa.text("superseded_at IS NULL"))
    op.create_index(op.f("ix_enterprise_figures_year"), "enterprise_figures", ["year"])

    op.create_table(
        "evaluation_configs",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("config", postgresql.JSONB(), nullable=False),
        sa.Column("row_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_evaluation_configs")),
    )
    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("config", postgresql.JSONB(), nullable=False),
        sa.Column("inputs", postgresql.JSONB(), nullable=False),
        sa.Column("result", postgresql.JSONB(), nullable=False),
        sa.Column("figures_as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("based_on_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("row_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("publicity_start", sa.Date(), nullable=True),
        sa.Column("publicity_end", sa.Date(), nullable=True),
        sa.Column("published_by", sa.String(64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publicity_closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publicity_closed_by", sa.String(64), nullable=True),
        sa.Column("publicity_close_reason", sa.Text(), nullable=True),
        sa.Column("fixed_by", sa.String(64), nullable=True),
        sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('computed', 'published', 'final', 'withdrawn')",
                           name=op.f("ck_evaluation_runs_status")),
        sa.CheckConstraint("publicity_end IS NULL OR publicity_end >= publicity_start",
                           name=op.f("ck_evaluation_runs_publicity")),
        sa.ForeignKeyConstraint(["based_on_id"], ["evaluation_runs.id"],
                                name=op.f("fk_evaluation_runs_based_on_id_evaluation_runs"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
        sa.UniqueConstraint("year", "number", name=op.f("uq_evaluation_runs_year")),
    )
    # A run's inputs and result are megabytes of JSON for a city: lz4 stores them several times faster than
    # the default pglz (PostgreSQL 14+ built with lz4, as Debian's and the postgis images are; else pglz).
    op.execute("""DO $$ BEGIN
        ALTER TABLE evaluation_runs ALTER COLUMN inputs SET COMPRESSION lz4, ALTER COLUMN result SET COMPRESSION lz4;
    EXCEPTION WHEN feature_not_supported OR invalid_parameter_value OR syntax_error THEN NULL; END $$""")
    op.create_index("uq_evaluation_runs_final", "evaluation_runs", ["year"], unique=True,
                    postgresql_where=sa.text("status = 'final'"))
    op.create_index("uq_evaluation_runs_published", "evaluation_runs", ["year"], unique=True,
                    postgresql_where=sa.text("status = 'published'"))
    op.create_table(
        "evaluation_objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("corrections", postgresql.JSONB(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("row_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("filed_by", sa.String(64), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'upheld', 'rejected')", name=op.f("ck_evaluation_objections_status")),
        sa.ForeignKeyConstraint(["run_id"], ["evaluation_runs.id"],
                                name=op.f("fk_evaluation_objections_run_id_evaluation_runs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_evaluation_objections_enterprise_id_enterprises"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_objections")),
    )
    op.create_index(op.f("ix_evaluation_objections_run_id"), "evaluation_objections", ["run_id"])
    op.create_table(
        "evaluation_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("objection_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("content_type IN ('application/pdf', 'image/jpeg', 'image/png')",
                           name=op.f("ck_evaluation_evidence_type")),
        sa.CheckConstraint("size_bytes = octet_length(content)", name=op.f("ck_evaluation_evidence_size")),
        sa.ForeignKeyConstraint(["objection_id"], ["evaluation_objections.id"],
                                name=op.f("fk_evaluation_evidence_objection_id_evaluation_objections"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_evidence")),
    )
    op.create_index(op.f("ix_evaluation_evidence_objection_id"), "evaluation_evidence", ["objection_id"])

    op.add_column("enterprises", sa.Column("evaluation_grade", sa.String(1), nullable=True))
    op.add_column("enterprises", sa.Column("evaluation_year", sa.Integer(), nullable=True))
    op.create_check_constraint(op.f("ck_enterprises_evaluation_grade"), "enterprises",
                               "evaluation_grade IN ('A', 'B', 'C', 'D')")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_enterprises_evaluation_grade"), "enterprises", type_="check")
    op.drop_column("enterprises", "evaluation_year")
    op.drop_column("enterprises", "evaluation_grade")
    op.drop_index(op.f("ix_evaluation_evidence_objection_id"), table_name="evaluation_evidence")
    op.drop_table("evaluation_evidence")
    op.drop_index(op.f("ix_evaluation_objections_run_id"), table_name="evaluation_objections")
    op.drop_table("evaluation_objections")
    op.drop_index("uq_evaluation_runs_published", table_name="evaluation_runs")
    op.drop_index("uq_evaluation_runs_final", table_name="evaluation_runs")
    op.drop_table("evaluation_runs")
    op.drop_table("evaluation_configs")
    op.drop_index(op.f("ix_enterprise_figures_year"), table_name="enterprise_figures")
    op.drop_index("uq_enterprise_figures_current", table_name="enterprise_figures")
    op.drop_table("enterprise_figures")
    op.drop_constraint(op.f("ck_api_keys_figures_department"), "api_keys", type_="check")
    op.drop_constraint(op.f("ck_api_keys_scope"), "api_keys", type_="check")
    for column in ("figure_fields", "department", "scope"):
        op.drop_column("api_keys", column)
    op.drop_constraint(op.f("ck_enterprise_imports_figures_year"), "enterprise_imports", type_="check")
    op.execute("DELETE FROM enterprise_imports WHERE kind = 'figures'")
    op.drop_column("enterprise_imports", "departments")
    op.drop_column("enterprise_imports", "year")
    op.drop_constraint(op.f("ck_enterprise_imports_kind"), "enterprise_imports", type_="check")
    op.create_check_constraint(op.f("ck_enterprise_imports_kind"), "enterprise_imports", "kind IN ('register')")
