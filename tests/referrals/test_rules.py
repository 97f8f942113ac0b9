"""The referral rules without a database: what qualifies, the cap, the local month."""

from datetime import datetime

import pytest

from app.referrals import rules


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.mark.parametrize(
    ("total", "minimum", "expected"),
    [(1999, 2000, False), (2000, 2000, True), (2001, 2000, True), (0, 0, True)],
)
def test_a_purchase_qualifies_from_the_minimum_total_on(total, minimum, expected):
    assert rules.qualifies(total, minimum) is expected


@pytest.mark.parametrize(
    ("rewarded", "limit", "expected"),
    [(0, 0, False), (100, 0, False), (0, 1, False), (1, 1, True), (2, 3, False), (3, 3, True)],
)
def test_the_cap_is_reached_at_the_limit_and_zero_means_none(rewarded, limit, expected):
    assert rules.cap_reached(rewarded, limit) is expected


def test_the_month_is_the_local_calendar_month_in_utc():
    # 00:30 on 1 June in Berlin is still 31 May in UTC.
    assert rules.local_month(at("2030-05-31T22:30:00+00:00"), "Europe/Berlin") == (
        at("2030-05-31T22:00:00+00:00"),
        at("2030-06-30T22:00:00+00:00"),
    )
    # Across the change to winter time, and across the year's end.
    assert rules.local_month(at("2030-10-15T12:00:00+00:00"), "Europe/Berlin") == (
        at("2030-09-30T22:00:00+00:00"),
        at("2030-10-31T23:00:00+00:00"),
    )
    assert rules.local_month(at("2030-12-31T23:30:00+00:00"), "Europe/Berlin") == (
        at("2030-12-31T23:00:00+00:00"),
        at("2031-01-31T23:00:00+00:00"),
    )
