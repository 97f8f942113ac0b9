from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.config_cache import cached
from app.ledger.models import LedgerTransaction, TransactionType
from app.members.models import Member
from app.tiers.models import Tier, TierChange

# Points that count towards a tier: earned from purchases (campaign extras included),
# returns subtracting; not event bonuses, goodwill or gifts.
QUALIFYING_TYPES = (
    TransactionType.purchase,
    TransactionType.receipt_claim,
    TransactionType.purchase_return,
)


async def tiers_by_rank(session: AsyncSession) -> Sequence[Tier]:
    return (await session.scalars(select(Tier).order_by(Tier.rank))).all()


async def get(session: AsyncSession, tier_id: UUID | None) -> Tier | None:
    return None if tier_id is None else await session.get(Tier, tier_id)


async def ladder(session: AsyncSession) -> Sequence[Tier]:
    """The tiers by rank as every sale reads them: cached, and copies in no session (read
    only). Changes to the ladder itself read ``tiers_by_rank``."""
    return await cached(session, "tier_ladder", _load_ladder)


async def _load_ladder(session: AsyncSession) -> tuple[Tier, ...]:
    rows = await session.execute(select(*Tier.__table__.columns).order_by(Tier.rank))
    return tuple(Tier(**row._asdict()) for row in rows)


# Built once: every sale runs it, and building a statement costs more than running it.
_QUALIFYING_POINTS = select(func.coalesce(func.sum(LedgerTransaction.points), 0)).where(
    LedgerTransaction.member_id == bindparam("member_id"),
    LedgerTransaction.type.in_(QUALIFYING_TYPES),
    LedgerTransaction.created_at >= bindparam("since"),
    LedgerTransaction.created_at < bindparam("until"),
)


async def qualifying_points(
    session: AsyncSession, member_id: UUID, since: datetime, until: datetime
) -> int:
    total = await session.scalar(
        _QUALIFYING_POINTS, {"member_id": member_id, "since": since, "until": until}
    )
    return int(total or 0)


async def names(session: AsyncSession, tier_ids: Iterable[UUID | None]) -> dict[UUID, str]:
    wanted = {tier_id for tier_id in tier_ids if tier_id is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(Tier.id, Tier.name).where(Tier.id.in_(wanted)))
    return dict(rows.all())


async def held_by_members(session: AsyncSession, tier_id: UUID) -> bool:
    """Whether a member holds the tier, earned or given by hand."""
    holder = await session.scalar(
        select(Member.id)
        .where(or_(Member.tier_id == tier_id, Member.manual_tier_id == tier_id))
        .limit(1)
    )
    return holder is not None


def history_statement(member_id: UUID) -> Select[TierChange]:
    return select(TierChange).where(TierChange.member_id == member_id)


async def members_due_for_review(
    session: AsyncSession, review_cutoff: datetime, now: datetime, after: UUID | None, limit: int
) -> Sequence[UUID]:
    """Members whose tier review (plus grace) is due or whose manual tier has ended, in id
    order after ``after``."""
    statement = select(Member.id).where(
        or_(
            Member.tier_secured_until <= review_cutoff,
            and_(Member.manual_tier_id.is_not(None), Member.manual_tier_until <= now),
        )
    )
    if after is not None:
        statement = statement.where(Member.id > after)
    return (await session.scalars(statement.order_by(Member.id).limit(limit))).all()


async def lock_member(session: AsyncSession, member_id: UUID) -> Member | None:
    """The member, locked for this transaction (waits for another holder)."""
    return (
        await session.scalars(
            select(Member)
            .where(Member.id == member_id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    ).one_or_none()


async def lock_member_or_skip(session: AsyncSession, member_id: UUID) -> Member | None:
    """The member, locked for this transaction; None when another transaction holds it.

    On SQLite the write transaction (``BEGIN IMMEDIATE``) already excludes every other.
    """
    return (
        await session.scalars(
            select(Member)
            .where(Member.id == member_id)
            .with_for_update(skip_locked=True, key_share=True)
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
