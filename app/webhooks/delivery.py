"""The delivery worker: events become deliveries, deliveries are sent, results recorded.

One run (the ``deliver_webhooks`` job) does three things:

1. **Dispatch.** Events not yet handed on become one delivery per enabled endpoint whose
   types match and that existed when the event was recorded; the events are marked
   dispatched in the same transaction. Dispatch runs one at a time (an advisory lock on
   PostgreSQL; SQLite has one writer anyway) and marks events instead of following a clock
   cursor, so an event whose transaction committed late is still handed on.
2. **Claim.** A short transaction leases due deliveries (``locked_until``, ``lease``),
   skipping rows another worker is claiming (SKIP LOCKED) and any delivery whose member has
   an earlier delivery to the same endpoint still pending: per member and endpoint, at most
   one delivery is under way, and never ahead of an earlier one.
3. **Send and record**, with no transaction open while the receiver is called. Each attempt
   checks the URL again, connects to the address it checked, signs the body and ends after
   the timeout. A round's results are written in one transaction, each only while the
   worker still holds its lease.

At least once: a worker that dies mid-send leaves the lease to lapse and the delivery is
sent again. Receivers drop duplicates by ``Stammkunde-Event-Id``.
"""

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import __version__
from app.config import Settings
from app.db.base import utcnow, uuid7
from app.db.locks import queue_for
from app.events.models import Event
from app.events.schemas import EventRead
from app.events.types import matches
from app.webhooks import repository, schedule, signing, urls
from app.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookEndpoint

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Jitter = Callable[[], float]

DISPATCH_BATCH = 500
# Deliveries sent at once by one worker; it claims no more than it sends right away, so that
# no lease runs down while its delivery waits for a turn.
CONCURRENCY = 10
# A lease outlasts the attempt's timeout by this much, for recording its result.
LEASE_MARGIN = timedelta(seconds=30)
# A run stops claiming after this long, so that the other jobs get their turn.
RUN_BUDGET_SECONDS = 50.0
MAX_ERROR_LENGTH = 500

# One queue for dispatchers: a fixed key for the advisory lock on PostgreSQL.
DISPATCH_LOCK = uuid.UUID("6f1d2a7e-3c4b-4e59-9a1d-5b7e8c9d0a1f")


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    secret_key: bytes
    timeout_seconds: float
    allow_private: bool

    @classmethod
    def from_settings(cls, settings: Settings, secret_key: bytes) -> "WorkerConfig":
        return cls(secret_key, settings.webhook_timeout_seconds, settings.webhook_allow_private)


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class Claimed:
    """A leased delivery with everything its attempt needs, as plain values."""

    delivery_id: uuid.UUID
    lease: uuid.UUID
    attempts: int
    endpoint_id: uuid.UUID
    url: str
    secret: str
    event_id: uuid.UUID
    event_type: str
    body: bytes


def advancing_clock(start: datetime) -> Clock:
    """A clock that starts at ``start`` and runs at real speed."""
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


def event_body(event: Event) -> bytes:
    return EventRead.model_validate(event).model_dump_json().encode()


# --- 1. dispatch ----------------------------------------------------------------------------


def _deliveries_for(
    event: Event, endpoints: Sequence[WebhookEndpoint], now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid7(),
            "created_at": now,
            "endpoint_id": endpoint.id,
            "event_id": event.id,
            "member_id": event.member_id,
            "event_type": event.type,
            "event_created_at": event.created_at,
            "status": DeliveryStatus.pending.value,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for endpoint in endpoints
        if endpoint.created_at <= event.created_at and matches(endpoint.event_types, event.type)
    ]


