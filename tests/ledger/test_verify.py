"""`stammkunde verify`: the ledger adds up after real use, and tampering is found and named."""

import uuid
from datetime import datetime

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from app.ledger import jobs, verify
from app.ledger.models import Account, AccountKind, LedgerTransaction, Posting
from tests.factories import (
    adjust,
    balance,
    cancel_redemption,
    claim,
    days_ago,
    enrol,
    purchase,
    redeem,
    return_purchase,
    set_program,
    stammkunde,
    transactions,
)


@pytest.fixture
async def anna(client, pos):
    return await enrol(client, pos, name="Anna")


async def first_mismatch(app) -> str | None:
    async with app.state.runtime.sessionmaker() as session:
        return await verify.first_mismatch(session)


async def a_busy_month(app, client, admin, pos, anna) -> None:
    """Purchases, a receipt claimed later, returns, payments, goodwill, and the jobs."""
    ben = await enrol(client, pos, name="Ben", referral_code=anna["referral_code"])
    old = await purchase(client, pos, anna, 12000, occurred_at=days_ago(740))
    await purchase(client, pos, anna, 4590, occurred_at=days_ago(700))
    # The first payment expires the 120 points that are past their expiry date.
    paid = await redeem(client, pos, anna, 30, order_id="web-1")
    assert (await cancel_redemption(client, pos, paid)).status_code == 200
    await redeem(client, pos, anna, 40, order_id="web-2")
    # Half of the expired purchase comes back: taken from the expired points, not from Anna.
    await return_purchase(client, pos, old, amount=6000)
    await adjust(client, admin, anna, 25, "Kulanz")
    await set_program(client, admin, pending_days=14)
    pending = await purchase(client, pos, ben, 8000)
    await return_purchase(client, pos, pending, amount=1000)
    receipt = await purchase(client, pos, None, 3000)
    assert (await claim(client, pos, receipt["claim_code"], ben)).status_code == 201
    sessionmaker = app.state.runtime.sessionmaker
    assert await jobs.expire_due_lots(sessionmaker) == 0  # the payment expired it already
    later = datetime.fromisoformat(pending["available_at"])
    assert await jobs.release_due_pending(sessionmaker, now=later) == 2


async def test_after_a_busy_month_the_ledger_verifies(app, client, admin, database, pos, anna):
    await a_busy_month(app, client, admin, pos, anna)

    result = await stammkunde(database.url, "verify")

    assert await first_mismatch(app) is None
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ledger verified")


async def test_the_database_refuses_to_change_or_delete_ledger_entries(app, client, pos, anna):
    await purchase(client, pos, anna, 4590)
    member_id = uuid.UUID(anna["id"])

    for statement in (
        update(LedgerTransaction).where(LedgerTransaction.member_id == member_id).values(points=1),
        delete(LedgerTransaction).where(LedgerTransaction.member_id == member_id),
        update(Posting).where(Posting.member_id == member_id).values(amount=1),
        delete(Posting).where(Posting.member_id == member_id),
    ):
        async with app.state.runtime.sessionmaker() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(statement)
            await session.rollback()

    assert (await balance(client, pos, anna))["available"] == 45
    assert len((await transactions(client, pos, anna))["items"]) == 1
    assert await first_mismatch(app) is None


async def test_a_changed_cached_balance_is_named_with_its_member(app, client, database, pos, anna):
    await purchase(client, pos, anna, 4590)
    async with app.state.runtime.sessionmaker() as session:
        await session.execute(
            update(Account)
            .where(
                Account.member_id == uuid.UUID(anna["id"]),
                Account.kind == AccountKind.available,
            )
            .values(balance=Account.balance + 1000)
        )
        await session.commit()

    problem = await first_mismatch(app)
    result = await stammkunde(database.url, "verify")

    assert problem == f"member {anna['id']}: available balance is 1045, its postings sum to 45"
    assert result.exit_code == 1
    assert result.stderr == f"ledger mismatch: {problem}\n"


async def test_an_altered_entry_is_named_by_its_id(app, client, database, pos, anna):
    await purchase(client, pos, anna, 4590)
    await redeem(client, pos, anna, 20)
    [_, earned] = (await transactions(client, pos, anna))["items"]

    async with app.state.runtime.engine.begin() as conn:
        # Only someone who can switch the database's guard off gets this far.
        if conn.dialect.name == "postgresql":
            guard = "ledger_transaction_append_only"
            await conn.execute(text(f"ALTER TABLE ledger_transaction DISABLE TRIGGER {guard}"))
        else:
            await conn.execute(text("DROP TRIGGER ledger_transaction_no_update"))
        await conn.execute(
            update(LedgerTransaction)
            .where(LedgerTransaction.id == uuid.UUID(earned["id"]))
            .values(points=4500)
        )
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"ALTER TABLE ledger_transaction ENABLE TRIGGER {guard}"))
        altered = await conn.scalar(
            select(LedgerTransaction.points).where(LedgerTransaction.id == uuid.UUID(earned["id"]))
        )
    assert altered == 4500

    problem = await first_mismatch(app)
    result = await stammkunde(database.url, "verify")

    assert problem is not None
    assert problem.startswith(f"member {anna['id']}: entry {earned['id']} (seq 1)")
    assert "altered" in problem
    assert result.exit_code == 1
    assert earned["id"] in result.stderr
