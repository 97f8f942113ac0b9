"""Test databases: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is used when ``STAMMKUNDE_TEST_POSTGRES_URL`` is set or a server answers at
127.0.0.1:5432; with ``STAMMKUNDE_REQUIRE_POSTGRES=1`` (CI) a missing server is an error.
Each test worker gets its own databases, built by the migrations. Tests are isolated by a
fresh copy of the migrated SQLite file, and by emptying every table on PostgreSQL.
"""

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api_keys import service as api_key_service
from app.api_keys.models import Scope
from app.config import Settings
from app.db import migrations
from app.db.base import utcnow
from app.db.config_cache import CONFIG_VERSION_ID, ConfigVersion
from app.db.models import Base
from app.ledger.models import PROGRAM_ACCOUNT_KINDS, Account, program_account_id
from app.main import create_app
from tests import openapi_examples

if TYPE_CHECKING:
    from tests.live_server import LiveServer

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def _postgres_server_url() -> str | None:
    configured = os.environ.get("STAMMKUNDE_TEST_POSTGRES_URL")
    if configured:
        return configured
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return DEFAULT_POSTGRES_URL
    except OSError:
        return None


POSTGRES_SERVER_URL = _postgres_server_url()
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_SERVER_URL else [])


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("STAMMKUNDE_REQUIRE_POSTGRES") == "1" and POSTGRES_SERVER_URL is None:
        raise pytest.UsageError(
            "STAMMKUNDE_REQUIRE_POSTGRES=1 but no PostgreSQL answers at 127.0.0.1:5432 "
            "and STAMMKUNDE_TEST_POSTGRES_URL is not set"
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    openapi_examples.write_recorded_examples(session)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per database, so a run shows that both were tested."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            for backend in BACKENDS:
                if f"[{backend}" in report.nodeid or f"-{backend}]" in report.nodeid:
                    per = counts.setdefault(backend, {})
                    per[outcome] = per.get(outcome, 0) + 1
    for backend, per in counts.items():
        line = ", ".join(f"{n} {outcome}" for outcome, n in per.items())
        terminalreporter.write_line(f"database tests on {backend}: {line}")


@dataclass(frozen=True)
class TestDatabase:
    backend: str
    url: str


def _database_name() -> str:
    """Unique per test process, so that parallel runs on one server never meet."""
    return f"stammkunde_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


async def postgres_admin(server_url: str, *statements: str) -> None:
    url = make_url(server_url)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestDatabase]:
    """A database of the parametrised kind, migrated to head once per test session."""
    backend: str = request.param
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "template.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        assert POSTGRES_SERVER_URL is not None
        name = _database_name()
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        asyncio.run(postgres_admin(POSTGRES_SERVER_URL, drop, f'CREATE DATABASE "{name}"'))
        url = make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(False)
    migrations.upgrade(url)
    yield TestDatabase(backend, url)
    if backend == "postgresql":
        assert POSTGRES_SERVER_URL is not None
        asyncio.run(postgres_admin(POSTGRES_SERVER_URL, drop))


@pytest.fixture
def database(migrated_database: TestDatabase, tmp_path: Path) -> TestDatabase:
    """The session's database, empty: a copy of the SQLite template, or truncated tables."""
    if migrated_database.backend == "sqlite":
        template = Path(make_url(migrated_database.url).database or "")
        copy = tmp_path / "test.db"
        shutil.copyfile(template, copy)
        return TestDatabase("sqlite", f"sqlite+aiosqlite:///{copy}")
    return migrated_database


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET_KEY,
        "run_jobs": False,
        "log_level": "WARNING",
        "log_format": "console",
        "rate_limits": {"pos": 0, "shop": 0, "partner": 0, "admin": 0},
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def settings(database: TestDatabase) -> Settings:
    return make_settings(database.url)


async def _empty_tables(app: FastAPI) -> None:
    engine = app.state.runtime.engine
    if engine.dialect.name == "postgresql":
        await empty_postgres_database(engine)


async def empty_postgres_database(engine: AsyncEngine, config_version: int = 1) -> None:
    """Every table as the migrations leave it. A service that keeps running on the database
    needs a ``config_version`` it has not cached yet, or it would keep the old programme."""
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # The migration's rows are part of an empty database.
        await conn.execute(
            insert(ConfigVersion).values(id=CONFIG_VERSION_ID, version=config_version)
        )
        await conn.execute(
            insert(Account),
            [
                {"id": program_account_id(kind), "kind": kind, "created_at": utcnow()}
                for kind in PROGRAM_ACCOUNT_KINDS
            ],
        )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await _empty_tables(application)
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", event_hooks=openapi_examples.event_hooks()
    ) as http:
        yield http


async def create_key(app: FastAPI, *scopes: Scope, name: str = "test key") -> str:
    """Create an API key directly through the service; return the whole key."""
    runtime = app.state.runtime
    async with runtime.sessionmaker() as session:
        _, key = await api_key_service.create_api_key(
            session, runtime.secret_key, name, list(scopes)
        )
        await session.commit()
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def admin_key(app: FastAPI) -> str:
    return await create_key(app, Scope.admin, name="test admin")


@pytest.fixture
async def pos(app: FastAPI) -> dict[str, str]:
    """Headers of a till: a new key with scope ``pos``."""
    return bearer(await create_key(app, Scope.pos, name="pos"))


@pytest.fixture
def admin(admin_key: str) -> dict[str, str]:
    """Headers that authenticate as an admin."""
    return bearer(admin_key)


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestDatabase]:
    """A new database of the parametrised kind with no schema at all (not migrated).

    For tests that run the migrations themselves or look at an unmigrated database; the
    shared session database must not be migrated down under the other tests.
    """
    backend: str = request.param
    if backend == "sqlite":
        yield TestDatabase("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
        return
    assert POSTGRES_SERVER_URL is not None
    name = f"{_database_name()}_{uuid.uuid4().hex[:8]}"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    asyncio.run(postgres_admin(POSTGRES_SERVER_URL, drop, f'CREATE DATABASE "{name}"'))
    try:
        yield TestDatabase(
            "postgresql", make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(False)
        )
    finally:
        asyncio.run(postgres_admin(POSTGRES_SERVER_URL, drop))


@pytest.fixture
async def server(app: FastAPI, tmp_path: Path) -> AsyncIterator["LiveServer"]:
    """A real uvicorn on the test's database (``app`` emptied it before the start), for
    tests that need real concurrency; its log is printed with a failing test's output."""
    from tests.live_server import live_server  # it imports this module

    database_url = app.state.runtime.settings.database_url
    async with live_server(database_url, tmp_path / "uvicorn.log") as running:
        yield running
    log = running.log_tail()
    if log:
        print(f"--- uvicorn log ---\n{log}")
