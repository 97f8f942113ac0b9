"""Managing webhook endpoints over HTTP: the secret shown once, changes, deletion, scopes."""

import uuid

from app.api_keys.models import Scope
from app.db.base import utcnow
from tests.factories import assert_problem, headers_for, idempotent
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import create_endpoint, deliveries, record_events, run_worker

PATH = "/v1/webhook-endpoints"
URL = "http://127.0.0.1:9/hooks"  # allowed here: these apps allow private addresses


async def test_the_secret_is_shown_when_the_endpoint_is_made_and_never_again(client, admin):
    created = await create_endpoint(
        client, admin, URL, event_types=["points.", "tier.changed", "points."], description="CRM"
    )

    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["points.", "tier.changed"]
    assert (created["status"], created["enabled"], created["failing_since"]) == (
        "active",
        True,
        None,
    )
    fetched = await client.get(f"{PATH}/{created['id']}", headers=admin)
    listed = await client.get(PATH, headers=admin)
    assert fetched.status_code == listed.status_code == 200
    assert "secret" not in fetched.json()
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    assert "secret" not in listed.json()["items"][0]
    assert created["secret"] not in fetched.text + listed.text


async def test_a_replayed_creation_returns_the_endpoint_without_its_secret(client, admin):
    headers = idempotent(admin, "make-crm-hook")
    body = {"url": URL}

    first = await client.post(PATH, json=body, headers=headers)
    replay = await client.post(PATH, json=body, headers=headers)

    assert (first.status_code, replay.status_code) == (201, 201)
    assert first.json()["secret"].startswith("whsec_")
    assert replay.json() == {**first.json(), "secret": None}
    assert len((await client.get(PATH, headers=admin)).json()["items"]) == 1


async def test_rotating_gives_a_new_secret(client, admin):
    created = await create_endpoint(client, admin, URL)

    rotated = await client.post(f"{PATH}/{created['id']}/rotate-secret", headers=admin)
    again = await client.post(f"{PATH}/{created['id']}/rotate-secret", headers=admin)

    assert rotated.status_code == 200, rotated.text
    secrets = {created["secret"], rotated.json()["secret"], again.json()["secret"]}
    assert len(secrets) == 3
    assert rotated.json()["id"] == created["id"]


async def test_an_endpoint_is_changed_field_by_field(client, admin):
    created = await create_endpoint(client, admin, URL, description="CRM")
    path = f"{PATH}/{created['id']}"

    changed = await client.patch(
        path, json={"event_types": ["gift."], "enabled": False}, headers=admin
    )
    moved = await client.patch(
        path, json={"url": "http://127.0.0.1:10/new", "description": None}, headers=admin
    )

    assert changed.status_code == 200, changed.text
    assert (changed.json()["event_types"], changed.json()["status"]) == (["gift."], "disabled")
    assert changed.json()["description"] == "CRM"
    assert moved.json()["url"] == "http://127.0.0.1:10/new"
    assert moved.json()["description"] is None
    assert moved.json()["event_types"] == ["gift."]
    assert moved.json()["updated_at"] >= created["updated_at"]


async def test_a_deleted_endpoint_is_gone(client, admin):
    created = await create_endpoint(client, admin, URL)
    path = f"{PATH}/{created['id']}"

    deleted = await client.delete(path, headers=admin)

    assert deleted.status_code == 204
    assert_problem(await client.get(path, headers=admin), 404, "webhook_endpoint_not_found")
    assert_problem(await client.delete(path, headers=admin), 404, "webhook_endpoint_not_found")
    assert_problem(
        await client.patch(path, json={"enabled": True}, headers=admin),
        404,
        "webhook_endpoint_not_found",
    )


async def test_unknown_endpoints_and_deliveries_are_404(client, admin):
    created = await create_endpoint(client, admin, URL)
    nobody = uuid.uuid4()

    assert_problem(
        await client.get(f"{PATH}/{nobody}/deliveries", headers=admin),
        404,
        "webhook_endpoint_not_found",
    )
    assert_problem(
        await client.get(f"{PATH}/{created['id']}/deliveries/{nobody}", headers=admin),
        404,
        "webhook_delivery_not_found",
    )


async def test_deliveries_are_listed_with_their_attempts_and_filtered_by_status(app, client, admin):
    async with Receiver(lambda r: 500 if r.json()["data"]["n"] == 0 else 200) as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        failing, fine = await record_events(app, ("a.b", None), ("a.b", None))
        await run_worker(app, utcnow())

    every = {d["event_id"]: d for d in await deliveries(client, admin, endpoint)}
    pending = await deliveries(client, admin, endpoint, status="pending")
    delivered = await deliveries(client, admin, endpoint, status="delivered")
    one = await client.get(
        f"{PATH}/{endpoint['id']}/deliveries/{every[failing]['id']}", headers=admin
    )

    assert set(every) == {failing, fine}
    assert [d["event_id"] for d in pending] == [failing]
    assert [d["event_id"] for d in delivered] == [fine]
    assert one.status_code == 200
    assert one.json() == every[failing]
    [attempt] = one.json()["attempt_log"]
    assert (attempt["number"], attempt["status_code"], attempt["error"]) == (1, 500, "HTTP 500")
    assert attempt["duration_ms"] >= 0


async def test_only_admin_keys_manage_endpoints(app, client):
    pos = await headers_for(app, Scope.pos)

    assert_problem(await client.get(PATH, headers=pos), 403, "insufficient_scope")
    assert_problem(
        await client.post(PATH, json={"url": URL}, headers=pos), 403, "insufficient_scope"
    )
    assert_problem(await client.get(PATH), 401, "unauthenticated")


async def test_malformed_requests_are_validation_errors(client, admin):
    for body in (
        {"url": URL, "event_types": ["Points.Earned"]},
        {"url": URL, "event_types": ["points.*"]},
        {"url": URL, "secret": "mine"},
        {"url": ""},
        {"event_types": []},
    ):
        assert_problem(await client.post(PATH, json=body, headers=admin), 422, "validation_error")
