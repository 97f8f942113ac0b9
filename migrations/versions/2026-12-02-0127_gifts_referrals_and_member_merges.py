"""gifts, referrals and member merges

Revision ID: 0005_gifts_referrals_merges
Revises: 0004_rewards_vouchers
Create Date: 2026-12-02 01:27:56.138063+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0005_gifts_referrals_merges"
down_revision: str | None = "0004_rewards_vouchers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gift",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("code_last4", sa.String(length=4), nullable=False),
        sa.Column("sender_id", sa.Uuid(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=True),
        sa.Column("voucher_id", sa.Uuid(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("recipient_hint", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("send_transaction_id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=True),
        sa.Column("settle_transaction_id", sa.Uuid(), nullable=True),
        sa.Column("settled_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "(points IS NULL) <> (voucher_id IS NULL)", name=op.f("ck_gift_points_or_voucher")
        ),
        sa.CheckConstraint("points IS NULL OR points > 0", name=op.f("ck_gift_points_positive")),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["member.id"], name=op.f("fk_gift_recipient_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["send_transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_gift_send_transaction_id_ledger_transaction"),
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["member.id"], name=op.f("fk_gift_sender_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["settle_transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_gift_settle_transaction_id_ledger_transaction"),
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"], ["voucher.id"], name=op.f("fk_gift_voucher_id_voucher")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gift")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_gift_code_hash")),
    )
    with op.batch_alter_table("gift", schema=None) as batch_op:
        batch_op.create_index(
            "ix_gift_sender_id_created_at", ["sender_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_gift_status_expires_at", ["status", "expires_at"], unique=False)

    op.create_table(
        "referral",
        sa.Column("referee_id", sa.Uuid(), nullable=False),
        sa.Column("referrer_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("purchase_id", sa.Uuid(), nullable=True),
        sa.Column("qualified_at", TIMESTAMP, nullable=True),
        sa.Column("referee_transaction_id", sa.Uuid(), nullable=True),
        sa.Column("rewarded_at", TIMESTAMP, nullable=True),
        sa.Column("referrer_transaction_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["purchase.id"], name=op.f("fk_referral_purchase_id_purchase")
        ),
        sa.ForeignKeyConstraint(
            ["referee_id"], ["member.id"], name=op.f("fk_referral_referee_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["referee_transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_referral_referee_transaction_id_ledger_transaction"),
        ),
        sa.ForeignKeyConstraint(
            ["referrer_id"], ["member.id"], name=op.f("fk_referral_referrer_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["referrer_transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_referral_referrer_transaction_id_ledger_transaction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
        sa.UniqueConstraint("referee_id", name=op.f("uq_referral_referee_id")),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(
            "ix_referral_referrer_id_created_at", ["referrer_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_referral_status", ["status"], unique=False)

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("merged_at", TIMESTAMP, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_member_merged_into_id_member"), "member", ["merged_into_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_member_merged_into_id_member"), type_="foreignkey")
        batch_op.drop_column("merged_at")
        batch_op.drop_column("merged_into_id")

    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_status")
        batch_op.drop_index("ix_referral_referrer_id_created_at")

    op.drop_table("referral")
    with op.batch_alter_table("gift", schema=None) as batch_op:
        batch_op.drop_index("ix_gift_status_expires_at")
        batch_op.drop_index("ix_gift_sender_id_created_at")

    op.drop_table("gift")
