"""The outbox: every change of points is exactly one event, written in the change's own
database transaction, so that an event exists if and only if its change committed.

The events of ledger transactions (``app.ledger.events``): each carries the transaction's
id, type and points, how it changed the available and the pending balance, the balance
after it, and its reference and related id.
"""

import asyncio
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select, text, update

from app.bonuses import jobs as bonus_jobs
from app.earning.models import Purchase
from app.events.models import Event
from app.events.service import emit
from app.ledger import jobs as ledger_jobs
from app.ledger.events import event_type
from app.ledger.models import EarnLot, LedgerTransaction, LotStatus, TransactionType
from app.referrals import jobs as referral_jobs
from tests.factories import (
    adjust,
    assert_ledger_verifies,
    assert_problem,
    balance,
    cancel_redemption,
    claim,
    enrol,
    execute,
    idempotent,
    purchase,
    redeem,
    return_purchase,
    set_program,
    stammkunde,
    write,
)

FIVE_OFF = {"name": "5 € off", "cost_points": 50, "kind": "amount", "value": 500, "valid_days": 30}


async def ledger_transactions(app) -> list[LedgerTransaction]:
    async with app.state.runtime.sessionmaker() as session:
        statement = select(LedgerTransaction).order_by(
            LedgerTransaction.member_id, LedgerTransaction.seq
        )
        return list((await session.scalars(statement)).all())


async def all_events(app, type: str | None = None) -> list[Event]:
    async with app.state.runtime.sessionmaker() as session:
        statement = select(Event).order_by(Event.created_at, Event.id)
        if type is not None:
            statement = statement.where(Event.type == type)
        return list((await session.scalars(statement)).all())


async def counts(app) -> tuple[int, int]:
    """How many events and ledger transactions are stored."""
    async with app.state.runtime.sessionmaker() as session:
        events = await session.scalar(select(func.count()).select_from(Event))
        transactions = await session.scalar(select(func.count()).select_from(LedgerTransaction))
    return int(events or 0), int(transactions or 0)


def expected_data(transaction: LedgerTransaction, before: LedgerTransaction | None) -> dict:
    """The event data a ledger transaction carries, derived from the stored entries alone."""
    available_before = before.available_after if before else 0
    pending_before = before.pending_after if before else 0
    return {
        "transaction_id": str(transaction.id),
        "type": transaction.type,
        "points": transaction.points,
        "available_change": transaction.available_after - available_before,
        "pending_change": transaction.pending_after - pending_before,
        "balance": {"available": transaction.available_after, "pending": transaction.pending_after},
        "reference": transaction.reference,
        "related_id": str(transaction.related_id) if transaction.related_id else None,
    }


async def assert_each_transaction_has_its_event(app) -> list[LedgerTransaction]:
    """Every ledger transaction has exactly one event, of its type, with its data; every
    ledger event belongs to a stored transaction. Returns the transactions."""
    transactions = await ledger_transactions(app)
    events_by_transaction: dict[str, list[Event]] = defaultdict(list)
    for event in await all_events(app):
        if event.type.startswith("points.") and "transaction_id" in event.data:
            events_by_transaction[event.data["transaction_id"]].append(event)
    assert set(events_by_transaction) == {str(t.id) for t in transactions}
    before: dict[uuid.UUID, LedgerTransaction] = {}
    for transaction in transactions:
        [event] = events_by_transaction[str(transaction.id)]
        assert event.type == event_type(TransactionType(transaction.type), transaction.points)
        assert event.member_id == transaction.member_id
        assert event.created_at == transaction.created_at
        assert event.data == expected_data(transaction, before.get(transaction.member_id))
        before[transaction.member_id] = transaction
    return transactions


def birthday_today() -> str:
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    return date(1992, today.month, today.day).isoformat()


