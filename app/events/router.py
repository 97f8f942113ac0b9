from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from app.events import feed
from app.events.schemas import EventPage, EventRead
from app.events.types import MAX_PATTERNS, TypePattern
from app.kit.auth import AdminKey
from app.kit.errors import error_responses
from app.kit.pagination import InvalidCursor, PageQuery
from app.kit.uow import Session, UnitOfWorkRoute

router = APIRouter(prefix="/events", tags=["events"], route_class=UnitOfWorkRoute)


@router.get(
    "",
    summary="Follow the event log",
    description="Every recorded change (`points.earned`, `points.redeemed`, `points.expired`, "
    "`tier.changed`, `voucher.*`, `gift.*`, `member.created`, `member.merged`, ...), "
    "**oldest first** by `(created_at, id)`, for consumers that poll instead of receiving "
    "webhooks. An event is recorded in the same transaction as its change: it is here if and "
    "only if the change committed.\n\n"
    "Follow the log by sending back `next_cursor` while it is set; on the last page store "
    "`poll_cursor` and poll again with it later. `type` picks event types: an exact type "
    "(`points.earned`) or a prefix ending in a dot (`points.`); repeat it for several. "
    "Events are kept for the retention period (90 days by default) and until every webhook "
    "delivery of them is finished. Scope `admin`.",
    responses=error_responses(InvalidCursor),
)
async def list_events(
    _admin: AdminKey,
    page: PageQuery,
    session: Session,
    type: Annotated[
        list[TypePattern] | None,
        Query(max_length=MAX_PATTERNS, description="Event type or prefix (`points.`)."),
    ] = None,
    member_id: Annotated[UUID | None, Query(description="Only this member's events.")] = None,
) -> EventPage:
    found = await feed.read_feed(session, page, type or (), member_id)
    return EventPage(
        items=[EventRead.model_validate(event) for event in found.events],
        next_cursor=found.next_cursor,
        poll_cursor=found.poll_cursor,
    )
