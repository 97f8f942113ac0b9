"""Ledger jobs: pending points become available, expired lots expire.

Idempotent and safe with several processes against one PostgreSQL: each member is handled
in its own short transaction under its account lock, taken with SKIP LOCKED so that two
runners (or a runner and a busy till) never wait for each other; a skipped member is due
again on the next run.
"""

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import utcnow
from app.ledger import repository
from app.ledger import service as ledger_service
from app.ledger.models import Account, AccountKind
from app.ledger.service import MemberLedger

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


async def _lock_or_skip(session: AsyncSession, member_id: UUID) -> MemberLedger | None:
    accounts = (
        await session.scalars(
            select(Account)
            .where(Account.member_id == member_id)
            .order_by(Account.kind)
            .with_for_update(skip_locked=True)
        )
    ).all()
    by_kind = {account.kind: account for account in accounts}
    if len(by_kind) < 2:
        return None
    return MemberLedger(member_id, by_kind[AccountKind.available], by_kind[AccountKind.pending])


async def _per_member(
    sessionmaker: async_sessionmaker[AsyncSession],
    find_members: Callable[[AsyncSession, datetime, int], Awaitable[Sequence[UUID]]],
    work: Callable[[AsyncSession, MemberLedger, datetime], Awaitable[int]],
    now: datetime,
) -> int:
    """Run ``work`` for every member ``find_members`` reports due, batch by batch."""
    done = 0
    skipped: set[UUID] = set()
    while True:
        async with sessionmaker() as session:
            due = [
                m
                for m in await find_members(session, now, BATCH_SIZE + len(skipped))
                if m not in skipped
            ]
        if not due:
            return done
        for member_id in due:
            async with sessionmaker() as session, session.begin():
                ledger = await _lock_or_skip(session, member_id)
                if ledger is None:
                    skipped.add(member_id)
                    continue
                done += await work(session, ledger, now)


async def _release(session: AsyncSession, ledger: MemberLedger, now: datetime) -> int:
    lots = await repository.due_pending_lots(session, ledger.member_id, now)
    ledger_service.release_pending(session, ledger, lots, now)
    return len(lots)


async def _expire(session: AsyncSession, ledger: MemberLedger, now: datetime) -> int:
    lots = await repository.due_expiring_lots(session, ledger.member_id, now)
    ledger_service.expire(session, ledger, lots, now)
    return len(lots)


async def release_due_pending(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> int:
    """Make pending lots whose return window closed available; return how many lots."""
    return await _per_member(
        sessionmaker, repository.members_with_pending_due, _release, now or utcnow()
    )


async def expire_due_lots(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> int:
    """Expire what is left of lots past their expiry; return how many lots."""
    return await _per_member(
        sessionmaker, repository.members_with_expiry_due, _expire, now or utcnow()
    )
