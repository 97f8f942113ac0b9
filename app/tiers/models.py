from datetime import datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, utcnow
from app.db.types import DecimalText, JSONVariant


class Tier(IdMixin, CreatedAtMixin, Base):
    """A status level: reached with ``threshold`` qualifying points, earns ``multiplier``."""

    __tablename__ = "tier"
    __table_args__ = (CheckConstraint("threshold >= 0", name="threshold_not_negative"),)

    name: Mapped[str] = mapped_column(String(100), unique=True)
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    threshold: Mapped[int] = mapped_column(Integer)
    multiplier: Mapped[Decimal] = mapped_column(DecimalText())
    benefits: Mapped[list[str]] = mapped_column(JSONVariant)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TierChange(IdMixin, CreatedAtMixin, Base):
    """A member's tier history: every change, with its reason."""

    __tablename__ = "tier_change"
    __table_args__ = (Index("ix_tier_change_member_id_created_at", "member_id", "created_at"),)

    member_id: Mapped[UUID] = mapped_column(ForeignKey("member.id"))
    from_tier_id: Mapped[UUID | None] = mapped_column(ForeignKey("tier.id", ondelete="SET NULL"))
    to_tier_id: Mapped[UUID | None] = mapped_column(ForeignKey("tier.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(32))
    qualifying_points: Mapped[int] = mapped_column(Integer)
    # The admin's reason for a manual tier, in words.
    note: Mapped[str | None] = mapped_column(String(200))
