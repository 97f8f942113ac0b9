"""analytics: ABC classes

Revision ID: 0008_analytics
Revises: 0007_privacy_event_notices
Create Date: 2026-12-02 02:06:00+00:00
"""

from collections.abc import Sequence

revision: str = "0008_analytics"
down_revision: str | None = "0007_privacy_event_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
