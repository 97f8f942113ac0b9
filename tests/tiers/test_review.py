"""Tiers over time: qualifying windows, the review job, manual tiers running out.

Time moves through the ``now`` of the services and the job. Europe/Berlin local dates: a
calendar-year review falls on the local midnight that begins 1 January (23:00Z).
Silver needs 100 points (x1), Gold 300 (x2); 1 point per 1.00.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app import jobs as all_jobs
from app.earning import service as earning
from app.earning.schemas import PurchaseCreate, PurchaseReturnCreate
from app.events.models import Event
from app.tiers import jobs, service
from app.tiers.models import TierChange
from app.tiers.schemas import ManualTierAssign
from tests.factories import enrol, set_program

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


# Calendar-year review dates: the end of the local years 2027 and 2028.
END_2027, END_2028, END_2029 = (
    at("2027-12-31T23:00Z"),
    at("2028-12-31T23:00Z"),
    at("2029-12-31T23:00Z"),
)


@pytest.fixture
async def anna(client, pos):
    return await enrol(client, pos, name="Anna")


@pytest.fixture
async def ladder(client, admin):
    tiers = {}
    for name, rank, threshold, multiplier in (("Silver", 1, 100, "1"), ("Gold", 2, 300, "2")):
        body = {"name": name, "rank": rank, "threshold": threshold, "multiplier": multiplier}
        response = await client.post("/v1/tiers", json=body, headers=admin)
        assert response.status_code == 201, response.text
        tiers[name] = response.json()
    return tiers


async def buy(app, member, total: int, now: datetime) -> Any:
    """A till's purchase, recorded at ``now``; returns the purchase."""
    runtime = app.state.runtime
    data = PurchaseCreate(
        member_id=uuid.UUID(member["id"]),
        order_id=f"order-{uuid.uuid4().hex[:12]}",
        channel="pos",
        currency="EUR",
        total=total,
    )
    async with runtime.sessionmaker() as session:
        recorded = await earning.record_purchase(session, runtime.secret_key, data, now=now)
        await session.commit()
    return recorded.purchase


async def give_back(app, bought, amount: int, now: datetime) -> None:
    async with app.state.runtime.sessionmaker() as session:
        await earning.record_return(
            session, bought.id, PurchaseReturnCreate(amount=amount), now=now
        )
        await session.commit()


async def state(app, member, now: datetime) -> service.MemberTier:
    async with app.state.runtime.sessionmaker() as session:
        return await service.member_tier(session, uuid.UUID(member["id"]), now)


def tier_name(found: service.MemberTier) -> str | None:
    return found.tier.name if found.tier else None


async def review(app, now: datetime) -> int:
    return await jobs.review_tiers(app.state.runtime.sessionmaker, now)


async def changes(app, member) -> list[tuple[str | None, str | None, str, int]]:
    """The member's tier history, oldest first: (from, to, reason, qualifying points)."""
    async with app.state.runtime.sessionmaker() as session:
        tiers, _, _ = await service.history(session, uuid.UUID(member["id"]), _all())
        names = {t.id: t.name for t in await service.list_tiers(session)}
    return [
        (
            names.get(c.from_tier_id) if c.from_tier_id else None,
            names.get(c.to_tier_id) if c.to_tier_id else None,
            c.reason,
            c.qualifying_points,
        )
        for c in reversed(tiers)
    ]


def _all() -> Any:
    from app.kit.pagination import PageParams

    return PageParams(limit=200)


async def events(app, member) -> list[tuple[str | None, str | None, str]]:
    async with app.state.runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(Event)
            .where(Event.type == "tier.changed", Event.member_id == uuid.UUID(member["id"]))
            .order_by(Event.created_at, Event.id)
        )
        return [(e.data["from_tier"], e.data["to_tier"], e.data["reason"]) for e in rows]


