"""webhook endpoints and deliveries

Revision ID: 0006_webhooks
Revises: 0005_gifts_referrals_merges
Create Date: 2026-12-02 02:06:00+00:00
"""

from collections.abc import Sequence

revision: str = "0006_webhooks"
down_revision: str | None = "0005_gifts_referrals_merges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
