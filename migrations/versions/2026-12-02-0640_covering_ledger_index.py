"""covering index for a member's recent ledger entries

Revision ID: 0010_covering_ledger_index
Revises: 0009_config_version
Create Date: 2026-12-02 06:40:00+00:00

Every sale sums the member's qualifying points of the last months (type and points of the
entries in a window). With type and points in the index that serves the window, the sum
reads the index alone instead of one table page per entry, so a sale costs the same however
long the member's history.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_covering_ledger_index"
down_revision: str | None = "0009_config_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_ledger_transaction_member_id_created_at_covering",
        "ledger_transaction",
        ["member_id", "created_at", "id", "type", "points"],
    )
    op.drop_index("ix_ledger_transaction_member_id_created_at_id", "ledger_transaction")


def downgrade() -> None:
    op.create_index(
        "ix_ledger_transaction_member_id_created_at_id",
        "ledger_transaction",
        ["member_id", "created_at", "id"],
    )
    op.drop_index("ix_ledger_transaction_member_id_created_at_covering", "ledger_transaction")
