from enum import StrEnum
from uuid import UUID

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin


class BonusKind(StrEnum):
    signup = "signup"
    profile = "profile"
    birthday = "birthday"


class BonusGrant(IdMixin, CreatedAtMixin, Base):
    """An event bonus given: unique per member, kind and period, so it is given once."""

    __tablename__ = "bonus_grant"
    __table_args__ = (UniqueConstraint("member_id", "kind", "period"),)

    member_id: Mapped[UUID] = mapped_column(ForeignKey("member.id"))
    kind: Mapped[str] = mapped_column(String(32))
    # "" for once-ever bonuses (signup, profile), the year for birthdays.
    period: Mapped[str] = mapped_column(String(16))
    points: Mapped[int]
    transaction_id: Mapped[UUID | None] = mapped_column(ForeignKey("ledger_transaction.id"))
