"""The baseline: the smallest honest earn, to measure the service against this machine.

One transaction with one ``UPDATE`` of an account's balance and one ``INSERT`` of a ledger
row, behind FastAPI and uvicorn like the service, on raw asyncpg (PostgreSQL) or aiosqlite
(SQLite). ``BENCH_BASELINE_DATABASE`` is a ``postgresql://`` DSN or a SQLite file path.

    BENCH_BASELINE_DATABASE=postgresql://postgres@127.0.0.1/stammkunde_bench \\
        uvicorn bench.baseline:app --workers 2
"""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
import asyncpg
from fastapi import FastAPI
from pydantic import BaseModel

ACCOUNTS = 100_000
DATABASE = os.environ.get("BENCH_BASELINE_DATABASE", "")

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS bench_account (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_entry (account_id INTEGER NOT NULL, points BIGINT NOT NULL,"
    " reference TEXT NOT NULL UNIQUE, created_at TIMESTAMP NOT NULL)",
)


class Earn(BaseModel):
    account_id: int
    points: int
    reference: str


class Earned(BaseModel):
    balance: int


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if DATABASE.startswith("postgresql://"):
        app.state.pool = await asyncpg.create_pool(DATABASE, min_size=10, max_size=10)
        yield
        await app.state.pool.close()
        return
    connection = await aiosqlite.connect(DATABASE, isolation_level=None)
    await connection.execute("PRAGMA journal_mode=WAL")
    await connection.execute("PRAGMA synchronous=FULL")
    await connection.execute("PRAGMA busy_timeout=30000")
    # One connection, one transaction at a time: as the service's SQLite pool of one.
    app.state.sqlite, app.state.sqlite_lock = connection, asyncio.Lock()
    yield
    await connection.close()


app = FastAPI(lifespan=lifespan)


@app.post("/earn", status_code=201)
async def earn(body: Earn) -> Earned:
    if hasattr(app.state, "pool"):
        async with app.state.pool.acquire() as connection, connection.transaction():
            balance = await connection.fetchval(
                "UPDATE bench_account SET balance = balance + $1 WHERE id = $2 RETURNING balance",
                body.points,
                body.account_id,
            )
            await connection.execute(
                "INSERT INTO bench_entry (account_id, points, reference, created_at) "
                "VALUES ($1, $2, $3, now())",
                body.account_id,
                body.points,
                body.reference,
            )
        return Earned(balance=balance)
    sqlite: aiosqlite.Connection = app.state.sqlite
    async with app.state.sqlite_lock:
        return await _earn_on_sqlite(sqlite, body)


async def _earn_on_sqlite(sqlite: aiosqlite.Connection, body: Earn) -> Earned:
    await sqlite.execute("BEGIN IMMEDIATE")
    try:
        cursor = await sqlite.execute(
            "UPDATE bench_account SET balance = balance + ? WHERE id = ? RETURNING balance",
            (body.points, body.account_id),
        )
        row: Any = await cursor.fetchone()
        await sqlite.execute(
            "INSERT INTO bench_entry (account_id, points, reference, created_at) "
            "VALUES (?, ?, ?, CURRENT_TIMESTAMP)",
            (body.account_id, body.points, body.reference),
        )
        await sqlite.execute("COMMIT")
    except BaseException:
        await sqlite.execute("ROLLBACK")
        raise
    return Earned(balance=row[0])


async def prepare(database: str) -> None:
    """Create the baseline's two tables with ``ACCOUNTS`` accounts (run once per bench)."""
    if database.startswith("postgresql://"):
        connection = await asyncpg.connect(database)
        try:
            for statement in SCHEMA:
                await connection.execute(statement.replace("TIMESTAMP", "TIMESTAMPTZ"))
            await connection.execute(
                "INSERT INTO bench_account SELECT i, 0 FROM generate_series(1, $1) AS i "
                "ON CONFLICT DO NOTHING",
                ACCOUNTS,
            )
        finally:
            await connection.close()
        return
    async with aiosqlite.connect(database) as sqlite:
        await sqlite.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA:
            await sqlite.execute(statement)
        await sqlite.executemany(
            "INSERT OR IGNORE INTO bench_account VALUES (?, 0)",
            ((i,) for i in range(1, ACCOUNTS + 1)),
        )
        await sqlite.commit()
