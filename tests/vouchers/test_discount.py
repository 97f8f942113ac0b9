"""The discount a voucher gives an order, as worked examples (no database)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.vouchers.discount import (
    Item,
    Order,
    Outcome,
    Reason,
    Terms,
    applicable_total,
    evaluate,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def terms(kind: str = "amount", value: int | None = 500, **fields: object) -> Terms:
    base = Terms(
        kind=kind,
        value=value,
        currency="EUR",
        valid_from=NOW - timedelta(days=1),
        expires_at=NOW + timedelta(days=30),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def order(total: int = 4000, *items: Item, channel: str | None = "pos") -> Order:
    return Order(total=total, currency="EUR", channel=channel, items=items)


COFFEE = Item("COFFEE-1KG", 2, 1800, "coffee")  # 36.00
MUG = Item("MUG", 1, 1000, "merch")  # 10.00


# --- amount ---------------------------------------------------------------------------------


def test_amount_takes_its_value_off():
    assert evaluate(terms("amount", 500), order(4000), NOW) == Outcome(500)


def test_amount_never_takes_more_than_the_total():
    assert evaluate(terms("amount", 5000), order(1200), NOW) == Outcome(1200)


# --- percent --------------------------------------------------------------------------------


def test_percent_is_rounded_down():
    # 10 % of 19.99 is 1.999: the customer gets 1.99.
    assert evaluate(terms("percent", 1000), order(1999), NOW) == Outcome(199)


def test_percent_is_capped_by_max_discount():
    assert evaluate(terms("percent", 2500, max_discount=700), order(4000), NOW) == Outcome(700)
    assert evaluate(terms("percent", 2500, max_discount=2000), order(4000), NOW) == Outcome(1000)


def test_hundred_percent_is_the_whole_total():
    assert evaluate(terms("percent", 10_000), order(4321), NOW) == Outcome(4321)


# --- product --------------------------------------------------------------------------------


def test_product_takes_the_unit_price_of_its_sku():
    voucher = terms("product", None, sku="MUG")
    assert evaluate(voucher, order(4600, COFFEE, MUG), NOW) == Outcome(1000)


def test_product_without_its_sku_in_the_order_does_not_apply():
    voucher = terms("product", None, sku="MUG")
    assert evaluate(voucher, order(3600, COFFEE), NOW) == Outcome(reason=Reason.no_applicable_items)


def test_product_is_never_more_than_the_total():
    voucher = terms("product", None, sku="MUG")
    assert evaluate(voucher, order(800, MUG), NOW) == Outcome(800)


# --- categories -----------------------------------------------------------------------------


def test_categories_apply_to_their_share_of_the_paid_total():
    # Items: coffee 36.00, mug 10.00 (46.00); paid 41.40 after a 10 % store discount.
    # Coffee's share of what was paid: 41.40 * 36 / 46 = 32.40.
    voucher = terms("percent", 5000, categories=["coffee"])
    assert applicable_total(voucher, order(4140, COFFEE, MUG)) == 3240
    assert evaluate(voucher, order(4140, COFFEE, MUG), NOW) == Outcome(1620)


def test_amount_in_categories_is_capped_by_their_share():
    voucher = terms("amount", 2000, categories=["merch"])
    assert evaluate(voucher, order(4600, COFFEE, MUG), NOW) == Outcome(1000)


def test_categories_without_matching_items_do_not_apply():
    voucher = terms("amount", 500, categories=["tea"])
    assert evaluate(voucher, order(4600, COFFEE, MUG), NOW) == Outcome(
        reason=Reason.no_applicable_items
    )
    assert evaluate(voucher, order(4600), NOW) == Outcome(reason=Reason.no_applicable_items)


# --- conditions -----------------------------------------------------------------------------


def test_minimum_order_total_is_on_the_whole_total():
    voucher = terms("amount", 500, min_order_total=2500)
    assert evaluate(voucher, order(2499), NOW) == Outcome(reason=Reason.below_min_order_total)
    assert evaluate(voucher, order(2500), NOW) == Outcome(500)


def test_channel_must_be_allowed():
    voucher = terms("amount", 500, channels=["web"])
    assert evaluate(voucher, order(4000, channel="pos"), NOW) == Outcome(
        reason=Reason.channel_not_allowed
    )
    assert evaluate(voucher, order(4000, channel=None), NOW) == Outcome(
        reason=Reason.channel_not_allowed
    )
    assert evaluate(voucher, order(4000, channel="web"), NOW) == Outcome(500)


def test_currency_must_match():
    usd = Order(total=4000, currency="USD")
    assert evaluate(terms(), usd, NOW) == Outcome(reason=Reason.currency_mismatch)


# --- state and time -------------------------------------------------------------------------


def test_status_refusals():
    assert evaluate(terms(status="redeemed"), order(), NOW).reason is (
        Reason.voucher_already_redeemed
    )
    assert evaluate(terms(status="cancelled"), order(), NOW).reason is Reason.voucher_cancelled
    assert evaluate(terms(status="expired"), order(), NOW).reason is Reason.voucher_expired


def test_validity_dates():
    voucher = terms(valid_from=NOW + timedelta(hours=1), expires_at=NOW + timedelta(days=1))
    assert evaluate(voucher, order(), NOW).reason is Reason.voucher_not_yet_valid
    assert evaluate(voucher, order(), NOW + timedelta(hours=1)) == Outcome(500)
    # The expiry instant itself is already too late.
    assert evaluate(voucher, order(), NOW + timedelta(days=1)).reason is Reason.voucher_expired


def test_a_live_reservation_counts_for_its_order_only_until_it_lapses():
    voucher = terms(reserved_order_id="A-1", reserved_until=NOW + timedelta(minutes=15))
    assert evaluate(voucher, order(), NOW, "A-1") == Outcome(500)
    assert evaluate(voucher, order(), NOW, "B-2").reason is Reason.voucher_reserved
    assert evaluate(voucher, order(), NOW).reason is Reason.voucher_reserved
    assert evaluate(voucher, order(), NOW + timedelta(minutes=15), "B-2") == Outcome(500)


# --- invariants -----------------------------------------------------------------------------


@given(
    kind=st.sampled_from(["amount", "percent", "product"]),
    value=st.integers(0, 20_000),
    total=st.integers(0, 100_000),
    prices=st.lists(st.integers(0, 10_000), max_size=4),
    categories=st.sampled_from([(), ("coffee",)]),
)
def test_the_discount_is_never_more_than_the_total(kind, value, total, prices, categories):
    items = tuple(
        Item(f"SKU-{i}", 1, price, "coffee" if i % 2 else "merch") for i, price in enumerate(prices)
    )
    voucher = terms(kind, value, sku="SKU-1", categories=categories)
    outcome = evaluate(voucher, order(total, *items), NOW)
    assert 0 <= outcome.discount <= total
    if outcome.valid and categories:
        base = applicable_total(voucher, order(total, *items))
        assert base is not None
        assert outcome.discount <= base
