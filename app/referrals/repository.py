"""Every query of referrals."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.earning.models import Purchase
from app.ledger.models import LedgerTransaction
from app.referrals.models import Referral, ReferralStatus


async def get(session: AsyncSession, referral_id: UUID) -> Referral | None:
    """The referral as stored now (not as an earlier read in this session saw it)."""
    return await session.get(Referral, referral_id, populate_existing=True)


_OF_REFEREE = (
    select(Referral)
    .where(Referral.referee_id == bindparam("referee_id"))
    .execution_options(populate_existing=True)
)


async def of_referee(session: AsyncSession, referee_id: UUID) -> Referral | None:
    """The referral that brought ``referee_id``, in whatever status."""
    return (await session.scalars(_OF_REFEREE, {"referee_id": referee_id})).one_or_none()


async def move(
    session: AsyncSession,
    referral: Referral,
    source: ReferralStatus,
    target: ReferralStatus,
    **values: Any,
) -> bool:
    """Move the referral from ``source`` to ``target``; False when it is no longer in
    ``source`` (another transaction moved it first)."""
    result = await session.execute(
        update(Referral)
        .where(Referral.id == referral.id, Referral.status == source)
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(referral)
    return bool(getattr(result, "rowcount", 0))


async def qualified(
    session: AsyncSession, after: tuple[datetime, UUID] | None, limit: int
) -> Sequence[tuple[datetime, UUID]]:
    """Referrals whose referrer's bonus is due, oldest qualification first, after ``after``."""
    statement = select(Referral.qualified_at, Referral.id).where(
        Referral.status == ReferralStatus.qualified
    )
    if after is not None:
        qualified_at, referral_id = after
        statement = statement.where(
            or_(
                Referral.qualified_at > qualified_at,
                and_(Referral.qualified_at == qualified_at, Referral.id > referral_id),
            )
        )
    rows = await session.execute(
        statement.order_by(Referral.qualified_at, Referral.id).limit(limit)
    )
    return [(at, referral_id) for at, referral_id in rows.all() if at is not None]


async def referrer_bonuses_between(
    session: AsyncSession, member_id: UUID, since: datetime, until: datetime
) -> int:
    """How many referral bonuses ``member_id`` got as the referrer in ``[since, until)``."""
    statement = (
        select(func.count())
        .select_from(LedgerTransaction)
        .join(Referral, Referral.referrer_transaction_id == LedgerTransaction.id)
        .where(
            LedgerTransaction.member_id == member_id,
            LedgerTransaction.created_at >= since,
            LedgerTransaction.created_at < until,
        )
    )
    return int(await session.scalar(statement) or 0)


async def has_purchase_of_at_least(session: AsyncSession, member_id: UUID, total: int) -> bool:
    """Whether the member made (or claimed) a purchase of at least ``total``."""
    statement = (
        select(Purchase.id).where(Purchase.member_id == member_id, Purchase.total >= total).limit(1)
    )
    return await session.scalar(statement) is not None


def made_by(referrer_id: UUID) -> Select[Referral]:
    return select(Referral).where(Referral.referrer_id == referrer_id)
