"""The ledger under concurrent requests, through a real uvicorn on 127.0.0.1.

No double spend, no lost purchase, exactly-once writes under concurrent retries, on SQLite
and on PostgreSQL. On PostgreSQL also: no request locks a programme account, and one
member's lock holds up only that member.
"""

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.api_keys.models import Scope
from app.kit.idempotency import REPLAY_HEADER
from app.ledger.models import PROGRAM_ACCOUNT_KINDS, LedgerTransaction
from app.ledger.verify import first_mismatch
from app.members import service as members_service
from app.members.models import Member
from app.members.schemas import MemberCreate
from tests.conftest import BACKENDS, bearer, create_key
from tests.conftest import TestDatabase as Database  # not collected as a test class
from tests.kit.test_errors import assert_problem
from tests.live_server import LiveServer

# Generous: 200 requests queue on one SQLite connection; a hang still ends the test.
HTTP_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
HTTP_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=256)
BURST_TIMEOUT_SECONDS = 90.0
LOCK_TIMEOUT_SECONDS = 10.0
# A request that locks nothing it should not answers well within this on a 2-core machine.
UNBLOCKED_SECONDS = 5.0
POLL_SECONDS = 0.01

POSTGRESQL = [backend for backend in BACKENDS if backend == "postgresql"]


# --- the client ----------------------------------------------------------------------------


@dataclass
class Api:
    """A till (scope pos) and an admin talking to the live server."""

    http: httpx.AsyncClient
    till: dict[str, str]
    admin: dict[str, str]
    _orders: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def order_id(self, prefix: str = "ORDER") -> str:
        return f"{prefix}-{next(self._orders)}"

    async def post(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        admin: bool = False,
    ) -> httpx.Response:
        headers = dict(self.admin if admin else self.till)
        if key is not None:
            headers["Idempotency-Key"] = key
        return await self.http.post(path, json=body, headers=headers)

    async def enrol(self, **fields: Any) -> UUID:
        response = await self.post("/v1/members", fields)
        assert response.status_code == 201, response.text
        return UUID(response.json()["id"])

    async def purchase(
        self, member_id: UUID | None, order_id: str, total: int, **extra: Any
    ) -> httpx.Response:
        body = {
            "member_id": str(member_id) if member_id else None,
            "order_id": order_id,
            "channel": "pos",
            "currency": "EUR",
            "total": total,
            **extra,
        }
        return await self.post("/v1/purchases", body, key=f"purchase-{order_id}")

    async def redeem(self, member_id: UUID, points: int, key: str) -> httpx.Response:
        return await self.post(f"/v1/members/{member_id}/redemptions", {"points": points}, key=key)

    async def adjust(self, member_id: UUID, points: int, key: str) -> httpx.Response:
        body = {"points": points, "reason": "goodwill"}
        return await self.post(f"/v1/members/{member_id}/adjustments", body, key=key, admin=True)

    async def available(self, member_id: UUID) -> int:
        response = await self.http.get(f"/v1/members/{member_id}/balance", headers=self.till)
        assert response.status_code == 200, response.text
        available: int = response.json()["available"]
        return available


async def burst(requests: Iterable[Awaitable[httpx.Response]]) -> list[httpx.Response]:
    """Send all at once and wait for every answer (bounded)."""
    async with asyncio.timeout(BURST_TIMEOUT_SECONDS):
        return list(await asyncio.gather(*requests))


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# --- the database, read in-process ---------------------------------------------------------


async def ledger_mismatch(app: FastAPI) -> str | None:
    async with app.state.runtime.sessionmaker() as session:
        return await first_mismatch(session)


async def ledger_entries(app: FastAPI, member_id: UUID) -> int:
    statement = select(func.count()).where(LedgerTransaction.member_id == member_id)
    async with app.state.runtime.sessionmaker() as session:
        return int(await session.scalar(statement) or 0)


async def enrol_directly(app: FastAPI, count: int) -> list[UUID]:
    """Members made in one transaction, quicker than as many requests."""
    async with app.state.runtime.sessionmaker() as session:
        members = [
            await members_service.create_member(session, MemberCreate()) for _ in range(count)
        ]
        await session.commit()
    return [member.id for member in members]


async def members_with_email(app: FastAPI, email: str) -> int:
    statement = select(func.count()).where(Member.email == email)
    async with app.state.runtime.sessionmaker() as session:
        return int(await session.scalar(statement) or 0)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
