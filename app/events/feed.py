"""Reading the event log, oldest first, for polling consumers."""

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.events import repository
from app.events.models import Event
from app.kit.pagination import PageParams, encode_cursor, paginate


@dataclass(frozen=True, slots=True)
class FeedPage:
    events: Sequence[Event]
    next_cursor: str | None
    poll_cursor: str | None


async def read_feed(
    session: AsyncSession,
    params: PageParams,
    types: Sequence[str] = (),
    member_id: UUID | None = None,
) -> FeedPage:
    """One page of the log in ``(created_at, id)`` order, after ``params.cursor``."""
    statement = repository.list_statement(types, member_id)
    events, next_cursor = await paginate(session, statement, Event, params, oldest_first=True)
    poll_cursor = params.cursor
    if events:
        poll_cursor = encode_cursor(events[-1].created_at, events[-1].id)
    return FeedPage(events, next_cursor, poll_cursor)
