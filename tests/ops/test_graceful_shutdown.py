"""SIGTERM during a burst of purchases: `stammkunde serve` stops accepting, finishes what
is in flight, and exits 0 within its grace period, and the ledger holds every purchase it
acknowledged, whole, and nothing half-written.

The real command runs as a process of its own on 127.0.0.1, on a fresh database of each
kind; the burst is bounded in requests and time.
"""

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.db.engine import create_engine
from app.db.session import create_sessionmaker
from app.earning.models import Purchase
from app.ledger.models import EarnLot, LedgerTransaction
from tests.conftest import BACKENDS, make_settings
from tests.factories import assert_problem, stammkunde
from tests.ops.service import STAMMKUNDE, Service, running, serve_environment, set_up_till

GRACE_SECONDS = 10
CLIENTS = 16
MEMBERS = 4
MAX_REQUESTS_PER_CLIENT = 200
ACKNOWLEDGED_BEFORE_SIGNAL = 40
BURST_TIMEOUT_SECONDS = 60.0
TOTAL = 1250  # 12.50 EUR: 12 points under the demo programme


@dataclass
class Outcome:
    order_id: str
    sent_at: float
    answered_at: float
    status: int | None = None
    body: dict[str, object] | None = None
    error: str | None = None


@dataclass
class Burst:
    outcomes: list[Outcome] = field(default_factory=list)
    under_way: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if sum(o.status == 201 for o in self.outcomes) >= ACKNOWLEDGED_BEFORE_SIGNAL:
            self.under_way.set()


async def till(
    http: httpx.AsyncClient, headers: dict[str, str], member_id: str, burst: Burst
) -> None:
    """Purchases one after another until the server stops answering (or the bound)."""
    for _ in range(MAX_REQUESTS_PER_CLIENT):
        order_id = f"order-{uuid.uuid4().hex}"
        body = {
            "member_id": member_id,
            "order_id": order_id,
            "channel": "pos",
            "currency": "EUR",
            "total": TOTAL,
        }
        sent_at = time.monotonic()
        try:
            response = await http.post(
                "/v1/purchases", json=body, headers={**headers, "Idempotency-Key": order_id}
            )
        except httpx.TransportError as error:
            burst.record(Outcome(order_id, sent_at, time.monotonic(), error=repr(error)))
            return
        burst.record(
            Outcome(order_id, sent_at, time.monotonic(), response.status_code, response.json())
        )


async def stored_purchases(database_url: str) -> dict[str, tuple[int, int, int]]:
    """order id -> (points earned, ledger transactions, lots of that transaction)."""
    engine = create_engine(make_settings(database_url))
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(
                    Purchase.order_id,
                    Purchase.points_earned,
                    func.count(func.distinct(LedgerTransaction.id)),
                    func.count(func.distinct(EarnLot.id)),
                )
                .outerjoin(LedgerTransaction, LedgerTransaction.related_id == Purchase.id)
                .outerjoin(EarnLot, EarnLot.transaction_id == LedgerTransaction.id)
                .group_by(Purchase.order_id, Purchase.points_earned)
            )
            return {order: (points, entries, lots) for order, points, entries, lots in rows}
    finally:
        await engine.dispose()


async def burst_and_terminate(
    service: Service, headers: dict[str, str]
) -> tuple[list[Outcome], float, float]:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(
        base_url=service.base_url, limits=limits, timeout=30.0, trust_env=False
    ) as http:
        members = []
        for _ in range(MEMBERS):
            enrolled = await http.post("/v1/members", json={}, headers=headers)
            assert enrolled.status_code == 201, enrolled.text
            members.append(enrolled.json()["id"])
        burst = Burst()
        async with asyncio.timeout(BURST_TIMEOUT_SECONDS):
            tills = [
                asyncio.create_task(till(http, headers, members[n % MEMBERS], burst))
                for n in range(CLIENTS)
            ]
            await burst.under_way.wait()
            signalled_at = time.monotonic()
            exit_seconds = await service.terminate(within=GRACE_SECONDS + 5)
            await asyncio.gather(*tills)
    return burst.outcomes, signalled_at, exit_seconds


