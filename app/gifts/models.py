from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin


class GiftStatus(StrEnum):
    open = "open"
    claimed = "claimed"
    cancelled = "cancelled"
    expired = "expired"


class Gift(IdMixin, CreatedAtMixin, Base):
    """Points (held in the gift escrow account) or a voucher a member passes on by a code.

    Exactly one of claim, cancel and expiry settles an open gift: each moves it out of
    ``open`` with a conditional update, and only the one that changed the row goes on.
    """

    __tablename__ = "gift"
    __table_args__ = (
        CheckConstraint("(points IS NULL) <> (voucher_id IS NULL)", name="points_or_voucher"),
        CheckConstraint("points IS NULL OR points > 0", name="points_positive"),
        Index("ix_gift_sender_id_created_at", "sender_id", "created_at"),
        Index("ix_gift_status_expires_at", "status", "expires_at"),
    )

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_last4: Mapped[str] = mapped_column(String(4))
    sender_id: Mapped[UUID] = mapped_column(ForeignKey("member.id"))
    # Points in escrow, or the voucher the gift holds (bought with the sender's points).
    points: Mapped[int | None] = mapped_column(BigInteger)
    voucher_id: Mapped[UUID | None] = mapped_column(ForeignKey("voucher.id"))
    message: Mapped[str | None] = mapped_column(Text)
    recipient_hint: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=GiftStatus.open)
    expires_at: Mapped[datetime]
    # The sender's transaction that paid for the gift (into escrow, or for the voucher).
    send_transaction_id: Mapped[UUID] = mapped_column(ForeignKey("ledger_transaction.id"))
    recipient_id: Mapped[UUID | None] = mapped_column(ForeignKey("member.id"))
    # The transaction that settled it: credit to the recipient or back to the sender.
    settle_transaction_id: Mapped[UUID | None] = mapped_column(ForeignKey("ledger_transaction.id"))
    settled_at: Mapped[datetime | None]