# --- qualifying windows ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "points", "tier"),
    [("calendar_year", 40, None), ("rolling_12_months", 120, "Silver")],
)
async def test_the_qualifying_window_decides_which_purchases_count(
    app, client, admin, anna, ladder, window, points, tier
):
    await set_program(client, admin, tier_qualifying_window=window)
    await buy(app, anna, 8000, at("2026-11-10T12:00Z"))
    await buy(app, anna, 4000, at("2027-01-05T12:00Z"))

    found = await state(app, anna, at("2027-01-05T12:00:01Z"))
    assert (found.qualifying_points, tier_name(found)) == (points, tier)


async def test_a_calendar_year_ends_at_local_midnight(app, client, admin, anna, ladder):
    await buy(app, anna, 5000, at("2026-12-31T22:59:59Z"))  # 23:59:59 on 31 December in Berlin
    assert (await state(app, anna, at("2026-12-31T22:59:59Z"))).qualifying_points == 50
    assert (await state(app, anna, at("2026-12-31T23:00:00Z"))).qualifying_points == 0
    await buy(app, anna, 7000, at("2026-12-31T23:00:00Z"))  # 00:00 on 1 January
    assert (await state(app, anna, at("2027-06-01T12:00Z"))).qualifying_points == 70


async def test_a_rolling_window_drops_a_purchase_after_twelve_months_of_whole_days(
    app, client, admin, anna, ladder
):
    await set_program(client, admin, tier_qualifying_window="rolling_12_months")
    await buy(app, anna, 5000, at("2026-01-10T12:00Z"))
    # The window is today and the twelve months of whole local days before it: the
    # purchase counts through 9 January 2027 and no longer from 10 January (local time).
    assert (await state(app, anna, at("2027-01-09T22:59:59Z"))).qualifying_points == 50
    assert (await state(app, anna, at("2027-01-09T23:00:00Z"))).qualifying_points == 0


async def test_returns_lower_qualifying_points_in_the_window_they_happen(
    app, client, admin, anna, ladder
):
    bought = await buy(app, anna, 20000, at("2027-03-01T12:00Z"))
    await give_back(app, bought, 5000, at("2027-03-05T12:00Z"))
    found = await state(app, anna, at("2027-03-06T12:00Z"))
    assert (found.qualifying_points, tier_name(found)) == (150, "Silver")
    assert found.points_to_next_tier == 150


# --- the review --------------------------------------------------------------------------


async def test_a_tier_falls_one_step_per_review_and_only_after_the_grace_period(
    app, client, admin, anna, ladder
):
    await set_program(client, admin, tier_downgrade_grace_days=30)
    await buy(app, anna, 30000, at("2026-03-10T12:00Z"))  # Gold, secured through 2027
    found = await state(app, anna, at("2026-03-10T12:00:01Z"))
    assert (tier_name(found), found.expires_at) == ("Gold", END_2027)

    # No purchase in 2027. Nothing happens before the review date and its grace period.
    assert await review(app, at("2027-06-01T12:00Z")) == 0
    assert await review(app, END_2027) == 0
    assert await review(app, END_2027 + 30 * DAY - SECOND) == 0
    assert tier_name(await state(app, anna, END_2027 + 30 * DAY - SECOND)) == "Gold"

    # Then down one tier, not straight to none, and the next review a year on.
    assert await review(app, END_2027 + 30 * DAY) == 1
    found = await state(app, anna, END_2027 + 30 * DAY)
    assert (tier_name(found), found.source, found.expires_at) == ("Silver", "earned", END_2028)
    # Running again changes nothing more.
    assert await review(app, END_2027 + 30 * DAY) == 0
    assert await review(app, END_2028 + 29 * DAY) == 0

    assert await review(app, END_2028 + 30 * DAY) == 1
    found = await state(app, anna, END_2028 + 30 * DAY)
    assert (found.tier, found.source, found.expires_at) == (None, None, None)
    assert await review(app, END_2029 + 400 * DAY) == 0

    assert await changes(app, anna) == [
        (None, "Gold", "upgrade", 300),
        ("Gold", "Silver", "downgrade", 0),
        ("Silver", None, "downgrade", 0),
    ]
    assert await events(app, anna) == [
        (None, "Gold", "upgrade"),
        ("Gold", "Silver", "downgrade"),
        ("Silver", None, "downgrade"),
    ]


