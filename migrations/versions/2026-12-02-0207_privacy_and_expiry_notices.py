"""member erasure and expiry notices

Revision ID: 0007_privacy_event_notices
Revises: 0006_webhooks
Create Date: 2026-12-02 02:06:00+00:00
"""

from collections.abc import Sequence

revision: str = "0007_privacy_event_notices"
down_revision: str | None = "0006_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
