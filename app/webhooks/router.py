from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from app.db.base import utcnow
from app.kit.auth import AdminKey
from app.kit.errors import error_responses
from app.kit.idempotency import OPTIONAL_IDEMPOTENCY_ERRORS, OptionalIdempotencyKey
from app.kit.pagination import InvalidCursor, Page, PageQuery
from app.kit.runtime import get_runtime
from app.kit.uow import Session, UnitOfWorkRoute
from app.webhooks import service
from app.webhooks.errors import (
    WebhookDeliveryNotFailed,
    WebhookDeliveryNotFound,
    WebhookEndpointNotFound,
    WebhookUrlNotAllowed,
)
from app.webhooks.models import DeliveryStatus, WebhookEndpoint
from app.webhooks.schedule import MAX_ATTEMPTS
from app.webhooks.schemas import (
    EndpointState,
    WebhookAttemptRead,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
    WebhookSecret,
)

router = APIRouter(prefix="/webhook-endpoints", tags=["webhooks"], route_class=UnitOfWorkRoute)

SIGNATURE_DOC = (
    "Each delivery is a `POST` of one event as JSON (the same object as an item of "
    "`GET /v1/events`) with the headers `Stammkunde-Event-Id` (the same for every attempt: "
    "drop duplicates by it), `Stammkunde-Event-Type`, `Stammkunde-Delivery-Id` and "
    "`Stammkunde-Signature: t=<unix seconds>,v1=<hex>`, where `<hex>` is HMAC-SHA256 under "
    "the endpoint's secret (the whole `whsec_…` string, UTF-8) of `<t>.<raw body>`. Verify it "
    "over the raw body, compare in constant time, and refuse a `t` more than 300 seconds "
    "from your clock.\n\n"
    "Delivery is at least once and in order per member: a member's next event goes out "
    "only after the previous one was delivered or given up. Any 2xx within the timeout "
    "(10 s by default) counts as delivered; anything else is retried with exponential "
    f"backoff and jitter (1, 2, 4, … minutes, at most 8 hours; {MAX_ATTEMPTS} attempts "
    "over about 24 hours), then given up, and the endpoint shows `status: failing` until "
    "a later delivery succeeds. Redirects are not followed."
)
URL_DOC = (
    "The URL must be `https://` and resolve to public addresses only (no private, loopback "
    "or link-local ones); it is checked again before every attempt."
)


