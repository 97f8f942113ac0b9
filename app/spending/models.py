from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, CreatedAtMixin, IdMixin
from app.ledger.models import LedgerTransaction


class RedemptionStatus(StrEnum):
    completed = "completed"
    cancelled = "cancelled"


class Redemption(IdMixin, CreatedAtMixin, Base):
    """Points paid at a till or checkout; cancelling gives them back into their lots."""

    __tablename__ = "redemption"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        Index("uq_redemption_member_id_order_id", "member_id", "order_id", unique=True),
    )

    member_id: Mapped[UUID] = mapped_column(ForeignKey("member.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    value_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    order_id: Mapped[str | None] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    transaction_id: Mapped[UUID] = mapped_column(ForeignKey("ledger_transaction.id"))
    cancel_transaction_id: Mapped[UUID | None] = mapped_column(ForeignKey("ledger_transaction.id"))
    cancelled_at: Mapped[datetime | None]

    # Declared so the unit of work inserts the ledger transactions first.
    transaction: Mapped[LedgerTransaction] = relationship(
        foreign_keys=[transaction_id], lazy="raise"
    )
    cancel_transaction: Mapped[LedgerTransaction | None] = relationship(
        foreign_keys=[cancel_transaction_id], lazy="raise"
    )
