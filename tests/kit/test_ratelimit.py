"""Per-API-key token buckets: a burst of one second's worth, refilled continuously."""

import dataclasses

import httpx
import pytest
from fastapi import FastAPI

from app.api_keys.models import Scope
from app.config import Settings
from app.kit.ratelimit import RateLimiter
from tests.conftest import TestDatabase as Database  # not collected as a test class
from tests.conftest import bearer, create_key, make_settings
from tests.kit.test_errors import assert_problem


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(clock=clock)


# --- the bucket -----------------------------------------------------------------------------


def test_a_burst_of_rate_requests_is_allowed_then_refused(limiter: RateLimiter) -> None:
    assert [limiter.acquire("pos-1", 5) for _ in range(5)] == [None] * 5
    retry_after = limiter.acquire("pos-1", 5)
    assert retry_after == pytest.approx(0.2)


def test_refused_requests_do_not_take_tokens(limiter: RateLimiter, clock: FakeClock) -> None:
    for _ in range(5):
        limiter.acquire("pos-1", 5)
    assert limiter.acquire("pos-1", 5) == pytest.approx(0.2)
    assert limiter.acquire("pos-1", 5) == pytest.approx(0.2)
    clock.advance(0.2)
    assert limiter.acquire("pos-1", 5) is None


def test_tokens_refill_over_time(limiter: RateLimiter, clock: FakeClock) -> None:
    for _ in range(4):
        assert limiter.acquire("shop", 4) is None
    assert limiter.acquire("shop", 4) == pytest.approx(0.25)

    clock.advance(0.1)
    assert limiter.acquire("shop", 4) == pytest.approx(0.15)
    clock.advance(0.15)
    assert limiter.acquire("shop", 4) is None
    assert limiter.acquire("shop", 4) == pytest.approx(0.25)

    clock.advance(0.5)
    assert [limiter.acquire("shop", 4) for _ in range(2)] == [None, None]
    assert limiter.acquire("shop", 4) is not None


def test_an_idle_bucket_holds_at_most_one_seconds_worth(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    assert limiter.acquire("partner", 3) is None
    clock.advance(3600)
    assert [limiter.acquire("partner", 3) for _ in range(3)] == [None] * 3
    assert limiter.acquire("partner", 3) is not None


def test_a_rate_below_one_still_allows_one_request(limiter: RateLimiter, clock: FakeClock) -> None:
    assert limiter.acquire("slow", 0.5) is None
    assert limiter.acquire("slow", 0.5) == pytest.approx(2.0)
    clock.advance(1.0)
    assert limiter.acquire("slow", 0.5) == pytest.approx(1.0)
    clock.advance(1.0)
    assert limiter.acquire("slow", 0.5) is None


def test_clients_have_their_own_buckets(limiter: RateLimiter) -> None:
    assert [limiter.acquire("a", 2) for _ in range(2)] == [None, None]
    assert limiter.acquire("a", 2) is not None
    assert limiter.acquire("b", 2) is None


@pytest.mark.parametrize("rate", [0, 0.0, -1])
def test_rate_zero_means_unlimited(limiter: RateLimiter, rate: float) -> None:
    assert all(limiter.acquire("admin", rate) is None for _ in range(10_000))


def test_default_clock_is_monotonic_time() -> None:
    limiter = RateLimiter()
    assert limiter.acquire("x", 1) is None
    retry_after = limiter.acquire("x", 1)
    assert retry_after is not None
    assert 0 < retry_after <= 1


# --- through HTTP ---------------------------------------------------------------------------


@pytest.fixture
def settings(database: Database) -> Settings:
    """Admin keys limited to 2 requests per second, other scopes unlimited."""
    return make_settings(database.url, rate_limits={"admin": 2})


@pytest.fixture
def app_clock(app: FastAPI) -> FakeClock:
    """The app's limiter on a clock the test moves, so that no refill happens by accident."""
    fake = FakeClock()
    app.state.runtime = dataclasses.replace(app.state.runtime, rate_limiter=RateLimiter(clock=fake))
    return fake


async def test_key_over_its_limit_is_rate_limited(
    client: httpx.AsyncClient, admin: dict[str, str], app_clock: FakeClock
) -> None:
    for _ in range(2):
        assert (await client.get("/v1/api-keys", headers=admin)).status_code == 200
    refused = await client.get("/v1/api-keys", headers=admin)
    body = assert_problem(refused, 429, "rate_limited")
    assert refused.headers["retry-after"] == "1"
    assert "2 requests per second" in str(body["detail"])


async def test_another_key_is_still_served(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], app_clock: FakeClock
) -> None:
    other = bearer(await create_key(app, Scope.admin, name="other admin"))
    for _ in range(2):
        await client.get("/v1/api-keys", headers=admin)
    assert (await client.get("/v1/api-keys", headers=admin)).status_code == 429
    assert (await client.get("/v1/api-keys", headers=other)).status_code == 200


async def test_limited_key_is_served_again_after_the_refill(
    client: httpx.AsyncClient, admin: dict[str, str], app_clock: FakeClock
) -> None:
    for _ in range(2):
        await client.get("/v1/api-keys", headers=admin)
    assert (await client.get("/v1/api-keys", headers=admin)).status_code == 429
    app_clock.advance(0.5)
    assert (await client.get("/v1/api-keys", headers=admin)).status_code == 200
    assert (await client.get("/v1/api-keys", headers=admin)).status_code == 429


async def test_writes_count_against_the_limit_too(
    client: httpx.AsyncClient, admin: dict[str, str], app_clock: FakeClock
) -> None:
    created = await client.post(
        "/v1/api-keys",
        json={"name": "till", "scopes": ["pos"]},
        headers={**admin, "Idempotency-Key": "rl-1"},
    )
    assert created.status_code == 201, created.text
    assert (await client.get("/v1/api-keys", headers=admin)).status_code == 200
    refused = await client.post(
        "/v1/api-keys",
        json={"name": "till", "scopes": ["pos"]},
        headers={**admin, "Idempotency-Key": "rl-2"},
    )
    assert_problem(refused, 429, "rate_limited")
    assert "retry-after" in refused.headers


async def test_scope_without_a_limit_is_unlimited(
    app: FastAPI, client: httpx.AsyncClient, app_clock: FakeClock
) -> None:
    pos = bearer(await create_key(app, Scope.pos))
    for _ in range(20):
        # Forbidden (the listing needs admin), but never rate limited.
        assert (await client.get("/v1/api-keys", headers=pos)).status_code == 403


async def test_key_with_several_scopes_gets_the_most_generous_limit(
    app: FastAPI, client: httpx.AsyncClient, app_clock: FakeClock
) -> None:
    both = bearer(await create_key(app, Scope.admin, Scope.pos))
    for _ in range(20):
        assert (await client.get("/v1/api-keys", headers=both)).status_code == 200
