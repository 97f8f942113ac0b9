from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.members.models import Member


async def get(session: AsyncSession, member_id: UUID) -> Member | None:
    return await session.get(Member, member_id)


async def get_by(session: AsyncSession, **unique_field: str) -> Member | None:
    """A member by one unique field: card_number, external_id, email or referral_code."""
    [(field, value)] = unique_field.items()
    result = await session.scalars(select(Member).where(getattr(Member, field) == value))
    return result.one_or_none()


def list_statement(
    card_number: str | None = None, external_id: str | None = None, email: str | None = None
) -> Select[Member]:
    statement = select(Member)
    if card_number is not None:
        statement = statement.where(Member.card_number == card_number)
    if external_id is not None:
        statement = statement.where(Member.external_id == external_id)
    if email is not None:
        statement = statement.where(Member.email == email)
    return statement


async def taken_fields(session: AsyncSession, member: Member, fields: dict[str, str]) -> list[str]:
    """Which of the given unique fields another member already has."""
    taken = []
    for field, value in fields.items():
        other = await get_by(session, **{field: value})
        if other is not None and other.id != member.id:
            taken.append(field)
    return taken


async def exists(session: AsyncSession, **unique_field: str) -> bool:
    return await get_by(session, **unique_field) is not None
