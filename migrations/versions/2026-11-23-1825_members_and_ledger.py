"""members and ledger: programme, members, accounts, append-only transactions and postings,
earn lots, purchases, returns, redemptions

Revision ID: 0002_members_ledger
Revises: 0001_foundation
Create Date: 2026-11-23 18:25:20.319534+00:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_members_ledger"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)

# Programme accounts have fixed ids (see app.ledger.models.program_account_id); the
# migration creates them so that no request ever has to.
_PROGRAM_ACCOUNT_NAMESPACE = uuid.UUID("6f1c1f0e-7d43-4a59-9a53-2b0e5c1d8a11")
PROGRAM_ACCOUNT_KINDS = ("issued", "redeemed", "expired", "adjustments", "gift_escrow")
APPEND_ONLY_TABLES = ("ledger_transaction", "posting")


def _create_append_only_triggers() -> None:
    """The database itself refuses UPDATE and DELETE on ledger entries."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'ledger entries are append-only: % on % refused',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
            END
            $$ LANGUAGE plpgsql
            """
        )
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
        return
    for table in APPEND_ONLY_TABLES:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: {operation} on "
                f"{table} refused'); END"
            )


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")
        return
    for table in APPEND_ONLY_TABLES:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def _create_program_accounts() -> None:
    account = sa.table(
        "account",
        sa.column("id", sa.Uuid()),
        sa.column("kind", sa.String()),
        sa.column("created_at", TIMESTAMP),
    )
    created_at = datetime(2026, 11, 23, tzinfo=UTC)
    op.bulk_insert(
        account,
        [
            {
                "id": uuid.uuid5(_PROGRAM_ACCOUNT_NAMESPACE, f"program:{kind}"),
                "kind": kind,
                "created_at": created_at,
            }
            for kind in PROGRAM_ACCOUNT_KINDS
        ],
    )


def upgrade() -> None:
    op.create_table(
        "member",
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("card_number", sa.String(length=19), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("birthdate", sa.Date(), nullable=True),
        sa.Column("referral_code", sa.String(length=16), nullable=False),
        sa.Column("referred_by_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["referred_by_id"], ["member.id"], name=op.f("fk_member_referred_by_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint("card_number", name=op.f("uq_member_card_number")),
        sa.UniqueConstraint("email", name=op.f("uq_member_email")),
        sa.UniqueConstraint("external_id", name=op.f("uq_member_external_id")),
        sa.UniqueConstraint("referral_code", name=op.f("uq_member_referral_code")),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index("ix_member_created_at_id", ["created_at", "id"], unique=False)

    op.create_table(
        "program",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_program_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program")),
    )
    op.create_table(
        "account",
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=True),
        sa.Column("chain_head", sa.String(length=64), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "(member_id IS NULL) = (balance IS NULL)",
            name=op.f("ck_account_balance_only_on_member_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_account_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index("uq_account_member_id_kind", ["member_id", "kind"], unique=True)

    op.create_table(
        "ledger_transaction",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("available_after", sa.BigInteger(), nullable=False),
        sa.Column("pending_after", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("related_id", sa.Uuid(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_ledger_transaction_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transaction")),
    )
    with op.batch_alter_table("ledger_transaction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_transaction_member_id_created_at_id",
            ["member_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_ledger_transaction_member_id_seq", ["member_id", "seq"], unique=True
        )

    op.create_table(
        "earn_lot",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("expired_points", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("available_at", TIMESTAMP, nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_earn_lot_points_positive")),
        sa.CheckConstraint(
            "remaining >= 0 AND expired_points >= 0 AND remaining + expired_points <= points",
            name=op.f("ck_earn_lot_remaining_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_earn_lot_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_earn_lot_transaction_id_ledger_transaction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_earn_lot")),
    )
    with op.batch_alter_table("earn_lot", schema=None) as batch_op:
        batch_op.create_index("ix_earn_lot_expires_at", ["expires_at"], unique=False)
        batch_op.create_index("ix_earn_lot_member_id_status", ["member_id", "status"], unique=False)
        batch_op.create_index(
            "ix_earn_lot_status_available_at", ["status", "available_at"], unique=False
        )

    op.create_table(
        "posting",
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("side", sa.String(length=6), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("side IN ('debit', 'credit')", name=op.f("ck_posting_side_known")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_posting_amount_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_posting_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_posting_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_posting_transaction_id_ledger_transaction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posting")),
    )
    with op.batch_alter_table("posting", schema=None) as batch_op:
        batch_op.create_index("ix_posting_account_id", ["account_id"], unique=False)
        batch_op.create_index("ix_posting_transaction_id", ["transaction_id"], unique=False)

    op.create_table(
        "redemption",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("value_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("cancel_transaction_id", sa.Uuid(), nullable=True),
        sa.Column("cancelled_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_redemption_points_positive")),
        sa.ForeignKeyConstraint(
            ["cancel_transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_redemption_cancel_transaction_id_ledger_transaction"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_redemption_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_redemption_transaction_id_ledger_transaction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemption")),
    )
    with op.batch_alter_table("redemption", schema=None) as batch_op:
        batch_op.create_index(
            "uq_redemption_member_id_order_id", ["member_id", "order_id"], unique=True
        )

    op.create_table(
        "lot_consumption",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_lot_consumption_points_positive")),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["earn_lot.id"], name=op.f("fk_lot_consumption_lot_id_earn_lot")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_lot_consumption_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_lot_consumption_transaction_id_ledger_transaction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot_consumption")),
    )
    with op.batch_alter_table("lot_consumption", schema=None) as batch_op:
        batch_op.create_index("ix_lot_consumption_transaction_id", ["transaction_id"], unique=False)

    op.create_table(
        "purchase",
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("store_id", sa.String(length=100), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("items", JSON, nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("points_earned", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.Uuid(), nullable=True),
        sa.Column("returned_total", sa.BigInteger(), nullable=False),
        sa.Column("returned_items", JSON, nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("claim_code_hash", sa.String(length=64), nullable=True),
        sa.Column("claim_code_last4", sa.String(length=4), nullable=True),
        sa.Column("claim_expires_at", TIMESTAMP, nullable=True),
        sa.Column("claimed_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "points_earned >= 0", name=op.f("ck_purchase_points_earned_not_negative")
        ),
        sa.CheckConstraint(
            "points_reversed >= 0 AND points_reversed <= points_earned",
            name=op.f("ck_purchase_points_reversed_in_range"),
        ),
        sa.CheckConstraint(
            "returned_total >= 0 AND returned_total <= total",
            name=op.f("ck_purchase_returned_total_in_range"),
        ),
        sa.CheckConstraint("total >= 0", name=op.f("ck_purchase_total_not_negative")),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["earn_lot.id"], name=op.f("fk_purchase_lot_id_earn_lot")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_purchase_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase")),
        sa.UniqueConstraint("claim_code_hash", name=op.f("uq_purchase_claim_code_hash")),
        sa.UniqueConstraint("order_id", name=op.f("uq_purchase_order_id")),
    )
    with op.batch_alter_table("purchase", schema=None) as batch_op:
        batch_op.create_index(
            "ix_purchase_member_id_created_at", ["member_id", "created_at"], unique=False
        )

    op.create_table(
        "purchase_return",
        sa.Column("purchase_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("items", JSON, nullable=True),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("shortfall", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_purchase_return_amount_positive")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_purchase_return_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["purchase.id"], name=op.f("fk_purchase_return_purchase_id_purchase")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_purchase_return_transaction_id_ledger_transaction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_return")),
    )
    with op.batch_alter_table("purchase_return", schema=None) as batch_op:
        batch_op.create_index("ix_purchase_return_purchase_id", ["purchase_id"], unique=False)

    _create_append_only_triggers()
    _create_program_accounts()


def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table("purchase_return", schema=None) as batch_op:
        batch_op.drop_index("ix_purchase_return_purchase_id")

    op.drop_table("purchase_return")
    with op.batch_alter_table("purchase", schema=None) as batch_op:
        batch_op.drop_index("ix_purchase_member_id_created_at")

    op.drop_table("purchase")
    with op.batch_alter_table("lot_consumption", schema=None) as batch_op:
        batch_op.drop_index("ix_lot_consumption_transaction_id")

    op.drop_table("lot_consumption")
    with op.batch_alter_table("redemption", schema=None) as batch_op:
        batch_op.drop_index("uq_redemption_member_id_order_id")

    op.drop_table("redemption")
    with op.batch_alter_table("posting", schema=None) as batch_op:
        batch_op.drop_index("ix_posting_transaction_id")
        batch_op.drop_index("ix_posting_account_id")

    op.drop_table("posting")
    with op.batch_alter_table("earn_lot", schema=None) as batch_op:
        batch_op.drop_index("ix_earn_lot_status_available_at")
        batch_op.drop_index("ix_earn_lot_member_id_status")
        batch_op.drop_index("ix_earn_lot_expires_at")

    op.drop_table("earn_lot")
    with op.batch_alter_table("ledger_transaction", schema=None) as batch_op:
        batch_op.drop_index("uq_ledger_transaction_member_id_seq")
        batch_op.drop_index("ix_ledger_transaction_member_id_created_at_id")

    op.drop_table("ledger_transaction")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index("uq_account_member_id_kind")

    op.drop_table("account")
    op.drop_table("program")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index("ix_member_created_at_id")

    op.drop_table("member")
