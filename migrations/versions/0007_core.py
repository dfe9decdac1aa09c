"""The core's tables: notifications by subject, and one review log for every reviewed kind.

* ``notifications.plan_code`` becomes a subject: ``subject_type`` + ``subject_code``
  (``block_plan`` / the plan's code), so any reviewed object can notify.
* ``plan_reviews`` (decisions on block plans only) becomes ``review_events``: every
  transition of every reviewed object (submit, approve, return …) with who made it.
  Existing decisions are copied over.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("subject_type", sa.String(length=32), nullable=True))
    op.add_column("notifications", sa.Column("subject_code", sa.String(length=64), nullable=True))
    op.execute("UPDATE notifications SET subject_type = 'block_plan', subject_code = plan_code "
               "WHERE plan_code IS NOT NULL")
    op.drop_column("notifications", "plan_code")
    op.create_index("ix_notifications_subject", "notifications", ["subject_type", "subject_code"], unique=False)

    op.create_table(
        "review_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_code", sa.String(length=64), nullable=False),
        sa.Column("version_no", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=False),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("doc_no", sa.String(length=64), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("report_passed", sa.Boolean(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_review_events_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_events")),
    )
    op.create_index("ix_review_events_subject", "review_events", ["subject_type", "subject_code", "version_no"],
                    unique=False)
    op.execute("""
        INSERT INTO review_events (subject_type, subject_code, version_no, action, from_state, to_state, actor_id,
                                   comment, doc_no, decided_on, report_passed, at)
        SELECT 'block_plan', p.code, v.version_no, r.decision, 'submitted',
               CASE r.decision WHEN 'approve' THEN 'approved' ELSE 'returned' END,
               r.reviewer_id, r.comment, r.approval_doc_no, r.approval_date, r.report_passed, r.decided_at
        FROM plan_reviews r JOIN block_versions v ON v.id = r.version_id JOIN block_plans p ON p.id = v.plan_id
        ORDER BY r.id
    """)
    op.drop_index(op.f("ix_plan_reviews_version_id"), table_name="plan_reviews")
    op.drop_table("plan_reviews")


def downgrade() -> None:
    op.create_table(
        "plan_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.Enum("approve", "return", name="review_decision", native_enum=False,
                                      create_constraint=True, length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("approval_doc_no", sa.String(length=64), nullable=True),
        sa.Column("approval_date", sa.Date(), nullable=True),
        sa.Column("report_passed", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"], name=op.f("fk_plan_reviews_reviewer_id_users")),
        sa.ForeignKeyConstraint(["version_id"], ["block_versions.id"],
                                name=op.f("fk_plan_reviews_version_id_block_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_reviews")),
    )
    op.create_index(op.f("ix_plan_reviews_version_id"), "plan_reviews", ["version_id"], unique=False)
    op.execute("""
        INSERT INTO plan_reviews (version_id, decision, comment, reviewer_id, decided_at, approval_doc_no,
                                  approval_date, report_passed)
        SELECT v.id, e.action, e.comment, e.actor_id, e.at, e.doc_no, e.decided_on, e.report_passed
        FROM review_events e
        JOIN block_plans p ON p.code = e.subject_code
        JOIN block_versions v ON v.plan_id = p.id AND v.version_no = e.version_no
        WHERE e.subject_type = 'block_plan' AND e.action IN ('approve', 'return') AND e.actor_id IS NOT NULL
        ORDER BY e.id
    """)
    op.drop_index("ix_review_events_subject", table_name="review_events")
    op.drop_table("review_events")
    op.drop_index("ix_notifications_subject", table_name="notifications")
    op.add_column("notifications", sa.Column("plan_code", sa.String(length=32), nullable=True))
    op.execute("UPDATE notifications SET plan_code = left(subject_code, 32) WHERE subject_type = 'block_plan'")
    op.drop_column("notifications", "subject_code")
    op.drop_column("notifications", "subject_type")
