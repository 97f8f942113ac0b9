"""earning rules, campaigns, tiers, event bonuses and the event outbox

Revision ID: 0003_earning_rules_tiers
Revises: 0002_members_ledger
Create Date: 2026-11-23 19:16:03.142225+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_earning_rules_tiers"
down_revision: str | None = "0002_members_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaign",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("multiplier", sa.String(length=40), nullable=True),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("skus", JSON, nullable=False),
        sa.Column("starts_at", sa.String(length=19), nullable=True),
        sa.Column("ends_at", sa.String(length=19), nullable=True),
        sa.Column("weekdays", JSON, nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("store_ids", JSON, nullable=False),
        sa.Column("min_total", sa.Integer(), nullable=True),
        sa.Column("tier_ids", JSON, nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=True),
        sa.Column("combinable", sa.Boolean(), nullable=False),
        sa.Column("max_points_per_purchase", sa.Integer(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_created_at_id", ["created_at", "id"], unique=False)

    op.create_table(
        "event",
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_event_member_id", ["member_id"], unique=False)

    op.create_table(
        "tier",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("multiplier", sa.String(length=40), nullable=False),
        sa.Column("benefits", JSON, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("threshold >= 0", name=op.f("ck_tier_threshold_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier")),
        sa.UniqueConstraint("name", name=op.f("uq_tier_name")),
        sa.UniqueConstraint("rank", name=op.f("uq_tier_rank")),
    )
    op.create_table(
        "tier_change",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("from_tier_id", sa.Uuid(), nullable=True),
        sa.Column("to_tier_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("qualifying_points", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["from_tier_id"],
            ["tier.id"],
            name=op.f("fk_tier_change_from_tier_id_tier"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_tier_change_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["to_tier_id"],
            ["tier.id"],
            name=op.f("fk_tier_change_to_tier_id_tier"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_change")),
    )
    with op.batch_alter_table("tier_change", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tier_change_member_id_created_at", ["member_id", "created_at"], unique=False
        )

    op.create_table(
        "bonus_grant",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_bonus_grant_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_bonus_grant_transaction_id_ledger_transaction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bonus_grant")),
        sa.UniqueConstraint(
            "member_id", "kind", "period", name=op.f("uq_bonus_grant_member_id_kind_period")
        ),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("segments", JSON, nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("tier_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("tier_secured_until", TIMESTAMP, nullable=True))
        batch_op.add_column(sa.Column("manual_tier_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("manual_tier_until", TIMESTAMP, nullable=True))
        batch_op.create_index("ix_member_tier_secured_until", ["tier_secured_until"])
        batch_op.create_index("ix_member_manual_tier_until", ["manual_tier_until"])
        batch_op.create_foreign_key(
            batch_op.f("fk_member_tier_id_tier"), "tier", ["tier_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_member_manual_tier_id_tier"),
            "tier",
            ["manual_tier_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("purchase", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("breakdown", JSON, nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("purchase", schema=None) as batch_op:
        batch_op.drop_column("breakdown")

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index("ix_member_manual_tier_until")
        batch_op.drop_index("ix_member_tier_secured_until")
        batch_op.drop_constraint(batch_op.f("fk_member_manual_tier_id_tier"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_member_tier_id_tier"), type_="foreignkey")
        batch_op.drop_column("manual_tier_until")
        batch_op.drop_column("manual_tier_id")
        batch_op.drop_column("tier_secured_until")
        batch_op.drop_column("tier_id")
        batch_op.drop_column("segments")

    op.drop_table("bonus_grant")
    with op.batch_alter_table("tier_change", schema=None) as batch_op:
        batch_op.drop_index("ix_tier_change_member_id_created_at")

    op.drop_table("tier_change")
    op.drop_table("tier")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_member_id")
        batch_op.drop_index("ix_event_created_at_id")

    op.drop_table("event")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_created_at_id")

    op.drop_table("campaign")
