"""Webhook endpoints: create, change, rotate the secret; and their deliveries, which an
admin may send again once they were given up."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.kit.pagination import PageParams, paginate
from app.webhooks import repository, signing, urls
from app.webhooks.errors import (
    WebhookDeliveryNotFailed,
    WebhookDeliveryNotFound,
    WebhookEndpointNotFound,
    WebhookUrlNotAllowed,
)
from app.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.webhooks.schemas import WebhookEndpointCreate, WebhookEndpointUpdate


async def check_url(url: str, allow_private: bool) -> None:
    try:
        await urls.check(url, allow_private)
    except urls.UrlNotAllowed as error:
        raise WebhookUrlNotAllowed(str(error)) from error


def _patterns(event_types: Sequence[str]) -> list[str]:
    return sorted(set(event_types))


async def create_endpoint(
    session: AsyncSession, server_secret: bytes, data: WebhookEndpointCreate, allow_private: bool
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint; return it with its secret, which is not shown again."""
    await check_url(data.url, allow_private)
    now = utcnow()
    endpoint = WebhookEndpoint(
        url=data.url,
        event_types=_patterns(data.event_types),
        description=data.description,
        enabled=True,
        secret_salt=signing.new_salt(),
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    return endpoint, signing.endpoint_secret(server_secret, endpoint.secret_salt)


async def get_endpoint(session: AsyncSession, endpoint_id: UUID) -> WebhookEndpoint:
    endpoint = await repository.get_endpoint(session, endpoint_id)
    if endpoint is None:
        raise WebhookEndpointNotFound(f"No webhook endpoint {endpoint_id}.")
    return endpoint


async def list_endpoints(
    session: AsyncSession, params: PageParams
) -> tuple[Sequence[WebhookEndpoint], str | None]:
    return await paginate(session, repository.list_endpoints_statement(), WebhookEndpoint, params)


async def update_endpoint(
    session: AsyncSession, endpoint_id: UUID, data: WebhookEndpointUpdate, allow_private: bool
) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, endpoint_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("url") is not None:
        await check_url(changes["url"], allow_private)
        endpoint.url = changes["url"]
    if changes.get("event_types") is not None:
        endpoint.event_types = _patterns(changes["event_types"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if changes.get("enabled") is not None:
        endpoint.enabled = changes["enabled"]
    endpoint.updated_at = utcnow()
    await session.flush()
    return endpoint


async def rotate_secret(
    session: AsyncSession, server_secret: bytes, endpoint_id: UUID
) -> tuple[WebhookEndpoint, str]:
    """A new secret at once; deliveries from now on are signed with it only."""
    endpoint = await get_endpoint(session, endpoint_id)
    endpoint.secret_salt = signing.new_salt()
    endpoint.updated_at = utcnow()
    await session.flush()
    return endpoint, signing.endpoint_secret(server_secret, endpoint.secret_salt)


async def delete_endpoint(session: AsyncSession, endpoint_id: UUID) -> None:
    """Delete the endpoint with its deliveries; pending ones are not sent any more."""
    endpoint = await get_endpoint(session, endpoint_id)
    await session.delete(endpoint)
    await session.flush()


@dataclass(frozen=True, slots=True)
class DeliveryWithAttempts:
    delivery: WebhookDelivery
    attempts: Sequence[WebhookAttempt]


async def _with_attempts(
    session: AsyncSession, deliveries: Sequence[WebhookDelivery]
) -> list[DeliveryWithAttempts]:
    attempts = await repository.attempts_of(session, [d.id for d in deliveries])
    by_delivery: dict[UUID, list[WebhookAttempt]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt.delivery_id, []).append(attempt)
    return [DeliveryWithAttempts(d, by_delivery.get(d.id, [])) for d in deliveries]


async def list_deliveries(
    session: AsyncSession, endpoint_id: UUID, status: DeliveryStatus | None, params: PageParams
) -> tuple[list[DeliveryWithAttempts], str | None]:
    await get_endpoint(session, endpoint_id)
    statement = repository.list_deliveries_statement(endpoint_id, status)
    deliveries, next_cursor = await paginate(session, statement, WebhookDelivery, params)
    return await _with_attempts(session, deliveries), next_cursor


async def get_delivery(
    session: AsyncSession, endpoint_id: UUID, delivery_id: UUID
) -> DeliveryWithAttempts:
    await get_endpoint(session, endpoint_id)
    delivery = await repository.get_delivery(session, endpoint_id, delivery_id)
    if delivery is None:
        raise WebhookDeliveryNotFound(f"No delivery {delivery_id} to endpoint {endpoint_id}.")
    return (await _with_attempts(session, [delivery]))[0]


async def retry_delivery(
    session: AsyncSession, endpoint_id: UUID, delivery_id: UUID, now: datetime
) -> DeliveryWithAttempts:
    """Send a failed delivery again: it is pending once more, due at ``now``.

    Its attempts keep counting on (the log keeps every try under its own number), so the
    schedule, which gives up after ``MAX_ATTEMPTS`` failures and which a failed delivery has
    run through, gives it one attempt: it is delivered, or failed again at once until the
    next retry by hand, never another day of backoff. Meanwhile it goes out before its member's later deliveries to
    the endpoint that are pending (they wait for it, as for any earlier one); the endpoint
    stays failing until a delivery succeeds, which this one may be. A disabled endpoint's
    retried delivery waits until it is enabled again, as its other pending ones do.
    """
    found = await get_delivery(session, endpoint_id, delivery_id)
    requeued = await repository.requeue_failed(session, endpoint_id, delivery_id, now)
    await session.refresh(found.delivery)
    if not requeued:
        raise WebhookDeliveryNotFailed(
            f"Delivery {delivery_id} is {found.delivery.status}: only a failed delivery can be "
            "retried."
        )
    return found
