"""Issue 19 parts 4 and 5: the subsidy ledger on the approved boundary, and the typical cases.

* ``subsidy_funds`` — the plan's fund (资金保障, at least 2 亿元 = 20000 万元), its total set by administrators;
* ``subsidy_entries`` — an application (申请) of an enterprise or a parcel (optionally for an admitted project,
  ``project_admissions`` of migration 0019) inside an approved block on the day applied for (the block, plan
  version and 认定文号 found then), its review (审核: the approved amount is the commitment) —
  ``subsidy_payments`` its payments (拨付);
* ``site_meetings`` — each quarter's 现场会 block (one per quarter) with notes, ``site_meeting_photos`` its
  photos (JPEG or PNG).

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "subsidy_funds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("total_10k", sa.Numeric(14, 2), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("total_10k >= 0", name=op.f("ck_subsidy_funds_total_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_funds")),
        sa.UniqueConstraint("name", name=op.f("uq_subsidy_funds_name")),
    )
    t = "subsidy_entries"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("parcel_id", sa.Integer(), nullable=True),
        sa.Column("admission_id", sa.Integer(), nullable=True),
        sa.Column("project_name", sa.String(128), nullable=True),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("amount_applied_10k", sa.Numeric(14, 2), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("plan_version_no", sa.Integer(), nullable=True),
        sa.Column("approval_doc_no", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("approved_10k", sa.Numeric(14, 2), nullable=True),
        sa.Column("paid_10k", sa.Numeric(14, 2), server_default="0", nullable=False),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_by_id", sa.Integer(), nullable=True),
        sa.Column("applied_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("(enterprise_id IS NULL) <> (parcel_id IS NULL)", name=op.f(f"ck_{t}_one_subject")),
        sa.CheckConstraint("status IN ('applied', 'approved', 'rejected')", name=op.f(f"ck_{t}_status")),
        sa.CheckConstraint("amount_applied_10k > 0", name=op.f(f"ck_{t}_applied_positive")),
        sa.CheckConstraint("approved_10k IS NULL OR (approved_10k > 0 AND approved_10k <= amount_applied_10k)",
                           name=op.f(f"ck_{t}_approved_range")),
        sa.CheckConstraint("(status = 'approved') = (approved_10k IS NOT NULL)", name=op.f(f"ck_{t}_approved_amount")),
        sa.CheckConstraint("paid_10k >= 0 AND paid_10k <= coalesce(approved_10k, 0)",
                           name=op.f(f"ck_{t}_paid_within_approved")),
        _fk(t, "fund_id", "subsidy_funds"),
        _fk(t, "block_id", "renewal_blocks"),
        _fk(t, "unit_id", "units"),
        _fk(t, "enterprise_id", "enterprises"),
        _fk(t, "parcel_id", "parcels"),
        _fk(t, "admission_id", "project_admissions"),
        _fk(t, "applied_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    for column in ("fund_id", "block_id", "unit_id", "enterprise_id", "parcel_id", "admission_id"):
        op.create_index(op.f(f"ix_{t}_{column}"), t, [column])
    op.create_table(
        "subsidy_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount_10k", sa.Numeric(14, 2), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_10k > 0", name=op.f("ck_subsidy_payments_amount_positive")),
        _fk("subsidy_payments", "entry_id", "subsidy_entries", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_payments")),
    )
    op.create_index(op.f("ix_subsidy_payments_entry_id"), "subsidy_payments", ["entry_id"])

    op.create_table(
        "site_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("quarter BETWEEN 1 AND 4", name=op.f("ck_site_meetings_quarter")),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_site_meetings_year")),
        _fk("site_meetings", "block_id", "renewal_blocks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_meetings")),
        sa.UniqueConstraint("year", "quarter", name=op.f("uq_site_meetings_quarter")),
    )
    op.create_index(op.f("ix_site_meetings_block_id"), "site_meetings", ["block_id"])
    t = "site_meeting_photos"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("content_type IN ('application/pdf', 'image/jpeg', 'image/png')", name=op.f(f"ck_{t}_type")),
        sa.CheckConstraint("size_bytes = octet_length(content)", name=op.f(f"ck_{t}_size")),
        sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png')", name=op.f(f"ck_{t}_photo_type")),
        _fk(t, "meeting_id", "site_meetings", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index(op.f(f"ix_{t}_meeting_id"), t, ["meeting_id"])


def downgrade() -> None:
    for table in ("site_meeting_photos", "site_meetings", "subsidy_payments", "subsidy_entries", "subsidy_funds"):
        op.drop_table(table)
