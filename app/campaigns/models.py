from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, utcnow
from app.db.types import DecimalText, JSONVariant


class CampaignKind(StrEnum):
    multiplier = "multiplier"  # the purchase's base points times `multiplier`
    bonus_points = "bonus_points"  # `points` once per qualifying purchase
    per_visit = "per_visit"  # `points` per qualifying visit: stamp cards
    category_multiplier = "category_multiplier"  # items of `categories` earn times `multiplier`
    sku_bonus = "sku_bonus"  # `points` per unit of `skus`


class Campaign(IdMixin, CreatedAtMixin, Base):
    """An earn rule a merchant switches on for a while: promotions, stamp cards, offers."""

    __tablename__ = "campaign"
    __table_args__ = (Index("ix_campaign_created_at_id", "created_at", "id"),)

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    multiplier: Mapped[Decimal | None] = mapped_column(DecimalText())
    points: Mapped[int | None] = mapped_column(Integer)
    categories: Mapped[list[str]] = mapped_column(JSONVariant, default=list)
    skus: Mapped[list[str]] = mapped_column(JSONVariant, default=list)
    # Local wall-clock times in the programme's time zone, ISO 8601 without offset.
    starts_at: Mapped[str | None] = mapped_column(String(19))
    ends_at: Mapped[str | None] = mapped_column(String(19))
    weekdays: Mapped[list[int]] = mapped_column(JSONVariant, default=list)
    channels: Mapped[list[str]] = mapped_column(JSONVariant, default=list)
    store_ids: Mapped[list[str]] = mapped_column(JSONVariant, default=list)
    min_total: Mapped[int | None] = mapped_column(Integer)
    tier_ids: Mapped[list[UUID]] = mapped_column(JSONVariant, default=list)
    segment: Mapped[str | None] = mapped_column(String(64))
    abc_classes: Mapped[list[str]] = mapped_column(JSONVariant, default=list)
    combinable: Mapped[bool] = mapped_column(Boolean, default=True)
    max_points_per_purchase: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
