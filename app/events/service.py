"""Recording events. Delivery (polling, webhooks) reads what is recorded here."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow, uuid7
from app.events.models import Event

_last_id = 0


def _event_id() -> UUID:
    """A uuid7 above every event id this process made before: the events of one transaction
    share their ``created_at``, and so keep the order they were emitted in, which the
    ``(created_at, id)`` order of the log (and of webhook deliveries per member) follows."""
    global _last_id
    _last_id = max(uuid7().int, _last_id + 1)
    return UUID(int=_last_id)


def emit(
    session: AsyncSession,
    type: str,
    member_id: UUID | None,
    data: dict[str, Any],
    now: datetime | None = None,
) -> Event:
    """Record an event in the caller's transaction: it exists if and only if the change does."""
    event = Event(
        id=_event_id(), type=type, member_id=member_id, data=data, created_at=now or utcnow()
    )
    session.add(event)
    return event
