"""A database connection lost under a request is a 503 the client may retry, never a 500,
and the pool recovers by itself (there is no ping before each request)."""

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import BACKENDS, postgres_admin
from tests.factories import assert_problem, enrol, purchase

# Connections are cut on the server, which only PostgreSQL has.
pytestmark = pytest.mark.parametrize(
    "migrated_database", [b for b in BACKENDS if b == "postgresql"], indirect=True
)


async def cut_connections(database_url: str) -> None:
    name = make_url(database_url).database
    await postgres_admin(
        database_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )


async def test_a_lost_connection_is_503_and_the_next_request_succeeds(app, client, admin, pos):
    member = await enrol(client, admin)
    await cut_connections(app.state.runtime.settings.database_url)

    lost = await client.get(f"/v1/members/{member['id']}/balance", headers=pos)

    problem = assert_problem(lost, 503, "database_unavailable")
    assert lost.headers["Retry-After"] == "1"
    assert problem["status"] == 503
    assert (await client.get(f"/v1/members/{member['id']}/balance", headers=pos)).status_code == 200
    assert (await purchase(client, pos, member, 1000))["points_earned"] == 10
