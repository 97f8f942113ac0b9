"""The discount a voucher gives an order: pure rules, plain values in and out.

A voucher first has to be usable at all (status, validity dates, another order's live
reservation), then applicable to the order (currency, channel, minimum total, categories or
the free product's SKU). What it takes off is never more than the applicable total:

- ``amount``: its value, at most the applicable total;
- ``percent``: the applicable total * basis points / 10 000, rounded down, at most
  ``max_discount``;
- ``product``: the unit price of its SKU when the order contains it.

The applicable total is the order's total, or, when the voucher is limited to categories,
the share of the paid total that the items in those categories make up (rounded down).
Refusals are stable reason codes.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.vouchers.models import Voucher, VoucherKind, VoucherStatus

BASIS_POINTS = 10_000


class Reason(StrEnum):
    voucher_expired = "voucher_expired"
    voucher_not_yet_valid = "voucher_not_yet_valid"
    voucher_already_redeemed = "voucher_already_redeemed"
    voucher_cancelled = "voucher_cancelled"
    voucher_gifted = "voucher_gifted"
    voucher_reserved = "voucher_reserved"
    channel_not_allowed = "channel_not_allowed"
    below_min_order_total = "below_min_order_total"
    no_applicable_items = "no_applicable_items"
    currency_mismatch = "currency_mismatch"


@dataclass(frozen=True, slots=True)
class Terms:
    """What a voucher is worth and where, and its state at a moment."""

    kind: str
    value: int | None
    currency: str
    valid_from: datetime
    expires_at: datetime
    status: str = VoucherStatus.active
    sku: str | None = None
    min_order_total: int | None = None
    max_discount: int | None = None
    channels: Sequence[str] = ()
    categories: Sequence[str] = ()
    reserved_order_id: str | None = None
    reserved_until: datetime | None = None

    @classmethod
    def of(cls, voucher: Voucher) -> "Terms":
        return cls(
            kind=voucher.kind,
            value=voucher.value,
            currency=voucher.currency,
            valid_from=voucher.valid_from,
            expires_at=voucher.expires_at,
            status=voucher.status,
            sku=voucher.sku,
            min_order_total=voucher.min_order_total,
            max_discount=voucher.max_discount,
            channels=tuple(voucher.channels or ()),
            categories=tuple(voucher.categories or ()),
            reserved_order_id=voucher.reserved_order_id,
            reserved_until=voucher.reserved_until,
        )

    def reserved_for_other(self, order_id: str | None, now: datetime) -> bool:
        """A live reservation for an order other than ``order_id``."""
        return (
            self.reserved_until is not None
            and self.reserved_until > now
            and self.reserved_order_id != order_id
        )


@dataclass(frozen=True, slots=True)
class Item:
    sku: str
    quantity: int
    unit_price: int
    category: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    total: int
    currency: str
    channel: str | None = None
    items: Sequence[Item] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Outcome:
    discount: int = 0
    reason: Reason | None = None

    @property
    def valid(self) -> bool:
        return self.reason is None


def usability(terms: Terms, now: datetime, order_id: str | None = None) -> Reason | None:
    """Why the voucher cannot be used at ``now`` by ``order_id`` at all, or None."""
    if terms.status == VoucherStatus.cancelled:
        return Reason.voucher_cancelled
    if terms.status == VoucherStatus.redeemed:
        return Reason.voucher_already_redeemed
    if terms.status == VoucherStatus.gifted:
        return Reason.voucher_gifted
    if terms.status == VoucherStatus.expired or now >= terms.expires_at:
        return Reason.voucher_expired
    if now < terms.valid_from:
        return Reason.voucher_not_yet_valid
    if terms.reserved_for_other(order_id, now):
        return Reason.voucher_reserved
    return None


def applicable_total(terms: Terms, order: Order) -> int | None:
    """The part of the order's total the voucher applies to; None when no item qualifies."""
    if not terms.categories:
        return order.total
    items_total = sum(item.quantity * item.unit_price for item in order.items)
    in_categories = sum(
        item.quantity * item.unit_price
        for item in order.items
        if item.category is not None and item.category in terms.categories
    )
    if in_categories == 0 or items_total == 0:
        return None
    return min(order.total, order.total * in_categories // items_total)


def applicability(terms: Terms, order: Order) -> Outcome:
    """The discount on ``order``, or the reason the voucher does not apply to it."""
    if order.currency != terms.currency:
        return Outcome(reason=Reason.currency_mismatch)
    if terms.channels and (order.channel is None or order.channel not in terms.channels):
        return Outcome(reason=Reason.channel_not_allowed)
    if terms.min_order_total is not None and order.total < terms.min_order_total:
        return Outcome(reason=Reason.below_min_order_total)
    base = applicable_total(terms, order)
    if base is None:
        return Outcome(reason=Reason.no_applicable_items)
    value = terms.value or 0
    if terms.kind == VoucherKind.amount:
        return Outcome(min(value, base))
    if terms.kind == VoucherKind.percent:
        off = base * value // BASIS_POINTS
        if terms.max_discount is not None:
            off = min(off, terms.max_discount)
        return Outcome(min(off, base))
    # A free product: the unit price of its SKU, when the order has it.
    prices = [item.unit_price for item in order.items if item.sku == terms.sku]
    if not prices:
        return Outcome(reason=Reason.no_applicable_items)
    return Outcome(min(max(prices), base))


def evaluate(terms: Terms, order: Order, now: datetime, order_id: str | None = None) -> Outcome:
    """Usable at ``now`` by ``order_id`` and applicable to ``order``: the discount, or why not."""
    reason = usability(terms, now, order_id)
    if reason is not None:
        return Outcome(reason=reason)
    return applicability(terms, order)
