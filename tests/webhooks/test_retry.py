"""Retrying a failed delivery by hand: one more attempt, in its member's order."""

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.db.base import utcnow
from app.webhooks.schedule import MAX_ATTEMPTS
from tests.factories import assert_problem
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import (
    create_endpoint,
    deliveries,
    record_events,
    run_until_given_up,
    run_worker,
)

MINUTE = timedelta(minutes=1)


def retry_path(endpoint: dict[str, Any], delivery_id: str) -> str:
    return f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{delivery_id}/retry"


async def delivery_of(client, admin, endpoint, event_id: str) -> dict[str, Any]:
    [found] = [d for d in await deliveries(client, admin, endpoint) if d["event_id"] == event_id]
    return found


async def endpoint_state(client, admin, endpoint) -> dict[str, Any]:
    response = await client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def retry(client, admin, endpoint, delivery_id: str) -> httpx.Response:
    return await client.post(retry_path(endpoint, delivery_id), headers=admin)


async def test_a_retried_failed_delivery_is_sent_by_the_worker_and_clears_the_failing_mark(
    app, client, admin
):
    answer = {"status": 500}
    async with Receiver(lambda _r: answer["status"]) as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        [event_id] = await record_events(app, ("points.earned", uuid.uuid4()))
        now = await run_until_given_up(app, client, admin, endpoint, event_id, utcnow())
        failed = await delivery_of(client, admin, endpoint, event_id)
        assert (await endpoint_state(client, admin, endpoint))["status"] == "failing"

        answer["status"] = 200
        before = utcnow()
        response = await retry(client, admin, endpoint, failed["id"])
        retried = await delivery_of(client, admin, endpoint, event_id)
        assert await run_worker(app, now) == 1
        assert await run_worker(app, now + MINUTE) == 0

    assert response.status_code == 202, response.text
    body = response.json()
    assert body == retried
    assert (body["status"], body["attempts"], body["finished_at"]) == ("pending", 12, None)
    assert before <= datetime.fromisoformat(body["next_attempt_at"]) <= utcnow()
    assert [a["number"] for a in body["attempt_log"]] == list(range(1, MAX_ATTEMPTS + 1))

    assert receiver.event_ids() == [event_id] * (MAX_ATTEMPTS + 1)
    assert receiver.statuses[-1] == 200
    delivered = await delivery_of(client, admin, endpoint, event_id)
    assert (delivered["status"], delivered["attempts"], delivered["last_status_code"]) == (
        "delivered",
        MAX_ATTEMPTS + 1,
        200,
    )
    assert delivered["attempt_log"][-1]["number"] == MAX_ATTEMPTS + 1
    state = await endpoint_state(client, admin, endpoint)
    assert (state["status"], state["failing_since"]) == ("active", None)


async def test_a_retry_that_fails_again_gets_one_attempt_and_is_failed_again(app, client, admin):
    async with Receiver(lambda _r: 503) as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        [event_id] = await record_events(app, ("points.earned", None))
        now = await run_until_given_up(app, client, admin, endpoint, event_id, utcnow())
        failing_since = (await endpoint_state(client, admin, endpoint))["failing_since"]
        delivery_id = (await delivery_of(client, admin, endpoint, event_id))["id"]

        assert (await retry(client, admin, endpoint, delivery_id)).status_code == 202
        assert await run_worker(app, now) == 1
        # Given up again at once: no backoff schedule starts over.
        assert await run_worker(app, now + 10 * 24 * 60 * MINUTE) == 0
        again = await delivery_of(client, admin, endpoint, event_id)

        # And it can be retried once more.
        assert (await retry(client, admin, endpoint, delivery_id)).status_code == 202
        assert await run_worker(app, now) == 1
        third = await delivery_of(client, admin, endpoint, event_id)

    assert len(receiver.requests) == MAX_ATTEMPTS + 2
    assert (again["status"], again["attempts"], again["next_attempt_at"]) == (
        "failed",
        MAX_ATTEMPTS + 1,
        None,
    )
    assert again["finished_at"] is not None
    assert (third["status"], third["attempts"]) == ("failed", MAX_ATTEMPTS + 2)
    state = await endpoint_state(client, admin, endpoint)
    assert (state["status"], state["failing_since"]) == ("failing", failing_since)


async def test_a_retried_delivery_goes_out_before_its_members_later_pending_one(app, client, admin):
    member = uuid.uuid4()
    answer = {"status": 500}
    async with Receiver(lambda _r: answer["status"]) as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        first, second = await record_events(
            app, ("points.earned", member), ("points.redeemed", member)
        )
        # The second waits behind the first until it is given up, then fails once itself.
        await run_until_given_up(app, client, admin, endpoint, first, utcnow())
        waiting = await delivery_of(client, admin, endpoint, second)
        assert (waiting["status"], waiting["attempts"]) == ("pending", 1)
        failed_id = (await delivery_of(client, admin, endpoint, first))["id"]

        answer["status"] = 200
        assert (await retry(client, admin, endpoint, failed_id)).status_code == 202
        sent_before = len(receiver.requests)
        # Both are due now; the member's earlier one goes first, then the later one.
        assert await run_worker(app, datetime.fromisoformat(waiting["next_attempt_at"])) == 2

    assert receiver.event_ids()[sent_before:] == [first, second]
    assert receiver.statuses[sent_before:] == [200, 200]
    assert {d["status"] for d in await deliveries(client, admin, endpoint)} == {"delivered"}


async def test_only_a_failed_delivery_can_be_retried(app, client, admin):
    answer = {"status": 204}
    async with Receiver(lambda _r: answer["status"]) as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        [delivered_event] = await record_events(app, ("points.earned", None))
        start = utcnow()
        await run_worker(app, start)
        answer["status"] = 500
        [pending_event] = await record_events(app, ("points.earned", None), at=start + MINUTE)
        await run_worker(app, start + 2 * MINUTE)
        delivered = await delivery_of(client, admin, endpoint, delivered_event)
        pending = await delivery_of(client, admin, endpoint, pending_event)

    assert (delivered["status"], pending["status"]) == ("delivered", "pending")
    for found in (delivered, pending):
        refused = await retry(client, admin, endpoint, found["id"])
        problem = assert_problem(refused, 409, "webhook_delivery_not_failed")
        assert found["status"] in problem["detail"]
        unchanged = await delivery_of(client, admin, endpoint, found["event_id"])
        assert unchanged == found

    other = await create_endpoint(client, admin, "http://127.0.0.1:9/other")
    assert_problem(
        await retry(client, admin, other, delivered["id"]), 404, "webhook_delivery_not_found"
    )
    assert_problem(
        await retry(client, admin, endpoint, str(uuid.uuid4())), 404, "webhook_delivery_not_found"
    )
    assert_problem(
        await retry(client, admin, {"id": str(uuid.uuid4())}, delivered["id"]),
        404,
        "webhook_endpoint_not_found",
    )


async def test_retrying_takes_an_admin_key(app, client, admin, pos):
    endpoint = await create_endpoint(client, admin, "http://127.0.0.1:9/hooks")
    response = await client.post(retry_path(endpoint, str(uuid.uuid4())), headers=pos)
    assert_problem(response, 403, "insufficient_scope")
