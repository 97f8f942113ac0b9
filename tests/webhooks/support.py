"""Helpers for webhook tests: events straight into the outbox, endpoints, worker runs."""

import re
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.db.base import utcnow
from app.events.service import emit
from app.webhooks import delivery
from app.webhooks.delivery import WorkerConfig
from app.webhooks.models import WebhookEndpoint
from app.webhooks.schedule import MAX_ATTEMPTS

README = Path(__file__).resolve().parents[2] / "README.md"

Verify = Callable[..., bool]


def readme_verify() -> Verify:
    """The ``verify_signature`` snippet of the README, as a receiver would copy it."""
    text = README.read_text()
    section = text[text.index("## Events and webhooks") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README shows no verification snippet"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), str(README), "exec"), namespace)  # noqa: S102 - our own README
    verify: Verify = namespace["verify_signature"]
    return verify


async def record_events(
    app: FastAPI, *events: tuple[str, uuid.UUID | None], at: datetime | None = None
) -> list[str]:
    """Record events as changes would (``emit``, committed), a millisecond apart; their ids."""
    start = at or utcnow()
    async with app.state.runtime.sessionmaker() as session:
        recorded = [
            emit(session, event_type, member_id, {"n": n}, start + timedelta(milliseconds=n))
            for n, (event_type, member_id) in enumerate(events)
        ]
        await session.commit()
    return [str(event.id) for event in recorded]


async def create_endpoint(
    client: httpx.AsyncClient, admin: dict[str, str], url: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/webhook-endpoints", json={"url": url, **fields}, headers=admin
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def worker_config(
    app: FastAPI, *, allow_private: bool = True, timeout: float = 1.0
) -> WorkerConfig:
    return WorkerConfig(app.state.runtime.secret_key, timeout, allow_private)


def middle_jitter() -> float:
    """No jitter: each delay is exactly the base delay."""
    return 0.5


async def run_worker(
    app: FastAPI,
    at: datetime,
    config: WorkerConfig | None = None,
    jitter: Callable[[], float] = middle_jitter,
    sessionmaker: Any = None,
    wall: datetime | None = None,
) -> int:
    """One run of the delivery worker with the clock standing at ``at``.

    Leases run on the real time, or on ``wall`` when it is given.
    """
    return await delivery.deliver(
        sessionmaker or app.state.runtime.sessionmaker,
        config or worker_config(app),
        clock=lambda: at,
        jitter=jitter,
        wall_clock=utcnow if wall is None else (lambda: wall),
    )


async def deliveries(
    client: httpx.AsyncClient, admin: dict[str, str], endpoint: dict[str, Any], **params: Any
) -> list[dict[str, Any]]:
    """Every delivery of the endpoint through the API, oldest first."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 200, **params}
    while True:
        response = await client.get(
            f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", params=query, headers=admin
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if page["next_cursor"] is None:
            return list(reversed(items))
        query["cursor"] = page["next_cursor"]


async def endpoint_created_at(app: FastAPI, endpoint_id: str) -> datetime:
    async with app.state.runtime.sessionmaker() as session:
        created: datetime = await session.scalar(
            select(WebhookEndpoint.created_at).where(WebhookEndpoint.id == uuid.UUID(endpoint_id))
        )
    return created


def by_event(requests: Sequence[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for request in requests:
        counts[request.event_id] = counts.get(request.event_id, 0) + 1
    return counts


async def run_until_given_up(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    endpoint: dict[str, Any],
    event_id: str,
    start: datetime,
) -> datetime:
    """Run the worker along the backoff schedule until the event's delivery is given up
    (the receiver must keep refusing it); return the clock's time at the last run."""
    now = start
    for _ in range(MAX_ATTEMPTS):
        await run_worker(app, now)
        [found] = [
            d for d in await deliveries(client, admin, endpoint) if d["event_id"] == event_id
        ]
        if found["status"] == "failed":
            return now
        assert found["status"] == "pending", found
        now = datetime.fromisoformat(found["next_attempt_at"])
    raise AssertionError(f"not given up after {MAX_ATTEMPTS} runs: {found}")
