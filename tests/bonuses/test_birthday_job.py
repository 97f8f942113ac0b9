"""The birthday bonus: once per member and year, in the birthday month or on the day."""

import asyncio
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app import jobs as app_jobs
from app.bonuses import jobs, rules
from app.bonuses.models import BonusGrant
from app.events.models import Event
from app.ledger import verify
from app.program.schemas import BirthdayBonusTiming
from tests.factories import balance, enrol, set_program, stammkunde, transactions

MONTH, DAY = BirthdayBonusTiming.month, BirthdayBonusTiming.day


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def run(app, now: str) -> int:
    return await jobs.grant_birthday_bonuses(app.state.runtime.sessionmaker, now=at(now))


async def born(client, pos, birthdate: str, name: str = "Anna") -> dict:
    return await enrol(client, pos, name=name, birthdate=birthdate)


async def birthday_points(client, pos, member) -> list[int]:
    items = (await transactions(client, pos, member))["items"]
    return [t["points"] for t in items if t["type"] == "birthday_bonus"]


async def birthday_grants(app, member) -> list[tuple[str, int]]:
    async with app.state.runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(BonusGrant)
            .where(BonusGrant.member_id == uuid.UUID(member["id"]), BonusGrant.kind == "birthday")
            .order_by(BonusGrant.period)
        )
        return [(g.period, g.points) for g in rows]


# The rules, without a database


@pytest.mark.parametrize(
    ("birthdate", "year", "birthday"),
    [
        (date(1990, 5, 17), 2027, date(2027, 5, 17)),
        (date(2000, 2, 29), 2027, date(2027, 2, 28)),
        (date(2000, 2, 29), 2028, date(2028, 2, 29)),
        (date(2000, 2, 28), 2027, date(2027, 2, 28)),
    ],
)
def test_the_birthday_in_a_year_is_28_february_for_29_february_in_common_years(
    birthdate, year, birthday
):
    assert rules.birthday_in(year, birthdate) == birthday


@pytest.mark.parametrize(
    ("timing", "today", "due"),
    [
        (MONTH, date(2027, 4, 30), False),
        (MONTH, date(2027, 5, 1), True),
        (MONTH, date(2027, 5, 31), True),
        (MONTH, date(2027, 6, 1), False),
        (DAY, date(2027, 5, 16), False),
        (DAY, date(2027, 5, 17), True),
        (DAY, date(2027, 5, 18), False),
    ],
)
def test_the_birthday_bonus_is_due_in_the_month_or_on_the_day(timing, today, due):
    assert rules.birthday_bonus_due(date(1990, 5, 17), today, timing) is due
    assert rules.birthday_bonus_due(None, today, timing) is False


def test_the_candidates_of_28_february_in_a_common_year_include_those_born_on_the_29th():
    assert rules.birthdays_celebrated(date(2027, 2, 28), DAY) == (2, [28, 29])
    assert rules.birthdays_celebrated(date(2028, 2, 28), DAY) == (2, [28])
    assert rules.birthdays_celebrated(date(2028, 2, 29), DAY) == (2, [29])
    assert rules.birthdays_celebrated(date(2027, 2, 28), MONTH) == (2, None)


# The job


async def test_month_timing_grants_on_a_run_in_the_birthday_month_and_not_in_others(
    app, client, admin, pos
):
    await set_program(client, admin, birthday_bonus=200, birthday_bonus_timing="month")
    anna = await born(client, pos, "1990-05-17")
    ben = await born(client, pos, "1985-06-02", name="Ben")

    assert await run(app, "2027-04-15T12:00:00+00:00") == 0
    assert await run(app, "2027-05-03T12:00:00+00:00") == 1

    assert await birthday_points(client, pos, anna) == [200]
    assert await birthday_points(client, pos, ben) == []
    current = await balance(client, pos, anna)
    assert (current["available"], current["lifetime_earned"]) == (200, 200)
    assert await birthday_grants(app, anna) == [("2027", 200)]