async def api(app: FastAPI, server: LiveServer) -> AsyncIterator[Api]:
    till = await create_key(app, Scope.pos, name="till")
    admin = await create_key(app, Scope.admin, name="admin")
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=HTTP_TIMEOUT, limits=HTTP_LIMITS, trust_env=False
    ) as http:
        yield Api(http, bearer(till), bearer(admin))


@pytest.fixture
async def side_connection(database: Database) -> AsyncIterator[asyncpg.Connection]:
    """A PostgreSQL connection outside the server's pool, to hold locks and watch waits."""
    url = make_url(database.url)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=10,
    )
    try:
        yield conn
    finally:
        await conn.close()


# --- no double spend -----------------------------------------------------------------------


async def test_concurrent_redemptions_never_overspend(app: FastAPI, api: Api) -> None:
    """64 redemptions of 10 against 100 available: exactly 10 succeed, one after another."""
    member = await api.enrol()
    assert created(await api.purchase(member, api.order_id(), 10_000))["balance"] == {
        "available": 100,
        "pending": 0,
    }

    responses = await burst(api.redeem(member, 10, key=f"redeem-{i}") for i in range(64))

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 10, 409: 54}, statuses
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "insufficient_points")
    # Serialised: each success saw the balance the previous one left.
    after = sorted(created(r)["balance"]["available"] for r in responses if r.status_code == 201)
    assert after == list(range(0, 100, 10))
    assert await api.available(member) == 0
    assert await ledger_entries(app, member) == 1 + 10
    assert await ledger_mismatch(app) is None


# --- no lost purchase ----------------------------------------------------------------------


