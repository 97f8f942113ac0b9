"""Webhook delivery against real receivers on 127.0.0.1, with the clock injected.

Each run of the worker stands at one point in time (``run_worker(app, at)``), so a schedule
of a day is walked through in a few real seconds; only the timeout is real time.
"""

import asyncio
import time
import uuid
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select

from app import jobs
from app.api_keys.models import Scope
from app.db.base import utcnow
from app.db.engine import create_engine
from app.db.session import create_sessionmaker
from app.webhooks import delivery
from app.webhooks.models import WebhookDelivery
from tests.factories import enrol, headers_for
from tests.webhooks.conftest import TIMEOUT_SECONDS
from tests.webhooks.receiver import HANG, TOGETHER_WAIT_SECONDS, Receiver, Request
from tests.webhooks.support import (
    by_event,
    create_endpoint,
    deliveries,
    readme_verify,
    record_events,
    run_worker,
    worker_config,
)

MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def signature_time(request: Request) -> int:
    fields = dict(part.split("=", 1) for part in request.headers["stammkunde-signature"].split(","))
    return int(fields["t"])


async def delivery_of(client, admin, endpoint, event_id: str) -> dict[str, Any]:
    found = [d for d in await deliveries(client, admin, endpoint) if d["event_id"] == event_id]
    assert len(found) == 1, found
    return found[0]


async def endpoint_state(client, admin, endpoint) -> dict[str, Any]:
    response = await client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- one delivery, signed -------------------------------------------------------------------


async def test_an_event_reaches_the_receiver_signed_as_the_readme_documents(app, client, admin):
    verify = readme_verify()
    member = uuid.uuid4()
    async with Receiver() as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        [event_id] = await record_events(app, ("points.earned", member))

        attempts = await run_worker(app, utcnow())

    assert attempts == 1
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/hooks")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["stammkunde-event-id"] == event_id
    assert request.headers["stammkunde-event-type"] == "points.earned"
    # The body is the event exactly as the feed shows it.
    feed = (await client.get("/v1/events", headers=admin)).json()["items"]
    assert request.json() == next(item for item in feed if item["id"] == event_id)
    assert request.json()["member_id"] == str(member)

    header, body, secret = request.headers["stammkunde-signature"], request.body, endpoint["secret"]
    signed_at = signature_time(request)
    assert abs(signed_at - time.time()) < 60
    assert verify(secret, header, body)
    # Tampered body, another secret, or outside the 300-second tolerance: refused.
    assert not verify(secret, header, body.replace(b'"n":0', b'"n":1'))
    assert not verify(secret + "x", header, body)
    assert verify(secret, header, body, now=signed_at + 300)
    assert not verify(secret, header, body, now=signed_at + 301)
    assert not verify(secret, header, body, now=signed_at - 301)
    assert not verify(secret, "v1=" + header.split("v1=")[1], body)

    delivery = await delivery_of(client, admin, endpoint, event_id)
    assert delivery["status"] == "delivered"
    assert (delivery["attempts"], delivery["last_status_code"], delivery["last_error"]) == (
        1,
        204,
        None,
    )
    assert delivery["next_attempt_at"] is None
    assert [a["status_code"] for a in delivery["attempt_log"]] == [204]


async def test_a_write_through_the_api_becomes_a_delivery(app, client, admin):
    pos = await headers_for(app, Scope.pos)
    async with Receiver() as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url, event_types=["member."])
        anna = await enrol(client, pos, name="Anna")

        await run_worker(app, utcnow())

    created = [r.json() for r in receiver.requests if r.json()["type"] == "member.created"]
    assert [event["member_id"] for event in created] == [anna["id"]]
    assert all(d["status"] == "delivered" for d in await deliveries(client, admin, endpoint))


async def test_a_rotated_secret_signs_from_then_on(app, client, admin):
    verify = readme_verify()
    async with Receiver() as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        rotated = await client.post(
            f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=admin
        )
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        await record_events(app, ("points.earned", None))

        await run_worker(app, utcnow())

    [request] = receiver.requests
    header = request.headers["stammkunde-signature"]
    assert new_secret != endpoint["secret"]
    assert verify(new_secret, header, request.body)
    assert not verify(endpoint["secret"], header, request.body)


# --- retries --------------------------------------------------------------------------------


