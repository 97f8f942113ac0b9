"""Each worker caches the programme, campaigns and tiers, and drops them the moment any
worker (or anyone with SQL) changes them: the version the triggers bump tells."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select, text

from app.api_keys.models import Scope
from app.db.config_cache import CONFIG_TABLES, CONFIG_VERSION_ID, ConfigVersion
from app.main import create_app
from tests.conftest import bearer, create_key
from tests.factories import enrol, execute, purchase, set_program


@pytest.fixture
async def other_worker(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database, as a second worker process is, with an admin key."""
    second = create_app(app.state.runtime.settings)
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://test",
            headers=bearer(await create_key(second, Scope.admin)),
        ) as http:
            yield http


async def version(app: FastAPI) -> int:
    async with app.state.runtime.sessionmaker() as session:
        found = await session.scalar(
            select(ConfigVersion.version).where(ConfigVersion.id == CONFIG_VERSION_ID)
        )
        assert found is not None
        return found


async def test_a_programme_change_by_another_worker_reaches_the_next_sale(
    client, admin, pos, other_worker
):
    member = await enrol(client, admin)
    assert (await purchase(client, pos, member, 1000))["points_earned"] == 10

    changed = await other_worker.put("/v1/program", json={"points_per_currency_unit": "3"})
    assert changed.status_code == 200, changed.text

    assert (await purchase(client, pos, member, 1000))["points_earned"] == 30


async def test_a_campaign_started_by_another_worker_counts_in_the_next_sale(
    client, admin, pos, other_worker
):
    member = await enrol(client, admin)
    assert (await purchase(client, pos, member, 1000))["points_earned"] == 10

    body = {"name": "Double", "kind": "multiplier", "multiplier": "2"}
    assert (await other_worker.post("/v1/campaigns", json=body)).status_code == 201

    assert (await purchase(client, pos, member, 1000))["points_earned"] == 20


async def test_a_tier_changed_by_another_worker_earns_at_its_new_multiplier(
    client, admin, pos, other_worker
):
    body = {"name": "Gold", "rank": 1, "threshold": 1, "multiplier": "1"}
    tier = (await client.post("/v1/tiers", json=body, headers=admin)).json()
    member = await enrol(client, admin)
    await purchase(client, pos, member, 1000)  # reaches Gold
    assert (await purchase(client, pos, member, 1000))["points_earned"] == 10

    changed = await other_worker.patch(f"/v1/tiers/{tier['id']}", json={"multiplier": "2"})
    assert changed.status_code == 200, changed.text

    assert (await purchase(client, pos, member, 1000))["points_earned"] == 20


async def test_a_change_made_in_sql_reaches_the_next_sale(app, client, admin, pos):
    member = await enrol(client, admin)
    await set_program(client, admin, points_per_currency_unit="1")
    assert (await purchase(client, pos, member, 1000))["points_earned"] == 10

    body = {"name": "Double", "kind": "multiplier", "multiplier": "2"}
    assert (await client.post("/v1/campaigns", json=body, headers=admin)).status_code == 201
    await execute(app, text("UPDATE campaign SET active = false"))

    assert (await purchase(client, pos, member, 1000))["points_earned"] == 10


async def test_sales_read_the_configuration_once_per_change(app, client, admin, pos):
    member = await enrol(client, admin)
    await client.post("/v1/tiers", json={"name": "Gold", "rank": 1, "threshold": 1}, headers=admin)
    body = {"name": "Double", "kind": "multiplier", "multiplier": "2"}
    await client.post("/v1/campaigns", json=body, headers=admin)
    await purchase(client, pos, member, 1000)
    statements: list[str] = []

    @event.listens_for(app.state.runtime.engine.sync_engine, "before_cursor_execute")
    def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    await purchase(client, pos, member, 1000)
    await purchase(client, pos, member, 1000)

    configuration_reads = [
        statement
        for statement in statements
        if any(f"FROM {table}" in statement for table in CONFIG_TABLES)
    ]
    assert configuration_reads == []
    assert sum("FROM config_version" in statement for statement in statements) == 2


@pytest.mark.parametrize("table", CONFIG_TABLES)
async def test_every_change_of_a_configuration_table_bumps_the_version(app, client, admin, table):
    before = await version(app)
    await set_program(client, admin, points_per_currency_unit="1")
    await client.post("/v1/tiers", json={"name": "Gold", "rank": 1, "threshold": 1}, headers=admin)
    body = {"name": "Double", "kind": "multiplier", "multiplier": "2"}
    await client.post("/v1/campaigns", json=body, headers=admin)
    assert await version(app) == before + 3  # three inserts
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        before = await version(app)
        await execute(app, text(statement))
        assert await version(app) == before + 1, statement
