"""PostgreSQL restarting under load: requests in the outage fail fast with 503
``database_unavailable`` (never a 500, never a hang), /readyz says so, and the service
serves again by itself once the database is back.

The database is a throwaway cluster of the test's own (never the shared one that other
tests use), stopped with ``pg_ctl stop -m fast`` and started again while a real
``stammkunde serve`` takes steady traffic on 127.0.0.1.
"""

import asyncio
import statistics
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.factories import assert_problem, stammkunde
from tests.ops.service import STAMMKUNDE, running, serve_environment, set_up_till
from tests.ops.test_database_unreachable import TILL, client_for
from tests.ops.throwaway_postgres import Cluster, throwaway_cluster

CLIENTS = 4
PAUSE_SECONDS = 0.05  # between one client's requests: steady load, not a flood
MAX_REQUESTS = 2000
WARM_UP_SECONDS = 1.5
OUTAGE_SECONDS = 2.0
RECOVERY_SECONDS = 3.0
LOAD_TIMEOUT_SECONDS = 60.0
FAIL_FAST_SECONDS = 2.0
HTTP_TIMEOUT_SECONDS = 10.0


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with throwaway_cluster() as running_cluster:
        yield running_cluster


@dataclass
class Sample:
    path: str
    sent_at: float
    took: float
    status: int | None
    code: str | None = None
    retry_after: str | None = None
    error: str | None = None


@dataclass
class Load:
    """A few tills buying and looking up balances, each at a steady pace, until stopped."""

    http: httpx.AsyncClient
    headers: dict[str, str]
    member_id: str
    samples: list[Sample] = field(default_factory=list)
    stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def request(self, n: int) -> httpx.Response:
        if n % 2:
            return await self.http.get(
                f"/v1/members/{self.member_id}/balance", headers=self.headers
            )
        order_id = f"order-{uuid.uuid4().hex}"
        body = {
            "member_id": self.member_id,
            "order_id": order_id,
            "channel": "pos",
            "currency": "EUR",
            "total": 1000,
        }
        headers = {**self.headers, "Idempotency-Key": order_id}
        return await self.http.post("/v1/purchases", json=body, headers=headers)

    async def till(self, first: int) -> None:
        n = first
        while not self.stopped.is_set() and len(self.samples) < MAX_REQUESTS:
            sent_at = time.monotonic()
            path = "balance" if n % 2 else "purchase"
            try:
                response = await self.request(n)
            except httpx.TransportError as error:
                took = time.monotonic() - sent_at
                self.samples.append(Sample(path, sent_at, took, None, error=repr(error)))
            else:
                took = time.monotonic() - sent_at
                problem = response.json() if response.status_code >= 400 else {}
                code, retry_after = problem.get("code"), response.headers.get("Retry-After")
                self.samples.append(
                    Sample(path, sent_at, took, response.status_code, code, retry_after)
                )
            n += 1
            await asyncio.sleep(PAUSE_SECONDS)

    def between(self, start: float, end: float) -> list[Sample]:
        """The requests sent and answered within ``start`` .. ``end``."""
        return [s for s in self.samples if s.sent_at >= start and s.sent_at + s.took <= end]