async def gift(client, pos, sender, points: int) -> dict[str, Any]:
    response = await write(client, f"/v1/members/{sender['id']}/gifts", pos, {"points": points})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def make_pending_due(app, member) -> None:
    await execute(
        app,
        update(EarnLot)
        .where(EarnLot.member_id == uuid.UUID(member["id"]), EarnLot.status == LotStatus.pending)
        .values(available_at=datetime.now(UTC) - timedelta(minutes=1)),
    )


async def test_every_kind_of_ledger_change_emits_exactly_one_event_with_its_data(
    app, client, admin, pos, database
):
    sessionmaker = app.state.runtime.sessionmaker
    await set_program(
        client,
        admin,
        pending_days=14,
        signup_bonus=100,
        profile_completion_bonus=5,
        birthday_bonus=3,
        referral_bonus_referrer=7,
        referral_bonus_referee=6,
    )
    anna = await enrol(client, pos, name="Anna")  # signup_bonus
    ben = await enrol(  # signup_bonus, profile_bonus
        client,
        pos,
        name="Ben",
        email="ben@example.com",
        birthdate=birthday_today(),
        referral_code=anna["referral_code"],
    )
    assert await bonus_jobs.grant_birthday_bonuses(sessionmaker) == 1  # birthday_bonus

    bought = await purchase(client, pos, anna, 4590, "anna-1")  # purchase, 45 pending
    await purchase(client, pos, ben, 2000)  # purchase; referral_bonus for Ben
    assert await referral_jobs.reward_referrers(sessionmaker) == 1  # referral_bonus for Anna
    await make_pending_due(app, anna)
    await make_pending_due(app, ben)
    assert await ledger_jobs.release_due_pending(sessionmaker) == 2  # pending_release x2

    paid = await redeem(client, pos, anna, 20)  # redemption
    assert (await cancel_redemption(client, pos, paid)).status_code == 200  # redemption_cancel
    await adjust(client, admin, anna, 15, "goodwill")  # adjustment > 0
    await adjust(client, admin, anna, -5, "correction")  # adjustment < 0
    await return_purchase(client, pos, bought, amount=2295)  # purchase_return

    reward = (await client.post("/v1/rewards", json=FIVE_OFF, headers=admin)).json()
    bought_voucher = await write(
        client, f"/v1/members/{anna['id']}/vouchers", pos, {"reward_id": reward["id"]}
    )
    assert bought_voucher.status_code == 201, bought_voucher.text  # voucher_purchase

    given = await gift(client, pos, anna, 10)  # gift_sent
    claimed = await write(client, f"/v1/gifts/{given['code']}/claim", pos, {"member_id": ben["id"]})
    assert claimed.status_code == 201, claimed.text  # gift_received
    taken_back = await gift(client, pos, anna, 4)  # gift_sent
    cancelled = await write(
        client, f"/v1/gifts/{taken_back['code']}/cancel", pos, {"member_id": anna["id"]}
    )
    assert cancelled.status_code == 200, cancelled.text  # gift_returned

    receipt = await purchase(client, pos, None, 1200)
    assert (await claim(client, pos, receipt["claim_code"], ben)).status_code == 201
    await execute(
        app,
        update(EarnLot)
        .where(EarnLot.member_id == uuid.UUID(ben["id"]), EarnLot.remaining > 0)
        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)),
    )
    # signup, profile, birthday, purchase, referral and gift lots (the receipt's is pending)
    assert await ledger_jobs.expire_due_lots(sessionmaker) == 6

    carl = await enrol(client, pos, name="Carl")  # signup_bonus
    merged = await client.post(
        f"/v1/members/{anna['id']}/merge",
        json={"source_member_id": carl["id"]},
        headers=idempotent(admin),
    )
    assert merged.status_code == 200, merged.text  # merge_out, merge_in
    dora = await enrol(client, pos, name="Dora")  # signup_bonus
    erased = await client.delete(f"/v1/members/{dora['id']}", headers=admin)
    assert erased.status_code == 200, erased.text  # erasure
    imported = await client.post(
        "/v1/imports/members",
        content="email,points\nemil@example.com,5\n",
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert imported.json()["points"] == 5, imported.text  # import

    transactions = await assert_each_transaction_has_its_event(app)
    assert {t.type for t in transactions} == set(TransactionType)
    assert (await stammkunde(database.url, "verify")).exit_code == 0

    # Worked examples: what a consumer sees.
    [earned] = [
        e.data
        for e in await all_events(app, "points.earned")
        if e.data["type"] == "purchase" and e.member_id == uuid.UUID(anna["id"])
    ]
    assert earned == {
        "transaction_id": earned["transaction_id"],
        "type": "purchase",
        "points": 45,
        "available_change": 0,
        "pending_change": 45,
        "balance": {"available": 100, "pending": 45},
        "reference": "anna-1",
        "related_id": bought["id"],
    }
    [released] = [
        e.data
        for e in await all_events(app, "points.available")
        if e.member_id == uuid.UUID(anna["id"])
    ]
    assert (released["points"], released["available_change"], released["pending_change"]) == (
        0,
        45,
        -45,
    )
    assert released["balance"] == {"available": 152, "pending": 0}  # 100 + 7 + 45
    [redeemed] = [
        e.data for e in await all_events(app, "points.redeemed") if e.data["type"] == "redemption"
    ]
    assert (redeemed["points"], redeemed["related_id"]) == (-20, paid["id"])
    [restored] = [
        e.data
        for e in await all_events(app, "points.restored")
        if e.data["type"] == "redemption_cancel"
    ]
    assert (restored["points"], restored["related_id"]) == (20, paid["id"])
    [expired] = await all_events(app, "points.expired")
    assert (expired.member_id, expired.data["balance"]) == (
        uuid.UUID(ben["id"]),
        {"available": 0, "pending": 12},
    )
    [forfeited] = await all_events(app, "points.forfeited")
    assert (forfeited.member_id, forfeited.data["points"], forfeited.data["type"]) == (
        uuid.UUID(dora["id"]),
        -100,
        "erasure",
    )
    reversals = [
        (e.data["type"], e.data["points"]) for e in await all_events(app, "points.reversed")
    ]
    assert reversals == [("adjustment", -5), ("purchase_return", -22)]
    merges = {e.member_id: e.data["points"] for e in await all_events(app, "points.merged")}
    assert merges == {uuid.UUID(carl["id"]): -100, uuid.UUID(anna["id"]): 100}


async def test_a_bonus_is_one_points_earned_event_not_two(app, client, admin, pos):
    await set_program(client, admin, signup_bonus=100)

    anna = await enrol(client, pos, name="Anna")

    [event] = await all_events(app, "points.earned")
    assert event.member_id == uuid.UUID(anna["id"])
    assert (event.data["type"], event.data["points"]) == ("signup_bonus", 100)
    await assert_each_transaction_has_its_event(app)


async def test_member_created_carries_ids_only(app, client, admin, pos):
    anna = await enrol(client, pos, name="Anna", email="anna@example.com")
    ben = await enrol(
        client, pos, name="Ben", external_id="crm-2", referral_code=anna["referral_code"]
    )

    created = await all_events(app, "member.created")

    assert [(e.member_id, e.data) for e in created] == [
        (uuid.UUID(anna["id"]), {"member_id": anna["id"], "referred_by_id": None}),
        (uuid.UUID(ben["id"]), {"member_id": ben["id"], "referred_by_id": anna["id"]}),
    ]


async def test_member_updated_names_the_fields_changed_not_their_values(app, client, pos):
    anna = await enrol(client, pos, name="Anna")
    path = f"/v1/members/{anna['id']}"

    changed = await client.patch(
        path, json={"email": "anna@example.com", "name": "Anna"}, headers=pos
    )
    unchanged = await client.patch(path, json={"name": "Anna"}, headers=pos)

    assert (changed.status_code, unchanged.status_code) == (200, 200)
    [updated] = await all_events(app, "member.updated")
    assert (updated.member_id, updated.data) == (
        uuid.UUID(anna["id"]),
        {"member_id": anna["id"], "fields": ["email"]},
    )


# Atomicity: a change that does not commit leaves no event, an event that cannot be written
# takes its change with it.


async def test_a_refused_redemption_leaves_no_event_not_even_of_the_expiry_it_ran_first(
    app, client, admin, pos
):
    anna = await enrol(client, pos, name="Anna")
    await purchase(client, pos, anna, 4590)
    await adjust(client, admin, anna, 10, "goodwill")
    # The purchase's lot is past its expiry; no job has expired it yet. A redemption first
    # expires such lots (event and all), then finds the balance too low and is refused.
    await execute(
        app,
        update(EarnLot)
        .where(EarnLot.member_id == uuid.UUID(anna["id"]), EarnLot.points == 45)
        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)),
    )
    before = await counts(app)

    refused = await write(client, f"/v1/members/{anna['id']}/redemptions", pos, {"points": 50})

    assert_problem(refused, 409, "insufficient_points")
    assert await counts(app) == before
    assert await all_events(app, "points.expired") == []
    assert await all_events(app, "points.redeemed") == []
    # Committed, the same expiry is its event.
    assert await ledger_jobs.expire_due_lots(app.state.runtime.sessionmaker) == 1
    [expired] = await all_events(app, "points.expired")
    assert expired.data["points"] == -45
    await assert_each_transaction_has_its_event(app)


