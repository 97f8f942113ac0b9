"""Tier rules, pure: qualifying windows, the tier a number of points reaches, review dates."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar

from app.program import calendar
from app.program.schemas import ProgramSettings, QualifyingWindow


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open period: ``since`` <= t < ``until``."""

    since: datetime
    until: datetime


# The smallest step of a stored timestamp, on SQLite and PostgreSQL alike.
_INSTANT = timedelta(microseconds=1)


class Ranked(Protocol):
    @property
    def rank(self) -> int: ...

    @property
    def threshold(self) -> int: ...


TierT = TypeVar("TierT", bound=Ranked)


def qualifying_window(now: datetime, program: ProgramSettings) -> Window:
    """The period whose purchase points count now: this local calendar year, or the last
    12 months, up to and including ``now`` (a purchase recorded at ``now`` counts: windows
    end before ``until``, and timestamps are kept to the microsecond)."""
    today = calendar.local_date(now, program.timezone)
    until = now + _INSTANT
    if program.tier_qualifying_window is QualifyingWindow.calendar_year:
        start = date(today.year, 1, 1)
        return Window(calendar.start_of_local_day(start, program.timezone), until)
    return Window(
        calendar.end_of_local_day(calendar.add_months(today, -12), program.timezone), until
    )


def window_ending(review_at: datetime, program: ProgramSettings) -> Window:
    """The qualifying period that closes at a review date."""
    last_day = calendar.local_date(review_at, program.timezone)
    first_day = calendar.add_months(last_day, -12)
    return Window(calendar.start_of_local_day(first_day, program.timezone), review_at)


def secured_until(reached_at: datetime, program: ProgramSettings) -> datetime:
    """Until when a tier reached at ``reached_at`` holds before its first review: the end of
    the next calendar year, or 12 months on (at the end of that local day)."""
    today = calendar.local_date(reached_at, program.timezone)
    if program.tier_qualifying_window is QualifyingWindow.calendar_year:
        return calendar.end_of_local_day(date(today.year + 1, 12, 31), program.timezone)
    return calendar.end_of_local_day(calendar.add_months(today, 12), program.timezone)


def next_review(review_at: datetime, program: ProgramSettings) -> datetime:
    """The review after the one at ``review_at``, for a tier kept or lowered there: the end
    of the following period (the next local year's end, or 12 months on).

    ``secured_until`` does not serve here: a calendar-year review falls on the local
    midnight that begins 1 January, which it would read as a tier reached in the new year
    and secure for one year too many. A rolling review on 29 February moves to 28 February
    (the period before that review then starts a day early, once).
    """
    day = calendar.local_date(review_at, program.timezone)
    if program.tier_qualifying_window is QualifyingWindow.calendar_year:
        return calendar.start_of_local_day(date(day.year + 1, 1, 1), program.timezone)
    return calendar.start_of_local_day(calendar.add_months(day, 12), program.timezone)


def reached(tiers: Sequence[TierT], points: int) -> TierT | None:
    """The highest tier whose threshold ``points`` reach (tiers in any order)."""
    eligible = [tier for tier in tiers if tier.threshold <= points]
    return max(eligible, key=lambda tier: tier.rank, default=None)


def next_above(tiers: Sequence[TierT], current: TierT | None) -> TierT | None:
    above = [tier for tier in tiers if current is None or tier.rank > current.rank]
    return min(above, key=lambda tier: tier.rank, default=None)


def one_below(tiers: Sequence[TierT], current: TierT) -> TierT | None:
    below = [tier for tier in tiers if tier.rank < current.rank]
    return max(below, key=lambda tier: tier.rank, default=None)