async def test_a_receiver_that_fails_at_first_gets_retries_on_the_backoff_schedule(
    app, client, admin
):
    async with Receiver(lambda _r: 500 if len(receiver.requests) < 3 else 200) as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        [event_id] = await record_events(app, ("points.earned", uuid.uuid4()))
        start = utcnow()

        assert await run_worker(app, start) == 1
        first = await delivery_of(client, admin, endpoint, event_id)
        assert await run_worker(app, start + MINUTE - timedelta(seconds=1)) == 0
        assert await run_worker(app, start + MINUTE) == 1
        assert await run_worker(app, start + 3 * MINUTE - timedelta(seconds=1)) == 0
        assert await run_worker(app, start + 3 * MINUTE) == 1
        assert await run_worker(app, start + 7 * MINUTE) == 1
        assert await run_worker(app, start + 60 * MINUTE) == 0

    assert receiver.statuses == [500, 500, 500, 200]
    assert set(receiver.event_ids()) == {event_id}
    assert (first["status"], first["attempts"], first["last_status_code"]) == ("pending", 1, 500)
    assert first["last_error"] == "HTTP 500"
    assert at(first["next_attempt_at"]) == start + MINUTE
    delivery = await delivery_of(client, admin, endpoint, event_id)
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered",
        4,
        200,
    )
    log = delivery["attempt_log"]
    assert [a["number"] for a in log] == [1, 2, 3, 4]
    assert [a["status_code"] for a in log] == [500, 500, 500, 200]
    assert [at(a["attempted_at"]) - start for a in log] == [
        timedelta(0),
        MINUTE,
        3 * MINUTE,
        7 * MINUTE,
    ]


async def test_the_jitter_stretches_or_shrinks_a_delay_by_up_to_a_quarter(app, client, admin):
    async with Receiver(lambda _r: 503) as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        early, late = await record_events(app, ("a.b", uuid.uuid4()), ("a.b", uuid.uuid4()))
        start = utcnow()
        # One delivery draws 0.0 (a quarter shorter), the other 0.999 (almost a quarter longer).
        draws = iter([0.0, 0.999])
        await run_worker(app, start, jitter=lambda: next(draws))

    found = [await delivery_of(client, admin, endpoint, event) for event in (early, late)]
    delays = sorted(at(delivery["next_attempt_at"]) - start for delivery in found)
    assert delays == [timedelta(seconds=45), timedelta(seconds=74.97)]
    assert len(receiver.requests) == 2


async def test_a_receiver_that_hangs_is_cut_off_at_the_timeout_and_retried(app, client, admin):
    async with Receiver(lambda _r: HANG if not receiver.requests else 200) as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        [event_id] = await record_events(app, ("points.earned", uuid.uuid4()))
        start = utcnow()

        began = time.monotonic()
        assert await run_worker(app, start) == 1
        took = time.monotonic() - began
        hung = await delivery_of(client, admin, endpoint, event_id)
        assert await run_worker(app, start + MINUTE) == 1

    assert TIMEOUT_SECONDS <= took < TIMEOUT_SECONDS + 3
    assert (hung["status"], hung["last_status_code"]) == ("pending", None)
    assert hung["last_error"] == f"no response within {TIMEOUT_SECONDS:g} s"
    assert hung["attempt_log"][0]["duration_ms"] >= TIMEOUT_SECONDS * 1000 * 0.9
    assert at(hung["next_attempt_at"]) == start + MINUTE
    assert receiver.event_ids() == [event_id, event_id]
    assert (await delivery_of(client, admin, endpoint, event_id))["status"] == "delivered"


async def test_after_the_last_attempt_the_delivery_is_given_up_and_the_endpoint_failing(
    app, client, admin
):
    answer = {"status": 500}
    member = uuid.uuid4()
    async with Receiver(lambda _r: answer["status"]) as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        [event_id] = await record_events(app, ("points.earned", member))
        start = now = utcnow()
        for _ in range(12):
            assert await run_worker(app, now) == 1
            delivery = await delivery_of(client, admin, endpoint, event_id)
            if delivery["status"] == "pending":
                now = at(delivery["next_attempt_at"])
        failing = await endpoint_state(client, admin, endpoint)

        # A later success clears the mark; the member's next event is not held back.
        answer["status"] = 200
        [later] = await record_events(app, ("points.earned", member), at=now + MINUTE)
        assert await run_worker(app, now + 2 * MINUTE) == 1
        recovered = await endpoint_state(client, admin, endpoint)

    assert (delivery["status"], delivery["attempts"], delivery["next_attempt_at"]) == (
        "failed",
        12,
        None,
    )
    times = [at(a["attempted_at"]) for a in delivery["attempt_log"]]
    gaps = [(b - a) / MINUTE for a, b in pairwise(times)]
    assert gaps == [1, 2, 4, 8, 16, 32, 64, 128, 256, 480, 480]
    assert times[-1] - start == timedelta(minutes=1471)  # about a day
    assert (failing["status"], at(failing["failing_since"])) == ("failing", times[-1])
    assert receiver.event_ids() == [event_id] * 12 + [later]
    assert (recovered["status"], recovered["failing_since"]) == ("active", None)


