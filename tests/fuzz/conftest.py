"""One live service per test process for the fuzz tests: a real uvicorn on 127.0.0.1, on a
PostgreSQL database of its own.

The database is migrated once. Operation tests leave it as they found nothing: what one
fuzzed operation creates, the next may find. A stateful scenario starts from an empty
database instead (``Service.reset``), so that the same draws meet the same state; Hypothesis
replays scenarios and refuses ones that behave differently the second time.
"""

import asyncio
import itertools
import shutil
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from app.api_keys.models import Scope
from app.db import migrations
from app.main import create_app
from tests.conftest import (
    POSTGRES_SERVER_URL,
    _database_name,
    bearer,
    create_key,
    empty_postgres_database,
    make_settings,
    postgres_admin,
)
from tests.live_server import live_server

# Far above what a scenario's own programme changes count up to.
CONFIG_VERSIONS_PER_RESET = 1_000_000


@dataclass
class Service:
    base_url: str
    app: FastAPI
    runner: asyncio.Runner
    admin: dict[str, str] = field(default_factory=dict)
    pos: dict[str, str] = field(default_factory=dict)
    _resets: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def create_keys(self) -> None:
        admin = self.runner.run(create_key(self.app, Scope.admin, name="fuzz admin"))
        pos = self.runner.run(create_key(self.app, Scope.pos, name="fuzz till"))
        self.admin.update(bearer(admin))
        self.pos.update(bearer(pos))

    def reset(self) -> None:
        """An empty programme, and new keys (the old ones went with the tables)."""
        version = next(self._resets) * CONFIG_VERSIONS_PER_RESET
        self.runner.run(empty_postgres_database(self.app.state.runtime.engine, version))
        self.create_keys()


def _create_database() -> tuple[str, str]:
    """A new, migrated database, and the statement that drops it again."""
    assert POSTGRES_SERVER_URL is not None
    name = f"{_database_name()}_fuzz"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    asyncio.run(postgres_admin(POSTGRES_SERVER_URL, drop, f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(False)
    migrations.upgrade(url)
    return url, drop


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    if POSTGRES_SERVER_URL is None:
        pytest.skip("the fuzz tests run against PostgreSQL, and none answers")
    tmp_path = tmp_path_factory.mktemp("fuzz")
    database_url, drop = _create_database()
    app = create_app(make_settings(database_url))
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()
        runner.run(stack.enter_async_context(app.router.lifespan_context(app)))
        running = runner.run(
            stack.enter_async_context(live_server(database_url, tmp_path / "uvicorn.log"))
        )
        service = Service(running.base_url, app, runner)
        service.create_keys()
        try:
            yield service
        finally:
            runner.run(stack.aclose())
            log = running.log_tail()
            if log:
                print(f"--- uvicorn log ---\n{log}")
    asyncio.run(postgres_admin(POSTGRES_SERVER_URL, drop))
    shutil.rmtree(tmp_path, ignore_errors=True)
