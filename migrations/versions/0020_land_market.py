"""转让与租赁 (issue 19, part 3): the register of transfers and leases in renewal blocks, and its flags.

* ``market_records`` — 股权转让、土地转让、厂房转让、出租: parties (name, credit code, the register's
  enterprise), dates, area, price (万元) or rent (元/平方米·年), the lessee's industry code, note;
* ``market_record_parcels`` — the parcels of a record, each with the renewal block (and the block
  version) in force on the record's date;
* ``market_flags`` — the flags decided when the record was saved (as of its date), each with its
  sentence and, once referred to 十剑联动, the referral;
* ``tenants.lease_id`` — the lease a 厂中厂 tenant came from or is linked to.

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "kind IN ('equity_transfer', 'land_transfer', 'factory_transfer', 'lease')"
FLAG_KINDS = "kind IN ('clear_out', 'grade_d', 'industry', 'unregistered_tenant')"


def upgrade() -> None:
    op.create_table(
        "market_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("lease_start", sa.Date(), nullable=True),
        sa.Column("lease_end", sa.Date(), nullable=True),
        sa.Column("from_name", sa.String(128), nullable=False),
        sa.Column("from_credit_code", sa.String(18), nullable=True),
        sa.Column("from_enterprise_id", sa.Integer(), nullable=True),
        sa.Column("to_name", sa.String(128), nullable=False),
        sa.Column("to_credit_code", sa.String(18), nullable=True),
        sa.Column("to_enterprise_id", sa.Integer(), nullable=True),
        sa.Column("area_m2", sa.Numeric(14, 2), nullable=True),
        sa.Column("area_basis", sa.String(32), nullable=True),
        sa.Column("price_10k_yuan", sa.Numeric(14, 2), nullable=True),
        sa.Column("rent_yuan_per_m2_year", sa.Numeric(10, 2), nullable=True),
        sa.Column("industry_code", sa.String(5), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.CheckConstraint(KINDS, name=op.f("ck_market_records_market_kind")),
        sa.CheckConstraint("area_basis IN ('land', 'floor')", name=op.f("ck_market_records_area_basis")),
        sa.CheckConstraint("area_m2 IS NULL OR area_m2 > 0", name=op.f("ck_market_records_area_positive")),
        sa.CheckConstraint("price_10k_yuan IS NULL OR price_10k_yuan >= 0",
                           name=op.f("ck_market_records_price_non_negative")),
        sa.CheckConstraint("rent_yuan_per_m2_year IS NULL OR rent_yuan_per_m2_year >= 0",
                           name=op.f("ck_market_records_rent_non_negative")),
        sa.CheckConstraint("lease_end IS NULL OR lease_start IS NULL OR lease_end >= lease_start",
                           name=op.f("ck_market_records_lease_dates")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_market_records_unit_id_units")),
        sa.ForeignKeyConstraint(["from_enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_market_records_from_enterprise_id_enterprises")),
        sa.ForeignKeyConstraint(["to_enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_market_records_to_enterprise_id_enterprises")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_market_records_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_records")),
    )
    for column in ("unit_id", "from_enterprise_id", "to_enterprise_id"):
        op.create_index(op.f(f"ix_market_records_{column}"), "market_records", [column])
    op.create_table(
        "market_record_parcels",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("parcel_id", sa.Integer(), nullable=False),
        sa.Column("parcel_code", sa.String(64), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("block_version_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["record_id"], ["market_records.id"],
                                name=op.f("fk_market_record_parcels_record_id_market_records"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["parcel_id"], ["parcels.id"], name=op.f("fk_market_record_parcels_parcel_id_parcels")),
        sa.ForeignKeyConstraint(["block_id"], ["renewal_blocks.id"],
                                name=op.f("fk_market_record_parcels_block_id_renewal_blocks")),
        sa.ForeignKeyConstraint(["block_version_id"], ["block_versions.id"],
                                name=op.f("fk_market_record_parcels_block_version_id_block_versions")),
        sa.PrimaryKeyConstraint("record_id", "parcel_id", name=op.f("pk_market_record_parcels")),
    )
    op.create_index(op.f("ix_market_record_parcels_parcel_id"), "market_record_parcels", ["parcel_id"])
    op.create_index(op.f("ix_market_record_parcels_block_id"), "market_record_parcels", ["block_id"])
    op.create_table(
        "market_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("party", sa.String(4), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("parcel_code", sa.String(64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(FLAG_KINDS, name=op.f("ck_market_flags_market_flag_kind")),
        sa.CheckConstraint("party IN ('from', 'to')", name=op.f("ck_market_flags_party")),
        sa.ForeignKeyConstraint(["record_id"], ["market_records.id"],
                                name=op.f("fk_market_flags_record_id_market_records"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name=op.f("fk_market_flags_enterprise_id_enterprises")),
        sa.ForeignKeyConstraint(["referral_id"], ["enforcement_referrals.id"],
                                name=op.f("fk_market_flags_referral_id_enforcement_referrals"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_flags")),
    )
    op.create_index(op.f("ix_market_flags_record_id"), "market_flags", ["record_id"])
    op.add_column("tenants", sa.Column("lease_id", sa.Integer(), nullable=True))
    op.create_foreign_key(op.f("fk_tenants_lease_id_market_records"), "tenants", "market_records", ["lease_id"],
                          ["id"], ondelete="SET NULL")
    op.create_index(op.f("ix_tenants_lease_id"), "tenants", ["lease_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_tenants_lease_id"), table_name="tenants")
    op.drop_constraint(op.f("fk_tenants_lease_id_market_records"), "tenants", type_="foreignkey")
    op.drop_column("tenants", "lease_id")
    op.drop_table("market_flags")
    op.drop_table("market_record_parcels")
    op.drop_table("market_records")