async def test_a_tier_whose_points_still_qualify_is_kept_for_another_year(
    app, client, admin, anna, ladder
):
    await buy(app, anna, 10000, at("2026-03-10T12:00Z"))  # Silver, secured through 2027
    await buy(app, anna, 6000, at("2027-05-01T12:00Z"))
    await buy(app, anna, 6000, at("2027-12-31T22:59:59Z"))  # 23:59:59 local: still 2027

    assert await review(app, END_2027) == 1
    found = await state(app, anna, END_2027 + SECOND)
    assert (tier_name(found), found.expires_at) == ("Silver", END_2028)
    assert await review(app, END_2027 + DAY) == 0

    # 2028 without purchases: down at the next review.
    assert await review(app, END_2028) == 1
    assert (await state(app, anna, END_2028)).tier is None
    assert await changes(app, anna) == [
        (None, "Silver", "upgrade", 100),
        ("Silver", "Silver", "review_kept", 120),
        ("Silver", None, "downgrade", 0),
    ]
    # Keeping a tier is history, not a change of tier: no event for it.
    assert await events(app, anna) == [(None, "Silver", "upgrade"), ("Silver", None, "downgrade")]


@pytest.mark.parametrize(
    ("bought_at", "tier", "review_after"),
    [("2027-12-31T22:59:59Z", "Silver", END_2028), ("2027-12-31T23:00:00Z", None, None)],
    ids=["last-second-of-2027", "first-second-of-2028"],
)
async def test_the_period_under_review_ends_at_local_midnight(
    app, client, admin, anna, ladder, bought_at, tier, review_after
):
    await buy(app, anna, 10000, at("2026-03-10T12:00Z"))  # Silver, review at END_2027
    await buy(app, anna, 6000, at("2027-05-01T12:00Z"))
    await buy(app, anna, 4000, at(bought_at))  # 60 + 40 reach Silver, if in 2027

    assert await review(app, END_2027 + DAY) == 1
    found = await state(app, anna, END_2027 + DAY)
    assert (tier_name(found), found.expires_at) == (tier, review_after)


@pytest.mark.parametrize(("total", "tier"), [(15000, "Gold"), (14000, "Silver")])
async def test_purchases_in_the_grace_period_can_save_the_tier(
    app, client, admin, anna, ladder, total, tier
):
    await set_program(client, admin, tier_downgrade_grace_days=30)
    await buy(app, anna, 30000, at("2026-03-10T12:00Z"))  # Gold, review at END_2027
    # Bought at Gold (x2) in the grace period: 300 or 280 qualifying points in 2028.
    await buy(app, anna, total, END_2027 + 10 * DAY)

    assert await review(app, END_2027 + 30 * DAY) == 1
    found = await state(app, anna, END_2027 + 30 * DAY)
    assert tier_name(found) == tier
    assert found.expires_at == (END_2029 if tier == "Gold" else END_2028)


async def test_a_rolling_review_counts_the_twelve_months_after_the_tier_was_reached(
    app, client, admin, anna, ladder
):
    await set_program(client, admin, tier_qualifying_window="rolling_12_months")
    await buy(app, anna, 10000, at("2026-03-10T12:00Z"))  # Silver
    review_at = at("2027-03-10T23:00Z")  # the end of 10 March 2027, local
    assert (await state(app, anna, at("2026-03-10T13:00Z"))).expires_at == review_at
    await buy(app, anna, 5000, at("2026-06-01T12:00Z"))
    await buy(app, anna, 5500, at("2027-03-10T22:00Z"))  # 23:00 local, the last hour

    assert await review(app, review_at - SECOND) == 0
    assert await review(app, review_at) == 1
    # 50 + 55 in the period; the purchase that reached Silver on 10 March 2026 is not in it.
    assert (await changes(app, anna))[-1] == ("Silver", "Silver", "review_kept", 105)
    assert (await state(app, anna, review_at)).expires_at == at("2028-03-10T23:00Z")


