"""``points.expiring_soon``: the programme's ``expiry_notice_days`` before a lot expires,
one notice per lot, from a job that is safe to re-run and to run in several processes."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from app.db.engine import create_engine
from app.db.session import create_sessionmaker
from app.events.models import Event
from app.ledger import notices
from app.ledger.models import EarnLot
from tests.factories import (
    adjust,
    enrol,
    execute,
    idempotent,
    purchase,
    redeem,
    set_program,
)

DAY = timedelta(days=1)


async def run(app, now: datetime | None = None) -> int:
    return await notices.notify_expiring_lots(app.state.runtime.sessionmaker, now)


async def notices_sent(app) -> list[Event]:
    async with app.state.runtime.sessionmaker() as session:
        statement = (
            select(Event)
            .where(Event.type == "points.expiring_soon")
            .order_by(Event.created_at, Event.id)
        )
        return list((await session.scalars(statement)).all())


async def lots_of(app, member) -> list[EarnLot]:
    async with app.state.runtime.sessionmaker() as session:
        statement = (
            select(EarnLot)
            .where(EarnLot.member_id == uuid.UUID(member["id"]))
            .order_by(EarnLot.created_at, EarnLot.id)
        )
        return list((await session.scalars(statement)).all())


async def lot_with(app, client, admin, pos, points: int, expires_in: timedelta) -> dict[str, Any]:
    """A member whose only lot holds ``points`` and expires ``expires_in`` from now."""
    member = await enrol(client, pos)
    await adjust(client, admin, member, points, "test points")
    await expire_in(app, member, expires_in)
    return member


async def expire_in(app, member, expires_in: timedelta) -> None:
    await execute(
        app,
        update(EarnLot)
        .where(EarnLot.member_id == uuid.UUID(member["id"]))
        .values(expires_at=datetime.now(UTC) + expires_in),
    )


async def test_a_lot_gets_one_notice_when_it_comes_within_the_notice_period(
    app, client, admin, pos
):
    anna = await enrol(client, pos, name="Anna")
    await purchase(client, pos, anna, 4590)
    await redeem(client, pos, anna, 5)
    [lot] = await lots_of(app, anna)
    assert lot.expires_at is not None

    early = await run(app, lot.expires_at - 30 * DAY - timedelta(seconds=1))
    due = await run(app, lot.expires_at - 30 * DAY)
    again = await run(app, lot.expires_at - 30 * DAY)
    later = await run(app, lot.expires_at - DAY)

    assert (early, due, again, later) == (0, 1, 0, 0)
    [notice] = await notices_sent(app)
    assert notice.member_id == uuid.UUID(anna["id"])
    assert notice.created_at == lot.expires_at - 30 * DAY
    assert notice.data == {
        "lot_id": str(lot.id),
        "points": 40,
        "expires_at": lot.expires_at.isoformat(),
        "balance": {"available": 40, "pending": 0},
    }
    [noticed] = await lots_of(app, anna)
    assert noticed.expiry_notified_at == lot.expires_at - 30 * DAY


async def test_no_notice_for_lots_spent_past_their_expiry_far_away_or_pending(
    app, client, admin, pos
):
    await set_program(client, admin, pending_days=14)
    soon = await lot_with(app, client, admin, pos, 10, 10 * DAY)
    await lot_with(app, client, admin, pos, 20, -timedelta(minutes=1))  # the expiry job's
    await lot_with(app, client, admin, pos, 30, 31 * DAY)  # not yet
    spent = await lot_with(app, client, admin, pos, 15, 5 * DAY)
    await redeem(client, pos, spent, 15)
    waiting = await enrol(client, pos)
    await purchase(client, pos, waiting, 4590)  # pending for 14 days
    await expire_in(app, waiting, 5 * DAY)

    assert await run(app) == 1

    [notice] = await notices_sent(app)
    assert notice.member_id == uuid.UUID(soon["id"])
    assert notice.data["points"] == 10


async def test_no_notices_while_the_notice_period_is_zero(app, client, admin, pos):
    await set_program(client, admin, expiry_notice_days=0)
    await lot_with(app, client, admin, pos, 10, 5 * DAY)

    assert await run(app) == 0
    assert await notices_sent(app) == []

    await set_program(client, admin, expiry_notice_days=30)

    assert await run(app) == 1


async def test_a_longer_notice_period_reaches_lots_now_inside_it(app, client, admin, pos):
    await set_program(client, admin, expiry_notice_days=7)
    await lot_with(app, client, admin, pos, 10, 10 * DAY)

    assert await run(app) == 0

    await set_program(client, admin, expiry_notice_days=14)

    assert await run(app) == 1


async def test_an_invalid_notice_period_is_refused(client, admin):
    for invalid in (-1, 366, "soon"):
        response = await client.put(
            "/v1/program", json={"expiry_notice_days": invalid}, headers=admin
        )
        assert response.status_code == 422, response.text


async def test_a_lot_moved_by_a_merge_keeps_its_notice(app, client, admin, pos):
    anna = await lot_with(app, client, admin, pos, 10, 10 * DAY)
    twin = await enrol(client, pos)
    assert await run(app) == 1

    merged = await client.post(
        f"/v1/members/{twin['id']}/merge",
        json={"source_member_id": anna["id"]},
        headers=idempotent(admin),
    )

    assert merged.status_code == 200, merged.text
    assert [lot.points for lot in await lots_of(app, twin)] == [10]
    assert await run(app) == 0
    assert len(await notices_sent(app)) == 1


async def test_two_runners_at_once_notice_every_lot_exactly_once(
    app, client, admin, pos, settings, monkeypatch
):
    monkeypatch.setattr(notices, "BATCH_SIZE", 4)  # several batches each
    members = [await lot_with(app, client, admin, pos, 10 + n, (n + 1) * DAY) for n in range(20)]
    engines = [create_engine(settings) for _ in range(2)]
    try:
        runners = [create_sessionmaker(engine) for engine in engines]
        done = await asyncio.gather(*(notices.notify_expiring_lots(runner) for runner in runners))
    finally:
        for engine in engines:
            await engine.dispose()

    assert sum(done) == 20
    sent = await notices_sent(app)
    assert sorted(str(notice.member_id) for notice in sent) == sorted(m["id"] for m in members)
    assert len({notice.data["lot_id"] for notice in sent}) == 20
    assert await run(app) == 0