async def dispatch(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """Turn every undispatched event into deliveries; return how many deliveries were made."""
    made = 0
    while True:
        async with sessionmaker() as session, session.begin():
            await queue_for(session, DISPATCH_LOCK)
            events = await repository.undispatched_events(session, DISPATCH_BATCH)
            if not events:
                return made
            endpoints = await repository.enabled_endpoints(session)
            rows = [row for event in events for row in _deliveries_for(event, endpoints, now)]
            await repository.add_deliveries(session, rows)
            await repository.mark_dispatched(session, [event.id for event in events], now)
            made += len(rows)
        if len(events) < DISPATCH_BATCH:
            return made


# --- 2. claim -------------------------------------------------------------------------------


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: WorkerConfig,
    now: datetime,
    wall_now: datetime,
    limit: int = CONCURRENCY,
) -> list[Claimed]:
    """Lease deliveries due at ``now`` until ``wall_now`` + timeout + margin."""
    lease = uuid.uuid4()
    locked_until = wall_now + timedelta(seconds=config.timeout_seconds) + LEASE_MARGIN
    async with sessionmaker() as session, session.begin():
        ids = await repository.claim_due(session, now, limit, lease, wall_now, locked_until)
        if not ids:
            return []
        rows = await repository.claimed(session, ids)
    return [
        Claimed(
            delivery_id=delivery.id,
            lease=lease,
            attempts=delivery.attempts,
            endpoint_id=endpoint.id,
            url=endpoint.url,
            secret=signing.endpoint_secret(config.secret_key, endpoint.secret_salt),
            event_id=event.id,
            event_type=event.type,
            body=event_body(event),
        )
        for delivery, event, endpoint in rows
    ]


# --- 3. send and record ---------------------------------------------------------------------


def http_client(config: WorkerConfig) -> httpx.AsyncClient:
    # No connection reuse: each attempt connects to the address it checked, and a connection
    # opened for one host name must never carry a request for another that shares its address.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(config.timeout_seconds),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def _short(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text[:MAX_ERROR_LENGTH]


async def _post(
    client: httpx.AsyncClient, item: Claimed, target: urls.Target, address: urls.IPAddress
) -> int:
    url = httpx.URL(item.url)
    timestamp = int(time.time())
    headers = {
        # The request goes to the checked address; the receiver still sees its host name.
        "Host": url.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "User-Agent": f"Stammkunde-Webhooks/{__version__}",
        signing.SIGNATURE_HEADER: signing.signature_header(item.secret, timestamp, item.body),
        signing.EVENT_ID_HEADER: str(item.event_id),
        signing.EVENT_TYPE_HEADER: item.event_type,
        signing.DELIVERY_ID_HEADER: str(item.delivery_id),
    }
    extensions: dict[str, Any] = {}
    if target.scheme == "https" and urls.is_name(target.host):
        extensions["sni_hostname"] = target.host
    request = client.build_request(
        "POST",
        url.copy_with(host=str(address)),
        content=item.body,
        headers=headers,
        extensions=extensions,
    )
    response = await client.send(request, stream=True)
    await response.aclose()
    return response.status_code


async def attempt(client: httpx.AsyncClient, item: Claimed, config: WorkerConfig) -> Outcome:
    """One try: check the URL, POST the signed event, and end after the timeout."""
    started = time.monotonic()
    status_code: int | None = None
    error: str | None = None
    try:
        async with asyncio.timeout(config.timeout_seconds):
            target, addresses = await urls.check(item.url, config.allow_private)
            status_code = await _post(client, item, target, addresses[0])
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except urls.UrlNotAllowed as refused:
        error = f"URL not allowed: {refused}"[:MAX_ERROR_LENGTH]
    except (TimeoutError, httpx.TimeoutException):
        error = f"no response within {config.timeout_seconds:g} s"
    except (httpx.HTTPError, OSError) as failed:
        error = _short(failed)
    except Exception as unexpected:
        # Still an attempt that failed: counted, retried and in the end given up, instead of
        # failing the run and coming back forever.
        logger.exception("webhook attempt failed unexpectedly")
        error = _short(unexpected)
    return Outcome(status_code, error, round((time.monotonic() - started) * 1000))


@dataclass(frozen=True, slots=True)
class Result:
    item: Claimed
    outcome: Outcome
    attempted_at: datetime
    finished_at: datetime


def _next_state(result: Result, jitter: Jitter) -> tuple[DeliveryStatus, dict[str, Any]]:
    """The delivery's status and columns after this attempt."""
    number = result.item.attempts + 1
    outcome, now = result.outcome, result.finished_at
    values: dict[str, Any] = {
        "attempts": number,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
    }
    if outcome.delivered:
        status = DeliveryStatus.delivered
        values.update(status=status.value, finished_at=now)
    elif schedule.gives_up(number):
        status = DeliveryStatus.failed
        values.update(status=status.value, finished_at=now)
    else:
        status = DeliveryStatus.pending
        values["next_attempt_at"] = now + schedule.retry_delay(number, jitter())
    return status, values


