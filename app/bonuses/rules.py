"""Pure bonus rules: when a profile is complete and when a birthday bonus is due."""

import calendar
from datetime import date

from app.program.schemas import BirthdayBonusTiming


def profile_complete(email: str | None, name: str | None, birthdate: date | None) -> bool:
    """The profile-completion bonus asks for an e-mail address, a name and a birthdate."""
    return bool(email) and bool(name) and birthdate is not None


def birthday_in(year: int, birthdate: date) -> date:
    """The member's birthday in ``year``: 28 February for 29 February in a common year."""
    if (birthdate.month, birthdate.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return birthdate.replace(year=year)


def birthday_bonus_due(birthdate: date | None, today: date, timing: BirthdayBonusTiming) -> bool:
    """Whether ``today`` (a local date) is in the window the birthday bonus is given in."""
    if birthdate is None:
        return False
    if timing is BirthdayBonusTiming.month:
        return birthdate.month == today.month
    return birthday_in(today.year, birthdate) == today


def birthdays_celebrated(today: date, timing: BirthdayBonusTiming) -> tuple[int, list[int] | None]:
    """The birthdates due on ``today`` as (month, days of that month; None for every day).

    The candidates' query of the birthday job; :func:`birthday_bonus_due` decides per member.
    """
    if timing is BirthdayBonusTiming.month:
        return today.month, None
    days = [today.day]
    if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
        days.append(29)
    return today.month, days
