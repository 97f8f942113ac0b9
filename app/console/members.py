"""Members: a search over card number, e-mail, name and external id, and each member's page.

The actions on a member (goodwill adjustment, merging a duplicate, erasure) are in
``members_actions``; the page itself is put together in ``members_view``.
"""

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from app.console import members_actions
from app.console.members_view import SECTION, STATUSES, labeller, member_page
from app.console.rendering import page
from app.console.routing import ConsoleRoute, CurrentUser
from app.db.base import utcnow
from app.kit.pagination import PageParams
from app.members import service as members
from app.members.models import Member
from app.tiers import service as tiers

router = APIRouter(prefix="/members", route_class=ConsoleRoute)
router.include_router(members_actions.router)

PAGE_SIZE = 25
SearchText = Annotated[str, Query(max_length=200)]
Cursor = Annotated[str | None, Query(max_length=200)]


@dataclass(frozen=True, slots=True)
class Found:
    member: Member
    becomes: Member | None  # the member a merged record leads to
    tier: str | None


@router.get("")
async def search(
    request: Request, user: CurrentUser, q: SearchText = "", cursor: Cursor = None
) -> Response:
    session = request.state.session
    query = q.strip()
    found, next_cursor = await members.search_members(session, query, PageParams(PAGE_SIZE, cursor))
    tier_names = await tiers.effective_tier_names(session, found, utcnow())
    rows = [
        Found(
            member,
            await members.find_member(session, member_id=member.id)
            if member.merged_into_id is not None
            else None,
            tier_names.get(member.id),
        )
        for member in found
    ]
    return await page(
        request,
        "members/search.html",
        {
            "section": SECTION,
            "label": labeller(request),
            "statuses": STATUSES,
            "query": query,
            "rows": rows,
            "next_cursor": next_cursor,
            "first_page": cursor is None,
        },
    )


@router.get("/{member_id}")
async def show(
    request: Request,
    user: CurrentUser,
    member_id: UUID,
    cursor: Cursor = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return await member_page(request, member_id, cursor=cursor, notice=done)
