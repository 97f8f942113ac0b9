"""Console: webhook endpoints, their deliveries, retrying a failed one; creating, switching
and deleting endpoints. Receivers run on 127.0.0.1, so private addresses are allowed here."""

import html
import re
import uuid
from typing import Any

import pytest

from app.config import Settings
from app.db.base import utcnow
from app.webhooks.schedule import MAX_ATTEMPTS
from tests import conftest
from tests.factories import assert_problem
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import (
    create_endpoint,
    deliveries,
    record_events,
    run_until_given_up,
    run_worker,
)

ACTION_KEY = re.compile(r'name="action_key" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def settings(database: conftest.TestDatabase) -> Settings:
    # The test database's class, named through its module so that pytest does not collect it.
    return conftest.make_settings(
        database.url, webhook_allow_private=True, webhook_timeout_seconds=1.0
    )


def field_error(page: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', page)
    assert match is not None, f"no message next to {name}"
    return html.unescape(match.group(1))


def action_key_of(page: str) -> str:
    match = ACTION_KEY.search(page)
    assert match is not None, "the form carries no action key"
    return match.group(1)


async def endpoint_read(client, admin, endpoint: dict[str, Any]):
    return await client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=admin)


async def endpoints_listed(client, admin) -> list[dict[str, Any]]:
    response = await client.get("/v1/webhook-endpoints", headers=admin)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def one_failed_one_delivered(app, client, admin, receiver_url: str):
    """An endpoint with a delivery given up (points.earned) and one delivered (tier.changed)."""
    endpoint = await create_endpoint(client, admin, receiver_url, description="CRM")
    failing, fine = await record_events(
        app, ("points.earned", uuid.uuid4()), ("tier.changed", uuid.uuid4())
    )
    await run_until_given_up(app, client, admin, endpoint, failing, utcnow())
    found = {d["event_id"]: d for d in await deliveries(client, admin, endpoint)}
    return endpoint, found[failing], found[fine]


def refusing_points(request) -> int:
    return 500 if request.headers["stammkunde-event-type"] == "points.earned" else 204


# --- the list and an endpoint's deliveries --------------------------------------------------


async def test_the_list_shows_each_endpoint_with_its_types_and_state(console, client, admin):
    quiet = await create_endpoint(
        client, admin, "http://127.0.0.1:9/crm", description="CRM", event_types=["points.", "tier.changed"]
    )  # fmt: skip
    everything = await create_endpoint(client, admin, "http://127.0.0.1:9/all")
    await client.patch(
        f"/v1/webhook-endpoints/{everything['id']}", json={"enabled": False}, headers=admin
    )

    response = await console.get("/admin/webhooks")

    assert response.status_code == 200, response.text
    page = response.text
    assert f'<a href="/admin/webhooks/{quiet["id"]}" class="url">http://127.0.0.1:9/crm</a>' in page
    assert "CRM" in page
    assert "points., tier.changed" in page
    assert "Every event" in page
    assert '<span class="status active">Active</span>' in page
    assert '<span class="status disabled">Disabled</span>' in page
    assert 'href="/admin/webhooks/new"' in page
    assert "New endpoint" in page
    for heading in ("URL", "Description", "Event types", "Status", "Failing since"):
        assert f'<th scope="col">{heading}</th>' in page


async def test_deliveries_show_their_status_and_a_failed_one_can_be_retried(
    app, console, client, admin
):
    async with Receiver(refusing_points) as receiver:
        endpoint, failed, delivered = await one_failed_one_delivered(
            app, client, admin, receiver.url
        )
        path = f"/admin/webhooks/{endpoint['id']}"

        listed = await console.get(path)
        only_failed = await console.get(path, params={"status": "failed"})
        opened = await console.get(f"{path}/deliveries/{failed['id']}")
        endpoints_page = await console.get("/admin/webhooks")

        retry = f"{path}/deliveries/{failed['id']}/retry"
        without_token = await console.post(retry)
        still_failed = {d["id"]: d for d in await deliveries(client, admin, endpoint)}
        retried = await console.post_form(retry)
        after = await console.get(retried.headers["location"])
        pending = {d["id"]: d for d in await deliveries(client, admin, endpoint)}[failed["id"]]
        twice = await console.post_form(retry)
        assert await run_worker(app, utcnow()) == 1

    assert listed.status_code == 200, listed.text
    page = listed.text
    assert '<span class="status failed">Failed</span>' in page
    assert '<span class="status delivered">Delivered</span>' in page
    assert "points.earned" in page
    assert "tier.changed" in page
    assert "HTTP 500" in page
    assert page.count(">Retry</button>") == 1  # only the failed one
    assert f'action="{retry}"' in page
    assert "tier.changed" not in only_failed.text.split("Recent deliveries")[1]
    assert "points.earned" in only_failed.text.split("Recent deliveries")[1]
    assert "Failing since" in endpoints_page.text
    assert "Failing" in endpoints_page.text

    assert opened.status_code == 200, opened.text
    attempts = opened.text.split("<h2>Attempts</h2>")[1]
    assert attempts.count("HTTP 500") == MAX_ATTEMPTS
    assert ">Retry</button>" in opened.text

    assert without_token.status_code == 403
    assert still_failed[failed["id"]] == failed
    assert pending["status"] == "pending"
    assert (retried.status_code, retried.headers["location"]) == (
        303,
        f"{path}/deliveries/{failed['id']}?done=retried",
    )
    assert '<span class="status pending">Pending</span>' in after.text
    assert "The delivery is pending again" in after.text
    assert ">Retry</button>" not in after.text
    assert twice.headers["location"].endswith("?done=not_failed")
    assert receiver.statuses[-1] == 500  # the worker sent it again (the receiver still refuses)
    assert delivered["status"] == "delivered"


async def test_a_retry_without_the_token_changes_nothing(app, console, client, admin):
    async with Receiver(lambda _r: 500) as receiver:
        endpoint, failed, _ = await one_failed_one_delivered(app, client, admin, receiver.url)
        path = f"/admin/webhooks/{endpoint['id']}/deliveries/{failed['id']}/retry"

        refused = await console.post(path, data={"csrf_token": "forged"})

    assert refused.status_code == 403
    after = {d["id"]: d for d in await deliveries(client, admin, endpoint)}[failed["id"]]
    assert after == failed


async def test_an_unknown_endpoint_or_delivery_is_a_404_page(console, client, admin):
    endpoint = await create_endpoint(client, admin, "http://127.0.0.1:9/x")

    unknown_endpoint = await console.get(f"/admin/webhooks/{uuid.uuid4()}")
    unknown_delivery = await console.get(
        f"/admin/webhooks/{endpoint['id']}/deliveries/{uuid.uuid4()}"
    )
    retry_unknown = await console.post_form(
        f"/admin/webhooks/{endpoint['id']}/deliveries/{uuid.uuid4()}/retry"
    )
    not_an_id = await console.get("/admin/webhooks/not-an-id")

    assert (unknown_endpoint.status_code, unknown_delivery.status_code) == (404, 404)
    assert retry_unknown.status_code == 404
    assert not_an_id.status_code == 422
    assert "text/html" in unknown_endpoint.headers["content-type"]


# --- creating, switching, deleting ----------------------------------------------------------


async def test_a_new_endpoint_shows_its_secret_once(console, client, admin):
    form = await console.get("/admin/webhooks/new")
    assert form.status_code == 200
    for label in ("URL", "Description", "Event types"):
        assert f">{label}" in form.text
    fields = {
        "action_key": action_key_of(form.text),
        "url": "http://127.0.0.1:9/hooks",
        "description": "Shop",
        "event_types": "tier.changed\npoints.",
    }

    created = await console.post_form("/admin/webhooks/new", fields)
    again = await console.post_form("/admin/webhooks/new", fields)

    assert created.status_code == 201, created.text
    secret = re.search(r'<code class="secret" id="secret">(whsec_[^<]+)</code>', created.text)
    assert secret is not None
    [endpoint] = await endpoints_listed(client, admin)
    assert (endpoint["url"], endpoint["description"], endpoint["event_types"]) == (
        "http://127.0.0.1:9/hooks",
        "Shop",
        ["points.", "tier.changed"],
    )
    assert f'href="/admin/webhooks/{endpoint["id"]}"' in created.text
    assert again.status_code == 409
    assert "This endpoint was already created" in again.text
    assert secret.group(1) not in again.text
    assert secret.group(1) not in (await console.get(f"/admin/webhooks/{endpoint['id']}")).text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"url": ""}, "url", "Required."),
        ({"url": "ftp://127.0.0.1/x"}, "url", "Not valid: Webhook URLs must use https://."),
        ({"url": "http://127.0.0.1:9/x", "event_types": "Not a type!"}, "event_types", "Not in the expected format."),
        ({"url": "http://127.0.0.1:9/x", "description": "x" * 501}, "description", "Enter at most 500 characters."),
    ],
)  # fmt: skip
async def test_a_new_endpoints_mistakes_are_shown_next_to_the_fields(
    console, client, admin, fields, field, message
):
    form = await console.get("/admin/webhooks/new")

    response = await console.post_form(
        "/admin/webhooks/new", {"action_key": action_key_of(form.text), **fields}
    )

    assert response.status_code == 422, response.text
    assert field_error(response.text, field) == message
    assert await endpoints_listed(client, admin) == []


