"""webhook endpoints and deliveries

Revision ID: 0006_webhooks
Revises: 0005_gifts_referrals_merges
Create Date: 2026-12-02 02:06:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UNDISPATCHED = "dispatched_at IS NULL"
PENDING = "status = 'pending'"

revision: str = "0006_webhooks"
down_revision: str | None = "0005_gifts_referrals_merges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", TIMESTAMP, nullable=True))
        batch_op.create_index(
            "ix_event_undispatched",
            ["created_at", "id"],
            unique=False,
            postgresql_where=sa.text(UNDISPATCHED),
            sqlite_where=sa.text(UNDISPATCHED),
        )

    op.create_table(
        "webhook_endpoint",
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("event_types", JSON, nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret_salt", sa.String(length=64), nullable=False),
        sa.Column("failing_since", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint")),
    )
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_endpoint_created_at_id", ["created_at", "id"], unique=False
        )

    op.create_table(
        "webhook_delivery",
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("event_created_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("locked_until", TIMESTAMP, nullable=True),
        sa.Column("lease", sa.Uuid(), nullable=True),
        sa.Column("last_status_code", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_webhook_delivery_attempts_not_negative")),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')",
            name=op.f("ck_webhook_delivery_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoint.id"],
            name=op.f("fk_webhook_delivery_endpoint_id_webhook_endpoint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_webhook_delivery_event_id_event")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint(
            "endpoint_id", "event_id", name=op.f("uq_webhook_delivery_endpoint_id_event_id")
        ),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_delivery_due",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=sa.text(PENDING),
            sqlite_where=sa.text(PENDING),
        )
        batch_op.create_index(
            "ix_webhook_delivery_pending_lane",
            ["endpoint_id", "member_id", "event_created_at", "event_id"],
            unique=False,
            postgresql_where=sa.text(PENDING),
            sqlite_where=sa.text(PENDING),
        )
        batch_op.create_index(
            "ix_webhook_delivery_endpoint_id_created_at",
            ["endpoint_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index("ix_webhook_delivery_event_id", ["event_id"], unique=False)

    op.create_table(
        "webhook_attempt",
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
            name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
        sa.UniqueConstraint(
            "delivery_id", "number", name=op.f("uq_webhook_attempt_delivery_id_number")
        ),
    )


def downgrade() -> None:
    op.drop_table("webhook_attempt")

    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_event_id")
        batch_op.drop_index("ix_webhook_delivery_endpoint_id_created_at")
        batch_op.drop_index("ix_webhook_delivery_pending_lane")
        batch_op.drop_index("ix_webhook_delivery_due")

    op.drop_table("webhook_delivery")
    with op.batch_alter_table("webhook_endpoint", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_endpoint_created_at_id")

    op.drop_table("webhook_endpoint")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_undispatched")
        batch_op.drop_column("dispatched_at")
