from datetime import datetime
from uuid import UUID

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, utcnow
from app.db.types import JSONVariant


class Reward(IdMixin, CreatedAtMixin, Base):
    """A catalogue entry members buy with points; it issues a voucher."""

    __tablename__ = "reward"
    __table_args__ = (
        CheckConstraint("cost_points > 0", name="cost_points_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        Index("ix_reward_created_at_id", "created_at", "id"),
    )

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    cost_points: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    # None: unlimited. Decremented atomically when a voucher is issued.
    stock: Mapped[int | None] = mapped_column(Integer)
    tier_ids: Mapped[list[UUID]] = mapped_column(JSONVariant, default=list)
    # The voucher it issues (see app.vouchers.models.Voucher for the meaning of each field).
    voucher_kind: Mapped[str] = mapped_column(String(16))
    voucher_value: Mapped[int | None] = mapped_column(Integer)
    voucher_sku: Mapped[str | None] = mapped_column(String(64))
    min_order_total: Mapped[int | None] = mapped_column(Integer)
    max_discount: Mapped[int | None] = mapped_column(Integer)
    valid_days: Mapped[int] = mapped_column(Integer)
    channels: Mapped[list[str]] = mapped_column(JSONVariant, default=list)
    categories: Mapped[list[str]] = mapped_column(JSONVariant, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