async def test_an_endpoint_is_disabled_and_enabled_again(console, client, admin):
    endpoint = await create_endpoint(client, admin, "http://127.0.0.1:9/x")
    path = f"/admin/webhooks/{endpoint['id']}"

    disabled = await console.post_form(f"{path}/enabled", {"enabled": "off"})
    disabled_page = await console.get(disabled.headers["location"])
    state_off = (await endpoint_read(client, admin, endpoint)).json()
    enabled = await console.post_form(f"{path}/enabled", {"enabled": "on"})
    state_on = (await endpoint_read(client, admin, endpoint)).json()

    assert disabled.status_code == 303
    assert state_off["enabled"] is False
    assert "The endpoint is disabled" in disabled_page.text
    assert ">Enable</button>" in disabled_page.text
    assert enabled.headers["location"] == f"{path}?done=enabled"
    assert state_on["enabled"] is True


async def test_deleting_an_endpoint_asks_first(console, client, admin):
    endpoint = await create_endpoint(client, admin, "http://127.0.0.1:9/x")
    path = f"/admin/webhooks/{endpoint['id']}/delete"

    asked = await console.get(path)
    unconfirmed = await console.post_form(path)
    exists_meanwhile = await endpoint_read(client, admin, endpoint)
    fields = dict(HIDDEN.findall(asked.text))
    deleted = await console.post_form(path, fields)
    again = await console.post_form(path, fields)

    assert asked.status_code == 200
    assert "Delete this endpoint?" in asked.text
    assert ">Delete endpoint</button>" in asked.text
    assert "Delete this endpoint?" in unconfirmed.text
    assert exists_meanwhile.status_code == 200
    assert (deleted.status_code, deleted.headers["location"]) == (
        303,
        "/admin/webhooks?done=deleted",
    )
    assert_problem(await endpoint_read(client, admin, endpoint), 404, "webhook_endpoint_not_found")
    assert again.status_code == 303
    assert "The endpoint was deleted." in (await console.get("/admin/webhooks?done=deleted")).text


async def test_the_endpoint_page_speaks_german(console, client, admin):
    endpoint = await create_endpoint(client, admin, "http://127.0.0.1:9/x")
    await console.get("/admin/language/de")

    response = await console.get(f"/admin/webhooks/{endpoint['id']}")

    assert response.headers["content-language"] == "de"
    assert "Letzte Zustellungen" in response.text
    assert ">Deaktivieren</button>" in response.text
    assert "Endpunkt löschen" in response.text
