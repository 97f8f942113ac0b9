"""When points become available and when they expire: at the end of a local day."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.program.calendar import add_months, available_at, end_of_local_day, expires_at, local_date
from app.program.schemas import ProgramSettings

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def program(**settings: object) -> ProgramSettings:
    return ProgramSettings.model_validate(settings)


# --- available_at --------------------------------------------------------------------------


def test_points_become_available_at_local_midnight_after_the_pending_days():
    bought = berlin(2026, 5, 12, 15, 30)

    assert available_at(bought, program(pending_days=14)) == berlin(2026, 5, 27, 0, 0)


def test_pending_over_the_spring_change_ends_at_summer_time_midnight():
    # Clocks go forward on 29 March 2026: Saturday's purchase is pending all of Sunday.
    bought = berlin(2026, 3, 28, 11, 0)

    released = available_at(bought, program(pending_days=1))

    assert released == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert released is not None
    assert released.astimezone(BERLIN).isoformat() == "2026-03-30T00:00:00+02:00"
    # The UTC instant in the database, not a naive time.
    assert released.utcoffset() == timedelta(0)


def test_pending_over_the_autumn_change_ends_at_winter_time_midnight():
    # Clocks go back on 25 October 2026: that Sunday has 25 hours.
    bought = berlin(2026, 10, 24, 9, 0)

    released = available_at(bought, program(pending_days=1))

    assert released == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    assert released is not None
    assert released.astimezone(BERLIN).isoformat() == "2026-10-26T00:00:00+01:00"


def test_the_day_counts_in_the_programme_time_zone_not_in_utc():
    # 23:30 UTC on 28 March is already 00:30 on 29 March in Berlin.
    bought = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)

    assert available_at(bought, program(pending_days=1)) == berlin(2026, 3, 31, 0, 0)
    assert available_at(bought, program(pending_days=1, timezone="UTC")) == datetime(
        2026, 3, 30, 0, 0, tzinfo=UTC
    )
    new_york = ZoneInfo("America/New_York")
    assert available_at(bought, program(pending_days=1, timezone="America/New_York")) == (
        datetime(2026, 3, 30, 0, 0, tzinfo=new_york)
    )


def test_no_pending_days_means_available_at_once():
    assert available_at(berlin(2026, 3, 28, 11, 0), program(pending_days=0)) is None


# --- expires_at ----------------------------------------------------------------------------


def test_points_expire_at_the_end_of_the_same_local_day_months_later():
    earned = berlin(2026, 3, 1, 8, 0)

    # Spendable all of 1 March 2028; gone at the midnight that starts 2 March.
    assert expires_at(earned, program(points_expiry_months=24)) == berlin(2028, 3, 2, 0, 0)


def test_a_month_after_31_january_is_the_end_of_february():
    earned = berlin(2026, 1, 31, 18, 0)

    expiry = expires_at(earned, program(points_expiry_months=1))

    assert expiry == berlin(2026, 3, 1, 0, 0)  # the end of 28 February
    assert expiry == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)


def test_in_a_leap_year_a_month_after_31_january_is_the_end_of_29_february():
    earned = berlin(2028, 1, 31, 18, 0)

    assert expires_at(earned, program(points_expiry_months=1)) == berlin(2028, 3, 1, 0, 0)


def test_expiry_across_a_daylight_saving_change_is_local_midnight():
    earned = berlin(2026, 2, 15, 12, 0)  # winter time

    expiry = expires_at(earned, program(points_expiry_months=2))  # summer time

    assert expiry is not None
    assert expiry.astimezone(BERLIN).isoformat() == "2026-04-16T00:00:00+02:00"
    assert expiry == datetime(2026, 4, 15, 22, 0, tzinfo=UTC)


def test_expiry_counts_from_the_local_date_of_the_purchase():
    # 23:30 UTC on 31 January is 1 February in Berlin: a month later is 1 March.
    earned = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)

    assert expires_at(earned, program(points_expiry_months=1)) == berlin(2026, 3, 2, 0, 0)


def test_no_expiry_months_means_points_never_expire():
    assert expires_at(berlin(2026, 1, 31, 18, 0), program(points_expiry_months=0)) is None


# --- add_months ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 5, 31), 24, date(2028, 5, 31)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 7, 4), 0, date(2026, 7, 4)),
    ],
)
def test_adding_months_clamps_to_the_end_of_a_shorter_month(day, months, expected):
    assert add_months(day, months) == expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31)), st.integers(0, 120))
def test_adding_months_lands_in_the_right_month_on_the_same_day_or_its_last(day, months):
    result = add_months(day, months)

    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    if result.day != day.day:
        assert result.day < day.day
        assert (result + timedelta(days=1)).day == 1  # clamped to the month's last day


# --- properties over any moment ------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)
zones = st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"])


@given(moments, st.integers(min_value=1, max_value=365), zones)
def test_available_at_is_always_a_local_midnight_pending_days_and_one_later(
    moment, pending_days, zone
):
    released = available_at(moment, program(pending_days=pending_days, timezone=zone))

    assert released is not None
    assert released.tzinfo is not None
    assert released.utcoffset() == timedelta(0)
    local = released.astimezone(ZoneInfo(zone))
    assert local.time() == time(0)
    assert local.date() == local_date(moment, zone) + timedelta(days=pending_days + 1)
    assert released > moment + timedelta(days=pending_days - 1)


@given(moments, st.integers(min_value=1, max_value=120), zones)
def test_expires_at_is_the_end_of_the_local_day_months_later(moment, months, zone):
    expiry = expires_at(moment, program(points_expiry_months=months, timezone=zone))

    assert expiry is not None
    local = expiry.astimezone(ZoneInfo(zone))
    assert local.time() == time(0)
    assert local.date() == add_months(local_date(moment, zone), months) + timedelta(days=1)
    assert expiry > moment


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)), zones)
def test_end_of_local_day_is_after_every_moment_of_that_day(day, zone):
    end = end_of_local_day(day, zone)
    tz = ZoneInfo(zone)

    assert end.tzinfo is UTC
    assert local_date(end, zone) == day + timedelta(days=1)
    assert local_date(end - timedelta(microseconds=1), zone) == day
    assert end > datetime.combine(day, time(23, 59), tz).astimezone(UTC)
