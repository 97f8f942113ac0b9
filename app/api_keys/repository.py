from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Select, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.models import ApiKey

LAST_USED_RESOLUTION = timedelta(minutes=1)


async def get(session: AsyncSession, api_key_id: UUID) -> ApiKey | None:
    return await session.get(ApiKey, api_key_id)


# Built once: every request authenticates.
_BY_KEY_ID = select(ApiKey).where(ApiKey.key_id == bindparam("key_id"))


async def get_by_key_id(session: AsyncSession, key_id: str) -> ApiKey | None:
    result = await session.execute(_BY_KEY_ID, {"key_id": key_id})
    return result.scalar_one_or_none()


def list_statement() -> Select[ApiKey]:
    return select(ApiKey)


async def any_exist(session: AsyncSession) -> bool:
    result = await session.execute(select(ApiKey.id).limit(1))
    return result.first() is not None


async def touch_last_used(session: AsyncSession, api_key_id: UUID, now: datetime) -> bool:
    """Record use, at most once per minute per key; return whether a row was written."""
    result = await session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == api_key_id,
            or_(
                ApiKey.last_used_at.is_(None),
                ApiKey.last_used_at < now - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
