"""rewards catalogue, vouchers, their redemptions and history

Revision ID: 0004_rewards_vouchers
Revises: 0003_earning_rules_tiers
Create Date: 2026-11-23 19:48:56.184007+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_rewards_vouchers"
down_revision: str | None = "0003_earning_rules_tiers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reward",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("cost_points", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("starts_at", TIMESTAMP, nullable=True),
        sa.Column("ends_at", TIMESTAMP, nullable=True),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("tier_ids", JSON, nullable=False),
        sa.Column("voucher_kind", sa.String(length=16), nullable=False),
        sa.Column("voucher_value", sa.Integer(), nullable=True),
        sa.Column("voucher_sku", sa.String(length=64), nullable=True),
        sa.Column("min_order_total", sa.Integer(), nullable=True),
        sa.Column("max_discount", sa.Integer(), nullable=True),
        sa.Column("valid_days", sa.Integer(), nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("cost_points > 0", name=op.f("ck_reward_cost_points_positive")),
        sa.CheckConstraint(
            "stock IS NULL OR stock >= 0", name=op.f("ck_reward_stock_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reward")),
    )
    with op.batch_alter_table("reward", schema=None) as batch_op:
        batch_op.create_index("ix_reward_created_at_id", ["created_at", "id"], unique=False)

    op.create_table(
        "voucher",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("code_last4", sa.String(length=4), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("reward_id", sa.Uuid(), nullable=True),
        sa.Column("batch_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("min_order_total", sa.BigInteger(), nullable=True),
        sa.Column("max_discount", sa.BigInteger(), nullable=True),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("valid_from", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=True),
        sa.Column("reservation_id", sa.Uuid(), nullable=True),
        sa.Column("reserved_order_id", sa.String(length=100), nullable=True),
        sa.Column("reserved_until", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "value IS NULL OR value >= 0", name=op.f("ck_voucher_value_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_voucher_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"],
            ["reward.id"],
            name=op.f("fk_voucher_reward_id_reward"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_voucher_transaction_id_ledger_transaction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_voucher_code_hash")),
    )
    with op.batch_alter_table("voucher", schema=None) as batch_op:
        batch_op.create_index("ix_voucher_batch_id", ["batch_id"], unique=False)
        batch_op.create_index(
            "ix_voucher_member_id_created_at", ["member_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_voucher_reserved_until", ["reserved_until"], unique=False)

    op.create_table(
        "voucher_history",
        sa.Column("voucher_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["voucher.id"], name=op.f("fk_voucher_history_voucher_id_voucher")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_history")),
    )
    with op.batch_alter_table("voucher_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_voucher_history_voucher_id_created_at", ["voucher_id", "created_at"], unique=False
        )

    op.create_table(
        "voucher_redemption",
        sa.Column("voucher_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("rolled_back_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "discount >= 0", name=op.f("ck_voucher_redemption_discount_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["voucher.id"], name=op.f("fk_voucher_redemption_voucher_id_voucher")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voucher_redemption")),
    )
    with op.batch_alter_table("voucher_redemption", schema=None) as batch_op:
        batch_op.create_index(
            "uq_voucher_redemption_voucher_id_order_id", ["voucher_id", "order_id"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("voucher_redemption", schema=None) as batch_op:
        batch_op.drop_index("uq_voucher_redemption_voucher_id_order_id")

    op.drop_table("voucher_redemption")
    with op.batch_alter_table("voucher_history", schema=None) as batch_op:
        batch_op.drop_index("ix_voucher_history_voucher_id_created_at")

    op.drop_table("voucher_history")
    with op.batch_alter_table("voucher", schema=None) as batch_op:
        batch_op.drop_index("ix_voucher_reserved_until")
        batch_op.drop_index("ix_voucher_member_id_created_at")
        batch_op.drop_index("ix_voucher_batch_id")

    op.drop_table("voucher")
    with op.batch_alter_table("reward", schema=None) as batch_op:
        batch_op.drop_index("ix_reward_created_at_id")

    op.drop_table("reward")
