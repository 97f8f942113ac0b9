from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, CreatedAtMixin, IdMixin
from app.db.types import JSONVariant
from app.ledger.models import EarnLot, LedgerTransaction


class Purchase(IdMixin, CreatedAtMixin, Base):
    """A receipt. Without a member it waits, with a claim code, to be claimed."""

    __tablename__ = "purchase"
    __table_args__ = (
        CheckConstraint("total >= 0", name="total_not_negative"),
        CheckConstraint("points_earned >= 0", name="points_earned_not_negative"),
        CheckConstraint(
            "returned_total >= 0 AND returned_total <= total", name="returned_total_in_range"
        ),
        CheckConstraint(
            "points_reversed >= 0 AND points_reversed <= points_earned",
            name="points_reversed_in_range",
        ),
        Index("ix_purchase_member_id_created_at", "member_id", "created_at"),
        # The figures (app.analytics) select purchases by when they happened.
        Index("ix_purchase_occurred_at", "occurred_at"),
        Index("ix_purchase_member_id_occurred_at", "member_id", "occurred_at"),
    )

    member_id: Mapped[UUID | None] = mapped_column(ForeignKey("member.id"))
    order_id: Mapped[str] = mapped_column(String(100), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[str | None] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONVariant)
    occurred_at: Mapped[datetime]
    points_earned: Mapped[int] = mapped_column(BigInteger)
    # Which rules gave how many points (see app.earning.rules), as the purchase earned them.
    breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSONVariant, default=list)
    lot_id: Mapped[UUID | None] = mapped_column(ForeignKey("earn_lot.id"))
    returned_total: Mapped[int] = mapped_column(BigInteger, default=0)
    returned_items: Mapped[dict[str, int]] = mapped_column(JSONVariant, default=dict)
    # Points that returns took back (or, before a claim, will not be credited).
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    claim_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    claim_code_last4: Mapped[str | None] = mapped_column(String(4))
    claim_expires_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]

    # Declared so the unit of work inserts rows before the rows that refer to them.
    lot: Mapped[EarnLot | None] = relationship(lazy="raise")


class PurchaseReturn(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "purchase_return"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_purchase_return_purchase_id", "purchase_id"),
    )

    purchase_id: Mapped[UUID] = mapped_column(ForeignKey("purchase.id"))
    member_id: Mapped[UUID | None] = mapped_column(ForeignKey("member.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONVariant)
    points_reversed: Mapped[int] = mapped_column(BigInteger)
    shortfall: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[UUID | None] = mapped_column(ForeignKey("ledger_transaction.id"))

    purchase: Mapped[Purchase] = relationship(lazy="raise")
    transaction: Mapped[LedgerTransaction | None] = relationship(lazy="raise")
