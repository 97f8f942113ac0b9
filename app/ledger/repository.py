"""Every query of the ledger."""

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Select, bindparam, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.locks import QUEUE
from app.db.session import is_postgresql
from app.ledger.models import (
    Account,
    EarnLot,
    LedgerTransaction,
    LotConsumption,
    LotStatus,
    Posting,
    TransactionType,
)

EARNING_TYPES = (
    TransactionType.purchase,
    TransactionType.receipt_claim,
    TransactionType.purchase_return,
    TransactionType.signup_bonus,
    TransactionType.birthday_bonus,
    TransactionType.profile_bonus,
)


# Built once: every write to a member's points runs it. On PostgreSQL it waits in the
# member's queue first (app.db.locks), in the same statement.
_MEMBER_ACCOUNTS_FOR_UPDATE = (
    select(Account)
    .where(Account.member_id == bindparam("member_id"))
    .order_by(Account.kind)
    .with_for_update()
)
_QUEUED_MEMBER_ACCOUNTS_FOR_UPDATE = (
    select(Account)
    .join(QUEUE, true())
    .where(Account.member_id == bindparam("member_id"))
    .order_by(Account.kind)
    .with_for_update(of=Account)
)


async def lock_member_accounts(session: AsyncSession, member_id: UUID) -> Sequence[Account]:
    """The member's accounts, locked for this transaction (always in the same order)."""
    if is_postgresql(session):
        statement = _QUEUED_MEMBER_ACCOUNTS_FOR_UPDATE
        params = {"member_id": member_id, "queue_key": str(member_id)}
    else:  # every SQLite write transaction holds the database's write lock already
        statement, params = _MEMBER_ACCOUNTS_FOR_UPDATE, {"member_id": member_id}
    return (await session.scalars(statement, params)).all()


_MEMBER_ACCOUNTS = select(Account).where(Account.member_id == bindparam("member_id"))


async def member_accounts(session: AsyncSession, member_id: UUID) -> Sequence[Account]:
    return (await session.scalars(_MEMBER_ACCOUNTS, {"member_id": member_id})).all()


_SPENDABLE_LOTS = select(EarnLot).where(
    EarnLot.member_id == bindparam("member_id"),
    EarnLot.status == LotStatus.available,
    EarnLot.remaining > 0,
)


async def spendable_lots(session: AsyncSession, member_id: UUID) -> Sequence[EarnLot]:
    return (await session.scalars(_SPENDABLE_LOTS, {"member_id": member_id})).all()


async def lots_by_id(session: AsyncSession, lot_ids: Sequence[UUID]) -> dict[UUID, EarnLot]:
    result = await session.scalars(select(EarnLot).where(EarnLot.id.in_(lot_ids)))
    return {lot.id: lot for lot in result.all()}


async def consumption_of(session: AsyncSession, transaction_id: UUID) -> Sequence[LotConsumption]:
    result = await session.scalars(
        select(LotConsumption).where(LotConsumption.transaction_id == transaction_id)
    )
    return result.all()


async def due_pending_lots(
    session: AsyncSession, member_id: UUID, now: datetime
) -> Sequence[EarnLot]:
    result = await session.scalars(
        select(EarnLot).where(
            EarnLot.member_id == member_id,
            EarnLot.status == LotStatus.pending,
            EarnLot.available_at <= now,
        )
    )
    return result.all()


async def due_expiring_lots(
    session: AsyncSession, member_id: UUID, now: datetime
) -> Sequence[EarnLot]:
    result = await session.scalars(
        select(EarnLot).where(
            EarnLot.member_id == member_id,
            EarnLot.status == LotStatus.available,
            EarnLot.remaining > 0,
            EarnLot.expires_at <= now,
        )
    )
    return result.all()


async def members_with_pending_due(
    session: AsyncSession, now: datetime, limit: int
) -> Sequence[UUID]:
    result = await session.scalars(
        select(EarnLot.member_id)
        .where(EarnLot.status == LotStatus.pending, EarnLot.available_at <= now)
        .group_by(EarnLot.member_id)
        .limit(limit)
    )
    return result.all()


