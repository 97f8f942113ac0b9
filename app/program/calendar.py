"""Dates in the programme's time zone: when points become available and when they expire.

Both happen at the end of a local day (the following local midnight), so a lot earned on
1 March with 24 months' validity is spendable all of 1 March two years on, whatever the
daylight-saving offsets in between.
"""

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.program.schemas import ProgramSettings


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def start_of_local_day(day: date, timezone: str) -> datetime:
    """The instant the local day begins, in UTC."""
    return datetime.combine(day, time(0), ZoneInfo(timezone)).astimezone(UTC)


def end_of_local_day(day: date, timezone: str) -> datetime:
    """The instant the local day ends: the next local midnight, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(timezone)).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def available_at(occurred_at: datetime, program: ProgramSettings) -> datetime | None:
    """When a purchase's points stop being pending; None when they are available at once."""
    if program.pending_days == 0:
        return None
    day = local_date(occurred_at, program.timezone) + timedelta(days=program.pending_days)
    return end_of_local_day(day, program.timezone)


def expires_at(earned_at: datetime, program: ProgramSettings) -> datetime | None:
    """When points earned at ``earned_at`` expire; None when the programme never expires them."""
    if program.points_expiry_months == 0:
        return None
    day = add_months(local_date(earned_at, program.timezone), program.points_expiry_months)
    return end_of_local_day(day, program.timezone)
