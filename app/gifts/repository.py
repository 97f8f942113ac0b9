"""Every query of gifts."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.gifts.models import Gift, GiftStatus


async def by_code_hash(session: AsyncSession, code_hash: str) -> Gift | None:
    return (await session.scalars(select(Gift).where(Gift.code_hash == code_hash))).one_or_none()


def _live(now: datetime) -> ColumnElement[bool]:
    """Open and still within its validity: claimable."""
    return and_(Gift.status == GiftStatus.open, Gift.expires_at > now)


async def count_open(session: AsyncSession, sender_id: UUID, now: datetime) -> int:
    """The sender's gifts that can still be claimed."""
    statement = select(func.count()).where(Gift.sender_id == sender_id, _live(now))
    return int(await session.scalar(statement) or 0)


async def points_given_since(
    session: AsyncSession, sender_id: UUID, since: datetime, now: datetime
) -> int:
    """Points the sender gave away since ``since``: claimed gifts and those still open."""
    statement = select(func.coalesce(func.sum(Gift.points), 0)).where(
        Gift.sender_id == sender_id,
        Gift.created_at >= since,
        or_(Gift.status == GiftStatus.claimed, _live(now)),
    )
    return int(await session.scalar(statement) or 0)


async def settle(
    session: AsyncSession, gift: Gift, status: GiftStatus, now: datetime, **values: object
) -> bool:
    """Move an open gift to ``status``; False when another claim, cancel or expiry won.

    A claim or cancel needs the gift still within its validity, the expiry job past it.
    """
    in_time = Gift.expires_at <= now if status == GiftStatus.expired else Gift.expires_at > now
    result = await session.execute(
        update(Gift)
        .where(Gift.id == gift.id, Gift.status == GiftStatus.open, in_time)
        .values(status=status, settled_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(gift)
    return bool(getattr(result, "rowcount", 0))


async def due_for_expiry(session: AsyncSession, now: datetime, limit: int) -> Sequence[UUID]:
    statement = (
        select(Gift.id)
        .where(Gift.status == GiftStatus.open, Gift.expires_at <= now)
        .order_by(Gift.expires_at)
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


def sent_by(sender_id: UUID) -> Select[Gift]:
    return select(Gift).where(Gift.sender_id == sender_id)


async def open_sent_by(session: AsyncSession, sender_id: UUID) -> Sequence[Gift]:
    statement = select(Gift).where(Gift.sender_id == sender_id, Gift.status == GiftStatus.open)
    return (await session.scalars(statement.order_by(Gift.created_at, Gift.id))).all()


async def clear_texts_of(session: AsyncSession, member_ids: Sequence[UUID]) -> list[UUID]:
    """Forget the free texts (message, recipient hint) of gifts these members sent or got:
    they may name or describe the person. Returns the ids of the gifts that had some."""
    with_texts = (
        or_(Gift.sender_id.in_(member_ids), Gift.recipient_id.in_(member_ids)),
        or_(Gift.message.is_not(None), Gift.recipient_hint.is_not(None)),
    )
    gift_ids = list((await session.scalars(select(Gift.id).where(*with_texts))).all())
    await session.execute(
        update(Gift)
        .where(*with_texts)
        .values(message=None, recipient_hint=None)
        .execution_options(synchronize_session=False)
    )
    return gift_ids
