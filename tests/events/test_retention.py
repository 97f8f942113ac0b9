"""Pruning: old events go with their finished deliveries; undelivered ones stay, however old."""

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import jobs
from app.config import Settings
from app.db.base import utcnow
from app.events.models import Event
from app.events.retention import prune_events
from app.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.conftest import make_settings
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import create_endpoint, deliveries, record_events, run_worker

RETENTION = timedelta(days=90)
DAY = timedelta(days=1)


@pytest.fixture
def settings(database) -> Settings:
    return make_settings(database.url, webhook_allow_private=True, event_retention_days=90)


async def remaining(app) -> tuple[set[str], int, int]:
    async with app.state.runtime.sessionmaker() as session:
        events = {str(i) for i in await session.scalars(select(Event.id))}
        delivery_count = await session.scalar(select(func.count()).select_from(WebhookDelivery))
        attempt_count = await session.scalar(select(func.count()).select_from(WebhookAttempt))
    return events, int(delivery_count or 0), int(attempt_count or 0)


async def test_old_events_go_once_delivered_or_given_up_and_undelivered_ones_stay(
    app, client, admin
):
    def respond(request) -> int:
        return 200 if request.json()["type"] == "points.earned" else 500

    async with Receiver(respond) as receiver:
        endpoint = await create_endpoint(client, admin, receiver.url, event_types=["points."])
        start = now = utcnow()
        delivered, given_up, unwanted = await record_events(
            app,
            ("points.earned", uuid.uuid4()),
            ("points.expired", uuid.uuid4()),
            ("tier.changed", uuid.uuid4()),  # no endpoint wants it: nothing to deliver
        )
        for _ in range(12):  # every attempt of points.expired fails: given up after a day
            await run_worker(app, now)
            now = await next_attempt(client, admin, endpoint, given_up) or now
        [retrying] = await record_events(app, ("points.redeemed", uuid.uuid4()), at=now)
        await run_worker(app, now)
        [young] = await record_events(app, ("points.earned", uuid.uuid4()), at=start + 20 * DAY)
        await run_worker(app, start + 20 * DAY)
        # Recorded, but no worker has run since: not handed to the webhooks yet.
        [undispatched] = await record_events(app, ("points.earned", None), at=start + DAY)
    statuses = {d["event_id"]: d["status"] for d in await deliveries(client, admin, endpoint)}
    assert statuses == {
        delivered: "delivered",
        given_up: "failed",
        retrying: "pending",
        young: "delivered",
    }
    all_events = (await remaining(app))[0]

    # 100 days on, everything but `young` is older than the 90 days kept.
    pruned = await prune_events(app.state.runtime.sessionmaker, RETENTION, start + 100 * DAY)
    again = await prune_events(app.state.runtime.sessionmaker, RETENTION, start + 100 * DAY)

    events, delivery_count, attempt_count = await remaining(app)
    assert (pruned, again) == (3, 0)
    assert events == all_events - {delivered, given_up, unwanted}
    assert {retrying, young, undispatched} <= events
    left = await deliveries(client, admin, endpoint)
    assert sorted(d["event_id"] for d in left) == sorted([retrying, young])
    assert delivery_count == 2
    assert attempt_count == sum(len(d["attempt_log"]) for d in left)


async def next_attempt(client, admin, endpoint, event_id: str) -> datetime | None:
    found = {d["event_id"]: d for d in await deliveries(client, admin, endpoint)}
    value = found[event_id]["next_attempt_at"]
    return None if value is None else datetime.fromisoformat(value)


async def test_events_not_yet_handed_to_webhooks_are_kept(app, settings):
    [waiting] = await record_events(app, ("points.earned", None), at=utcnow() - 200 * DAY)
    config = jobs.JobConfig(settings, app.state.runtime.secret_key)

    pruned = await prune_events(app.state.runtime.sessionmaker, RETENTION, utcnow())
    handled = await jobs.run_once(app.state.runtime.sessionmaker, utcnow(), config)

    assert pruned == 0  # not dispatched yet
    # The run dispatches it (no endpoint: nothing to send), then prunes it.
    assert handled["prune_events"] == 1
    assert waiting not in (await remaining(app))[0]
