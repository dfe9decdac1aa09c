"""The shared rate limiter's counters (app/core/ratelimit.py, when no Redis is configured).

One row per limited key and window: ``count`` requests so far, the window ends at ``expires_at``.
UNLOGGED: counters are worth nothing after a crash (a window starts again), and skipping the WAL
keeps the one statement a request costs cheap.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE UNLOGGED TABLE rate_limit_counters ("
        " key text PRIMARY KEY,"
        " count integer NOT NULL,"
        " expires_at timestamptz NOT NULL)"
    )
    op.execute("CREATE INDEX ix_rate_limit_counters_expires_at ON rate_limit_counters (expires_at)")


def downgrade() -> None:
    op.execute("DROP TABLE rate_limit_counters")
