"""The figures' formulas and the ABC cut, as pure functions: worked examples, no database."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.analytics import rules
from app.analytics.models import AbcClass

A, B, C = AbcClass.A, AbcClass.B, AbcClass.C


def test_rates_are_percent_with_two_places_rounded_half_away_from_zero():
    assert rules.percent(2, 3) == Decimal("66.67")  # 66.666...
    assert rules.percent(1, 3) == Decimal("33.33")  # 33.333...
    assert rules.percent(1, 8) == Decimal("12.50")  # exactly 12.5, two places kept
    assert rules.percent(1, 16) == Decimal("6.25")
    assert rules.percent(1, 800) == Decimal("0.13")  # 0.125: the half goes up
    assert rules.percent(-1, 800) == Decimal("-0.13")  # and away from zero below it
    assert rules.percent(3, 2) == Decimal("150.00")
    assert rules.percent(0, 5) == Decimal("0.00")
    assert str(rules.percent(2, 3)) == "66.67"


def test_a_rate_without_a_denominator_is_none():
    assert rules.percent(0, 0) is None
    assert rules.percent(5, 0) is None
    assert rules.percent(5, -1) is None


def test_crr_is_e_minus_n_over_s_times_100():
    # E = 5 customers at the end, N = 2 of them new, S = 3 at the start: (5 - 2) / 3 = 100 %.
    assert rules.retention_rate(at_start=3, at_end=5, new=2) == Decimal("100.00")
    # E = 4, N = 2, S = 3: 2 / 3 = 66.67 %.
    assert rules.retention_rate(at_start=3, at_end=4, new=2) == Decimal("66.67")
    # Customers who come back after a lapse are in E and not new: over 100 % is possible.
    assert rules.retention_rate(at_start=2, at_end=4, new=1) == Decimal("150.00")
    assert rules.retention_rate(at_start=0, at_end=4, new=4) is None


def test_repeat_purchase_rate_is_repeat_customers_over_active_ones():
    assert rules.repeat_purchase_rate(2, 3) == Decimal("66.67")
    assert rules.repeat_purchase_rate(0, 0) is None


def test_average_order_value_is_rounded_half_away_from_zero_to_minor_units():
    assert rules.average_order_value(10_000, 6) == 1667  # 1666.67
    assert rules.average_order_value(10_001, 2) == 5001  # 5000.5 goes up
    assert rules.average_order_value(9_999, 2) == 5000  # 4999.5 goes up
    assert rules.average_order_value(10_000, 3) == 3333  # 3333.33
    assert rules.average_order_value(0, 0) is None


def test_breakage_is_expired_over_issued():
    assert rules.breakage_rate(9, 249) == Decimal("3.61")  # 3.614...
    assert rules.breakage_rate(9, 0) is None


def test_liability_is_points_times_their_value():
    assert rules.liability(200, 2) == 400
    assert rules.liability(0, 2) == 0


@given(st.fractions(min_value=-(10**9), max_value=10**9))
def test_round_half_away_is_the_nearest_integer(value: Fraction):
    rounded = rules.round_half_away(value)

    assert abs(value - rounded) <= Fraction(1, 2)
    if abs(value - rounded) == Fraction(1, 2):
        assert abs(rounded) > abs(value)


def test_a_period_runs_from_local_midnight_to_local_midnight():
    # Berlin is UTC+1 in winter and UTC+2 in summer.
    period = rules.period(date(2026, 1, 1), date(2026, 7, 1), "Europe/Berlin")

    assert period.starts_at == datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert period.ends_at == datetime(2026, 6, 30, 22, tzinfo=UTC)
    # Customers at the start bought in the 12 months before the start, at the end in the
    # 12 months before the end.
    assert period.start_customers_since == datetime(2024, 12, 31, 23, tzinfo=UTC)
    assert period.end_customers_since == datetime(2025, 6, 30, 22, tzinfo=UTC)


def test_a_period_must_start_before_it_ends():
    with pytest.raises(ValueError, match="start before"):
        rules.period(date(2026, 1, 1), date(2026, 1, 1), "Europe/Berlin")


def test_the_trailing_year_ends_at_the_start_of_today():
    window = rules.trailing_year(date(2026, 3, 1), "Europe/Berlin")

    assert (window.start, window.end) == (date(2025, 3, 1), date(2026, 3, 1))


def test_a_is_the_smallest_set_of_top_members_reaching_the_a_share():
    # Revenues 50, 30, 10, 5, 3, 2 (total 100). Before each: 0, 50, 80, 90, 95, 98.
    assert [rules.abc_class(before, 100, 80, 15) for before in (0, 50, 80, 90, 95, 98)] == [
        A,  # 0 % before
        A,  # 50 % before: with it 80 %, the line is reached
        B,  # 80 % before: A already reached 80 %
        B,  # 90 %
        C,  # 95 %: A and B reached 95 %
        C,
    ]


def test_thresholds_are_configurable():
    assert rules.abc_class(70, 100, 70, 20) == B
    assert rules.abc_class(69, 100, 70, 20) == A
    assert rules.abc_class(89, 100, 70, 20) == B
    assert rules.abc_class(90, 100, 70, 20) == C
    # No B at all when its share is 0; everything is A at 100 %.
    assert rules.abc_class(80, 100, 80, 0) == C
    assert rules.abc_class(99, 100, 100, 0) == A


def ids(n: int) -> list[uuid.UUID]:
    return sorted(uuid.UUID(int=i + 1) for i in range(n))


def test_classify_ranks_by_revenue_then_member_id():
    first, second, third, fourth = ids(4)
    revenues = [(fourth, 10), (second, 60), (third, 10), (first, 20)]

    # Ranked: 60, 20, 10, 10 (total 100); the revenue before each: 0, 60, 80, 90.
    assert rules.classify(revenues, 80, 15) == [
        (second, A),  # 0 % before
        (first, A),  # 60 % before: with it 80 %, A reaches its share
        (third, B),  # a tie at 10: the smaller id first; 80 % before
        (fourth, B),  # 90 % before: under 95 %
    ]


def test_a_single_member_is_a():
    (only,) = ids(1)

    assert rules.classify([(only, 1)], 80, 15) == [(only, A)]


@given(
    st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=100),
    st.integers(min_value=0, max_value=99),
)
def test_classes_follow_the_ranking_and_a_is_minimal(revenues, a_share, b_share):
    b_share = min(b_share, 100 - a_share)
    members = list(zip(ids(len(revenues)), revenues, strict=True))

    classes = rules.classify(members, a_share, b_share)

    total = sum(revenues)
    by_id = dict(members)
    labels = [abc for _, abc in classes]
    assert labels == sorted(labels)  # A before B before C in ranking order
    a_revenue = sum(by_id[m] for m, abc in classes if abc is A)
    # A reaches its share, and without its last member it would not.
    assert a_revenue * 100 >= a_share * total
    last_a = max(i for i, abc in enumerate(labels) if abc is A)
    assert (a_revenue - by_id[classes[last_a][0]]) * 100 < a_share * total
    ab_revenue = a_revenue + sum(by_id[m] for m, abc in classes if abc is B)
    assert ab_revenue * 100 >= (a_share + b_share) * total or C not in labels
