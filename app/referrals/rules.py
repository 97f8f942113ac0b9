"""Referral rules as plain functions: what qualifies, and the referrer's monthly cap."""

from datetime import date, datetime

from app.program import calendar


def qualifies(total: int, minimum_total: int) -> bool:
    """Whether a purchase of ``total`` (minor units) is a qualifying purchase."""
    return total >= minimum_total


def cap_reached(rewarded_this_month: int, limit: int) -> bool:
    """Whether a referrer who got ``rewarded_this_month`` bonuses may get no more; 0 = no cap."""
    return limit > 0 and rewarded_this_month >= limit


def local_month(moment: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The local calendar month around ``moment``: its first instant and the next month's."""
    day = calendar.local_date(moment, timezone)
    first = date(day.year, day.month, 1)
    return (
        calendar.start_of_local_day(first, timezone),
        calendar.start_of_local_day(calendar.add_months(first, 1), timezone),
    )
