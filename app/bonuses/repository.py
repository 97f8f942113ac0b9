"""Every query of the event bonuses."""

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Exists, SQLColumnExpression, exists, extract, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.bonuses.models import BonusGrant, BonusKind
from app.members.models import Member, MemberStatus


def _granted(member_id: UUID | SQLColumnExpression[UUID], kind: BonusKind, period: str) -> Exists:
    return exists().where(
        BonusGrant.member_id == member_id, BonusGrant.kind == kind, BonusGrant.period == period
    )


async def is_granted(session: AsyncSession, member_id: UUID, kind: BonusKind, period: str) -> bool:
    return bool(await session.scalar(select(_granted(member_id, kind, period))))


async def claim(session: AsyncSession, grant: BonusGrant) -> bool:
    """Insert ``grant``; False when the member already has this kind for this period.

    In a savepoint, so a collision with the unique constraint (a grant committed by a
    concurrent runner) leaves the caller's transaction usable, on SQLite and PostgreSQL alike.
    """
    try:
        async with session.begin_nested():
            session.add(grant)
    except IntegrityError:
        if await is_granted(session, grant.member_id, BonusKind(grant.kind), grant.period):
            return False
        raise
    return True


async def birthday_candidates(
    session: AsyncSession,
    *,
    month: int,
    days: Sequence[int] | None,
    period: str,
    after: UUID | None,
    limit: int,
) -> Sequence[UUID]:
    """Active members born in ``month`` (on one of ``days``) without this period's birthday
    bonus, by id, the next ``limit`` after ``after``."""
    statement = (
        select(Member.id)
        .where(
            Member.status == MemberStatus.active,
            Member.birthdate.is_not(None),
            extract("month", Member.birthdate) == month,
            ~_granted(Member.id, BonusKind.birthday, period),
        )
        .order_by(Member.id)
        .limit(limit)
    )
    if days is not None:
        statement = statement.where(extract("day", Member.birthdate).in_(days))
    if after is not None:
        statement = statement.where(Member.id > after)
    return (await session.scalars(statement)).all()