async def members_with_expiry_due(
    session: AsyncSession, now: datetime, limit: int
) -> Sequence[UUID]:
    result = await session.scalars(
        select(EarnLot.member_id)
        .where(
            EarnLot.status == LotStatus.available,
            EarnLot.remaining > 0,
            EarnLot.expires_at <= now,
        )
        .group_by(EarnLot.member_id)
        .limit(limit)
    )
    return result.all()


_EXPIRING_LOTS = (
    select(EarnLot)
    .where(
        EarnLot.member_id == bindparam("member_id"),
        EarnLot.remaining > 0,
        EarnLot.expires_at.is_not(None),
        EarnLot.expires_at <= bindparam("until"),
    )
    .order_by(EarnLot.expires_at)
)


async def expiring_lots(
    session: AsyncSession, member_id: UUID, until: datetime
) -> Sequence[EarnLot]:
    return (await session.scalars(_EXPIRING_LOTS, {"member_id": member_id, "until": until})).all()


_LIFETIME_EARNED = select(func.coalesce(func.sum(LedgerTransaction.points), 0)).where(
    LedgerTransaction.member_id == bindparam("member_id"),
    LedgerTransaction.type.in_(EARNING_TYPES)
    | ((LedgerTransaction.type == TransactionType.adjustment) & (LedgerTransaction.points > 0)),
)


async def lifetime_earned(session: AsyncSession, member_id: UUID) -> int:
    """Points earned from purchases and receipts (net of returns), event bonuses and
    goodwill credits."""
    return int((await session.execute(_LIFETIME_EARNED, {"member_id": member_id})).scalar_one())


def member_transactions(member_id: UUID) -> Select[LedgerTransaction]:
    return select(LedgerTransaction).where(LedgerTransaction.member_id == member_id)


async def transaction(session: AsyncSession, transaction_id: UUID) -> LedgerTransaction | None:
    return await session.get(LedgerTransaction, transaction_id)


async def postings_of(session: AsyncSession, transaction_ids: Sequence[UUID]) -> Sequence[Posting]:
    result = await session.scalars(
        select(Posting).where(Posting.transaction_id.in_(transaction_ids))
    )
    return result.all()


async def lots_holding_points(session: AsyncSession, member_id: UUID) -> Sequence[EarnLot]:
    """The member's lots that still hold points, available or pending."""
    result = await session.scalars(
        select(EarnLot).where(EarnLot.member_id == member_id, EarnLot.remaining > 0)
    )
    return result.all()


async def claim_lots_to_notice(
    session: AsyncSession, now: datetime, until: datetime, limit: int
) -> Sequence[EarnLot]:
    """Available lots that still hold points, expire after ``now`` and by ``until``, and
    had no expiry notice yet; locked for this transaction. On PostgreSQL lots locked by
    another runner or by a till spending from them are skipped (SKIP LOCKED); they are
    due again on the next run. The conditions include the partial index's predicate."""
    result = await session.scalars(
        select(EarnLot)
        .where(
            EarnLot.expiry_notified_at.is_(None),
            EarnLot.remaining > 0,
            EarnLot.expires_at.is_not(None),
            EarnLot.expires_at > now,
            EarnLot.expires_at <= until,
            EarnLot.status == LotStatus.available,
        )
        .order_by(EarnLot.expires_at, EarnLot.id)
        .limit(limit)
        .with_for_update(skip_locked=True, key_share=True)
    )
    return result.all()


async def balances_of(
    session: AsyncSession, member_ids: Collection[UUID]
) -> dict[UUID, dict[str, int]]:
    """Each member's cached balances by account kind (``available``, ``pending``)."""
    result = await session.execute(
        select(Account.member_id, Account.kind, Account.balance).where(
            Account.member_id.in_(list(member_ids))
        )
    )
    balances: dict[UUID, dict[str, int]] = {}
    for member_id, kind, balance in result.all():
        assert member_id is not None
        balances.setdefault(member_id, {})[kind] = balance or 0
    return balances
