"""Serialising writers on one key, the way each database does it best."""

from uuid import UUID

from sqlalchemy import Text, bindparam, cast, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.session import is_postgresql

# PostgreSQL queues the waiters for a row unfairly when each holder updates it (every update
# makes a row version with a lock queue of its own), so under a burst for one member a
# newcomer overtakes earlier waiters, some of which then wait past the statement timeout.
# A transaction-scoped advisory lock per key is one first-come-first-served queue.
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(CAST(:key AS text), 0))")


# The same lock as a one-row CTE (bound parameter ``queue_key``), for a statement that then
# locks rows: joined to it, the rows are locked only once the queue let this transaction
# through, in one round trip instead of two.
QUEUE = (
    select(
        func.pg_advisory_xact_lock(
            func.hashtextextended(cast(bindparam("queue_key"), Text), 0)
        ).label("queued")
    )
    .cte("queue")
    .prefix_with("MATERIALIZED")
)


async def queue_for(session: AsyncSession, key: UUID) -> None:
    """Wait in line for ``key`` until this transaction ends.

    On SQLite every write transaction already holds the database's write lock
    (``BEGIN IMMEDIATE``), so there is nothing more to take.
    """
    if is_postgresql(session):
        await session.execute(_ADVISORY_LOCK, {"key": str(key)})
