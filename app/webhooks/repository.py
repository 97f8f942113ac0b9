"""Every query of webhooks: endpoints, the dispatch of events, claims and results."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.events.models import Event
from app.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

# --- endpoints ------------------------------------------------------------------------------


async def get_endpoint(session: AsyncSession, endpoint_id: UUID) -> WebhookEndpoint | None:
    return await session.get(WebhookEndpoint, endpoint_id)


def list_endpoints_statement() -> Select[WebhookEndpoint]:
    return select(WebhookEndpoint)


async def enabled_endpoints(session: AsyncSession) -> Sequence[WebhookEndpoint]:
    statement = select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True))
    return (await session.scalars(statement)).all()


async def mark_failing(session: AsyncSession, endpoint_id: UUID, now: datetime) -> None:
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_(None))
        .values(failing_since=now)
        .execution_options(synchronize_session=False)
    )


async def clear_failing(session: AsyncSession, endpoint_id: UUID) -> None:
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_not(None))
        .values(failing_since=None)
        .execution_options(synchronize_session=False)
    )


# --- dispatch -------------------------------------------------------------------------------


async def undispatched_events(session: AsyncSession, limit: int) -> Sequence[Event]:
    statement = (
        select(Event)
        .where(Event.dispatched_at.is_(None))
        .order_by(Event.created_at, Event.id)
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def add_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(WebhookDelivery), list(rows))


async def mark_dispatched(session: AsyncSession, event_ids: Sequence[UUID], now: datetime) -> None:
    await session.execute(
        update(Event)
        .where(Event.id.in_(event_ids))
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    )


# --- claims and results ---------------------------------------------------------------------


def _held_back() -> Any:
    """An earlier delivery of the same member to the same endpoint is still pending."""
    earlier = aliased(WebhookDelivery)
    return exists().where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id,
        earlier.member_id == WebhookDelivery.member_id,
        earlier.status == DeliveryStatus.pending,
        or_(
            earlier.event_created_at < WebhookDelivery.event_created_at,
            and_(
                earlier.event_created_at == WebhookDelivery.event_created_at,
                earlier.event_id < WebhookDelivery.event_id,
            ),
        ),
    )


async def claim_due(
    session: AsyncSession,
    now: datetime,
    limit: int,
    lease: UUID,
    wall_now: datetime,
    locked_until: datetime,
) -> Sequence[UUID]:
    """Lease up to ``limit`` deliveries due at ``now``: at most one per member and endpoint.

    Rows another worker is claiming right now are skipped (SKIP LOCKED on PostgreSQL; SQLite
    runs one writer at a time), and a leased row stays out of reach until ``locked_until``
    (wall-clock time, which every worker shares). A member's delivery waits while an earlier
    one of theirs to that endpoint is pending.
    """
    due = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.pending,
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= wall_now),
            WebhookEndpoint.enabled.is_(True),
            ~_held_back(),
        )
        .order_by(
            WebhookDelivery.next_attempt_at,
            WebhookDelivery.event_created_at,
            WebhookDelivery.event_id,
        )
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    ids = (await session.scalars(due)).all()
    if ids:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(locked_until=locked_until, lease=lease)
            .execution_options(synchronize_session=False)
        )
    return ids


async def claimed(
    session: AsyncSession, ids: Sequence[UUID]
) -> Sequence[tuple[WebhookDelivery, Event, WebhookEndpoint]]:
    statement = (
        select(WebhookDelivery, Event, WebhookEndpoint)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id.in_(ids))
        .order_by(WebhookDelivery.event_created_at, WebhookDelivery.event_id)
    )
    return (await session.execute(statement)).all()


async def settle(
    session: AsyncSession, delivery_id: UUID, lease: UUID, values: dict[str, Any]
) -> bool:
    """Write an attempt's result if the caller still holds the lease; return whether it did."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.lease == lease)
        .values(locked_until=None, lease=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def add_attempt(session: AsyncSession, attempt: WebhookAttempt) -> None:
    session.add(attempt)


async def requeue_failed(
    session: AsyncSession, endpoint_id: UUID, delivery_id: UUID, now: datetime
) -> bool:
    """A failed delivery back to pending, due at ``now``; False unless it was failed.

    Conditional, so that of two retries at once only one requeues it. A failed delivery
    holds no lease (its last result cleared it), so no worker is sending it.
    """
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == DeliveryStatus.failed,
        )
        .values(
            status=DeliveryStatus.pending.value,
            next_attempt_at=now,
            finished_at=None,
            locked_until=None,
            lease=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


# --- reading deliveries ---------------------------------------------------------------------


def list_deliveries_statement(
    endpoint_id: UUID, status: DeliveryStatus | None
) -> Select[WebhookDelivery]:
    statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    return statement


async def get_delivery(
    session: AsyncSession, endpoint_id: UUID, delivery_id: UUID
) -> WebhookDelivery | None:
    statement = select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id
    )
    return (await session.scalars(statement)).one_or_none()


async def attempts_of(
    session: AsyncSession, delivery_ids: Sequence[UUID]
) -> Sequence[WebhookAttempt]:
    if not delivery_ids:
        return []
    statement = (
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
    )
    return (await session.scalars(statement)).all()