@asynccontextmanager
async def refused_by_the_database(
    app, table: str, when: str, condition: str = ""
) -> AsyncIterator[None]:
    """A trigger that makes the database refuse ``when`` (INSERT/UPDATE) on ``table``:
    a real failure in the middle of a request's transaction, after its work was written."""
    engine = app.state.runtime.engine
    name = f"test_refuse_{table}"
    if engine.dialect.name == "postgresql":
        create = [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
            f"CREATE TRIGGER {name} BEFORE {when} ON {table} FOR EACH ROW "
            + (f"WHEN ({condition}) " if condition else "")
            + f"EXECUTE FUNCTION {name}()",
        ]
        drop = [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"]
    else:
        create = [
            f"CREATE TRIGGER {name} BEFORE {when} ON {table} "
            + (f"WHEN {condition} " if condition else "")
            + "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        ]
        drop = [f"DROP TRIGGER IF EXISTS {name}"]
    async with engine.begin() as connection:
        for statement in create:
            await connection.execute(text(statement))
    try:
        yield
    finally:
        async with engine.begin() as connection:
            for statement in drop:
                await connection.execute(text(statement))


@pytest.fixture
async def crashing_client(app) -> AsyncIterator[httpx.AsyncClient]:
    """A client that gets the 500 of a crashed request instead of the exception."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def purchases_of(app, member) -> int:
    async with app.state.runtime.sessionmaker() as session:
        statement = select(func.count()).where(Purchase.member_id == uuid.UUID(member["id"]))
        return int(await session.scalar(statement) or 0)


async def test_a_purchase_that_fails_after_its_points_and_event_were_written_leaves_neither(
    app, client, crashing_client, pos
):
    anna = await enrol(client, pos, name="Anna")
    before = await counts(app)
    body = {"member_id": anna["id"], "order_id": "o-1", "channel": "pos", "currency": "EUR"}
    headers = idempotent(pos, "retry-me")

    # The purchase, its ledger transaction and its event are flushed; then storing the
    # idempotent response fails, just before the commit.
    async with refused_by_the_database(app, "idempotency_record", "UPDATE"):
        failed = await crashing_client.post(
            "/v1/purchases", json=body | {"total": 4590}, headers=headers
        )

    assert failed.status_code == 500
    assert await counts(app) == before
    assert await purchases_of(app, anna) == 0
    assert (await balance(client, pos, anna))["available"] == 0

    retried = await client.post("/v1/purchases", json=body | {"total": 4590}, headers=headers)

    assert retried.status_code == 201, retried.text
    [earned] = await all_events(app, "points.earned")
    assert (earned.data["points"], earned.data["related_id"]) == (45, retried.json()["id"])
    await assert_each_transaction_has_its_event(app)


async def test_an_event_that_cannot_be_written_takes_its_change_with_it(
    app, client, crashing_client, pos
):
    anna = await enrol(client, pos, name="Anna")
    before = await counts(app)
    body = {"member_id": anna["id"], "order_id": "o-1", "channel": "pos", "currency": "EUR"}

    async with refused_by_the_database(app, "event", "INSERT", "NEW.type = 'points.earned'"):
        failed = await crashing_client.post(
            "/v1/purchases", json=body | {"total": 4590}, headers=idempotent(pos)
        )

    assert failed.status_code == 500
    assert await counts(app) == before
    assert await purchases_of(app, anna) == 0
    assert (await balance(client, pos, anna))["available"] == 0
    await assert_ledger_verifies(app)


async def test_after_a_mixed_workload_events_and_ledger_transactions_match_one_to_one(
    app, client, admin, pos
):
    """Purchases, returns, redemptions (some refused), cancels (some refused), adjustments
    (some refused), running concurrently: what committed has its event, nothing else has."""
    rng = random.Random(7)
    members = [await enrol(client, pos, name=f"M{n}") for n in range(4)]
    bought: list[dict[str, Any]] = []
    paid: list[dict[str, Any]] = []
    statuses: dict[int, int] = defaultdict(int)

    async def one_step(step: int) -> None:
        member = rng.choice(members)
        kind = rng.choice(["purchase", "return", "redeem", "cancel", "adjust"])
        if kind == "purchase":
            body = {"member_id": member["id"], "order_id": f"o-{step}", "channel": "pos"}
            response = await write(
                client,
                "/v1/purchases",
                pos,
                body | {"currency": "EUR", "total": rng.randint(100, 5000)},
            )
            if response.status_code == 201:
                bought.append(response.json())
        elif kind == "return" and bought:
            chosen = rng.choice(bought)
            response = await write(
                client,
                f"/v1/purchases/{chosen['id']}/returns",
                pos,
                {"amount": rng.randint(1, 3000)},
            )
        elif kind == "redeem":
            response = await write(
                client,
                f"/v1/members/{member['id']}/redemptions",
                pos,
                {"points": rng.randint(1, 60)},
            )
            if response.status_code == 201:
                paid.append(response.json())
        elif kind == "cancel" and paid:
            response = await cancel_redemption(client, pos, rng.choice(paid))
        else:
            response = await write(
                client,
                f"/v1/members/{member['id']}/adjustments",
                admin,
                {"points": rng.choice([-40, -5, 5, 30]), "reason": "test"},
            )
        statuses[response.status_code] += 1

    for wave in range(8):
        await asyncio.gather(*(one_step(wave * 6 + n) for n in range(6)))

    assert statuses[201] > 10, statuses
    assert statuses[409] > 0, statuses
    transactions = await assert_each_transaction_has_its_event(app)
    _, stored = await counts(app)
    ledger_events = [e for e in await all_events(app) if e.type.startswith("points.")]
    assert len(ledger_events) == stored == len(transactions)
    await assert_ledger_verifies(app)


async def test_the_events_of_one_transaction_keep_the_order_they_were_emitted_in(app):
    """Events of one transaction share their created_at; the log's (created_at, id) order
    still shows them in the order they happened (a payment after the expiry it ran)."""
    now = datetime.now(UTC)
    async with app.state.runtime.sessionmaker() as session:
        for n in range(50):
            emit(session, "test.step", None, {"n": n}, now)
        await session.commit()

    assert [e.data["n"] for e in await all_events(app, "test.step")] == list(range(50))
