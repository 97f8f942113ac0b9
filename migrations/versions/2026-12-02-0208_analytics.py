"""analytics: ABC classes

Revision ID: 0008_analytics
Revises: 0007_privacy_event_notices
Create Date: 2026-12-02 02:06:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0008_analytics"
down_revision: str | None = "0007_privacy_event_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "abc_classification",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("window_starts_at", TIMESTAMP, nullable=False),
        sa.Column("window_ends_at", TIMESTAMP, nullable=False),
        sa.Column("a_share", sa.Integer(), nullable=False),
        sa.Column("b_share", sa.Integer(), nullable=False),
        sa.Column("members_a", sa.Integer(), nullable=False),
        sa.Column("members_b", sa.Integer(), nullable=False),
        sa.Column("members_c", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abc_classification")),
    )
    with op.batch_alter_table("abc_classification", schema=None) as batch_op:
        batch_op.create_index("ix_abc_classification_created_at", ["created_at"], unique=False)

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("abc_class", sa.String(length=1), nullable=True))

    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("abc_classes", JSON, nullable=False, server_default=sa.text("'[]'"))
        )

    # The figures select purchases by when they happened, and programme accounts' postings
    # by period.
    with op.batch_alter_table("purchase", schema=None) as batch_op:
        batch_op.create_index("ix_purchase_occurred_at", ["occurred_at"], unique=False)
        batch_op.create_index(
            "ix_purchase_member_id_occurred_at", ["member_id", "occurred_at"], unique=False
        )

    with op.batch_alter_table("posting", schema=None) as batch_op:
        batch_op.create_index(
            "ix_posting_account_id_created_at", ["account_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("posting", schema=None) as batch_op:
        batch_op.drop_index("ix_posting_account_id_created_at")

    with op.batch_alter_table("purchase", schema=None) as batch_op:
        batch_op.drop_index("ix_purchase_member_id_occurred_at")
        batch_op.drop_index("ix_purchase_occurred_at")

    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("abc_classes")

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("abc_class")

    with op.batch_alter_table("abc_classification", schema=None) as batch_op:
        batch_op.drop_index("ix_abc_classification_created_at")

    op.drop_table("abc_classification")