def _read(endpoint: WebhookEndpoint) -> WebhookEndpointRead:
    state = (
        EndpointState.disabled
        if not endpoint.enabled
        else EndpointState.failing
        if endpoint.failing_since is not None
        else EndpointState.active
    )
    return WebhookEndpointRead(
        id=endpoint.id,
        url=endpoint.url,
        event_types=endpoint.event_types,
        description=endpoint.description,
        enabled=endpoint.enabled,
        status=state,
        failing_since=endpoint.failing_since,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def _delivery(found: service.DeliveryWithAttempts) -> WebhookDeliveryRead:
    delivery = found.delivery
    pending = delivery.status == DeliveryStatus.pending
    return WebhookDeliveryRead(
        id=delivery.id,
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        member_id=delivery.member_id,
        status=DeliveryStatus(delivery.status),
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if pending else None,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        finished_at=delivery.finished_at,
        attempt_log=[
            WebhookAttemptRead(
                number=attempt.number,
                attempted_at=attempt.created_at,
                status_code=attempt.status_code,
                error=attempt.error,
                duration_ms=attempt.duration_ms,
            )
            for attempt in found.attempts
        ],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a webhook endpoint",
    description="Events of the given types (all when `event_types` is empty) recorded from "
    "now on are sent to `url`. The response holds the signing `secret`, shown only here "
    "(`null` in an idempotent replay). " + URL_DOC + "\n\n" + SIGNATURE_DOC + "\n\nScope `admin`.",
    responses=error_responses(WebhookUrlNotAllowed, *OPTIONAL_IDEMPOTENCY_ERRORS),
)
async def create_webhook_endpoint(
    body: WebhookEndpointCreate,
    request: Request,
    _admin: AdminKey,
    claim: OptionalIdempotencyKey,
    session: Session,
) -> WebhookEndpointCreated:
    runtime = get_runtime(request)
    endpoint, secret = await service.create_endpoint(
        session, runtime.secret_key, body, runtime.settings.webhook_allow_private
    )
    read = _read(endpoint)
    if claim is not None:
        claim.replay_without_secret(WebhookEndpointCreated(**read.model_dump(), secret=None))
    return WebhookEndpointCreated(**read.model_dump(), secret=secret)


@router.get(
    "",
    summary="List webhook endpoints",
    description="Newest first. Scope `admin`.",
    responses=error_responses(InvalidCursor),
)
async def list_webhook_endpoints(
    _admin: AdminKey, page: PageQuery, session: Session
) -> Page[WebhookEndpointRead]:
    endpoints, next_cursor = await service.list_endpoints(session, page)
    return Page[WebhookEndpointRead](
        items=[_read(endpoint) for endpoint in endpoints], next_cursor=next_cursor
    )


@router.get(
    "/{endpoint_id}",
    summary="Get a webhook endpoint",
    description="Scope `admin`.",
    responses=error_responses(WebhookEndpointNotFound),
)
async def get_webhook_endpoint(
    endpoint_id: UUID, _admin: AdminKey, session: Session
) -> WebhookEndpointRead:
    return _read(await service.get_endpoint(session, endpoint_id))


@router.patch(
    "/{endpoint_id}",
    summary="Update a webhook endpoint",
    description="Fields given replace the current value. New `event_types` apply to events "
    "recorded from now on. A disabled endpoint gets no deliveries for the events recorded "
    "meanwhile; its pending deliveries wait and go out once it is enabled again. "
    + URL_DOC
    + " Scope `admin`.",
    responses=error_responses(WebhookEndpointNotFound, WebhookUrlNotAllowed),
)
async def update_webhook_endpoint(
    endpoint_id: UUID,
    body: WebhookEndpointUpdate,
    request: Request,
    _admin: AdminKey,
    session: Session,
) -> WebhookEndpointRead:
    allow_private = get_runtime(request).settings.webhook_allow_private
    return _read(await service.update_endpoint(session, endpoint_id, body, allow_private))


@router.post(
    "/{endpoint_id}/rotate-secret",
    summary="Rotate a webhook endpoint's secret",
    description="Returns a new signing secret, shown only here; deliveries from now on are "
    "signed with it only, so install it at the receiver at once. Scope `admin`.",
    responses=error_responses(WebhookEndpointNotFound),
)
async def rotate_webhook_secret(
    endpoint_id: UUID, request: Request, _admin: AdminKey, session: Session
) -> WebhookSecret:
    endpoint, secret = await service.rotate_secret(
        session, get_runtime(request).secret_key, endpoint_id
    )
    return WebhookSecret(id=endpoint.id, secret=secret)


@router.delete(
    "/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook endpoint",
    description="With its deliveries: pending ones are not sent any more. Scope `admin`.",
    responses=error_responses(WebhookEndpointNotFound),
)
async def delete_webhook_endpoint(
    endpoint_id: UUID, _admin: AdminKey, session: Session
) -> Response:
    await service.delete_endpoint(session, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{endpoint_id}/deliveries",
    summary="List an endpoint's deliveries",
    description="Newest first, each with its attempts (time, HTTP status or error, "
    "duration). `status` picks `pending`, `delivered` or `failed` ones. Scope `admin`.",
    responses=error_responses(WebhookEndpointNotFound, InvalidCursor),
)
async def list_webhook_deliveries(
    endpoint_id: UUID,
    _admin: AdminKey,
    page: PageQuery,
    session: Session,
    status: Annotated[DeliveryStatus | None, Query(description="Only these.")] = None,
) -> Page[WebhookDeliveryRead]:
    found, next_cursor = await service.list_deliveries(session, endpoint_id, status, page)
    return Page[WebhookDeliveryRead](
        items=[_delivery(delivery) for delivery in found], next_cursor=next_cursor
    )


@router.get(
    "/{endpoint_id}/deliveries/{delivery_id}",
    summary="Get a delivery",
    description="With its attempts. Scope `admin`.",
    responses=error_responses(WebhookEndpointNotFound, WebhookDeliveryNotFound),
)
async def get_webhook_delivery(
    endpoint_id: UUID, delivery_id: UUID, _admin: AdminKey, session: Session
) -> WebhookDeliveryRead:
    return _delivery(await service.get_delivery(session, endpoint_id, delivery_id))


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Retry a failed delivery",
    description="Only a `failed` delivery (given up after its last attempt) can be retried: it "
    "becomes `pending`, due now, and the delivery worker sends it on its next run. It gets "
    "one more attempt, counted on after the earlier ones; if that fails too, it is `failed` "
    "again (retry it again later). It goes out before its member's later deliveries to this "
    "endpoint that are still pending, which wait for it; the endpoint stays `failing` until "
    "a delivery succeeds. A disabled endpoint's retried delivery waits until it is enabled. "
    "Returns the delivery as `GET` does. Scope `admin`.",
    responses=error_responses(
        WebhookEndpointNotFound, WebhookDeliveryNotFound, WebhookDeliveryNotFailed
    ),
)
async def retry_webhook_delivery(
    endpoint_id: UUID, delivery_id: UUID, _admin: AdminKey, session: Session
) -> WebhookDeliveryRead:
    return _delivery(await service.retry_delivery(session, endpoint_id, delivery_id, utcnow()))
