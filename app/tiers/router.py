from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.models import ApiKey, Scope
from app.db.base import utcnow
from app.kit.auth import AdminKey, require_scope
from app.kit.errors import error_responses
from app.kit.idempotency import OPTIONAL_IDEMPOTENCY_ERRORS, OptionalIdempotencyKey
from app.kit.pagination import InvalidCursor, Page, PageQuery
from app.kit.uow import Session, UnitOfWorkRoute
from app.members.errors import MemberNotFound
from app.tiers import service
from app.tiers.errors import (
    ManualTierNotFound,
    ManualTierUntilPast,
    TierExists,
    TierInUse,
    TierNotFound,
    TierThresholdsOutOfOrder,
)
from app.tiers.models import Tier
from app.tiers.schemas import (
    ManualTierAssign,
    ManualTierRead,
    MemberTierRead,
    TierChangeRead,
    TierCreate,
    TierRead,
    TierSummary,
    TierUpdate,
)

router = APIRouter(tags=["tiers"], route_class=UnitOfWorkRoute)

Reader = Annotated[ApiKey, Depends(require_scope(Scope.pos, Scope.shop, Scope.partner))]


@router.post(
    "/tiers",
    status_code=status.HTTP_201_CREATED,
    summary="Create a tier",
    description="A status level reached with `threshold` qualifying points, earning "
    "`multiplier` times the base points. Names and ranks are unique; a higher rank needs a "
    "higher threshold. Members reach a new tier at their next purchase. Scope `admin`.",
    responses=error_responses(TierExists, TierThresholdsOutOfOrder),
)
async def create_tier(body: TierCreate, _admin: AdminKey, session: Session) -> TierRead:
    return TierRead.model_validate(await service.create_tier(session, body))


@router.get(
    "/tiers",
    summary="List the tiers",
    description="All tiers, lowest rank first. Scope `admin`.",
)
async def list_tiers(_admin: AdminKey, session: Session) -> list[TierRead]:
    return [TierRead.model_validate(tier) for tier in await service.list_tiers(session)]


@router.get(
    "/tiers/{tier_id}",
    summary="Get a tier",
    description="Scope `admin`.",
    responses=error_responses(TierNotFound),
)
async def get_tier(tier_id: UUID, _admin: AdminKey, session: Session) -> TierRead:
    return TierRead.model_validate(await service.get_tier(session, tier_id))


@router.patch(
    "/tiers/{tier_id}",
    summary="Update a tier",
    description="Fields given replace the current value. A new threshold or multiplier "
    "applies from now on: members move up at their next purchase and down only at their "
    "review. Scope `admin`.",
    responses=error_responses(TierNotFound, TierExists, TierThresholdsOutOfOrder),
)
async def update_tier(
    tier_id: UUID, body: TierUpdate, _admin: AdminKey, session: Session
) -> TierRead:
    return TierRead.model_validate(await service.update_tier(session, tier_id, body))


@router.delete(
    "/tiers/{tier_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a tier",
    description="Refused with `tier_in_use` while a member holds the tier, earned or given "
    "by hand. Scope `admin`.",
    responses=error_responses(TierNotFound, TierInUse),
)
async def delete_tier(tier_id: UUID, _admin: AdminKey, session: Session) -> Response:
    await service.delete_tier(session, tier_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _summary(tier: Tier | None) -> TierSummary | None:
    return None if tier is None else TierSummary.model_validate(tier)


async def _member_tier_read(session: AsyncSession, member_id: UUID) -> MemberTierRead:
    found = await service.member_tier(session, member_id, utcnow())
    member = found.member
    return MemberTierRead(
        member_id=member.id,
        tier=_summary(found.tier),
        source=found.source,
        qualifying_points=found.qualifying_points,
        qualifying_since=found.window.since,
        next_tier=_summary(found.next_tier),
        points_to_next_tier=found.points_to_next_tier,
        tier_expires_at=found.expires_at,
        manual_tier=None
        if found.manual_tier is None or member.manual_tier_until is None
        else ManualTierRead(
            tier=TierSummary.model_validate(found.manual_tier), until=member.manual_tier_until
        ),
    )


@router.get(
    "/members/{member_id}/tier",
    summary="Get a member's tier",
    description="The tier in force (a manual tier while it lasts, else the one earned by "
    "qualifying points), the qualifying points of the current window, the next tier and the "
    "points still missing for it, and until when the tier is secured. Scopes `pos`, `shop`, "
    "`partner`.",
    responses=error_responses(MemberNotFound),
)
async def get_member_tier(member_id: UUID, _key: Reader, session: Session) -> MemberTierRead:
    return await _member_tier_read(session, member_id)


@router.put(
    "/members/{member_id}/tier",
    summary="Give a member a tier by hand",
    description="A VIP invitation: the tier is in force until `until` and overrides the "
    "earned tier (higher or lower) until then; it replaces an earlier manual tier. Recorded "
    "in the tier history with reason `manual` and emitted as `tier.changed`. Scope `admin`.",
    responses=error_responses(
        MemberNotFound, TierNotFound, ManualTierUntilPast, *OPTIONAL_IDEMPOTENCY_ERRORS
    ),
)
async def assign_manual_tier(
    member_id: UUID,
    body: ManualTierAssign,
    _admin: AdminKey,
    _: OptionalIdempotencyKey,
    session: Session,
) -> MemberTierRead:
    await service.assign_manual_tier(session, member_id, body, utcnow())
    return await _member_tier_read(session, member_id)


@router.delete(
    "/members/{member_id}/tier",
    summary="End a member's manual tier",
    description="Ends a manual tier early; the member falls back to the earned tier "
    "(reason `manual_ended`). Returns the member's tier afterwards. Scope `admin`.",
    responses=error_responses(MemberNotFound, ManualTierNotFound, *OPTIONAL_IDEMPOTENCY_ERRORS),
)
async def end_manual_tier(
    member_id: UUID, _admin: AdminKey, _: OptionalIdempotencyKey, session: Session
) -> MemberTierRead:
    await service.end_manual_tier(session, member_id, utcnow())
    return await _member_tier_read(session, member_id)


@router.get(
    "/members/{member_id}/tier/history",
    summary="List a member's tier changes",
    description="Upgrades, downgrades, reviews and manual tiers, each with its reason and the "
    "qualifying points at the time; newest first. Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(MemberNotFound, InvalidCursor),
)
async def list_member_tier_history(
    member_id: UUID, _key: Reader, page: PageQuery, session: Session
) -> Page[TierChangeRead]:
    changes, names, next_cursor = await service.history(session, member_id, page)
    return Page[TierChangeRead](
        items=[
            TierChangeRead(
                id=change.id,
                from_tier_id=change.from_tier_id,
                from_tier=names.get(change.from_tier_id) if change.from_tier_id else None,
                to_tier_id=change.to_tier_id,
                to_tier=names.get(change.to_tier_id) if change.to_tier_id else None,
                reason=change.reason,
                qualifying_points=change.qualifying_points,
                note=change.note,
                created_at=change.created_at,
            )
            for change in changes
        ],
        next_cursor=next_cursor,
    )
