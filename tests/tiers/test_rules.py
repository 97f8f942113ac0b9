"""The tier rules as a rulebook: qualifying windows, review dates and the tier points reach.

All local dates are Europe/Berlin (CET +01:00 in winter, CEST +02:00 in summer); the
instants are UTC, so the local midnights show up as 23:00Z or 22:00Z.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.program.schemas import ProgramSettings, QualifyingWindow
from app.tiers import rules

CALENDAR = ProgramSettings(tier_qualifying_window=QualifyingWindow.calendar_year)
ROLLING = ProgramSettings(tier_qualifying_window=QualifyingWindow.rolling_12_months)
# Windows end before ``until``; the current one includes a purchase recorded at ``now``.
MICROSECOND = timedelta(microseconds=1)


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


@dataclass(frozen=True)
class T:
    name: str
    rank: int
    threshold: int


BRONZE, SILVER, GOLD = T("Bronze", 0, 0), T("Silver", 1, 100), T("Gold", 2, 300)
LADDER = [GOLD, BRONZE, SILVER]  # any order


# --- the qualifying window ---------------------------------------------------------------


def test_calendar_year_window_starts_at_local_new_year():
    now = utc("2027-07-15T12:00:00Z")
    window = rules.qualifying_window(now, CALENDAR)
    assert window == rules.Window(utc("2027-01-01T00:00:00+01:00"), now + MICROSECOND)
    assert window.since == utc("2026-12-31T23:00:00Z")


def test_calendar_year_window_on_new_years_night_is_already_the_new_year():
    # 00:30 on 1 January in Berlin is still 31 December in UTC.
    now = utc("2026-12-31T23:30:00Z")
    assert rules.qualifying_window(now, CALENDAR).since == utc("2026-12-31T23:00:00Z")
    # Half an hour earlier it is the old year's window.
    earlier = utc("2026-12-31T22:30:00Z")
    assert rules.qualifying_window(earlier, CALENDAR).since == utc("2025-12-31T23:00:00Z")


def test_rolling_window_is_the_last_twelve_months_of_whole_local_days():
    now = utc("2027-07-15T12:00:00Z")
    window = rules.qualifying_window(now, ROLLING)
    # From the end of 15 July a year ago (a summer midnight, +02:00) up to now.
    assert window == rules.Window(utc("2026-07-16T00:00:00+02:00"), now + MICROSECOND)


def test_rolling_window_across_a_daylight_saving_change_starts_at_local_midnight():
    # 28 March 2027 is summer time already (switch that night); 28 March 2026 was not.
    now = utc("2027-03-28T12:00:00Z")
    window = rules.qualifying_window(now, ROLLING)
    assert window.since == utc("2026-03-29T00:00:00+01:00")
    assert window.since == utc("2026-03-28T23:00:00Z")


def test_rolling_window_from_a_leap_day_counts_from_28_february():
    window = rules.qualifying_window(utc("2028-02-29T12:00:00Z"), ROLLING)
    assert window.since == utc("2027-03-01T00:00:00+01:00")


# --- review dates ------------------------------------------------------------------------


def test_a_tier_reached_in_a_calendar_year_is_secured_to_the_end_of_the_next():
    reached = utc("2026-05-10T09:00:00Z")
    assert rules.secured_until(reached, CALENDAR) == utc("2028-01-01T00:00:00+01:00")


def test_a_tier_reached_on_new_years_night_counts_for_the_new_local_year():
    reached = utc("2026-12-31T23:30:00Z")  # 00:30 on 1 January 2027 in Berlin
    assert rules.secured_until(reached, CALENDAR) == utc("2029-01-01T00:00:00+01:00")


def test_a_tier_reached_in_a_rolling_window_is_secured_twelve_months_to_the_days_end():
    # Reached on the day summer time ended in 2026; its anniversary is still summer time.
    reached = utc("2026-10-25T12:00:00Z")
    assert rules.secured_until(reached, ROLLING) == utc("2027-10-26T00:00:00+02:00")


def test_the_period_closing_at_a_calendar_year_review_is_that_calendar_year():
    review_at = utc("2028-01-01T00:00:00+01:00")
    assert rules.window_ending(review_at, CALENDAR) == rules.Window(
        utc("2027-01-01T00:00:00+01:00"), review_at
    )


def test_the_period_closing_at_a_rolling_review_is_the_twelve_months_before_it():
    review_at = utc("2027-10-26T00:00:00+02:00")
    assert rules.window_ending(review_at, ROLLING) == rules.Window(
        utc("2026-10-26T00:00:00+01:00"), review_at
    )


def test_the_next_calendar_year_review_is_one_year_on_not_two():
    review_at = utc("2028-01-01T00:00:00+01:00")
    assert rules.next_review(review_at, CALENDAR) == utc("2029-01-01T00:00:00+01:00")
    # secured_until would read the review's midnight as a tier reached in 2028.
    assert rules.secured_until(review_at, CALENDAR) == utc("2030-01-01T00:00:00+01:00")


def test_the_next_rolling_review_keeps_the_local_midnight_across_offsets():
    review_at = utc("2027-03-28T00:00:00+01:00")  # winter time that midnight
    assert rules.next_review(review_at, ROLLING) == utc("2028-03-28T00:00:00+02:00")


def test_a_rolling_review_on_a_leap_day_moves_to_28_february():
    review_at = utc("2028-02-29T00:00:00+01:00")
    assert rules.next_review(review_at, ROLLING) == utc("2029-02-28T00:00:00+01:00")


@pytest.mark.parametrize("program", [CALENDAR, ROLLING], ids=["calendar", "rolling"])
@pytest.mark.parametrize(
    "reached_at",
    ["2026-03-29T01:30:00Z", "2026-10-25T00:30:00Z", "2027-02-28T23:30:00Z", "2027-12-31T23:30Z"],
)
def test_review_periods_follow_each_other_without_gap_or_overlap(program, reached_at):
    review_at = rules.secured_until(utc(reached_at), program)
    for _ in range(4):
        period = rules.window_ending(review_at, program)
        following = rules.next_review(review_at, program)
        assert period.until == review_at
        assert rules.window_ending(following, program).since == review_at
        # Every period is a year long, give or take a leap day and an hour of DST.
        assert timedelta(days=365) - timedelta(hours=1) <= following - review_at
        assert following - review_at <= timedelta(days=366, hours=1)
        review_at = following


# --- which tier points reach -------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "tier"),
    [
        (-5, None),
        (0, BRONZE),
        (99, BRONZE),
        (100, SILVER),
        (299, SILVER),
        (300, GOLD),
        (10**6, GOLD),
    ],
)
def test_points_reach_the_highest_tier_whose_threshold_they_meet(points, tier):
    assert rules.reached(LADDER, points) == tier


def test_without_a_zero_threshold_few_points_reach_no_tier():
    assert rules.reached([SILVER, GOLD], 99) is None


def test_next_above_and_one_below_follow_the_rank():
    assert rules.next_above(LADDER, None) == BRONZE
    assert rules.next_above(LADDER, BRONZE) == SILVER
    assert rules.next_above(LADDER, GOLD) is None
    assert rules.one_below(LADDER, GOLD) == SILVER
    assert rules.one_below(LADDER, BRONZE) is None
    # Ranks need not be consecutive.
    sparse = [T("A", 10, 0), T("B", 50, 10)]
    assert rules.one_below(sparse, sparse[1]) == sparse[0]
