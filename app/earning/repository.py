from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.earning.models import Purchase
from app.ledger.models import EarnLot


async def get_for_update(session: AsyncSession, purchase_id: UUID) -> Purchase | None:
    return await session.get(Purchase, purchase_id, with_for_update=True)


async def get_by_order_id(session: AsyncSession, order_id: str) -> Purchase | None:
    result = await session.scalars(select(Purchase).where(Purchase.order_id == order_id))
    return result.one_or_none()


async def get_by_claim_code_for_update(session: AsyncSession, code_hash: str) -> Purchase | None:
    result = await session.scalars(
        select(Purchase).where(Purchase.claim_code_hash == code_hash).with_for_update()
    )
    return result.one_or_none()


async def lot(session: AsyncSession, lot_id: UUID | None) -> EarnLot | None:
    return None if lot_id is None else await session.get(EarnLot, lot_id)
