"""Uploads the GIS clerk can finish in the browser: re-checked with another field mapping without
sending the file again, and owners (权利人) the enterprise register does not know registered by name.

* ``upload_sources`` — the uploaded file, in parts, kept while the upload is staged (UNLOGGED like
  ``upload_features``: after a crash both are empty and the file is uploaded again); removed at commit;
* ``uploads.revision`` — the report's revision (its ETag), one more with every re-check;
* ``enterprises.credit_code`` may be NULL: an enterprise registered from an upload by name only,
  its 统一社会信用代码 to be completed later (信用代码待补充); the format check and the uniqueness
  stay for the codes that are given; ``uq_enterprises_pending_name`` keeps one such entry per name;
* ``enterprises.registered_from_upload_id`` — the upload that registered it;
* ``block_version_enterprises.credit_code`` may be NULL likewise: such an enterprise can be on a
  block plan's enterprise list (the plan's report warns that its code is pending).

Downgrading refuses while name-only enterprises exist: complete their credit codes (or delete
them) first, rather than losing them or the parcels' links to them.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upload_sources",
        sa.Column("upload_id", sa.Uuid(), nullable=False),
        sa.Column("part_no", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["upload_id"], ["uploads.id"], name=op.f("fk_upload_sources_upload_id_uploads"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("upload_id", "part_no", name=op.f("pk_upload_sources")),
        prefixes=["UNLOGGED"],
    )
    # The parts are zip / GeoPackage bytes in the usual case: do not try to compress them again.
    op.execute("ALTER TABLE upload_sources ALTER COLUMN data SET STORAGE EXTERNAL")
    op.add_column("uploads", sa.Column("revision", sa.Integer(), server_default="0", nullable=False))

    op.alter_column("enterprises", "credit_code", existing_type=sa.String(length=18), nullable=True)
    op.add_column("enterprises", sa.Column("registered_from_upload_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f("fk_enterprises_registered_from_upload_id_uploads"), "enterprises", "uploads",
                          ["registered_from_upload_id"], ["id"], ondelete="SET NULL")
    op.create_index("uq_enterprises_pending_name", "enterprises", ["name"], unique=True,
                    postgresql_where=sa.text("credit_code IS NULL"))
    op.alter_column("block_version_enterprises", "credit_code", existing_type=sa.String(length=18), nullable=True)


def downgrade() -> None:
    bind = op.get_bind()
    pending = bind.execute(sa.text(
        "SELECT (SELECT count(*) FROM enterprises WHERE credit_code IS NULL)"
        " + (SELECT count(*) FROM block_version_enterprises WHERE credit_code IS NULL)")).scalar_one()
    if pending:
        raise RuntimeError(
            f"{pending} enterprises (or block-plan list entries) have no credit code yet (registered from "
            "uploads, 信用代码待补充): complete or delete them before downgrading below 0010")
    op.alter_column("block_version_enterprises", "credit_code", existing_type=sa.String(length=18), nullable=False)
    op.drop_index("uq_enterprises_pending_name", table_name="enterprises",
                  postgresql_where=sa.text("credit_code IS NULL"))
    op.drop_constraint(op.f("fk_enterprises_registered_from_upload_id_uploads"), "enterprises", type_="foreignkey")
    op.drop_column("enterprises", "registered_from_upload_id")
    op.alter_column("enterprises", "credit_code", existing_type=sa.String(length=18), nullable=False)
    op.drop_column("uploads", "revision")
    op.drop_table("upload_sources")
