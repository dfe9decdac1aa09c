"""Placeholder for issue 19 (subsidies_and_cases); filled in by the feature.

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
