"""Every query of the member import."""

from collections.abc import Collection
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.imports.models import ImportRow
from app.members.models import Member


async def imported(session: AsyncSession, keys: Collection[str]) -> dict[str, UUID]:
    """Of these row keys, those imported before, with the member each became."""
    if not keys:
        return {}
    rows = await session.execute(
        select(ImportRow.key, ImportRow.member_id).where(ImportRow.key.in_(list(keys)))
    )
    return dict(rows.all())


async def members_by(session: AsyncSession, field: str, values: Collection[str]) -> dict[str, UUID]:
    """Members whose ``field`` (external_id, card_number, email or phone) is one of ``values``:
    value -> the member (for a duplicate record merged away, the member it was merged into)."""
    if not values:
        return {}
    column = getattr(Member, field)
    rows = await session.execute(
        select(column, Member.id, Member.merged_into_id).where(column.in_(list(values)))
    )
    return {value: merged_into or member_id for value, member_id, merged_into in rows.all()}


async def taken(session: AsyncSession, field: str, values: Collection[str]) -> set[str]:
    """Which of ``values`` a member has as ``field`` already (card numbers, referral codes)."""
    return set(await members_by(session, field, values))


async def forget(session: AsyncSession, member_ids: Collection[UUID]) -> None:
    """Drop the row keys of these members (erased: no key may lead back to their data)."""
    await session.execute(
        delete(ImportRow)
        .where(ImportRow.member_id.in_(list(member_ids)))
        .execution_options(synchronize_session=False)
    )
