"""The pure ledger rules: balanced legs, first-expiring-first lots, debt payback, returns."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ledger.models import Side
from app.ledger.postings import (
    Leg,
    LotView,
    balance_change,
    debt_payback,
    is_balanced,
    proportional_points,
    spending_order,
    take_fifo,
    transfer,
)

MEMBER = uuid.UUID("00000000-0000-0000-0000-00000000000a")
ISSUED = uuid.UUID("00000000-0000-0000-0000-0000000000b1")
REDEEMED = uuid.UUID("00000000-0000-0000-0000-0000000000b2")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def expires_before(a: LotView, b: LotView) -> bool:
    """Whether ``a`` expires strictly before ``b`` (a lot that never expires, never)."""
    if a.expires_at is None:
        return False
    return b.expires_at is None or a.expires_at < b.expires_at


def lot(remaining: int, *, expires_in_days: int | None, created_days_ago: int = 0) -> LotView:
    return LotView(
        id=uuid.uuid4(),
        remaining=remaining,
        expires_at=None if expires_in_days is None else T0 + timedelta(days=expires_in_days),
        created_at=T0 - timedelta(days=created_days_ago),
    )


# --- transfer, is_balanced, balance_change -------------------------------------------------


def test_a_transfer_debits_one_account_and_credits_the_other():
    legs = transfer(ISSUED, MEMBER, 250)

    assert legs == [Leg(ISSUED, Side.debit, 250), Leg(MEMBER, Side.credit, 250)]
    assert is_balanced(legs)
    assert balance_change(legs, MEMBER) == 250
    assert balance_change(legs, ISSUED) == -250
    assert balance_change(legs, REDEEMED) == 0


@pytest.mark.parametrize("amount", [0, -1, -100])
def test_a_transfer_of_nothing_or_less_is_refused(amount):
    with pytest.raises(ValueError, match="positive amount"):
        transfer(ISSUED, MEMBER, amount)


def test_legs_that_do_not_add_up_are_not_balanced():
    assert not is_balanced([Leg(ISSUED, Side.debit, 100), Leg(MEMBER, Side.credit, 99)])
    assert not is_balanced([Leg(MEMBER, Side.credit, 100)])
    # No legs move nothing, which balances trivially.
    assert is_balanced([])


def test_legs_with_zero_or_negative_amounts_are_not_balanced_even_if_they_sum_to_zero():
    assert not is_balanced([Leg(ISSUED, Side.debit, 0), Leg(MEMBER, Side.credit, 0)])
    assert not is_balanced([Leg(ISSUED, Side.debit, -5), Leg(MEMBER, Side.credit, -5)])
    assert not is_balanced(
        [Leg(ISSUED, Side.debit, 5), Leg(MEMBER, Side.credit, 10), Leg(REDEEMED, Side.credit, -5)]
    )


def test_a_return_from_pending_and_available_balances_and_moves_each_account():
    pending = uuid.uuid4()
    legs = transfer(pending, ISSUED, 30) + transfer(MEMBER, ISSUED, 20)

    assert is_balanced(legs)
    assert balance_change(legs, pending) == -30
    assert balance_change(legs, MEMBER) == -20
    assert balance_change(legs, ISSUED) == 50


accounts = st.sampled_from([MEMBER, ISSUED, REDEEMED, uuid.UUID(int=7)])
transfers = st.lists(
    st.tuples(accounts, accounts, st.integers(min_value=1, max_value=10**12)), max_size=10
)


@given(transfers)
def test_any_sum_of_transfers_balances_and_the_changes_sum_to_zero(moves):
    legs = [leg for debit, credit, amount in moves for leg in transfer(debit, credit, amount)]

    assert is_balanced(legs)
    all_accounts = {leg.account_id for leg in legs}
    assert sum(balance_change(legs, account) for account in all_accounts) == 0
    for account in all_accounts:
        expected = sum(a for _, c, a in moves if c == account) - sum(
            a for d, _, a in moves if d == account
        )
        assert balance_change(legs, account) == expected


@given(transfers, st.integers(min_value=1, max_value=10**12))
def test_one_extra_leg_unbalances_any_balanced_set(moves, extra):
    legs = [leg for debit, credit, amount in moves for leg in transfer(debit, credit, amount)]

    assert not is_balanced([*legs, Leg(MEMBER, Side.credit, extra)])
    assert not is_balanced([*legs, Leg(MEMBER, Side.debit, extra)])


# --- spending order and take_fifo ----------------------------------------------------------


def test_spending_takes_the_first_expiring_lot_first():
    later = lot(100, expires_in_days=60)
    sooner = lot(100, expires_in_days=10)

    assert take_fifo([later, sooner], 130) == [(sooner.id, 100), (later.id, 30)]


def test_lots_that_never_expire_are_spent_last_even_if_they_are_older():
    forever = lot(50, expires_in_days=None, created_days_ago=400)
    expiring = lot(50, expires_in_days=700)

    assert take_fifo([forever, expiring], 60) == [(expiring.id, 50), (forever.id, 10)]


def test_with_the_same_expiry_older_lots_go_first():
    newer = lot(10, expires_in_days=30, created_days_ago=1)
    older = lot(10, expires_in_days=30, created_days_ago=5)
    forever_newer = lot(10, expires_in_days=None, created_days_ago=1)
    forever_older = lot(10, expires_in_days=None, created_days_ago=5)

    order = spending_order([forever_newer, newer, forever_older, older])

    assert order == [older, newer, forever_older, forever_newer]


def test_take_fifo_never_takes_more_than_the_lots_hold():
    a = lot(20, expires_in_days=5)
    b = lot(30, expires_in_days=None)

    assert take_fifo([a, b], 1000) == [(a.id, 20), (b.id, 30)]


def test_take_fifo_skips_empty_lots_and_takes_nothing_for_nothing():
    empty = lot(0, expires_in_days=1)
    full = lot(40, expires_in_days=2)

    assert take_fifo([empty, full], 25) == [(full.id, 25)]
    assert take_fifo([empty, full], 0) == []
    assert take_fifo([], 10) == []


lots_strategy = st.lists(
    st.builds(
        lot,
        st.integers(min_value=0, max_value=1000),
        expires_in_days=st.none() | st.integers(min_value=-30, max_value=800),
        created_days_ago=st.integers(min_value=0, max_value=800),
    ),
    max_size=12,
)


@given(lots_strategy, st.integers(min_value=0, max_value=15_000))
def test_take_fifo_takes_min_of_points_and_total_first_expiring_first(lots, points):
    taken = take_fifo(lots, points)

    by_id = {view.id: view for view in lots}
    total = sum(view.remaining for view in lots)
    assert sum(take for _, take in taken) == min(points, total)
    # Each lot at most once, never more than it holds, never nothing.
    assert len({lot_id for lot_id, _ in taken}) == len(taken)
    for lot_id, take in taken:
        assert 0 < take <= by_id[lot_id].remaining
    # Every lot but the last one taken from is emptied, and they come in spending order.
    for lot_id, take in taken[:-1]:
        assert take == by_id[lot_id].remaining
    order = [view.id for view in spending_order(lots) if view.remaining > 0]
    assert [lot_id for lot_id, _ in taken] == order[: len(taken)]
    # No lot is touched while a lot that expires sooner still holds points after the take.
    left = {view.id: view.remaining - dict(taken).get(view.id, 0) for view in lots}
    for lot_id, _ in taken:
        touched = by_id[lot_id]
        for other in lots:
            if left[other.id] > 0 and other.id != lot_id:
                assert not expires_before(other, touched), (other, touched)


@given(lots_strategy, st.integers(min_value=1, max_value=15_000))
def test_never_expiring_lots_are_only_touched_when_the_expiring_ones_run_out(lots, points):
    taken = dict(take_fifo(lots, points))

    expiring_total = sum(view.remaining for view in lots if view.expires_at is not None)
    total = sum(view.remaining for view in lots)
    from_forever = sum(taken.get(view.id, 0) for view in lots if view.expires_at is None)
    assert from_forever == max(0, min(points, total) - expiring_total)


# --- debt payback --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("available", "incoming", "payback"),
    [
        (0, 100, 0),  # nothing owed
        (250, 100, 0),  # a positive balance owes nothing
        (-30, 100, 30),  # a return left the member 30 in debt: 30 pay it, 70 are free
        (-300, 100, 100),  # all of it pays back, 200 still owed
        (-100, 100, 100),
    ],
)
def test_incoming_points_first_pay_back_a_negative_balance(available, incoming, payback):
    assert debt_payback(available, incoming) == payback


@given(st.integers(min_value=-(10**9), max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_payback_is_what_closes_the_debt_and_never_more_than_arrives(available, incoming):
    payback = debt_payback(available, incoming)

    assert 0 <= payback <= incoming
    assert payback <= max(0, -available)
    # After crediting, either the debt is gone or everything went into paying it.
    assert available + incoming >= 0 or payback == incoming
    # What is left over to put into lots is exactly the part of the new balance above zero.
    assert incoming - payback == max(available + incoming, 0) - max(available, 0)


# --- proportional points for returns -------------------------------------------------------


@pytest.mark.parametrize(
    ("earned", "total", "returned", "taken_back"),
    [
        (45, 4590, 4590, 45),  # a full return takes back everything
        (45, 4590, 990, 9),  # 990/4590 of 45 = 9.7, rounded down
        (45, 4590, 0, 0),
        (45, 4590, 9999, 45),  # more than the total counts as the total
        (10, 0, 0, 10),  # a zero-total purchase: a return takes back what it earned
        (0, 500, 250, 0),
    ],
)
def test_returns_take_back_points_in_proportion(earned, total, returned, taken_back):
    assert proportional_points(earned, total, returned) == taken_back


def test_three_partial_returns_take_back_exactly_what_one_full_return_would():
    earned, total = 100, 300
    cumulative = [proportional_points(earned, total, returned) for returned in (100, 200, 300)]
    # 33, 66, 100: computed cumulatively, the last return picks up the rounding.
    assert cumulative == [33, 66, 100]
    per_return = [b - a for a, b in zip([0, *cumulative], cumulative, strict=False)]
    assert per_return == [33, 33, 34]
    assert sum(per_return) == earned


@st.composite
def returns_of_a_purchase(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    earned = draw(st.integers(min_value=0, max_value=10**7))
    total = draw(st.integers(min_value=1, max_value=10**9))
    amounts = draw(st.lists(st.integers(min_value=1, max_value=total), max_size=8))
    return earned, total, amounts


@given(returns_of_a_purchase())
def test_partial_returns_never_take_back_more_than_earned_and_are_monotone(case):
    earned, total, amounts = case
    returned = 0
    taken_back = 0
    for amount in amounts:
        returned = min(total, returned + amount)
        now_taken = proportional_points(earned, total, returned)
        assert taken_back <= now_taken <= earned
        assert now_taken <= earned * returned / total  # rounded down, never up
        taken_back = now_taken
    # Returning the rest takes back exactly what was earned.
    assert proportional_points(earned, total, total) == earned


@given(
    st.integers(min_value=0, max_value=10**7),
    st.integers(min_value=1, max_value=10**9),
    st.data(),
)
def test_two_returns_never_take_back_more_than_one_return_of_both_amounts(earned, total, data):
    first = data.draw(st.integers(min_value=0, max_value=total))
    second = data.draw(st.integers(min_value=0, max_value=total - first))

    separately = proportional_points(earned, total, first) + proportional_points(
        earned, total, second
    )
    assert separately <= proportional_points(earned, total, first + second)