async def test_a_delivery_whose_worker_died_is_sent_again_once_its_lease_runs_out(
    app, client, admin
):
    async with Receiver() as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        [event_id] = await record_events(app, ("points.earned", None))
        start = utcnow()
        config = worker_config(app)
        # A worker claims the delivery and dies before it sends anything.
        await delivery.dispatch(app.state.runtime.sessionmaker, start)
        [lost] = await delivery.claim(app.state.runtime.sessionmaker, config, start, start)

        while_leased = await run_worker(app, start, wall=start + 30 * SECOND)
        after_lease = await run_worker(app, start, wall=start + 32 * SECOND)
        # Had it come back, the dead worker could not record over the new result.
        late = await delivery.record(
            app.state.runtime.sessionmaker,
            [delivery.Result(lost, delivery.Outcome(500, "HTTP 500", 1), start, start)],
            lambda: 0.5,
        )

    assert (while_leased, after_lease, late) == (0, 1, [None])
    assert receiver.event_ids() == [event_id]
    found = await delivery_of(client, admin, endpoint, event_id)
    assert (found["status"], found["attempts"]) == ("delivered", 1)


# --- order ----------------------------------------------------------------------------------


async def test_a_members_later_event_waits_for_the_earlier_one_and_others_go_ahead(
    app, client, admin
):
    anna, ben = uuid.uuid4(), uuid.uuid4()
    failed_once: set[str] = set()

    def respond(request: Request) -> int:
        if request.event_id == first and request.event_id not in failed_once:
            failed_once.add(request.event_id)
            return 500
        return 200

    async with Receiver(respond) as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        first, second, bens = await record_events(
            app, ("points.earned", anna), ("points.redeemed", anna), ("points.earned", ben)
        )
        start = utcnow()

        assert await run_worker(app, start) == 2
        after_first_run = receiver.event_ids()
        assert await run_worker(app, start + timedelta(seconds=30)) == 0
        assert await run_worker(app, start + MINUTE) == 2

    assert sorted(after_first_run) == sorted([first, bens])
    annas = [e for e in receiver.event_ids() if e in (first, second)]
    assert annas == [first, first, second]
    assert receiver.answered(200)[-1].event_id == second
    assert {d["status"] for d in await deliveries(client, admin, endpoint)} == {"delivered"}


async def test_two_workers_at_once_deliver_every_event_exactly_once_in_member_order(
    app, client, admin, settings
):
    members = [uuid.uuid4() for _ in range(30)]
    plan = [("points.earned", members[i % len(members)]) for i in range(90)]

    # One worker sends at most CONCURRENCY at once: the receiver answers nobody until the
    # other worker has requests open too.
    together = delivery.CONCURRENCY + 1
    async with Receiver(lambda _r: 200, delay=0.01, together=together) as receiver:
        await create_endpoint(client, admin, receiver.url)
        event_ids = await record_events(app, *plan)
        second_engine = create_engine(settings)
        try:
            # Patient senders: under load the second worker may start late, and the first
            # one's requests must wait for it rather than time out (then nothing is proven).
            patient = worker_config(app, timeout=TOGETHER_WAIT_SECONDS + 5)
            runs = await asyncio.gather(
                run_worker(app, utcnow(), config=patient),
                run_worker(
                    app,
                    utcnow(),
                    config=patient,
                    sessionmaker=create_sessionmaker(second_engine),
                ),
            )
        finally:
            await second_engine.dispose()

    assert sum(runs) == len(event_ids)
    assert min(runs) > 0, runs  # both took part
    assert receiver.most_open >= together
    assert by_event(receiver.requests) == dict.fromkeys(event_ids, 1)
    member_of = {event_id: member for event_id, (_t, member) in zip(event_ids, plan, strict=True)}
    for member in members:
        recorded = [e for e in event_ids if member_of[e] == member]
        received = [e for e in receiver.event_ids() if member_of[e] == member]
        assert received == recorded
    async with app.state.runtime.sessionmaker() as session:
        pending = await session.scalar(
            select(func.count()).where(WebhookDelivery.status == "pending")
        )
    assert pending == 0


