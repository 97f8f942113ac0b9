from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin


class ReferralStatus(StrEnum):
    pending = "pending"  # enrolled with a referral code; no qualifying purchase yet
    qualified = "qualified"  # the referee made one and got the bonus; the referrer's is due
    rewarded = "rewarded"  # both got the bonus
    capped = "capped"  # the referrer had reached the monthly cap; only the referee got it
    void = "void"  # the link ended (e.g. the two records were merged into one person)


class Referral(IdMixin, CreatedAtMixin, Base):
    """One member recommended by another: at most one per referee, so rewarded once.

    Scoped to the referee: the referee's purchase qualifies it, and a job credits the
    referrer afterwards in a transaction of the referrer's own.
    """

    __tablename__ = "referral"
    __table_args__ = (
        Index("ix_referral_referrer_id_created_at", "referrer_id", "created_at"),
        Index("ix_referral_status", "status"),
    )

    referee_id: Mapped[UUID] = mapped_column(ForeignKey("member.id"), unique=True)
    referrer_id: Mapped[UUID] = mapped_column(ForeignKey("member.id"))
    status: Mapped[str] = mapped_column(String(16), default=ReferralStatus.pending)
    purchase_id: Mapped[UUID | None] = mapped_column(ForeignKey("purchase.id"))
    qualified_at: Mapped[datetime | None]
    referee_transaction_id: Mapped[UUID | None] = mapped_column(ForeignKey("ledger_transaction.id"))
    rewarded_at: Mapped[datetime | None]
    referrer_transaction_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("ledger_transaction.id")
    )
