"""What an issued monthly report (月度通报) says about its issue: 第 X 期, the issuing body, the issue
date, who signed it off (签发人) and the issuer's name as people know it.

* ``progress_reports.issue_no`` — 第 X 期, numbered per year, unique within a year;
* ``progress_reports.issuing_body`` — 印发单位 (default 桐乡市工业园区有机更新工作领导小组办公室);
* ``progress_reports.issue_date`` — 印发日期;
* ``progress_reports.signed_by`` — 签发人, a person's name;
* ``progress_reports.issued_by_name`` — the issuer's display name at issue time (``issued_by``
  keeps the login name for the audit trail).

Issued reports are frozen by a trigger (UPDATE and DELETE refused). Rows issued before this
revision are given their issue facts here, with the trigger disabled for that one UPDATE only:
numbered 1, 2, … in month order within their year, dated the day they were issued
(Asia/Shanghai), signed off by and shown as the issuer's display name (the login name where the
user no longer exists).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_BODY = "桐乡市工业园区有机更新工作领导小组办公室"

def upgrade() -> None:
    op.add_column("progress_reports", sa.Column("issue_no", sa.Integer(), nullable=True))
    op.add_column("progress_reports", sa.Column("issuing_body", sa.String(length=128), nullable=True))
    op.add_column("progress_reports", sa.Column("issue_date", sa.Date(), nullable=True))
    op.add_column("progress_reports", sa.Column("signed_by", sa.String(length=64), nullable=True))
    op.add_column("progress_reports", sa.Column("issued_by_name", sa.String(length=64), nullable=True))

    op.execute("ALTER TABLE progress_reports DISABLE TRIGGER progress_reports_frozen")
    bind = op.get_bind()
    # The issuer's display name by login name; a report whose issuer is gone keeps the login name.
    bind.execute(sa.text("""
        UPDATE progress_reports AS r
        SET issue_no = n.issue_no,
            issuing_body = :body,
            issue_date = (r.issued_at AT TIME ZONE 'Asia/Shanghai')::date,
            signed_by = COALESCE((SELECT u.display_name FROM users AS u WHERE u.username = r.issued_by), r.issued_by),
            issued_by_name = COALESCE((SELECT u.display_name FROM users AS u WHERE u.username = r.issued_by),
                                      r.issued_by)
        FROM (SELECT id, row_number() OVER (PARTITION BY year ORDER BY month, id) AS issue_no
              FROM progress_reports) AS n
        WHERE n.id = r.id
    """), {"body": DEFAULT_BODY})
    op.execute("ALTER TABLE progress_reports ENABLE TRIGGER progress_reports_frozen")

    for column in ("issue_no", "issuing_body", "issue_date", "signed_by", "issued_by_name"):
        op.alter_column("progress_reports", column, nullable=False)
    op.create_check_constraint(op.f("ck_progress_reports_issue_no_positive"), "progress_reports", "issue_no >= 1")
    op.create_unique_constraint("uq_progress_reports_year_issue_no", "progress_reports", ["year", "issue_no"])


def downgrade() -> None:
    op.drop_constraint("uq_progress_reports_year_issue_no", "progress_reports", type_="unique")
    op.drop_constraint(op.f("ck_progress_reports_issue_no_positive"), "progress_reports", type_="check")
    for column in ("issued_by_name", "signed_by", "issue_date", "issuing_body", "issue_no"):
        op.drop_column("progress_reports", column)
