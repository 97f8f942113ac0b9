"""console sessions: people logged in to the admin console with an admin API key

Revision ID: 0012_console_sessions
Revises: 0011_member_phone_import_rows
Create Date: 2026-12-02 11:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_console_sessions"
down_revision: str | None = "0011_member_phone_import_rows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("api_key_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_key.id"],
            name=op.f("fk_console_session_api_key_id_api_key"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_session_token_hash")),
    )
    op.create_index(
        op.f("ix_console_session_api_key_id"), "console_session", ["api_key_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_console_session_api_key_id"), table_name="console_session")
    op.drop_table("console_session")
