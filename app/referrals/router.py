from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from app.api_keys.models import ApiKey, Scope
from app.db.base import utcnow
from app.kit.auth import require_scope
from app.kit.errors import error_responses
from app.kit.idempotency import OPTIONAL_IDEMPOTENCY_ERRORS, OptionalIdempotencyKey
from app.kit.pagination import InvalidCursor, Page, PageQuery
from app.kit.uow import Session, UnitOfWorkRoute
from app.members.errors import MemberErased, MemberNotFound, ReferralCodeUnknown
from app.referrals import service
from app.referrals.errors import ReferralExists, ReferralLoop, ReferralSelf, ReferralTooLate
from app.referrals.schemas import ReferralRead, ReferrerLink

router = APIRouter(prefix="/members/{member_id}", tags=["referrals"], route_class=UnitOfWorkRoute)

Reader = Annotated[ApiKey, Depends(require_scope(Scope.pos, Scope.shop, Scope.partner))]
Writer = Annotated[ApiKey, Depends(require_scope(Scope.pos, Scope.shop))]


@router.put(
    "/referrer",
    summary="Name a member's referrer after enrolment",
    description="For a customer who forgot the referral code when enrolling: links the member "
    "to the member whose code this is (a merged record's code leads to the member it was "
    "merged into). Allowed while the member has no referrer and has made no qualifying "
    "purchase; naming the same referrer again changes nothing. Refused for the member's own "
    "code (`referral_self`) and when the referrer was recommended by this member, directly "
    "or through others (`referral_loop`). Scopes `pos`, `shop`.",
    responses=error_responses(
        MemberNotFound,
        MemberErased,
        ReferralCodeUnknown,
        ReferralSelf,
        ReferralLoop,
        ReferralExists,
        ReferralTooLate,
        *OPTIONAL_IDEMPOTENCY_ERRORS,
    ),
)
async def link_referrer(
    member_id: UUID,
    body: ReferrerLink,
    _key: Writer,
    _: OptionalIdempotencyKey,
    session: Session,
) -> ReferralRead:
    referral = await service.link_referrer(session, member_id, body.referral_code, utcnow())
    return ReferralRead.model_validate(referral)


@router.get(
    "/referrals",
    summary="List the referrals a member made",
    description="The members this member recommended, newest first, each with the referral's "
    "status. Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(MemberNotFound, InvalidCursor),
)
async def list_referrals(
    member_id: UUID, _key: Reader, page: PageQuery, session: Session
) -> Page[ReferralRead]:
    rows, next_cursor = await service.list_referrals(session, member_id, page)
    return Page[ReferralRead](
        items=[ReferralRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )
