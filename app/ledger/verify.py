"""`stammkunde verify`: recompute the ledger and report the first thing that does not add up.

Checks that every transaction balances, every cached balance equals the sum of its
postings, every member's hash chain is unbroken and matches its head, and the lots hold
exactly the spendable and pending points, and the gift escrow account holds exactly the
points of the open gifts.
"""

from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.gifts.models import Gift, GiftStatus
from app.ledger import chain
from app.ledger.models import (
    Account,
    AccountKind,
    EarnLot,
    LedgerTransaction,
    LotStatus,
    Posting,
    Side,
    program_account_id,
)
from app.ledger.postings import Leg, balance_change

MEMBER_BATCH = 500

_signed = case((Posting.side == Side.credit, Posting.amount), else_=-Posting.amount)


async def first_mismatch(session: AsyncSession) -> str | None:
    for check in (_unbalanced_transaction, _wrong_cached_balance, _escrow_not_open_gifts):
        problem = await check(session)
        if problem is not None:
            return problem
    async for batch in _member_batches(session):
        problem = await _chains_and_lots(session, batch)
        if problem is not None:
            return problem
    return None


async def _unbalanced_transaction(session: AsyncSession) -> str | None:
    row = (
        await session.execute(
            select(Posting.transaction_id, func.sum(_signed))
            .group_by(Posting.transaction_id)
            .having(func.sum(_signed) != 0)
            .limit(1)
        )
    ).first()
    if row is not None:
        return f"transaction {row[0]}: postings do not balance (credits - debits = {row[1]})"
    orphan = await session.scalar(
        select(LedgerTransaction.id)
        .where(~select(Posting.id).where(Posting.transaction_id == LedgerTransaction.id).exists())
        .limit(1)
    )
    if orphan is not None:
        return f"transaction {orphan}: has no postings"
    return None


async def _wrong_cached_balance(session: AsyncSession) -> str | None:
    sums = (
        select(Posting.account_id, func.sum(_signed).label("total"))
        .group_by(Posting.account_id)
        .subquery()
    )
    row = (
        await session.execute(
            select(Account.id, Account.member_id, Account.kind, Account.balance, sums.c.total)
            .outerjoin(sums, sums.c.account_id == Account.id)
            .where(
                Account.member_id.is_not(None),
                Account.balance != func.coalesce(sums.c.total, 0),
            )
            .limit(1)
        )
    ).first()
    if row is not None:
        return (
            f"member {row.member_id}: {row.kind} balance is {row.balance}, "
            f"its postings sum to {row.total or 0}"
        )
    return None


async def _escrow_not_open_gifts(session: AsyncSession) -> str | None:
    in_escrow = await session.scalar(
        select(func.coalesce(func.sum(_signed), 0)).where(
            Posting.account_id == program_account_id(AccountKind.gift_escrow)
        )
    )
    in_open_gifts = await session.scalar(
        select(func.coalesce(func.sum(Gift.points), 0)).where(Gift.status == GiftStatus.open)
    )
    if int(in_escrow or 0) != int(in_open_gifts or 0):
        return f"gift escrow holds {in_escrow} points, the open gifts {in_open_gifts}"
    return None


async def _member_batches(session: AsyncSession) -> AsyncIterator[list[UUID]]:
    """Member ids in order, ``MEMBER_BATCH`` at a time."""
    after: UUID | None = None
    while True:
        statement = select(Account.member_id).where(Account.kind == AccountKind.available)
        if after is not None:
            statement = statement.where(Account.member_id > after)
        batch = [
            member_id
            for member_id in (
                await session.scalars(statement.order_by(Account.member_id).limit(MEMBER_BATCH))
            ).all()
            if member_id is not None
        ]
        if not batch:
            return
        yield batch
        after = batch[-1]


