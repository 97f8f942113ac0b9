"""Recording events. Delivery (polling, webhooks) reads what is recorded here."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow, uuid7
from app.events.models import Event


def emit(
    session: AsyncSession,
    type: str,
    member_id: UUID | None,
    data: dict[str, Any],
    now: datetime | None = None,
) -> Event:
    """Record an event in the caller's transaction: it exists if and only if the change does."""
    event = Event(id=uuid7(), type=type, member_id=member_id, data=data, created_at=now or utcnow())
    session.add(event)
    return event
