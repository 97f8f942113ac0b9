"""One async engine per process, set up for its dialect.

SQLite is opened in WAL mode with ``synchronous=FULL`` (a 2xx means durable), foreign keys
on and a busy timeout. Every SQLite transaction starts with ``BEGIN IMMEDIATE`` so that it
takes the write lock up front instead of failing with ``database is locked`` when it
upgrades a read to a write. Within one process the pool holds a single connection, so
requests queue for it in asyncio instead of spinning in SQLite's busy handler; other
processes on the same file wait through the busy timeout.
"""

import sqlite3
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.config import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _create_sqlite_engine(settings)
    if url.get_backend_name() == "postgresql":
        return _create_postgresql_engine(settings)
    raise ValueError(f"unsupported database: {url.get_backend_name()}")


def _create_sqlite_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        settings.database_url,
        pool_size=1,
        max_overflow=0,
        pool_timeout=120,
        connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
    )
    busy_timeout_ms = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy, so that "begin" below decides how it starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _use_wal(cursor, busy_timeout_ms)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _use_wal(cursor: Any, busy_timeout_ms: int) -> None:
    """Put the file in WAL mode unless it is, on a connection just opened.

    WAL is a property of the file, so it is only set where it is missing: setting it again
    takes a write lock. The first read of a new connection can still meet another process
    that is rebuilding the WAL index (its own first connection, after the last one closed):
    SQLite then answers "database is locked" (SQLITE_BUSY_RECOVERY) at once instead of
    waiting out the busy timeout, so wait here, as briefly and as long as that timeout.
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    pause = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode")
            if cursor.fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() + pause > deadline:
                raise
        # Blocks the event loop, but only while a connection opens, which a process does
        # once (its pool holds one connection) unless the database was unreachable.
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


class DatabaseUnreachable(ConnectionError):
    """No connection to the database could be opened: it is down, restarting, refusing
    connections or out of reach. A ConnectionError, so that requests answer 503
    ``database_unavailable`` (app.kit.errors) and the client retries."""


# SQLSTATEs with which a server refuses a new connection for a while: shutting down or
# starting up (57P01-57P03), too many connections (53300), and the connection exceptions.
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


def _refused_for_now(error: Exception) -> bool:
    sqlstate = getattr(error, "sqlstate", None) or ""
    return sqlstate in _UNAVAILABLE_SQLSTATES or sqlstate.startswith("08")


def _create_postgresql_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        # No ping before each checkout, a round trip on every request. A connection the
        # server dropped fails its request once (503 ``database_unavailable``; the client
        # retries with its idempotency key), and SQLAlchemy then replaces every pooled
        # connection older than the failure.
        pool_pre_ping=False,
        connect_args={
            # Fail fast while the database is out of reach, rather than hold the request.
            "timeout": settings.database_connect_timeout_seconds,
            "server_settings": {
                "statement_timeout": str(settings.statement_timeout_ms),
                "application_name": "stammkunde",
            },
        },
    )

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        # A refused, unroutable or timed-out connect is a bare OSError (TimeoutError is
        # one), which SQLAlchemy passes on unwrapped, and a server that is shutting down or
        # starting up refuses with an error that is not a lost connection: both would be
        # 500s. They are the database's outage, so they become DatabaseUnreachable.
        try:
            return dialect.connect(*cargs, **cparams)
        except OSError as error:
            raise DatabaseUnreachable(f"cannot connect to the database: {error!r}") from error
        except dialect.loaded_dbapi.Error as error:
            if _refused_for_now(error):
                raise DatabaseUnreachable(f"the database refuses connections: {error}") from error
            raise

    return engine
