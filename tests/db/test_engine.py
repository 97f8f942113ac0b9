"""The engine is set up for its database: durable, concurrent SQLite; time-limited PostgreSQL."""

import asyncio
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api_keys import repository, service
from app.api_keys.models import ApiKey, Scope
from app.config import Settings
from app.db import migrations
from app.db.engine import _use_wal, create_engine
from app.db.session import create_sessionmaker
from tests.conftest import (
    BACKENDS,
    POSTGRES_SERVER_URL,
    TEST_SECRET_KEY,
    bearer,
    create_key,
    make_settings,
)

SERVER_SECRET = TEST_SECRET_KEY.encode()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file of this test's own."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'engine.db'}"
    migrations.upgrade(url)
    return url


@pytest.fixture(params=[backend for backend in BACKENDS if backend == "postgresql"])
def postgres_url(request: pytest.FixtureRequest) -> str:
    """The PostgreSQL test server (these tests run wherever the PostgreSQL suite runs)."""
    assert POSTGRES_SERVER_URL is not None
    return POSTGRES_SERVER_URL


@asynccontextmanager
async def engine_for(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def sqlite_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    async with engine_for(make_settings(sqlite_url, sqlite_busy_timeout_ms=4321)) as engine:
        yield engine


async def pragma(engine: AsyncEngine, name: str) -> object:
    async with engine.connect() as connection:
        return (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()


# SQLite


async def test_sqlite_runs_in_wal_mode(sqlite_engine):
    assert await pragma(sqlite_engine, "journal_mode") == "wal"


async def test_sqlite_enforces_foreign_keys(sqlite_engine):
    assert await pragma(sqlite_engine, "foreign_keys") == 1


async def test_sqlite_syncs_fully_so_that_a_2xx_is_durable(sqlite_engine):
    assert await pragma(sqlite_engine, "synchronous") == 2  # FULL


async def test_sqlite_busy_timeout_is_the_configured_one(sqlite_engine):
    assert await pragma(sqlite_engine, "busy_timeout") == 4321


async def test_every_new_sqlite_connection_is_set_up(sqlite_url):
    async with engine_for(make_settings(sqlite_url, sqlite_busy_timeout_ms=2500)) as engine:
        await engine.dispose()  # the next checkout opens a new connection
        assert await pragma(engine, "busy_timeout") == 2500
        assert await pragma(engine, "foreign_keys") == 1
        assert await pragma(engine, "synchronous") == 2


def test_a_new_connection_waits_while_another_process_holds_the_file(tmp_path):
    """SQLite may answer a new connection's first read with "database is locked" at once
    (as while another process rebuilds the WAL index); opening waits instead, up to the busy
    timeout. Here the connection has no busy handler of its own, so SQLite answers at once."""
    path = tmp_path / "held.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("CREATE TABLE t (x)")  # takes the file's lock and keeps it
    threading.Timer(0.3, holder.close).start()
    opening = sqlite3.connect(path, isolation_level=None, timeout=0)
    started = time.monotonic()

    _use_wal(opening.cursor(), busy_timeout_ms=5000)

    assert 0.25 <= time.monotonic() - started < 5
    assert opening.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    opening.close()


async def test_foreign_keys_are_enforced_on_writes(sqlite_engine):
    with pytest.raises(IntegrityError):
        async with sqlite_engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO idempotency_record (id, created_at, api_key_id, key, "
                    "fingerprint, state, locked_until, expires_at) VALUES (:id, "
                    "'2026-01-01 00:00:00.000000', :api_key_id, 'k', 'f', 'in_progress', "
                    "'2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')"
                ),
                {"id": uuid.uuid4().hex, "api_key_id": uuid.uuid4().hex},
            )


async def test_a_sqlite_transaction_takes_the_write_lock_when_it_begins(sqlite_url):
    """BEGIN IMMEDIATE: a second writer waits at its start, not when it first writes."""
    async with (
        engine_for(make_settings(sqlite_url)) as holder,
        engine_for(make_settings(sqlite_url, sqlite_busy_timeout_ms=200)) as waiter,
        holder.begin() as connection,
    ):
        await connection.execute(text("SELECT 1"))  # only a read, yet it holds the write lock
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            async with waiter.begin() as other:
                await other.execute(text("SELECT 1"))
        waited = time.monotonic() - started

    # It waited through its busy timeout before giving up.
    assert 0.15 <= waited < 5


async def test_a_writer_waits_for_another_process_to_commit(sqlite_url):
    async with (
        engine_for(make_settings(sqlite_url)) as holder,
        engine_for(make_settings(sqlite_url)) as waiter,
    ):
        async with holder.begin() as connection:
            await connection.execute(text("SELECT 1"))
            waiting = asyncio.create_task(write_keys(waiter, 1))
            await asyncio.sleep(0.3)
            assert not waiting.done()
        await asyncio.wait_for(waiting, timeout=10)

        assert await count_keys(waiter) == 1


async def write_keys(engine: AsyncEngine, count: int, pause: float = 0.0) -> None:
    """One transaction that reads, then creates ``count`` keys, as a request would."""
    async with create_sessionmaker(engine)() as session:
        await repository.any_exist(session)
        for n in range(count):
            await asyncio.sleep(pause)
            await service.create_api_key(session, SERVER_SECRET, f"key {n}", [Scope.pos])
        await session.commit()


async def count_keys(engine: AsyncEngine) -> int:
    async with create_sessionmaker(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(ApiKey)) or 0)


