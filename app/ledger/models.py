"""The points ledger: accounts, append-only transactions and postings, and earn lots.

Double entry: every transaction's postings balance (credits = debits). Member accounts
(available, pending) are credit-normal and carry a cached balance, locked per member;
programme accounts (issued, redeemed, ...) take postings from every member but are never
updated, so no request queues on them: their totals are sums.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, CreatedAtMixin, IdMixin


class AccountKind(StrEnum):
    available = "available"
    pending = "pending"
    issued = "issued"
    redeemed = "redeemed"
    expired = "expired"
    adjustments = "adjustments"
    gift_escrow = "gift_escrow"


MEMBER_ACCOUNT_KINDS = (AccountKind.available, AccountKind.pending)
PROGRAM_ACCOUNT_KINDS = (
    AccountKind.issued,
    AccountKind.redeemed,
    AccountKind.expired,
    AccountKind.adjustments,
    AccountKind.gift_escrow,
)

_PROGRAM_ACCOUNT_NAMESPACE = uuid.UUID("6f1c1f0e-7d43-4a59-9a53-2b0e5c1d8a11")


def program_account_id(kind: AccountKind) -> UUID:
    """Programme accounts have fixed ids, created by the migration, so no look-up is needed."""
    return uuid.uuid5(_PROGRAM_ACCOUNT_NAMESPACE, f"program:{kind.value}")


class Side(StrEnum):
    debit = "debit"
    credit = "credit"


class TransactionType(StrEnum):
    purchase = "purchase"
    purchase_return = "purchase_return"
    receipt_claim = "receipt_claim"
    pending_release = "pending_release"
    redemption = "redemption"
    redemption_cancel = "redemption_cancel"
    voucher_purchase = "voucher_purchase"
    adjustment = "adjustment"
    expiry = "expiry"
    signup_bonus = "signup_bonus"
    birthday_bonus = "birthday_bonus"
    profile_bonus = "profile_bonus"
    referral_bonus = "referral_bonus"
    gift_sent = "gift_sent"  # available -> gift escrow
    gift_received = "gift_received"  # gift escrow -> the recipient, as a new lot
    gift_returned = "gift_returned"  # gift escrow -> the sender, into the lots it came from
    merge_out = "merge_out"  # a duplicate record's points -> escrow
    merge_in = "merge_in"  # escrow -> the record it was merged into, lots kept
    erasure = "erasure"  # an erased member's points -> expired (a debt -> adjustments)
    import_ = "import"  # an opening balance carried over from another system (app.imports)


class LotStatus(StrEnum):
    pending = "pending"
    available = "available"


class Account(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "account"
    __table_args__ = (
        Index("uq_account_member_id_kind", "member_id", "kind", unique=True),
        CheckConstraint(
            "(member_id IS NULL) = (balance IS NULL)", name="balance_only_on_member_accounts"
        ),
    )

    member_id: Mapped[UUID | None] = mapped_column(ForeignKey("member.id"))
    kind: Mapped[str] = mapped_column(String(20))
    balance: Mapped[int | None] = mapped_column(BigInteger)
    # The member's hash chain: kept on the available account, the row every ledger
    # transaction of that member locks.
    entry_count: Mapped[int | None] = mapped_column(Integer)
    chain_head: Mapped[str | None] = mapped_column(String(64))


class LedgerTransaction(IdMixin, CreatedAtMixin, Base):
    """One entry of a member's ledger. Append-only: triggers refuse UPDATE and DELETE."""

    __tablename__ = "ledger_transaction"
    __table_args__ = (
        Index("uq_ledger_transaction_member_id_seq", "member_id", "seq", unique=True),
        # A member's entries by time; with type and points so that the qualifying-points sum
        # of every sale reads the index alone.
        Index(
            "ix_ledger_transaction_member_id_created_at_covering",
            "member_id",
            "created_at",
            "id",
            "type",
            "points",
        ),
    )

    member_id: Mapped[UUID] = mapped_column(ForeignKey("member.id"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(BigInteger)
    available_after: Mapped[int] = mapped_column(BigInteger)
    pending_after: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    related_id: Mapped[UUID | None]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Posting(IdMixin, CreatedAtMixin, Base):
    """One leg of a transaction. Append-only."""

    __tablename__ = "posting"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("side IN ('debit', 'credit')", name="side_known"),
        Index("ix_posting_account_id", "account_id"),
        # A programme account's postings in a period (app.analytics).
        Index("ix_posting_account_id_created_at", "account_id", "created_at"),
        Index("ix_posting_transaction_id", "transaction_id"),
    )

    transaction_id: Mapped[UUID] = mapped_column(ForeignKey("ledger_transaction.id"))
    member_id: Mapped[UUID] = mapped_column(ForeignKey("member.id"))
    account_id: Mapped[UUID] = mapped_column(ForeignKey("account.id"))
    side: Mapped[str] = mapped_column(String(6))
    amount: Mapped[int] = mapped_column(BigInteger)

    # Declared so the unit of work inserts the transaction before its postings.
    transaction: Mapped[LedgerTransaction] = relationship(lazy="raise")


EXPIRY_NOTICE_DUE = "expiry_notified_at IS NULL AND remaining > 0 AND expires_at IS NOT NULL"


class EarnLot(IdMixin, CreatedAtMixin, Base):
    """Points earned together, spent first-expiring-first; what is left of it expires."""

    __tablename__ = "earn_lot"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint(
            "remaining >= 0 AND expired_points >= 0 AND remaining + expired_points <= points",
            name="remaining_in_range",
        ),
        Index("ix_earn_lot_member_id_status", "member_id", "status"),
        Index("ix_earn_lot_status_available_at", "status", "available_at"),
        Index("ix_earn_lot_expires_at", "expires_at"),
        # The expiring-soon job reads only lots not yet noticed that still hold points.
        Index(
            "ix_earn_lot_expiry_notice_due",
            "expires_at",
            postgresql_where=text(EXPIRY_NOTICE_DUE),
            sqlite_where=text(EXPIRY_NOTICE_DUE),
        ),
    )

    member_id: Mapped[UUID] = mapped_column(ForeignKey("member.id"))
    transaction_id: Mapped[UUID] = mapped_column(ForeignKey("ledger_transaction.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    # Expired and not (yet) taken back by a return of the purchase: a return takes these
    # from the expired account instead of from the member, who already lost them.
    expired_points: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16))
    available_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    # When ``points.expiring_soon`` was emitted for this lot (once per lot).
    expiry_notified_at: Mapped[datetime | None]

    transaction: Mapped[LedgerTransaction] = relationship(lazy="raise")


class LotConsumption(IdMixin, CreatedAtMixin, Base):
    """Which lots a debit took from, so that a cancelled redemption restores them."""

    __tablename__ = "lot_consumption"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        Index("ix_lot_consumption_transaction_id", "transaction_id"),
    )

    member_id: Mapped[UUID] = mapped_column(ForeignKey("member.id"))
    transaction_id: Mapped[UUID] = mapped_column(ForeignKey("ledger_transaction.id"))
    lot_id: Mapped[UUID] = mapped_column(ForeignKey("earn_lot.id"))
    points: Mapped[int] = mapped_column(BigInteger)

    transaction: Mapped[LedgerTransaction] = relationship(lazy="raise")
    lot: Mapped[EarnLot] = relationship(lazy="raise")
