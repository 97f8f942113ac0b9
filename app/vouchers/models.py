from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin
from app.db.types import JSONVariant


class VoucherKind(StrEnum):
    amount = "amount"  # `value` minor units off
    percent = "percent"  # `value` basis points off (1000 = 10 %), at most `max_discount`
    product = "product"  # the item `sku` free


class VoucherStatus(StrEnum):
    active = "active"
    redeemed = "redeemed"
    expired = "expired"
    cancelled = "cancelled"
    gifted = "gifted"  # held in an open gift: nobody can use it until the gift is claimed


class Voucher(IdMixin, CreatedAtMixin, Base):
    """A bearer code worth a discount. Only an HMAC of the code and its last four are kept.

    A reservation holds an active voucher for one order until ``reserved_until``; a
    reservation past that time no longer counts, without any job having to clear it.
    """

    __tablename__ = "voucher"
    __table_args__ = (
        CheckConstraint("value IS NULL OR value >= 0", name="value_not_negative"),
        Index("ix_voucher_member_id_created_at", "member_id", "created_at"),
        Index("ix_voucher_batch_id", "batch_id"),
        Index("ix_voucher_reserved_until", "reserved_until"),
    )

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_last4: Mapped[str] = mapped_column(String(4))
    member_id: Mapped[UUID | None] = mapped_column(ForeignKey("member.id"))
    reward_id: Mapped[UUID | None] = mapped_column(ForeignKey("reward.id", ondelete="SET NULL"))
    batch_id: Mapped[UUID | None]
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[int | None] = mapped_column(BigInteger)
    sku: Mapped[str | None] = mapped_column(String(64))
    min_order_total: Mapped[int | None] = mapped_column(BigInteger)
    max_discount: Mapped[int | None] = mapped_column(BigInteger)
    channels: Mapped[list[str]] = mapped_column(JSONVariant, default=list)
    categories: Mapped[list[str]] = mapped_column(JSONVariant, default=list)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=VoucherStatus.active)
    valid_from: Mapped[datetime]
    expires_at: Mapped[datetime]
    # The ledger transaction that paid for it, when bought with points.
    transaction_id: Mapped[UUID | None] = mapped_column(ForeignKey("ledger_transaction.id"))
    reservation_id: Mapped[UUID | None]
    reserved_order_id: Mapped[str | None] = mapped_column(String(100))
    reserved_until: Mapped[datetime | None]


class VoucherRedemption(IdMixin, CreatedAtMixin, Base):
    """A voucher used on an order; rolled back on refund. One per voucher and order."""

    __tablename__ = "voucher_redemption"
    __table_args__ = (
        CheckConstraint("discount >= 0", name="discount_not_negative"),
        Index("uq_voucher_redemption_voucher_id_order_id", "voucher_id", "order_id", unique=True),
    )

    voucher_id: Mapped[UUID] = mapped_column(ForeignKey("voucher.id"))
    order_id: Mapped[str] = mapped_column(String(100))
    total: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    discount: Mapped[int] = mapped_column(BigInteger)
    rolled_back_at: Mapped[datetime | None]


class VoucherHistory(IdMixin, CreatedAtMixin, Base):
    """Every state change of a voucher, in order: issued, reserved, released, redeemed, ..."""

    __tablename__ = "voucher_history"
    __table_args__ = (
        Index("ix_voucher_history_voucher_id_created_at", "voucher_id", "created_at"),
    )

    voucher_id: Mapped[UUID] = mapped_column(ForeignKey("voucher.id"))
    action: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSONVariant, default=dict)
