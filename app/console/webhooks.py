"""Webhooks: endpoints, their recent deliveries, and a retry for a delivery given up.

A new endpoint's signing secret is shown once, on the page that answers its creation (as
the API returns it once): it is derived from the server secret and never stored.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.console import forms
from app.console.actions import (
    ACTION_KEY_FIELD,
    confirmation,
    first_submission,
    is_confirmed,
    new_action_key,
)
from app.console.i18n import N_
from app.console.rendering import gettext, page
from app.console.routing import PREFIX, ConsoleRoute, CurrentUser
from app.db.base import utcnow
from app.kit.pagination import PageParams
from app.kit.runtime import get_runtime
from app.webhooks import service
from app.webhooks.errors import WebhookDeliveryNotFailed, WebhookUrlNotAllowed
from app.webhooks.models import DeliveryStatus, WebhookEndpoint
from app.webhooks.schemas import WebhookEndpointCreate, WebhookEndpointUpdate

router = APIRouter(prefix="/webhooks", route_class=ConsoleRoute)

SECTION = "webhooks"
BASE = f"{PREFIX}/webhooks"
PAGE_SIZE = 50

DELIVERY_STATUSES = {
    DeliveryStatus.pending: N_("Pending"),
    DeliveryStatus.delivered: N_("Delivered"),
    DeliveryStatus.failed: N_("Failed"),
}
STATUS_BY_VALUE = {status.value: status for status in DeliveryStatus}
NOTICES = {
    "enabled": N_("The endpoint is enabled: events are sent to it again."),
    "disabled": N_("The endpoint is disabled: it gets no new deliveries until it is enabled."),
    "deleted": N_("The endpoint was deleted."),
    "retried": N_("The delivery is pending again: the delivery worker sends it on its next run."),
    "not_failed": N_("This delivery has not failed (any more): there is nothing to retry."),
}
Cursor = Annotated[str | None, Query(max_length=200)]
Done = Annotated[str | None, Query(max_length=20)]


def _notice(done: str | None) -> str | None:
    return NOTICES.get(done) if done else None


def _endpoint_url(endpoint_id: UUID) -> str:
    return f"{BASE}/{endpoint_id}"


def _delivery_url(endpoint_id: UUID, delivery_id: UUID) -> str:
    return f"{BASE}/{endpoint_id}/deliveries/{delivery_id}"


def _common(**context: Any) -> dict[str, Any]:
    return {"section": SECTION, "delivery_statuses": DELIVERY_STATUSES, **context}


# --- endpoints ------------------------------------------------------------------------------


@router.get("")
async def endpoints(
    request: Request, user: CurrentUser, cursor: Cursor = None, done: Done = None
) -> Response:
    found, next_cursor = await service.list_endpoints(
        request.state.session, PageParams(PAGE_SIZE, cursor)
    )
    context = _common(
        endpoints=found, next_cursor=next_cursor, first_page=cursor is None, notice=_notice(done)
    )
    return await page(request, "webhooks/list.html", context)


async def _new_page(
    request: Request,
    entered: dict[str, str] | None = None,
    errors: dict[str, forms.Message] | None = None,
    status_code: int = 200,
) -> Response:
    context = _common(
        entered=entered or {},
        errors=errors or {},
        action_key_field=ACTION_KEY_FIELD,
        action_key=new_action_key(),
    )
    return await page(request, "webhooks/new.html", context, status_code=status_code)


@router.get("/new")
async def new_endpoint_form(request: Request, user: CurrentUser) -> Response:
    return await _new_page(request)


@router.post("/new")
async def create_endpoint(request: Request, user: CurrentUser) -> Response:
    read = forms.read(WebhookEndpointCreate, await request.form())
    if read.model is None:
        return await _new_page(request, read.entered, read.errors, 422)
    session = request.state.session
    if not await first_submission(session, request, user.api_key.id):
        return await page(request, "webhooks/created_before.html", _common(), status_code=409)
    runtime = get_runtime(request)
    try:
        endpoint, secret = await service.create_endpoint(
            session, runtime.secret_key, read.model, runtime.settings.webhook_allow_private
        )
    except WebhookUrlNotAllowed as refused:
        # Refused before anything was written; the form gets a new action key.
        errors = {"url": forms.Message(N_("Not valid: %(reason)s"), {"reason": refused.detail})}
        return await _new_page(request, read.entered, errors, 422)
    context = _common(endpoint=endpoint, secret=secret)
    return await page(request, "webhooks/created.html", context, status_code=201)


@router.get("/{endpoint_id}")
async def endpoint_page(
    request: Request,
    endpoint_id: UUID,
    user: CurrentUser,
    status: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Cursor = None,
    done: Done = None,
) -> Response:
    # An unknown or empty status shows every delivery: the filter's "All" sends it empty.
    chosen = STATUS_BY_VALUE.get(status or "")
    endpoint = await service.get_endpoint(request.state.session, endpoint_id)
    translate = gettext(request)
    deliveries, next_cursor = await service.list_deliveries(
        request.state.session, endpoint_id, chosen, PageParams(PAGE_SIZE, cursor)
    )
    context = _common(
        endpoint=endpoint,
        deliveries=deliveries,
        status=chosen.value if chosen else "",
        status_options=[(s.value, translate(label)) for s, label in DELIVERY_STATUSES.items()],
        next_cursor=next_cursor,
        first_page=cursor is None,
        notice=_notice(done),
    )
    return await page(request, "webhooks/endpoint.html", context)


@router.post("/{endpoint_id}/enabled")
async def switch_endpoint(request: Request, endpoint_id: UUID, user: CurrentUser) -> Response:
    """Enable (``enabled=on``) or disable (anything else) the endpoint."""
    enabled = (await request.form()).get("enabled") == "on"
    allow_private = get_runtime(request).settings.webhook_allow_private
    await service.update_endpoint(
        request.state.session, endpoint_id, WebhookEndpointUpdate(enabled=enabled), allow_private
    )
    done = "enabled" if enabled else "disabled"
    return RedirectResponse(f"{_endpoint_url(endpoint_id)}?done={done}", status_code=303)


async def _delete_confirmation(request: Request, endpoint: WebhookEndpoint) -> Response:
    _ = gettext(request)
    return await confirmation(
        request,
        title=_("Delete this endpoint?"),
        summary=[
            endpoint.url,
            _("Its deliveries are deleted with it; pending ones are not sent any more."),
        ],
        action=f"{_endpoint_url(endpoint.id)}/delete",
        fields={},
        confirm_label=_("Delete endpoint"),
        back=_endpoint_url(endpoint.id),
        danger=True,
        section=SECTION,
    )


@router.get("/{endpoint_id}/delete")
async def delete_endpoint_confirmation(
    request: Request, endpoint_id: UUID, user: CurrentUser
) -> Response:
    return await _delete_confirmation(
        request, await service.get_endpoint(request.state.session, endpoint_id)
    )


@router.post("/{endpoint_id}/delete")
async def delete_endpoint(request: Request, endpoint_id: UUID, user: CurrentUser) -> Response:
    session = request.state.session
    if not await is_confirmed(request):
        return await _delete_confirmation(
            request, await service.get_endpoint(request.state.session, endpoint_id)
        )
    # A repeat of the confirmed form finds the endpoint gone: it was this form that deleted it.
    if await first_submission(session, request, user.api_key.id):
        await service.delete_endpoint(session, endpoint_id)
    return RedirectResponse(f"{BASE}?done=deleted", status_code=303)


# --- deliveries -----------------------------------------------------------------------------


@router.get("/{endpoint_id}/deliveries/{delivery_id}")
async def delivery_page(
    request: Request, endpoint_id: UUID, delivery_id: UUID, user: CurrentUser, done: Done = None
) -> Response:
    session = request.state.session
    endpoint = await service.get_endpoint(request.state.session, endpoint_id)
    found = await service.get_delivery(session, endpoint_id, delivery_id)
    context = _common(
        endpoint=endpoint, delivery=found.delivery, attempts=found.attempts, notice=_notice(done)
    )
    return await page(request, "webhooks/delivery.html", context)


@router.post("/{endpoint_id}/deliveries/{delivery_id}/retry")
async def retry_delivery(
    request: Request, endpoint_id: UUID, delivery_id: UUID, user: CurrentUser
) -> Response:
    try:
        await service.retry_delivery(request.state.session, endpoint_id, delivery_id, utcnow())
        done = "retried"
    except WebhookDeliveryNotFailed:
        # Retried meanwhile (a second click, another admin) or delivered: say so, no error.
        done = "not_failed"
    return RedirectResponse(
        f"{_delivery_url(endpoint_id, delivery_id)}?done={done}", status_code=303
    )
