from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Select, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.models import Event
from app.events.types import type_filter
from app.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery


def list_statement(types: Sequence[str], member_id: UUID | None) -> Select[Event]:
    statement = select(Event)
    if types:
        statement = statement.where(type_filter(Event.type, types))
    if member_id is not None:
        statement = statement.where(Event.member_id == member_id)
    return statement


async def prunable(session: AsyncSession, before: datetime, limit: int) -> Sequence[UUID]:
    """Events older than ``before`` that are handed to webhooks and all delivered or given up."""
    unfinished = exists().where(
        WebhookDelivery.event_id == Event.id,
        WebhookDelivery.status == DeliveryStatus.pending,
    )
    statement = (
        select(Event.id)
        .where(Event.created_at < before, Event.dispatched_at.is_not(None), ~unfinished)
        .order_by(Event.created_at, Event.id)
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def delete_with_deliveries(session: AsyncSession, event_ids: Sequence[UUID]) -> int:
    """Delete events with their finished deliveries and those deliveries' attempts."""
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(event_ids))
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(event_ids)))
    result = await session.execute(delete(Event).where(Event.id.in_(event_ids)))
    return int(getattr(result, "rowcount", 0))