async def test_sigterm_during_a_burst_drains_in_flight_purchases_and_exits_cleanly(
    empty_database, tmp_path
):
    environment = serve_environment(
        empty_database.url, shutdown_grace_seconds=str(GRACE_SECONDS), log_level="INFO"
    )
    async with running([STAMMKUNDE, "serve"], environment, tmp_path / "serve.log") as service:
        headers = await set_up_till(empty_database.url)
        outcomes, signalled_at, exit_seconds = await burst_and_terminate(service, headers)
        log = service.log_tail()

    # It stopped by itself, cleanly, within the grace period.
    assert service.process.returncode == 0, log
    assert exit_seconds < GRACE_SECONDS, log
    # Every answer is a success; what came after the stop was refused, never a 5xx.
    answered = [o for o in outcomes if o.status is not None]
    refused = [o for o in outcomes if o.error is not None]
    assert {o.status for o in answered} == {201}, [o.body for o in answered if o.status != 201]
    assert len(refused) == CLIENTS, "each till ends on a refused connection"
    assert all(o.answered_at >= signalled_at for o in refused), [o.error for o in refused]
    # Requests that were running when the signal came were finished, not dropped.
    drained = [o for o in answered if o.answered_at > signalled_at]
    assert drained, "no request was in flight at the signal"

    # Every acknowledged purchase is in the ledger, whole; nothing is half-written.
    stored = await stored_purchases(empty_database.url)
    for outcome in answered:
        assert outcome.body is not None
        assert stored[outcome.order_id] == (outcome.body["points_earned"], 1, 1)
    assert all(entries == 1 and lots == 1 for _, entries, lots in stored.values()), stored
    # A refused request was not run: had it been, its answer would have been waited for.
    assert not [o.order_id for o in refused if o.order_id in stored]
    verified = await stammkunde(empty_database.url, "verify")
    assert verified.exit_code == 0, verified.output

    last_answer = max(o.answered_at for o in answered) - signalled_at
    print(
        f"{len(answered)} purchases acknowledged, {len(drained)} of them after SIGTERM "
        f"(the last {last_answer:.2f}s after it); exit 0 after {exit_seconds:.2f}s; "
        f"{len(stored) - len(answered)} written but unanswered"
    )


@pytest.mark.parametrize(
    "empty_database", [b for b in BACKENDS if b == "postgresql"], indirect=True
)
async def test_a_request_still_running_when_the_grace_period_ends_is_cancelled_unwritten(
    empty_database, tmp_path
):
    grace = 1
    environment = serve_environment(
        empty_database.url, shutdown_grace_seconds=str(grace), log_level="INFO"
    )
    async with running([STAMMKUNDE, "serve"], environment, tmp_path / "serve.log") as service:
        headers = await set_up_till(empty_database.url)
        async with httpx.AsyncClient(
            base_url=service.base_url, timeout=30.0, trust_env=False
        ) as http:
            enrolled = await http.post("/v1/members", json={}, headers=headers)
            assert enrolled.status_code == 201, enrolled.text
            member_id = enrolled.json()["id"]
            # The member's writers queue on an advisory lock; holding it holds the sale.
            holder = await asyncpg_connect(empty_database.url)
            try:
                await holder.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", member_id)
                body = {
                    "member_id": member_id,
                    "order_id": "held",
                    "channel": "pos",
                    "currency": "EUR",
                    "total": TOTAL,
                }
                sale = asyncio.create_task(
                    http.post(
                        "/v1/purchases", json=body, headers={**headers, "Idempotency-Key": "held"}
                    )
                )
                await waiting_for_a_lock(holder)
                exit_seconds = await service.terminate(within=grace + 10)
                cut_off = await sale
            finally:
                await holder.close()

    assert service.process.returncode == 0, service.log_tail()
    # Not uvicorn's plain 500: a problem that asks for a retry with the same key.
    assert_problem(cut_off, 503, "shutting_down")
    assert cut_off.headers["Retry-After"] == "1"
    # It waited the grace period out; the bound on the rest is terminate()'s.
    assert exit_seconds >= grace
    assert "held" not in await stored_purchases(empty_database.url)
    verified = await stammkunde(empty_database.url, "verify")
    assert verified.exit_code == 0, verified.output
    print(f"a held sale cancelled; exit 0 after {exit_seconds:.2f}s with a {grace}s grace period")


async def asyncpg_connect(database_url: str) -> asyncpg.Connection:
    url = make_url(database_url)
    return await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )


async def waiting_for_a_lock(conn: asyncpg.Connection, within: float = 10.0) -> None:
    """Until one of the service's statements waits for a lock (bounded)."""
    deadline = time.monotonic() + within
    query = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = 'stammkunde' AND wait_event_type = 'Lock'"
    )
    while not await conn.fetchval(query):
        assert time.monotonic() < deadline, "the sale never reached the lock"
        await asyncio.sleep(0.05)
