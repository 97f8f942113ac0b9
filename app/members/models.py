from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, utcnow
from app.db.types import JSONVariant


class MemberStatus(StrEnum):
    active = "active"
    merged = "merged"  # folded into ``merged_into_id``; look-ups lead there
    erased = "erased"  # personal data erased (``app.members.erasure``); no writes any more


class Member(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "member"
    __table_args__ = (
        Index("ix_member_created_at_id", "created_at", "id"),
        # The tier review job looks members up by these dates.
        Index("ix_member_tier_secured_until", "tier_secured_until"),
        Index("ix_member_manual_tier_until", "manual_tier_until"),
        # A unique index rather than a constraint: added to a table in use without rebuilding it.
        Index("uq_member_phone", "phone", unique=True),
    )

    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    card_number: Mapped[str] = mapped_column(String(19), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164: "+" and at most 15 digits
    name: Mapped[str | None] = mapped_column(String(200))
    birthdate: Mapped[date | None]
    referral_code: Mapped[str] = mapped_column(String(16), unique=True)
    referred_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("member.id"))
    status: Mapped[str] = mapped_column(String(16), default=MemberStatus.active)
    # Flags that limit exclusive campaigns to some members (e.g. "vip-evening").
    segments: Mapped[list[str]] = mapped_column(JSONVariant, default=list)
    # The tier earned by qualifying points, and until when it is secured (review date).
    tier_id: Mapped[UUID | None] = mapped_column(ForeignKey("tier.id", ondelete="SET NULL"))
    tier_secured_until: Mapped[datetime | None]
    # A tier given by hand (VIP invitation), in force until its end date.
    manual_tier_id: Mapped[UUID | None] = mapped_column(ForeignKey("tier.id", ondelete="SET NULL"))
    manual_tier_until: Mapped[datetime | None]
    merged_into_id: Mapped[UUID | None] = mapped_column(ForeignKey("member.id"))
    merged_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    # A, B or C by revenue over the trailing 12 months, set by the ABC classification job
    # (app.analytics.jobs); None without revenue in that window.
    abc_class: Mapped[str | None] = mapped_column(String(1))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