async def test_month_timing_counts_the_month_in_the_programmes_time_zone(app, client, admin, pos):
    await set_program(client, admin, birthday_bonus=200, timezone="Europe/Berlin")
    anna = await born(client, pos, "1990-05-17")

    # 30 April 23:30 in Berlin is still April; 22:30 UTC on 30 April is 00:30 on 1 May there.
    assert await run(app, "2027-04-30T21:30:00+00:00") == 0
    assert await run(app, "2027-04-30T22:30:00+00:00") == 1
    # 31 May 23:30 UTC is already June in Berlin: nothing due, and nothing twice anyway.
    assert await run(app, "2027-05-31T22:30:00+00:00") == 0

    assert await birthday_points(client, pos, anna) == [200]


async def test_day_timing_grants_only_on_the_birthday(app, client, admin, pos):
    await set_program(client, admin, birthday_bonus=200, birthday_bonus_timing="day")
    anna = await born(client, pos, "1990-05-17")

    assert await run(app, "2027-05-01T10:00:00+00:00") == 0
    assert await run(app, "2027-05-16T10:00:00+00:00") == 0
    assert await birthday_points(client, pos, anna) == []

    assert await run(app, "2027-05-17T10:00:00+00:00") == 1
    assert await run(app, "2027-05-17T18:00:00+00:00") == 0
    assert await run(app, "2027-05-18T10:00:00+00:00") == 0

    assert await birthday_points(client, pos, anna) == [200]


async def test_day_timing_counts_the_day_in_the_programmes_time_zone(app, client, admin, pos):
    await set_program(
        client, admin, birthday_bonus=200, birthday_bonus_timing="day", timezone="Asia/Tokyo"
    )
    anna = await born(client, pos, "1990-05-17")

    assert await run(app, "2027-05-16T14:59:00+00:00") == 0  # 23:59 on the 16th in Tokyo
    assert await run(app, "2027-05-17T15:00:00+00:00") == 0  # 00:00 on the 18th in Tokyo
    assert await run(app, "2027-05-16T15:00:00+00:00") == 1  # 00:00 on the 17th in Tokyo

    assert await birthday_grants(app, anna) == [("2027", 200)]


async def test_born_on_29_february_celebrates_on_the_28th_in_common_years(app, client, admin, pos):
    await set_program(client, admin, birthday_bonus=200, birthday_bonus_timing="day")
    leap = await born(client, pos, "2000-02-29", name="Lea")
    twenty_eighth = await born(client, pos, "1990-02-28", name="Ben")

    assert await run(app, "2027-02-27T12:00:00+00:00") == 0
    assert await run(app, "2027-02-28T12:00:00+00:00") == 2
    assert await run(app, "2027-03-01T12:00:00+00:00") == 0
    # In a leap year on the 29th itself, and not on the 28th.
    assert await run(app, "2028-02-28T12:00:00+00:00") == 1
    assert await run(app, "2028-02-29T12:00:00+00:00") == 1

    assert await birthday_grants(app, leap) == [("2027", 200), ("2028", 200)]
    assert await birthday_grants(app, twenty_eighth) == [("2027", 200), ("2028", 200)]


async def test_running_the_job_twice_grants_once(app, client, admin, pos):
    await set_program(client, admin, birthday_bonus=200)
    anna = await born(client, pos, "1990-05-17")

    first = await run(app, "2027-05-03T12:00:00+00:00")
    second = await run(app, "2027-05-03T12:00:00+00:00")
    later = await run(app, "2027-05-28T12:00:00+00:00")

    assert (first, second, later) == (1, 0, 0)
    assert await birthday_points(client, pos, anna) == [200]
    assert (await balance(client, pos, anna))["available"] == 200


async def test_concurrent_runners_grant_exactly_once_per_member(app, client, admin, pos):
    await set_program(client, admin, birthday_bonus=200)
    members = [await born(client, pos, "1990-05-17", name=f"M{i}") for i in range(6)]
    sessionmaker = app.state.runtime.sessionmaker
    now = at("2027-05-03T12:00:00+00:00")

    counts = await asyncio.gather(
        *(jobs.grant_birthday_bonuses(sessionmaker, now=now) for _ in range(3))
    )

    assert sum(counts) == len(members)
    for member in members:
        assert await birthday_points(client, pos, member) == [200]
        assert (await balance(client, pos, member))["available"] == 200
    async with sessionmaker() as session:
        assert await verify.first_mismatch(session) is None


