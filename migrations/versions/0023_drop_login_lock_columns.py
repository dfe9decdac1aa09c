"""Drop users.failed_logins and users.locked_until: nothing writes them since login backs off in the shared
limiter (app/core/ratelimit.py, per account and address) instead of locking the account.

A downgrade adds them back empty (0 failures, not locked), as 0004 made them.

Revision ID: 0023
Revises: 0022
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_logins")


def downgrade() -> None:
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.alter_column("users", "failed_logins", server_default=None)
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
