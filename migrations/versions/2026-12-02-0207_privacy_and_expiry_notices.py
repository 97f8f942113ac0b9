"""member erasure and expiry notices

Revision ID: 0007_privacy_event_notices
Revises: 0006_webhooks
Create Date: 2026-12-02 02:06:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)
EXPIRY_NOTICE_DUE = "expiry_notified_at IS NULL AND remaining > 0 AND expires_at IS NOT NULL"

revision: str = "0007_privacy_event_notices"
down_revision: str | None = "0006_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", TIMESTAMP, nullable=True))

    with op.batch_alter_table("earn_lot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expiry_notified_at", TIMESTAMP, nullable=True))
        batch_op.create_index(
            "ix_earn_lot_expiry_notice_due",
            ["expires_at"],
            unique=False,
            postgresql_where=sa.text(EXPIRY_NOTICE_DUE),
            sqlite_where=sa.text(EXPIRY_NOTICE_DUE),
        )


def downgrade() -> None:
    with op.batch_alter_table("earn_lot", schema=None) as batch_op:
        batch_op.drop_index("ix_earn_lot_expiry_notice_due")
        batch_op.drop_column("expiry_notified_at")

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