async def test_concurrent_purchases_for_one_member_all_count(app: FastAPI, api: Api) -> None:
    """200 purchases at once for one member: every one earns, none fails on a lock."""
    member = await api.enrol()
    totals = [100 * (1 + i % 9) + i % 100 for i in range(200)]

    started = time.monotonic()
    responses = await burst(api.purchase(member, api.order_id(), total) for total in totals)
    elapsed = time.monotonic() - started

    server_errors = [r.text for r in responses if r.status_code >= 500]
    assert not server_errors, server_errors[:3]
    earned = sum(created(response)["points_earned"] for response in responses)
    assert earned == sum(total // 100 for total in totals)
    assert await api.available(member) == earned
    assert await ledger_entries(app, member) == 200
    assert await ledger_mismatch(app) is None
    print(f"\n200 purchases for one member: {elapsed:.2f}s")


# --- exactly once under concurrent retries -------------------------------------------------


@dataclass(frozen=True)
class Write:
    """One write to send three times at once, and how to count what it did."""

    name: str
    send: Callable[[str], Awaitable[httpx.Response]]
    status: int
    effects: Callable[[], Awaitable[int]]


async def _funded_member(api: Api, points: int = 100) -> UUID:
    member = await api.enrol()
    created(await api.purchase(member, api.order_id(), points * 100))
    return member


async def _purchase_write(app: FastAPI, api: Api) -> Write:
    member = await api.enrol()
    body = {
        "member_id": str(member),
        "order_id": api.order_id("IDEM"),
        "channel": "pos",
        "currency": "EUR",
        "total": 2_500,
    }
    return Write(
        "purchase",
        lambda key: api.post("/v1/purchases", body, key=key),
        201,
        lambda: ledger_entries(app, member),
    )


async def _redemption_write(app: FastAPI, api: Api) -> Write:
    member = await _funded_member(api)
    return Write(
        "redemption",
        lambda key: api.redeem(member, 30, key=key),
        201,
        lambda: ledger_entries(app, member),
    )


async def _redemption_cancel_write(app: FastAPI, api: Api) -> Write:
    member = await _funded_member(api)
    redemption = created(await api.redeem(member, 30, key=f"setup-{uuid4()}"))["id"]
    return Write(
        "redemption cancel",
        lambda key: api.post(f"/v1/redemptions/{redemption}/cancel", key=key),
        200,
        lambda: ledger_entries(app, member),
    )


async def _return_write(app: FastAPI, api: Api) -> Write:
    member = await api.enrol()
    items = [{"sku": "MUG", "quantity": 2, "unit_price": 2_500}]
    purchase = created(await api.purchase(member, api.order_id(), 5_000, items=items))["id"]
    body = {"items": [{"sku": "MUG", "quantity": 1}]}
    return Write(
        "return",
        lambda key: api.post(f"/v1/purchases/{purchase}/returns", body, key=key),
        201,
        lambda: ledger_entries(app, member),
    )


async def _adjustment_write(app: FastAPI, api: Api) -> Write:
    member = await api.enrol()
    return Write(
        "adjustment",
        lambda key: api.adjust(member, 40, key=key),
        201,
        lambda: ledger_entries(app, member),
    )


async def _enrolment_write(app: FastAPI, api: Api) -> Write:
    email = f"idem-{uuid4().hex[:12]}@example.com"
    return Write(
        "member enrolment",
        lambda key: api.post("/v1/members", {"email": email, "name": "Anna"}, key=key),
        201,
        lambda: members_with_email(app, email),
    )


async def _receipt_claim_write(app: FastAPI, api: Api) -> Write:
    member = await api.enrol()
    receipt = created(await api.purchase(None, api.order_id(), 3_000))
    body = {"claim_code": receipt["claim_code"], "member_id": str(member)}
    return Write(
        "receipt claim",
        lambda key: api.post("/v1/purchases/claim", body, key=key),
        201,
        lambda: ledger_entries(app, member),
    )


WRITES = (
    _purchase_write,
    _redemption_write,
    _redemption_cancel_write,
    _return_write,
    _adjustment_write,
    _enrolment_write,
    _receipt_claim_write,
)


def _in_progress(response: httpx.Response) -> bool:
    if response.status_code != 409:
        return False
    assert_problem(response, 409, "idempotency_in_progress")
    return True


async def _check_exactly_once(write: Write) -> None:
    key = f"{write.name}-{uuid4()}"
    before = await write.effects()

    responses = await burst(write.send(key) for _ in range(3))

    assert await write.effects() == before + 1, f"{write.name}: not exactly one effect"
    settled = [response for response in responses if not _in_progress(response)]
    originals = [r for r in settled if REPLAY_HEADER.lower() not in r.headers]
    assert len(originals) == 1, f"{write.name}: {[r.status_code for r in responses]}"
    [original] = originals
    assert original.status_code == write.status, f"{write.name}: {original.text}"
    for response in settled:
        assert (response.status_code, response.content) == (write.status, original.content)

    replay = await write.send(key)
    assert replay.status_code == write.status, f"{write.name}: {replay.text}"
    assert replay.headers[REPLAY_HEADER] == "true"
    assert replay.content == original.content
    assert await write.effects() == before + 1


async def test_each_write_replayed_concurrently_happens_once(app: FastAPI, api: Api) -> None:
    """Every write three times at once with one Idempotency-Key: one effect, one answer.

    All seven writes run side by side (each on its own member), so that they also race
    each other; a failure names the write.
    """
    writes = [await prepare(app, api) for prepare in WRITES]
    results = await asyncio.gather(
        *(_check_exactly_once(write) for write in writes), return_exceptions=True
    )
    failures = [
        f"{write.name}: {result!r}"
        for write, result in zip(writes, results, strict=True)
        if isinstance(result, BaseException)
    ]
    assert not failures, "\n".join(failures)
    assert await ledger_mismatch(app) is None


# --- programme accounts and other members never hold a request up (PostgreSQL) -------------


# Sessions queued behind another transaction's row or member lock. Not relation extension
# locks: concurrent inserts into one table take those briefly whoever the member is.
ROW_LOCK_WAITS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple', 'advisory')"
)


