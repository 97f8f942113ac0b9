"""Liveness, readiness and metrics: unauthenticated, and honest about the database."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app.db import migrations
from app.db.migrations import head_revision
from app.main import create_app
from tests.conftest import make_settings

PROBLEM = "application/problem+json"
REQUESTS_TOTAL = "stammkunde_http_requests_total"
DURATION = "stammkunde_http_request_duration_seconds"


@asynccontextmanager
async def client_for(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app of its own, started on the given database."""
    app = create_app(make_settings(database_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def assert_not_ready(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code
    assert body["status"] == 503
    assert body["type"] == f"urn:stammkunde:problem:{code}"


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics, keyed by name and labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


# Liveness


async def test_healthz_is_ok_without_authentication(client):
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_healthz_is_ok_even_when_the_database_is_unreachable(tmp_path):
    async with client_for(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'x.db'}") as client:
        response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# Readiness


async def test_readyz_reports_the_revision_of_a_migrated_database(client):
    response = await client.get("/readyz")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "revision": head_revision()}
    assert head_revision() is not None


async def test_readyz_is_503_when_the_sqlite_file_cannot_be_opened(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'no-such-directory' / 'stammkunde.db'}"

    async with client_for(url) as client:
        response = await client.get("/readyz")

    assert_not_ready(response, "database_unreachable")
    assert not (tmp_path / "no-such-directory").exists()


async def test_readyz_is_503_when_postgresql_does_not_answer():
    async with client_for("postgresql+asyncpg://postgres@127.0.0.1:1/postgres") as client:
        response = await client.get("/readyz")

    assert_not_ready(response, "database_unreachable")


async def test_readyz_is_503_with_migrations_pending_on_an_empty_database(empty_database):
    async with client_for(empty_database.url) as client:
        response = await client.get("/readyz")

    assert_not_ready(response, "migrations_pending")
    assert "stammkunde migrate" in response.json()["detail"]


async def test_readyz_becomes_ready_once_the_database_is_reachable_and_migrated(tmp_path):
    # Nothing is cached: each probe looks at the database as it is now.
    url = f"sqlite+aiosqlite:///{tmp_path / 'later' / 'stammkunde.db'}"
    async with client_for(url) as client:
        assert_not_ready(await client.get("/readyz"), "database_unreachable")
        (tmp_path / "later").mkdir()
        assert_not_ready(await client.get("/readyz"), "migrations_pending")
        await asyncio.to_thread(migrations.upgrade, url)
        response = await client.get("/readyz")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "revision": head_revision()}


# Metrics


async def test_metrics_are_served_without_authentication_as_prometheus_text(client):
    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert f"# TYPE {REQUESTS_TOTAL} counter" in response.text
    assert f"# TYPE {DURATION} histogram" in response.text


async def test_requests_are_counted_by_route_template_and_status(client, admin):
    before = await scrape(client)

    assert (await client.get("/v1/api-keys", headers=admin)).status_code == 200
    assert (await client.get("/v1/api-keys", headers=admin)).status_code == 200
    assert (await client.get("/v1/api-keys")).status_code == 401

    after = await scrape(client)
    ok = (REQUESTS_TOTAL, labels(method="GET", route="/v1/api-keys", status="200"))
    refused = (REQUESTS_TOTAL, labels(method="GET", route="/v1/api-keys", status="401"))
    assert after[ok] - before.get(ok, 0.0) == 2
    assert after[refused] - before.get(refused, 0.0) == 1


async def test_path_parameters_are_counted_under_the_template_not_the_value(client, admin):
    created = await client.post(
        "/v1/api-keys",
        json={"name": "till", "scopes": ["pos"]},
        headers={**admin, "Idempotency-Key": "metrics"},
    )
    key_id = created.json()["key_id"]
    before = await scrape(client)

    assert (await client.delete(f"/v1/api-keys/{key_id}", headers=admin)).status_code == 204
    assert (await client.delete("/v1/api-keys/nosuchkey", headers=admin)).status_code == 404

    after = await scrape(client)
    template = "/v1/api-keys/{api_key_id}"
    revoked = (REQUESTS_TOTAL, labels(method="DELETE", route=template, status="204"))
    missing = (REQUESTS_TOTAL, labels(method="DELETE", route=template, status="404"))
    assert after[revoked] - before.get(revoked, 0.0) == 1
    assert after[missing] - before.get(missing, 0.0) == 1
    exposed = (await client.get("/metrics")).text
    assert key_id not in exposed
    assert "nosuchkey" not in exposed


async def test_unknown_paths_share_one_label(client):
    before = await scrape(client)

    assert (await client.get("/no/such/path/12345")).status_code == 404

    after = await scrape(client)
    unmatched = (REQUESTS_TOTAL, labels(method="GET", route="unmatched", status="404"))
    assert after[unmatched] - before.get(unmatched, 0.0) == 1
    assert "/no/such/path/12345" not in (await client.get("/metrics")).text


async def test_request_latency_is_a_histogram_by_route(client, admin):
    before = await scrape(client)

    assert (await client.get("/v1/api-keys", headers=admin)).status_code == 200

    after = await scrape(client)
    count = (f"{DURATION}_count", labels(method="GET", route="/v1/api-keys"))
    total = (f"{DURATION}_sum", labels(method="GET", route="/v1/api-keys"))
    infinite = (f"{DURATION}_bucket", labels(method="GET", route="/v1/api-keys", le="+Inf"))
    assert after[count] - before.get(count, 0.0) == 1
    assert after[infinite] - before.get(infinite, 0.0) == 1
    assert after[total] > before.get(total, 0.0)
    buckets = [
        key
        for key in after
        if key[0] == f"{DURATION}_bucket" and ("route", "/v1/api-keys") in key[1]
    ]
    assert len(buckets) > 5


async def test_ops_endpoints_are_counted_too(client):
    before = await scrape(client)

    assert (await client.get("/healthz")).status_code == 200

    after = await scrape(client)
    health = (REQUESTS_TOTAL, labels(method="GET", route="/healthz", status="200"))
    assert after[health] - before.get(health, 0.0) == 1