# --- which events go where ------------------------------------------------------------------


async def test_an_endpoint_gets_the_types_it_asked_for_recorded_after_it_was_made(
    app, client, admin
):
    async with Receiver() as receiver:
        [before] = await record_events(app, ("points.earned", None))
        picky = await create_endpoint(
            client, admin, receiver.url, event_types=["tier.", "points.earned"]
        )
        wanted_1, _other, wanted_2, _unrelated = await record_events(
            app,
            ("points.earned", None),
            ("points.redeemed", None),
            ("tier.changed", None),
            ("member.created", None),
        )

        await run_worker(app, utcnow())

    assert picky["event_types"] == ["points.earned", "tier."]
    assert sorted(receiver.event_ids()) == sorted([wanted_1, wanted_2])
    assert before not in receiver.event_ids()


async def test_a_disabled_endpoint_gets_nothing_and_its_pending_deliveries_wait(app, client, admin):
    async with Receiver(lambda _r: 500 if not receiver.requests else 200) as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        path = f"/v1/webhook-endpoints/{endpoint['id']}"
        [waiting] = await record_events(app, ("points.earned", None))
        start = utcnow()
        await run_worker(app, start)  # fails once, due again a minute later

        disabled = await client.patch(path, json={"enabled": False}, headers=admin)
        [missed] = await record_events(app, ("points.earned", None))
        assert await run_worker(app, start + 2 * MINUTE) == 0
        await client.patch(path, json={"enabled": True}, headers=admin)
        assert await run_worker(app, start + 3 * MINUTE) == 1

    assert disabled.json()["status"] == "disabled"
    assert receiver.event_ids() == [waiting, waiting]
    assert missed not in {d["event_id"] for d in await deliveries(client, admin, endpoint)}


async def test_deleting_an_endpoint_drops_its_pending_deliveries(app, client, admin):
    async with Receiver(lambda _r: 500) as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url)
        await record_events(app, ("points.earned", None))
        start = utcnow()
        await run_worker(app, start)
        deleted = await client.delete(f"/v1/webhook-endpoints/{endpoint['id']}", headers=admin)
        assert await run_worker(app, start + MINUTE) == 0

    assert deleted.status_code == 204
    assert len(receiver.requests) == 1
    async with app.state.runtime.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


# --- the address rules at delivery time -----------------------------------------------------


async def test_the_address_is_checked_again_at_delivery_time(app, client, admin):
    async with Receiver() as receiver:
        # Saved while private addresses were allowed; by delivery time they are not.
        port = receiver.url.split(":")[2].split("/")[0]
        endpoint = await create_endpoint(client, admin, f"https://localhost:{port}/hooks")
        [event_id] = await record_events(app, ("points.earned", None))
        start = utcnow()

        assert await run_worker(app, start, config=worker_config(app, allow_private=False)) == 1

    assert receiver.requests == []
    delivery = await delivery_of(client, admin, endpoint, event_id)
    assert (delivery["status"], delivery["last_status_code"]) == ("pending", None)
    assert delivery["last_error"].startswith("URL not allowed: The host 'localhost' resolves to")
    assert at(delivery["next_attempt_at"]) == start + MINUTE


# --- the job --------------------------------------------------------------------------------


async def test_the_worker_runs_with_the_other_jobs(app, client, admin, settings):
    async with Receiver() as receiver:
        await create_endpoint(client, admin, receiver.url)
        [event_id] = await record_events(app, ("points.earned", uuid.uuid4()))
        config = jobs.JobConfig(settings, app.state.runtime.secret_key)

        handled = await jobs.run_once(app.state.runtime.sessionmaker, utcnow(), config)
        again = await jobs.run_once(app.state.runtime.sessionmaker, utcnow(), config)

    assert (handled["deliver_webhooks"], again["deliver_webhooks"]) == (1, 0)
    assert list(handled)[-2:] == ["deliver_webhooks", "prune_events"]
    assert receiver.event_ids() == [event_id]