async def test_the_next_year_grants_again(app, client, admin, pos):
    await set_program(client, admin, birthday_bonus=200)
    anna = await born(client, pos, "1990-05-17")

    assert await run(app, "2027-05-03T12:00:00+00:00") == 1
    assert await run(app, "2027-12-31T12:00:00+00:00") == 0
    assert await run(app, "2028-05-20T12:00:00+00:00") == 1

    assert await birthday_points(client, pos, anna) == [200, 200]
    assert await birthday_grants(app, anna) == [("2027", 200), ("2028", 200)]
    current = await balance(client, pos, anna)
    assert (current["available"], current["lifetime_earned"]) == (400, 400)


async def test_no_birthday_bonus_when_the_programme_offers_none_or_there_is_no_birthdate(
    app, client, admin, pos
):
    anna = await born(client, pos, "1990-05-17")
    assert await run(app, "2027-05-03T12:00:00+00:00") == 0
    assert await birthday_points(client, pos, anna) == []

    await set_program(client, admin, birthday_bonus=200)
    ben = await enrol(client, pos, name="Ben")
    assert await run(app, "2027-05-03T12:00:00+00:00") == 1
    assert await birthday_points(client, pos, ben) == []
    assert await birthday_points(client, pos, anna) == [200]


async def test_a_birthdate_changed_to_the_birthday_month_is_granted_then_not_again(
    app, client, admin, pos
):
    await set_program(client, admin, birthday_bonus=200)
    anna = await born(client, pos, "1990-04-17")
    path = f"/v1/members/{anna['id']}"

    assert await run(app, "2027-05-03T12:00:00+00:00") == 0
    await client.patch(path, json={"birthdate": "1990-05-17"}, headers=pos)
    assert await run(app, "2027-05-04T12:00:00+00:00") == 1
    await client.patch(path, json={"birthdate": "1990-06-17"}, headers=pos)
    assert await run(app, "2027-06-04T12:00:00+00:00") == 0

    assert await birthday_grants(app, anna) == [("2027", 200)]


async def test_each_bonus_appears_in_the_transactions_with_its_own_type_and_an_event(
    app, client, admin, pos
):
    await set_program(
        client, admin, signup_bonus=100, profile_completion_bonus=50, birthday_bonus=200
    )
    anna = await enrol(
        client, pos, email="anna@example.com", name="Anna Schmidt", birthdate="1990-05-17"
    )

    await run(app, "2027-05-03T12:00:00+00:00")

    items = (await transactions(client, pos, anna))["items"]
    assert items[0]["type"] == "birthday_bonus"  # newest first
    assert items[0]["created_at"].startswith("2027-05-03T12:00:00")
    assert sorted((t["type"], t["points"]) for t in items) == [
        ("birthday_bonus", 200),
        ("profile_bonus", 50),
        ("signup_bonus", 100),
    ]
    async with app.state.runtime.sessionmaker() as session:
        events = await session.scalars(
            select(Event.data).where(
                Event.member_id == uuid.UUID(anna["id"]), Event.type == "points.earned"
            )
        )
        assert sorted((e["type"], e["points"]) for e in events) == [
            ("birthday_bonus", 200),
            ("profile_bonus", 50),
            ("signup_bonus", 100),
        ]


def birthday_today(timezone: str) -> str:
    """A birthdate (in a leap year, so 29 February works too) that is today in ``timezone``."""
    today = datetime.now(ZoneInfo(timezone)).date()
    return date(1992, today.month, today.day).isoformat()


async def test_jobs_run_once_on_the_command_line_grants_birthday_bonuses(
    app, client, admin, database, pos
):
    assert "grant_birthday_bonuses" in app_jobs.JOBS
    await set_program(client, admin, birthday_bonus=200, birthday_bonus_timing="day")
    anna = await born(client, pos, birthday_today("Europe/Berlin"))

    result = await stammkunde(database.url, "jobs", "run", "--once")

    assert result.exit_code == 0, result.output
    assert "grant_birthday_bonuses\t1" in result.stdout.splitlines()
    assert await birthday_points(client, pos, anna) == [200]