@dataclass(slots=True)
class _MemberRows:
    """What one member's checks read: plain rows, several members' at a time."""

    accounts: dict[str, Any] = field(default_factory=dict)  # rows by account kind
    transactions: list[Any] = field(default_factory=list)  # rows by seq
    legs: dict[UUID, list[Leg]] = field(default_factory=lambda: defaultdict(list))
    lots: dict[str, int] = field(default_factory=dict)


async def _chains_and_lots(session: AsyncSession, member_ids: list[UUID]) -> str | None:
    """The checks of each member in the batch, reading the whole batch in four queries
    (rows, not ORM objects: a big ledger has millions of them)."""
    first, last = member_ids[0], member_ids[-1]
    rows: dict[UUID, _MemberRows] = {member_id: _MemberRows() for member_id in member_ids}
    accounts = await session.execute(
        select(*Account.__table__.c).where(Account.member_id.between(first, last))
    )
    for account in accounts:
        rows[account.member_id].accounts[account.kind] = account
    transactions = await session.execute(
        select(*LedgerTransaction.__table__.c)
        .where(LedgerTransaction.member_id.between(first, last))
        .order_by(LedgerTransaction.member_id, LedgerTransaction.seq)
    )
    for entry in transactions:
        rows[entry.member_id].transactions.append(entry)
    postings = await session.execute(
        select(*Posting.__table__.c).where(Posting.member_id.between(first, last))
    )
    for posting in postings:
        rows[posting.member_id].legs[posting.transaction_id].append(
            Leg(posting.account_id, Side(posting.side), posting.amount)
        )
    lots = await session.execute(
        select(EarnLot.member_id, EarnLot.status, func.coalesce(func.sum(EarnLot.remaining), 0))
        .where(EarnLot.member_id.between(first, last))
        .group_by(EarnLot.member_id, EarnLot.status)
    )
    for member_id, status, remaining in lots:
        rows[member_id].lots[status] = int(remaining)
    for member_id in member_ids:
        problem = _member_chain_and_lots(member_id, rows[member_id])
        if problem is not None:
            return problem
    return None


def _member_chain_and_lots(member_id: UUID, rows: _MemberRows) -> str | None:
    available, pending = rows.accounts[AccountKind.available], rows.accounts[AccountKind.pending]
    legs = rows.legs
    prev_hash, running_available, running_pending = chain.GENESIS, 0, 0
    for expected_seq, entry in enumerate(rows.transactions, start=1):
        where = f"member {member_id}: entry {entry.id} (seq {entry.seq})"
        if entry.seq != expected_seq:
            return f"{where}: sequence gap, expected seq {expected_seq}"
        if entry.prev_hash != prev_hash:
            return f"{where}: does not link to the previous entry's hash"
        running_available += balance_change(legs[entry.id], available.id)
        running_pending += balance_change(legs[entry.id], pending.id)
        if (entry.available_after, entry.pending_after) != (running_available, running_pending):
            return f"{where}: balances after it do not follow from the postings"
        recomputed = chain.entry_hash(
            prev_hash=entry.prev_hash,
            transaction_id=entry.id,
            member_id=entry.member_id,
            seq=entry.seq,
            type=entry.type,
            points=entry.points,
            available_after=entry.available_after,
            pending_after=entry.pending_after,
            reference=entry.reference,
            related_id=entry.related_id,
            created_at=entry.created_at,
            legs=legs[entry.id],
        )
        if recomputed != entry.hash:
            return f"{where}: hash does not match its contents (the entry was altered)"
        prev_hash = entry.hash
    if available.chain_head != prev_hash or available.entry_count != len(rows.transactions):
        return f"member {member_id}: chain head does not match the last entry"
    in_available = rows.lots.get(LotStatus.available, 0)
    in_pending = rows.lots.get(LotStatus.pending, 0)
    if in_available != max(available.balance or 0, 0):
        return (
            f"member {member_id}: available lots hold {in_available}, "
            f"the balance is {available.balance or 0}"
        )
    if in_pending != (pending.balance or 0):
        return (
            f"member {member_id}: pending lots hold {in_pending}, "
            f"the balance is {pending.balance or 0}"
        )
    return None
