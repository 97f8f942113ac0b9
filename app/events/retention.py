"""Pruning the event log: old events go once every webhook delivery of them is finished.

An event older than ``event_retention_days`` is deleted, with its deliveries and their
attempts, once the webhook dispatcher has handed it on and each of its deliveries was
delivered or given up. Events still on their way stay, however old.
"""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.events import repository

BATCH_SIZE = 1000


async def prune_events(
    sessionmaker: async_sessionmaker[AsyncSession], retention: timedelta, now: datetime
) -> int:
    """Delete what is due, in batches of short transactions; return how many events went."""
    before = now - retention
    pruned = 0
    while True:
        async with sessionmaker() as session, session.begin():
            event_ids = await repository.prunable(session, before, BATCH_SIZE)
            if event_ids:
                pruned += await repository.delete_with_deliveries(session, event_ids)
        if len(event_ids) < BATCH_SIZE:
            return pruned
