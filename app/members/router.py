from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.models import ApiKey, Scope
from app.db.base import utcnow
from app.kit.auth import AdminKey, require_scope
from app.kit.errors import error_responses
from app.kit.idempotency import (
    IDEMPOTENCY_ERRORS,
    OPTIONAL_IDEMPOTENCY_ERRORS,
    IdempotencyKey,
    OptionalIdempotencyKey,
)
from app.kit.pagination import InvalidCursor, Page, PageQuery
from app.kit.uow import Session, UnitOfWorkRoute
from app.members import erasure, merge, service
from app.members.errors import (
    MemberErased,
    MemberExists,
    MemberMerged,
    MemberNotFound,
    MergeSameMember,
    ReferralCodeUnknown,
)
from app.members.models import Member
from app.members.schemas import MemberCreate, MemberMerge, MemberRead, MemberUpdate
from app.tiers import service as tiers

router = APIRouter(prefix="/members", tags=["members"], route_class=UnitOfWorkRoute)

Reader = Annotated[ApiKey, Depends(require_scope(Scope.pos, Scope.shop, Scope.partner))]
Writer = Annotated[ApiKey, Depends(require_scope(Scope.pos, Scope.shop))]


async def _reads(session: AsyncSession, members: Sequence[Member]) -> list[MemberRead]:
    """Members as clients see them, each with the name of the tier in force."""
    names = await tiers.effective_tier_names(session, members, utcnow())
    return [
        MemberRead.model_validate(member).model_copy(update={"tier": names.get(member.id)})
        for member in members
    ]


async def _read(session: AsyncSession, member: Member) -> MemberRead:
    [read] = await _reads(session, [member])
    return read


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Enrol a member",
    description="Creates a member with a card number (generated when not given) and a referral "
    "code. Scopes `pos`, `shop`.",
    responses=error_responses(MemberExists, ReferralCodeUnknown, *OPTIONAL_IDEMPOTENCY_ERRORS),
)
async def create_member(
    body: MemberCreate, _key: Writer, _: OptionalIdempotencyKey, session: Session
) -> MemberRead:
    return await _read(session, await service.create_member(session, body))


@router.get(
    "",
    summary="List or look up members",
    description="Newest first; filter by `card_number`, `external_id` or `email` to look one "
    "up. Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(InvalidCursor),
)
async def list_members(
    _key: Reader,
    page: PageQuery,
    session: Session,
    card_number: Annotated[str | None, Query(max_length=19)] = None,
    external_id: Annotated[str | None, Query(max_length=100)] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
) -> Page[MemberRead]:
    members, next_cursor = await service.list_members(
        session, page, card_number, external_id, email.strip().lower() if email else None
    )
    return Page[MemberRead](items=await _reads(session, members), next_cursor=next_cursor)


@router.get(
    "/{member_id}",
    summary="Get a member",
    description="Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(MemberNotFound),
)
async def get_member(member_id: UUID, _key: Reader, session: Session) -> MemberRead:
    return await _read(session, await service.get_member(session, member_id))


@router.patch(
    "/{member_id}",
    summary="Update a member",
    description="Fields given replace the current value; emits `member.updated` with the "
    "names of the fields changed. Scopes `pos`, `shop`.",
    responses=error_responses(MemberNotFound, MemberExists, MemberErased),
)
async def update_member(
    member_id: UUID, body: MemberUpdate, _key: Writer, session: Session
) -> MemberRead:
    return await _read(session, await service.update_member(session, member_id, body))


@router.delete(
    "/{member_id}",
    summary="Erase a member's personal data",
    description="On the person's request (right to erasure): name, e-mail, birthdate and "
    "external id are removed, the card number and referral code replaced by random "
    "pseudonyms, segments and tiers cleared; so are those of duplicate records merged into "
    "the member. Look-ups by the old card number, e-mail or external id find nothing any "
    "more. The membership ends: open gifts the member sent are taken back and the points "
    "are forfeited to the expired account (`points.forfeited`); issued vouchers stay valid. "
    "The ledger, purchases and figures keep their numbers. The record stays readable by id "
    "with status `erased`; writes naming it are refused with 409 `member_erased`. Emits "
    "`member.erased` (ids only). Erasing again changes nothing; `Idempotency-Key` is "
    "optional. Scope `admin`.",
    responses=error_responses(MemberNotFound, *OPTIONAL_IDEMPOTENCY_ERRORS),
)
async def erase_member(
    member_id: UUID, _admin: AdminKey, _: OptionalIdempotencyKey, session: Session
) -> MemberRead:
    return await _read(session, await erasure.erase(session, member_id))


@router.post(
    "/{member_id}/merge",
    summary="Merge a duplicate record into a member",
    description="Moves the duplicate's points (lots with their expiry; pending stays pending), "
    "vouchers, open gifts, purchases and referrals to this member, all or nothing, and marks "
    "the duplicate `merged`: look-ups of its card number, email or external id lead here. "
    "Emits `member.merged`. Scope `admin`.",
    responses=error_responses(
        MemberNotFound, MemberMerged, MemberErased, MergeSameMember, *IDEMPOTENCY_ERRORS
    ),
)
async def merge_member(
    member_id: UUID, body: MemberMerge, _admin: AdminKey, _: IdempotencyKey, session: Session
) -> MemberRead:
    merged = await merge.merge(session, member_id, body.source_member_id)
    return await _read(session, merged.target)