async def _blocked_by(conn: asyncpg.Connection) -> int:
    """How many sessions wait for a lock that ``conn`` holds (fresh, not a snapshot)."""
    return int(
        await conn.fetchval(
            "SELECT count(DISTINCT pid) FROM pg_locks "
            "WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        )
    )


async def _until_blocked(conn: asyncpg.Connection, sessions: int) -> None:
    for _ in range(int(LOCK_TIMEOUT_SECONDS / POLL_SECONDS)):
        if await _blocked_by(conn) >= sessions:
            return
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError(f"fewer than {sessions} requests came to wait for the lock")


@pytest.mark.parametrize("migrated_database", POSTGRESQL, indirect=True)
async def test_postgresql_requests_never_lock_programme_accounts(
    app: FastAPI, api: Api, side_connection: asyncpg.Connection
) -> None:
    """With every programme account row locked elsewhere, points still move.

    The lock is ``FOR NO KEY UPDATE``: what an UPDATE of a programme balance, or any
    ``FOR UPDATE``/``FOR SHARE`` of one, would need. It leaves out only the key-share lock
    that the foreign key of each new posting takes; those never conflict with each other,
    so they cannot make requests queue.
    """
    member = await _funded_member(api)
    lock = side_connection.transaction()
    await lock.start()
    try:
        locked = await side_connection.fetch(
            "SELECT id FROM account WHERE member_id IS NULL FOR NO KEY UPDATE"
        )
        assert len(locked) == len(PROGRAM_ACCOUNT_KINDS)
        async with asyncio.timeout(UNBLOCKED_SECONDS):
            responses = await asyncio.gather(
                api.purchase(member, api.order_id(), 5_000),
                api.purchase(None, api.order_id(), 5_000),
                api.redeem(member, 20, key="redeem"),
                api.adjust(member, 15, key="credit"),
                api.adjust(member, -5, key="debit"),
            )
        assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    finally:
        await lock.rollback()
    assert await api.available(member) == 100 + 50 - 20 + 15 - 5
    assert await ledger_mismatch(app) is None


@pytest.mark.parametrize("migrated_database", POSTGRESQL, indirect=True)
async def test_postgresql_one_members_lock_holds_up_only_that_member(
    app: FastAPI, api: Api, side_connection: asyncpg.Connection
) -> None:
    """Member A's accounts locked elsewhere: A's purchase waits, B's goes through meanwhile."""
    member_a, member_b = await api.enrol(), await api.enrol()
    lock = side_connection.transaction()
    await lock.start()
    try:
        await side_connection.execute(
            "SELECT id FROM account WHERE member_id = $1 FOR UPDATE", member_a
        )
        purchase_a = asyncio.create_task(api.purchase(member_a, api.order_id(), 1_000))
        await _until_blocked(side_connection, 1)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(purchase_a), 0.3)

        purchase_b = await asyncio.wait_for(
            api.purchase(member_b, api.order_id(), 2_000), UNBLOCKED_SECONDS
        )
        assert created(purchase_b)["balance"]["available"] == 20
        assert not purchase_a.done()
        assert await _blocked_by(side_connection) == 1
        # What the figures of the next test count: here, exactly A's purchase.
        assert await side_connection.fetchval(ROW_LOCK_WAITS) == 1
    finally:
        await lock.rollback()
    response_a = await asyncio.wait_for(purchase_a, LOCK_TIMEOUT_SECONDS)
    assert created(response_a)["balance"]["available"] == 10
    assert await ledger_mismatch(app) is None


async def _lock_waits_during(
    conn: asyncpg.Connection, requests: list[Awaitable[httpx.Response]]
) -> tuple[list[httpx.Response], float, int]:
    """Send ``requests`` at once; return the answers, the seconds taken and the most
    sessions of this database seen waiting for a lock at one time."""
    peak = 0
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            waiting = await conn.fetchval(ROW_LOCK_WAITS)
            peak = max(peak, int(waiting))
            await asyncio.sleep(POLL_SECONDS)

    sampler = asyncio.create_task(sample())
    started = time.monotonic()
    try:
        responses = await burst(requests)
    finally:
        elapsed = time.monotonic() - started
        done.set()
        await asyncio.wait_for(sampler, LOCK_TIMEOUT_SECONDS)
    return responses, elapsed, peak


@pytest.mark.parametrize("migrated_database", POSTGRESQL, indirect=True)
async def test_postgresql_purchases_of_different_members_do_not_queue(
    app: FastAPI, api: Api, side_connection: asyncpg.Connection
) -> None:
    """100 purchases over 100 members against 100 for one member: timed, and the requests
    queued on a lock counted. One member's purchases may queue on its lock (how many do
    depends on how busy the machine is); different members' never do."""
    members = await enrol_directly(app, 100 + 20)
    # Warm up the server's pool and statement caches, and record the key's use (a write
    # once a minute), so that neither is in the figures.
    warm_up = [api.purchase(m, api.order_id(), 1_000) for m in members[100:]]
    assert all(r.status_code == 201 for r in await burst(warm_up))
    members = members[:100]

    spread, spread_seconds, spread_waits = await _lock_waits_during(
        side_connection, [api.purchase(m, api.order_id(), 1_000) for m in members]
    )
    single, single_seconds, single_waits = await _lock_waits_during(
        side_connection, [api.purchase(members[0], api.order_id(), 1_000) for _ in members]
    )

    print(
        f"\n100 purchases, 100 members: {spread_seconds:.2f}s, at most {spread_waits} "
        f"queued on a lock\n100 purchases, one member:  {single_seconds:.2f}s, at most "
        f"{single_waits} queued on a lock"
    )
    assert all(r.status_code == 201 for r in spread + single)
    assert spread_waits == 0
    assert spread_seconds < 30
    assert single_seconds < 30
    assert await api.available(members[0]) == 10 + 100 * 10
    assert await ledger_mismatch(app) is None