async def test_runners_side_by_side_review_each_member_once(
    app, client, admin, pos, ladder, monkeypatch
):
    monkeypatch.setattr(jobs, "BATCH_SIZE", 2)
    members = [await enrol(client, pos, name=f"Member {n}") for n in range(5)]
    for member in members:
        await buy(app, member, 30000, at("2026-03-10T12:00Z"))

    runs = await asyncio.gather(*(review(app, END_2027 + DAY) for _ in range(3)))

    assert sum(runs) == 5
    async with app.state.runtime.sessionmaker() as session:
        downgrades = (
            await session.scalars(
                select(TierChange.member_id).where(TierChange.reason == "downgrade")
            )
        ).all()
    assert sorted(map(str, downgrades)) == sorted(m["id"] for m in members)
    for member in members:
        assert tier_name(await state(app, member, END_2027 + DAY)) == "Silver"


async def test_the_review_is_one_of_the_jobs(app, anna, ladder):
    await buy(app, anna, 30000, at("2026-03-10T12:00Z"))
    handled = await all_jobs.run_once(app.state.runtime.sessionmaker, END_2027 + DAY)
    assert handled["review_tiers"] == 1
    assert tier_name(await state(app, anna, END_2027 + DAY)) == "Silver"


# --- manual tiers ------------------------------------------------------------------------


async def assign(app, member, tier, until: datetime, now: datetime, reason: str | None = None):
    async with app.state.runtime.sessionmaker() as session:
        data = ManualTierAssign(tier_id=tier["id"], until=until, reason=reason)
        await service.assign_manual_tier(session, uuid.UUID(member["id"]), data, now)
        await session.commit()


async def test_a_vip_tier_holds_until_its_end_then_the_earned_tier_returns(
    app, client, admin, anna, ladder
):
    await buy(app, anna, 10000, at("2027-01-10T12:00Z"))  # Silver earned
    ends = at("2027-03-01T00:00Z")
    await assign(app, anna, ladder["Gold"], ends, at("2027-02-01T12:00Z"), "VIP evening")

    found = await state(app, anna, ends - SECOND)
    assert (tier_name(found), found.source, found.expires_at) == ("Gold", "manual", ends)
    assert found.manual_tier is not None
    assert found.manual_tier.name == "Gold"
    assert (await buy(app, anna, 1000, ends - SECOND)).points_earned == 20  # Gold's x2

    # From its end on the earned tier counts again, before the job has noticed.
    found = await state(app, anna, ends)
    assert (tier_name(found), found.source, found.manual_tier) == ("Silver", "earned", None)
    assert (await buy(app, anna, 1000, ends)).points_earned == 10

    # The job records the end once.
    assert await review(app, ends - SECOND) == 0
    assert await review(app, ends + DAY) == 1
    assert await review(app, ends + 2 * DAY) == 0
    assert await changes(app, anna) == [
        (None, "Silver", "upgrade", 100),
        ("Silver", "Gold", "manual", 100),
        ("Gold", "Silver", "manual_ended", 130),
    ]
    assert await events(app, anna) == [
        (None, "Silver", "upgrade"),
        ("Silver", "Gold", "manual"),
        ("Gold", "Silver", "manual_ended"),
    ]


async def test_the_earned_tier_is_reviewed_while_a_vip_tier_covers_it(
    app, client, admin, anna, ladder
):
    await buy(app, anna, 10000, at("2026-03-10T12:00Z"))  # Silver, review at END_2027
    await assign(app, anna, ladder["Gold"], END_2028, at("2027-06-01T12:00Z"))

    assert await review(app, END_2027 + DAY) == 1
    found = await state(app, anna, END_2027 + DAY)
    assert (tier_name(found), found.source) == ("Gold", "manual")
    # The VIP tier ends into what the member earned meanwhile: nothing.
    assert await review(app, END_2028) == 1
    assert (await state(app, anna, END_2028)).tier is None
    assert [c[2] for c in await changes(app, anna)] == [
        "upgrade",
        "manual",
        "downgrade",
        "manual_ended",
    ]
