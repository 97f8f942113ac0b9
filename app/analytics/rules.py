"""The figures' rules, pure: the period's instants, the rate formulas, the ABC cut.

Integers in, exact results out: rates are computed as fractions and rounded once, half away
from zero, to two decimal places (percent); money is rounded the same way to whole minor
units. No floats anywhere.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from uuid import UUID

from app.analytics.models import AbcClass, Interval
from app.program.calendar import add_months, start_of_local_day

RATE_PLACES = 2
CUSTOMER_WINDOW_MONTHS = 12
# The days a period may start and end at: what the API takes.
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(9999, 12, 31)


@dataclass(frozen=True, slots=True)
class Period:
    """Local days ``start`` (inclusive) to ``end`` (exclusive) in the programme's time zone."""

    start: date
    end: date
    timezone: str
    starts_at: datetime  # UTC instant the first local day begins
    ends_at: datetime  # UTC instant the day ``end`` begins (exclusive)
    # "Customers at the start": members with a purchase in the 12 months before the period
    # starts, [start_customers_since, starts_at); "at the end": 12 months before it ends.
    start_customers_since: datetime
    end_customers_since: datetime


def period(start: date, end: date, timezone: str) -> Period:
    if start >= end:
        raise ValueError("the period must start before it ends")
    return Period(
        start=start,
        end=end,
        timezone=timezone,
        starts_at=start_of_local_day(start, timezone),
        ends_at=start_of_local_day(end, timezone),
        start_customers_since=start_of_local_day(
            add_months(start, -CUSTOMER_WINDOW_MONTHS), timezone
        ),
        end_customers_since=start_of_local_day(add_months(end, -CUSTOMER_WINDOW_MONTHS), timezone),
    )


def trailing_year(today: date, timezone: str) -> Period:
    """The 12 local months before ``today``: the ABC classification job's window."""
    return period(add_months(today, -CUSTOMER_WINDOW_MONTHS), today, timezone)


# --- Series: a period cut into buckets ------------------------------------------------------

# The most buckets a series has: its query compares each row with every bucket's edge.
MAX_BUCKETS = 366
# Without a chosen interval, a series takes the finest one that gives at most this many.
AUTO_BUCKETS = 36
# Monthly retention: each month is three counts in one pass over the purchases.
MAX_MONTHS = 36


def _next_edge(day: date, interval: Interval) -> date | None:
    """The first day of the bucket after the one ``day`` is in; None past the calendar."""
    try:
        if interval is Interval.day:
            return day + timedelta(days=1)
        if interval is Interval.week:
            return day + timedelta(days=7 - day.weekday())  # the next Monday
        if interval is Interval.month:
            return date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return date(day.year + 1, 1, 1)
    except (OverflowError, ValueError):
        return None


def buckets(
    start: date, end: date, interval: Interval, limit: int = MAX_BUCKETS
) -> list[tuple[date, date]] | None:
    """The local days ``(from, to)`` (``to`` exclusive) of each bucket of the period
    ``start`` to ``end``: whole calendar days, weeks, months or years, the first and the
    last cut at the period's ends. None when there would be more than ``limit``."""
    spans: list[tuple[date, date]] = []
    day = start
    while day < end:
        if len(spans) == limit:
            return None
        edge = _next_edge(day, interval)
        following = end if edge is None or edge > end else edge
        spans.append((day, following))
        day = following
    return spans


def interval_for(start: date, end: date) -> Interval:
    """The finest interval that cuts the period into at most ``AUTO_BUCKETS`` buckets
    (years when none does)."""
    for interval in (Interval.day, Interval.week, Interval.month):
        if buckets(start, end, interval, AUTO_BUCKETS) is not None:
            return interval
    return Interval.year


def round_half_away(value: Fraction) -> int:
    """The nearest integer; halves away from zero."""
    magnitude = (abs(value.numerator) * 2 + value.denominator) // (2 * value.denominator)
    return magnitude if value >= 0 else -magnitude


def percent(numerator: int, denominator: int) -> Decimal | None:
    """``numerator / denominator x 100`` with two decimal places; None when there is no
    denominator (nothing to relate to)."""
    if denominator <= 0:
        return None
    hundredths = round_half_away(Fraction(numerator * 100 * 10**RATE_PLACES, denominator))
    return Decimal(hundredths).scaleb(-RATE_PLACES)


def retention_rate(at_start: int, at_end: int, new: int) -> Decimal | None:
    """CRR = ((E - N) / S) x 100: E customers at the end, N new customers, S at the start."""
    return percent(at_end - new, at_start)


def repeat_purchase_rate(repeat_customers: int, active_customers: int) -> Decimal | None:
    """Members with at least two purchases in the period per member with at least one, %."""
    return percent(repeat_customers, active_customers)


def average_order_value(revenue: int, purchases: int) -> int | None:
    """Revenue per purchase in whole minor units, rounded half away from zero."""
    if purchases <= 0:
        return None
    return round_half_away(Fraction(revenue, purchases))


def breakage_rate(expired: int, issued: int) -> Decimal | None:
    """Points expired per point issued in the same period, %; None when none were issued."""
    return percent(expired, issued)


def liability(points_outstanding: int, point_value_minor: int) -> int:
    return points_outstanding * point_value_minor


def abc_class(revenue_before: int, total: int, a_share: int, b_share: int) -> AbcClass:
    """The class of a member whose better-ranked members have ``revenue_before`` of ``total``.

    A is the smallest set of top members reaching ``a_share`` % of the revenue: a member is
    in it while the members ranked before it have less than that share together (so the
    member that crosses the line is still A). B likewise up to ``a_share + b_share`` %.
    """
    if revenue_before * 100 < a_share * total:
        return AbcClass.A
    if revenue_before * 100 < (a_share + b_share) * total:
        return AbcClass.B
    return AbcClass.C


def ranking_key(member: tuple[UUID, int]) -> tuple[int, UUID]:
    """Revenue descending, then member id ascending: deterministic on ties."""
    member_id, revenue = member
    return (-revenue, member_id)


def classify(
    revenues: Iterable[tuple[UUID, int]], a_share: int, b_share: int
) -> list[tuple[UUID, AbcClass]]:
    """Members (id, revenue > 0) in ranking order, each with its class."""
    ranked = sorted(revenues, key=ranking_key)
    total = sum(revenue for _, revenue in ranked)
    classes = []
    before = 0
    for member_id, revenue in ranked:
        classes.append((member_id, abc_class(before, total, a_share, b_share)))
        before += revenue
    return classes
