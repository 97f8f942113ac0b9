"""The ledger's jobs: pending points become available, unspent points expire, each once."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app.ledger import jobs
from app.ledger.models import (
    AccountKind,
    EarnLot,
    LotStatus,
    Posting,
    Side,
    program_account_id,
)
from tests.factories import (
    balance,
    days_ago,
    enrol,
    execute,
    purchase,
    redeem,
    return_purchase,
    set_program,
    stammkunde,
    transactions,
)

SECOND = timedelta(seconds=1)


@pytest.fixture
async def anna(client, pos):
    return await enrol(client, pos, name="Anna")


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def expired_account_total(app) -> int:
    """What the programme's expired account received, from its postings."""
    async with app.state.runtime.sessionmaker() as session:
        total = await session.scalar(
            select(func.coalesce(func.sum(Posting.amount), 0)).where(
                Posting.account_id == program_account_id(AccountKind.expired),
                Posting.side == Side.credit,
            )
        )
    return int(total or 0)


async def test_pending_points_become_available_when_the_return_window_closes_once(
    app, client, admin, pos, anna
):
    await set_program(client, admin, pending_days=14)
    bought = await purchase(client, pos, anna, 4590)
    sessionmaker = app.state.runtime.sessionmaker
    closes = at(bought["available_at"])

    early = await jobs.release_due_pending(sessionmaker, now=closes - SECOND)
    assert (early, (await balance(client, pos, anna))["pending"]) == (0, 45)

    released = await jobs.release_due_pending(sessionmaker, now=closes)
    again = await jobs.release_due_pending(sessionmaker, now=closes + timedelta(days=1))

    assert (released, again) == (1, 0)
    current = await balance(client, pos, anna)
    assert (current["available"], current["pending"], current["lifetime_earned"]) == (45, 0, 45)
    history = (await transactions(client, pos, anna))["items"]
    assert [(t["type"], t["points"], t["balance_after"]) for t in history] == [
        ("pending_release", 0, 45),
        ("purchase", 45, 0),
    ]
    assert (await redeem(client, pos, anna, 45))["balance"]["available"] == 0


async def test_released_points_first_pay_back_a_debt_from_a_return(app, client, admin, pos, anna):
    spent = await purchase(client, pos, anna, 10000)
    await redeem(client, pos, anna, 100)
    await set_program(client, admin, pending_days=14)
    pending = await purchase(client, pos, anna, 5000)
    await return_purchase(client, pos, spent, amount=10000)
    assert (await balance(client, pos, anna))["available"] == -100

    await jobs.release_due_pending(app.state.runtime.sessionmaker, now=at(pending["available_at"]))

    current = await balance(client, pos, anna)
    assert (current["available"], current["pending"]) == (-50, 0)


async def test_what_is_left_of_a_lot_expires_once_into_the_expired_account(app, client, pos, anna):
    bought = await purchase(client, pos, anna, 10000, occurred_at=days_ago(700))
    await redeem(client, pos, anna, 30)
    sessionmaker = app.state.runtime.sessionmaker
    expiry = at(bought["expires_at"])

    early = await jobs.expire_due_lots(sessionmaker, now=expiry - SECOND)
    expired = await jobs.expire_due_lots(sessionmaker, now=expiry)
    again = await jobs.expire_due_lots(sessionmaker, now=expiry + timedelta(days=30))

    assert (early, expired, again) == (0, 1, 0)
    current = await balance(client, pos, anna)
    assert (current["available"], current["expiring"]) == (0, [])
    newest = (await transactions(client, pos, anna))["items"][0]
    assert (newest["type"], newest["points"], newest["balance_after"]) == ("expiry", -70, 0)
    assert await expired_account_total(app) == 70


async def test_each_members_lots_expire_on_their_own_date(app, client, pos, anna):
    ben = await enrol(client, pos, name="Ben")
    annas = await purchase(client, pos, anna, 5000, occurred_at=days_ago(700))
    await purchase(client, pos, ben, 3000, occurred_at=days_ago(650))

    expired = await jobs.expire_due_lots(
        app.state.runtime.sessionmaker, now=at(annas["expires_at"]) + SECOND
    )

    assert expired == 1
    assert (await balance(client, pos, anna))["available"] == 0
    assert (await balance(client, pos, ben))["available"] == 30


async def test_jobs_run_once_on_the_command_line_prints_what_each_job_did(
    app, client, admin, database, pos, anna
):
    await purchase(client, pos, anna, 4000, occurred_at=days_ago(800))  # expired a month ago
    await set_program(client, admin, pending_days=14)
    pending = await purchase(client, pos, anna, 2500)
    # The return window of the pending purchase closed a minute ago.
    await execute(
        app,
        update(EarnLot)
        .where(EarnLot.member_id == uuid.UUID(anna["id"]), EarnLot.status == LotStatus.pending)
        .values(available_at=datetime.now(UTC) - timedelta(minutes=1)),
    )
    assert pending["points_pending"] == 25

    result = await stammkunde(database.url, "jobs", "run", "--once")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "release_pending\t1",
        "expire_lots\t1",
        "notify_expiring_points\t0",
        "purge_idempotency_records\t0",
        "grant_birthday_bonuses\t0",
        "review_tiers\t0",
        "clean_up_vouchers\t0",
        "expire_gifts\t0",
        "reward_referrers\t0",
        "classify_members_abc\t0",
        "deliver_webhooks\t0",
        "prune_events\t0",
    ]
    current = await balance(client, pos, anna)
    assert (current["available"], current["pending"]) == (25, 0)