async def record(
    sessionmaker: async_sessionmaker[AsyncSession], results: Sequence[Result], jitter: Jitter
) -> list[DeliveryStatus | None]:
    """Write a round's attempts and what follows from them, in one transaction.

    Returns each delivery's new status, or None where the lease was lost meanwhile (another
    worker took the delivery over after the lease ran out; its own try is what counts).
    """
    states = [_next_state(result, jitter) for result in results]
    recorded: list[DeliveryStatus | None] = []
    async with sessionmaker() as session, session.begin():
        # Endpoint rows first and in a fixed order, as a deletion of an endpoint locks them
        # before its deliveries. A 2xx shows the endpoint works, and twelve failures in a row
        # that it does not, whoever holds the lease now.
        # (Within one round, a delivery given up outweighs another one that went through.)
        recovered: set[uuid.UUID] = set()
        given_up: dict[uuid.UUID, datetime] = {}
        for result, (status, _values) in zip(results, states, strict=True):
            if status is DeliveryStatus.delivered:
                recovered.add(result.item.endpoint_id)
            elif status is DeliveryStatus.failed:
                given_up[result.item.endpoint_id] = result.finished_at
        for endpoint_id in sorted(recovered | set(given_up)):
            if endpoint_id in given_up:
                await repository.mark_failing(session, endpoint_id, given_up[endpoint_id])
            else:
                await repository.clear_failing(session, endpoint_id)
        for result, (status, values) in zip(results, states, strict=True):
            item = result.item
            if not await repository.settle(session, item.delivery_id, item.lease, values):
                recorded.append(None)
                continue
            repository.add_attempt(
                session,
                WebhookAttempt(
                    delivery_id=item.delivery_id,
                    number=item.attempts + 1,
                    status_code=result.outcome.status_code,
                    error=result.outcome.error,
                    duration_ms=result.outcome.duration_ms,
                    created_at=result.attempted_at,
                ),
            )
            recorded.append(status)
            if status is DeliveryStatus.failed:
                logger.warning(
                    "webhook delivery given up",
                    extra={
                        "delivery_id": str(item.delivery_id),
                        "endpoint_id": str(item.endpoint_id),
                    },
                )
    return recorded


async def deliver(
    sessionmaker: async_sessionmaker[AsyncSession],
    config: WorkerConfig,
    clock: Clock,
    jitter: Jitter = random.random,
    wall_clock: Clock = utcnow,
    budget_seconds: float = RUN_BUDGET_SECONDS,
) -> int:
    """One run: dispatch, then claim and send until nothing is due; return the attempts made.

    ``clock`` gives the time the schedule runs on and ``jitter`` numbers in [0, 1) for the
    backoff, so that tests drive the schedule without waiting. Leases run on ``wall_clock``,
    the time all workers share, whatever time the schedule was given.
    """
    await dispatch(sessionmaker, clock())
    attempts = 0
    deadline = time.monotonic() + budget_seconds
    async with http_client(config) as client:

        async def one(item: Claimed) -> Result:
            attempted_at = clock()
            outcome = await attempt(client, item, config)
            return Result(item, outcome, attempted_at, clock())

        while time.monotonic() < deadline:
            batch = await claim(sessionmaker, config, clock(), wall_clock())
            if not batch:
                break
            # One transaction for the round's results: on SQLite each commit is a sync to disk.
            await record(sessionmaker, await asyncio.gather(*map(one, batch)), jitter)
            attempts += len(batch)
    return attempts


def deliver_job(
    config: WorkerConfig,
) -> Callable[[async_sessionmaker[AsyncSession], datetime], Awaitable[int]]:
    """The worker as a job: the run's ``now`` starts a clock that runs at real speed."""

    async def deliver_webhooks(
        sessionmaker: async_sessionmaker[AsyncSession], now: datetime
    ) -> int:
        return await deliver(sessionmaker, config, advancing_clock(now))

    return deliver_webhooks