async def timed_get(http: httpx.AsyncClient, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await http.get(path)
    return response, time.monotonic() - started


async def test_requests_fail_fast_while_postgresql_restarts_and_succeed_after(cluster, tmp_path):
    url = cluster.url()
    environment = serve_environment(url, log_level="INFO")
    async with running([STAMMKUNDE, "serve"], environment, tmp_path / "serve.log") as service:
        headers = await set_up_till(url)
        async with httpx.AsyncClient(
            base_url=service.base_url, timeout=HTTP_TIMEOUT_SECONDS, trust_env=False
        ) as http:
            enrolled = await http.post("/v1/members", json={}, headers=headers)
            assert enrolled.status_code == 201, enrolled.text
            load = Load(http, headers, enrolled.json()["id"])
            async with asyncio.timeout(LOAD_TIMEOUT_SECONDS):
                tills = [asyncio.create_task(load.till(n)) for n in range(CLIENTS)]
                try:
                    await asyncio.sleep(WARM_UP_SECONDS)
                    stopping_at = time.monotonic()
                    await asyncio.to_thread(cluster.stop, "fast")
                    down_at = time.monotonic()
                    await asyncio.sleep(OUTAGE_SECONDS)
                    not_ready, not_ready_took = await timed_get(http, "/readyz")
                    starting_at = time.monotonic()
                    await asyncio.to_thread(cluster.start)
                    up_at = time.monotonic()
                    await asyncio.sleep(RECOVERY_SECONDS)
                    ready, _ = await timed_get(http, "/readyz")
                finally:
                    load.stopped.set()
                    await asyncio.gather(*tills)
        exit_seconds = await service.terminate(within=15)
        assert service.process.returncode == 0, service.log_tail()

    samples = load.samples
    before = load.between(0, stopping_at)
    outage = load.between(down_at, starting_at)
    after = [s for s in samples if s.sent_at >= up_at]
    # No 500, no hang, no dropped connection at any time: a success or a 503 to retry.
    assert all(s.error is None for s in samples), [s.error for s in samples if s.error]
    assert {s.status for s in samples} <= {200, 201, 503}, {s.status for s in samples}
    for sample in samples:
        if sample.status == 503:
            assert (sample.code, sample.retry_after) == ("database_unavailable", "1"), sample
    assert before, "no traffic before the outage"
    assert all(s.status in (200, 201) for s in before)
    # While the database is down: every request 503, each quickly.
    assert len(outage) >= CLIENTS, outage
    assert all(s.status == 503 for s in outage), outage
    assert max(s.took for s in outage) < FAIL_FAST_SECONDS, max(s.took for s in outage)
    assert_problem(not_ready, 503, "database_unreachable")
    assert not_ready_took < FAIL_FAST_SECONDS
    # Back by itself: from the restart on, everything succeeds, and it is ready again.
    assert len(after) >= CLIENTS, after
    assert all(s.status in (200, 201) for s in after), [
        s for s in after if s.status not in (200, 201)
    ]
    assert ready.status_code == 200, ready.text
    verified = await stammkunde(url, "verify")
    assert verified.exit_code == 0, verified.output

    first_success = min(s.sent_at + s.took for s in after if s.status in (200, 201))
    took = sorted(s.took for s in outage)
    print(
        f"outage {starting_at - down_at:.1f}s: {len(outage)} requests, all 503, "
        f"median {statistics.median(took) * 1000:.0f} ms, max {took[-1] * 1000:.0f} ms; "
        f"/readyz 503 in {not_ready_took * 1000:.0f} ms; pg_ctl start took "
        f"{up_at - starting_at:.2f}s, first success {first_success - up_at:.2f}s after it; "
        f"{len(before)} requests before, {len(after)} after; SIGTERM exit in {exit_seconds:.2f}s"
    )


async def test_a_server_refusing_new_sessions_is_503_not_500(cluster):
    # A role allowed no connections: the server refuses each with SQLSTATE 53300, as it
    # does with 57P03 while it shuts down or starts up. Not a lost connection, yet an outage.
    server = make_url(cluster.url())
    conn = await asyncpg.connect(host=server.host, port=server.port, user="postgres")
    try:
        await conn.execute("CREATE ROLE till LOGIN CONNECTION LIMIT 0")
    finally:
        await conn.close()

    async with client_for(server.set(username="till").render_as_string(False)) as http:
        response = await http.get("/v1/members/00000000-0000-0000-0000-000000000001", headers=TILL)
        ready = await http.get("/readyz")

    assert_problem(response, 503, "database_unavailable")
    assert_problem(ready, 503, "database_unreachable")
