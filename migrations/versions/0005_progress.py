"""Progress and assessment (一表): completion dates, tax after renewal, scoring configs, monthly reports.

Two triggers carry rules that must hold whatever writes the rows (ORM, upload
INSERT … SELECT, manual SQL):

* ``completed_on`` on parcels and blocks is stamped with the day (Asia/Shanghai)
  the status / stage reaches 完成 when the writer gives no date, kept when a
  completed row is rewritten without one, and cleared when the row leaves 完成;
* issued monthly reports (``progress_reports``) refuse UPDATE and DELETE.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One function per table: the column that says "completed" differs (parcels.status,
# renewal_blocks.stage); to_jsonb(NEW) would be generic but renders every geometry.
STAMP_FUNCTION = """
CREATE FUNCTION progress_{table}_completed_on() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.{column} <> 'completed' THEN
        NEW.completed_on := NULL;
    ELSIF NEW.completed_on IS NULL THEN
        IF TG_OP = 'UPDATE' AND OLD.{column} = 'completed' THEN
            NEW.completed_on := OLD.completed_on;
        END IF;
        IF NEW.completed_on IS NULL THEN
            NEW.completed_on := (now() AT TIME ZONE 'Asia/Shanghai')::date;
        END IF;
    END IF;
    RETURN NEW;
END
$$
"""
STAMPED = (("parcels", "status"), ("renewal_blocks", "stage"))

FREEZE_FUNCTION = """
CREATE FUNCTION progress_reports_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'progress report % is issued and cannot be changed', OLD.id
        USING ERRCODE = 'restrict_violation', CONSTRAINT = 'progress_reports_frozen';
END
$$
"""


def upgrade() -> None:
    op.add_column("parcels", sa.Column("completed_on", sa.Date(), nullable=True))
    op.add_column("renewal_blocks", sa.Column("completed_on", sa.Date(), nullable=True))
    for table, column in STAMPED:
        op.execute(STAMP_FUNCTION.format(table=table, column=column))
        op.execute(
            f"CREATE TRIGGER {table}_completed_on BEFORE INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION progress_{table}_completed_on()"
        )

    op.create_table(
        "parcel_tax_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("tax_10k_yuan", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.CheckConstraint("tax_10k_yuan >= 0", name=op.f("ck_parcel_tax_records_non_negative")),
        sa.ForeignKeyConstraint(
            ["parcel_id"], ["parcels.id"], name=op.f("fk_parcel_tax_records_parcel_id_parcels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parcel_tax_records")),
        sa.UniqueConstraint("parcel_id", "year", name="uq_parcel_tax_records_parcel_year"),
    )
    op.create_index(op.f("ix_parcel_tax_records_parcel_id"), "parcel_tax_records", ["parcel_id"], unique=False)

    op.create_table(
        "assessment_configs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_configs")),
        sa.UniqueConstraint("year", name=op.f("uq_assessment_configs_year")),
    )

    op.create_table(
        "progress_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("data_sha256", sa.String(length=64), nullable=False),
        sa.Column("xlsx", sa.LargeBinary(), nullable=False),
        sa.Column("xlsx_sha256", sa.String(length=64), nullable=False),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name=op.f("ck_progress_reports_month_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_reports")),
        sa.UniqueConstraint("year", "month", name="uq_progress_reports_year_month"),
    )
    op.execute(FREEZE_FUNCTION)
    op.execute(
        "CREATE TRIGGER progress_reports_frozen BEFORE UPDATE OR DELETE ON progress_reports "
        "FOR EACH ROW EXECUTE FUNCTION progress_reports_frozen()"
    )


def downgrade() -> None:
    op.drop_table("progress_reports")
    op.execute("DROP FUNCTION progress_reports_frozen()")
    op.drop_table("assessment_configs")
    op.drop_index(op.f("ix_parcel_tax_records_parcel_id"), table_name="parcel_tax_records")
    op.drop_table("parcel_tax_records")
    for table, _column in STAMPED:
        op.execute(f"DROP TRIGGER {table}_completed_on ON {table}")
        op.execute(f"DROP FUNCTION progress_{table}_completed_on()")
    op.drop_column("renewal_blocks", "completed_on")
    op.drop_column("parcels", "completed_on")