async def test_two_processes_writing_at_once_never_see_database_is_locked(sqlite_url):
    """Two engines on one file, as two worker processes have, with overlapping transactions.

    Each transaction reads before it writes; without BEGIN IMMEDIATE one of them would fail
    with "database is locked" when it upgrades its read to a write.
    """
    transactions, keys_each = 6, 3

    async def worker(engine: AsyncEngine) -> None:
        await asyncio.gather(
            *(write_keys(engine, keys_each, pause=0.005) for _ in range(transactions))
        )

    async with (
        engine_for(make_settings(sqlite_url)) as first,
        engine_for(make_settings(sqlite_url)) as second,
    ):
        await asyncio.gather(worker(first), worker(second))

        assert await count_keys(first) == 2 * transactions * keys_each


async def test_many_concurrent_writes_through_the_app_all_succeed(client, admin):
    async def create(n: int):
        return await client.post(
            "/v1/api-keys",
            json={"name": f"till {n}", "scopes": ["pos"]},
            headers={**admin, "Idempotency-Key": f"concurrent-{n}"},
        )

    responses = await asyncio.gather(*(create(n) for n in range(30)))

    assert [response.status_code for response in responses] == [201] * 30
    assert len({response.json()["key_id"] for response in responses}) == 30
    listing = await client.get("/v1/api-keys", params={"limit": 200}, headers=admin)
    assert len(listing.json()["items"]) == 31


async def test_concurrent_writers_with_their_own_keys_all_succeed(app, client):
    keys = [await create_key(app, Scope.admin, name=f"admin {n}") for n in range(10)]

    async def create(n: int):
        return await client.post(
            "/v1/api-keys",
            json={"name": f"till {n}", "scopes": ["pos"]},
            headers={**bearer(keys[n % 10]), "Idempotency-Key": f"k-{n}"},
        )

    responses = await asyncio.gather(*(create(n) for n in range(30)))

    assert [response.status_code for response in responses] == [201] * 30


# PostgreSQL


async def show(settings: Settings, name: str) -> object:
    async with engine_for(settings) as engine, engine.connect() as connection:
        return (await connection.execute(text(f"SHOW {name}"))).scalar()


async def test_postgresql_statement_timeout_is_the_configured_one(postgres_url):
    settings = make_settings(postgres_url, statement_timeout_ms=1234)

    assert await show(settings, "statement_timeout") == "1234ms"
    assert await show(settings, "application_name") == "stammkunde"


async def test_postgresql_statement_timeout_defaults_to_five_seconds(postgres_url):
    assert await show(make_settings(postgres_url), "statement_timeout") == "5s"


async def test_postgresql_cancels_a_statement_that_runs_too_long(postgres_url):
    settings = make_settings(postgres_url, statement_timeout_ms=200)
    async with engine_for(settings) as engine, engine.connect() as connection:
        started = time.monotonic()
        with pytest.raises(DBAPIError, match="statement timeout"):
            await connection.execute(text("SELECT pg_sleep(5)"))

    assert time.monotonic() - started < 3


# Either


def test_an_unsupported_database_is_refused():
    with pytest.raises(ValueError, match="unsupported database: mysql"):
        create_engine(make_settings("mysql+aiomysql://user@localhost/stammkunde"))
