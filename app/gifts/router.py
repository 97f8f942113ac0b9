from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status

from app.api_keys.models import ApiKey, Scope
from app.db.base import utcnow
from app.gifts import service
from app.gifts.errors import (
    GiftAlreadyClaimed,
    GiftCancelled,
    GiftCodeInvalid,
    GiftExpired,
    GiftMonthlyLimitReached,
    GiftNotFound,
    GiftNotSender,
    GiftOpenLimitReached,
    GiftOwnClaim,
    GiftPointsAboveMaximum,
    GiftPointsBelowMinimum,
)
from app.gifts.models import Gift
from app.gifts.schemas import (
    ClaimedVoucher,
    GiftCancel,
    GiftClaim,
    GiftClaimed,
    GiftCreate,
    GiftCreated,
    GiftRead,
    GiftSummary,
    GiftTakenBack,
    GiftVoucher,
)
from app.kit.auth import RateLimited, require_scope
from app.kit.errors import error_responses
from app.kit.idempotency import IDEMPOTENCY_ERRORS, IdempotencyKey
from app.kit.pagination import InvalidCursor, Page, PageQuery
from app.kit.runtime import get_runtime
from app.kit.uow import Session, UnitOfWorkRoute
from app.ledger.errors import InsufficientPoints
from app.ledger.schemas import BalanceSummary
from app.members.errors import MemberErased, MemberExists, MemberNotFound, ReferralCodeUnknown
from app.vouchers.errors import RewardNotAvailable, RewardNotFound, RewardOutOfStock
from app.vouchers.models import Voucher

router = APIRouter(tags=["gifts"], route_class=UnitOfWorkRoute)

Member = Annotated[ApiKey, Depends(require_scope(Scope.pos, Scope.shop, Scope.partner))]

LOOKUP_ERRORS = (GiftCodeInvalid, GiftNotFound, RateLimited)
SETTLED_ERRORS = (GiftAlreadyClaimed, GiftCancelled, GiftExpired)


def _voucher(voucher: Voucher | None) -> GiftVoucher | None:
    if voucher is None:
        return None
    return GiftVoucher.model_validate(voucher, from_attributes=True)


@router.post(
    "/members/{member_id}/gifts",
    status_code=status.HTTP_201_CREATED,
    summary="Make a gift for a friend",
    description="Takes `points` from the member at once (first-expiring first) into escrow, "
    "or buys the reward `reward_id` and holds its voucher, and returns a gift code to pass "
    "on; the `code` is shown in this response only. Unclaimed, it goes back to the sender "
    "at `expires_at`. The programme's gift limits apply. Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(
        MemberNotFound,
        MemberErased,
        InsufficientPoints,
        GiftPointsBelowMinimum,
        GiftPointsAboveMaximum,
        GiftOpenLimitReached,
        GiftMonthlyLimitReached,
        RewardNotFound,
        RewardNotAvailable,
        RewardOutOfStock,
        *IDEMPOTENCY_ERRORS,
    ),
)
async def create_gift(
    member_id: UUID,
    body: GiftCreate,
    request: Request,
    _key: Member,
    claim: IdempotencyKey,
    session: Session,
) -> GiftCreated:
    created = await service.create_gift(session, get_runtime(request).secret_key, member_id, body)
    gift = created.gift
    read = GiftCreated(
        id=gift.id,
        code=created.code,
        code_last4=gift.code_last4,
        status=service.effective_status(gift, gift.created_at),
        points=gift.points,
        voucher=_voucher(created.voucher),
        message=gift.message,
        recipient_hint=gift.recipient_hint,
        expires_at=gift.expires_at,
        created_at=gift.created_at,
        balance=BalanceSummary.of(created.ledger),
    )
    claim.replay_without_secret(read.model_copy(update={"code": None}))
    return read


@router.get(
    "/members/{member_id}/gifts",
    summary="List the gifts a member made",
    description="Newest first, with their status and who claimed them; codes show their "
    "last four symbols only. Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(MemberNotFound, InvalidCursor),
)
async def list_member_gifts(
    member_id: UUID, _key: Member, page: PageQuery, session: Session
) -> Page[GiftSummary]:
    gifts, next_cursor = await service.list_sent(session, member_id, page)
    now = utcnow()
    return Page[GiftSummary](items=[_summary(gift, now) for gift in gifts], next_cursor=next_cursor)


def _summary(gift: Gift, now: datetime) -> GiftSummary:
    return GiftSummary(
        id=gift.id,
        code_last4=gift.code_last4,
        status=service.effective_status(gift, now),
        points=gift.points,
        voucher_id=gift.voucher_id,
        recipient_hint=gift.recipient_hint,
        recipient_id=gift.recipient_id,
        expires_at=gift.expires_at,
        settled_at=gift.settled_at,
        created_at=gift.created_at,
    )


@router.get(
    "/gifts/{code}",
    summary="Look a gift up by its code",
    description="What the gift holds, its status and expiry, and the sender's first name "
    "(no other personal data). Mistyped codes are 422, unknown ones 404; too many of either "
    "per API key and minute are 429. Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(*LOOKUP_ERRORS),
)
async def get_gift(code: str, request: Request, key: Member, session: Session) -> GiftRead:
    gift = await service.gift_by_code(session, get_runtime(request), key, code)
    return GiftRead(
        status=service.effective_status(gift, utcnow()),
        code_last4=gift.code_last4,
        points=gift.points,
        voucher=_voucher(await service.voucher_of(session, gift)),
        sender_first_name=await service.sender_first_name(session, gift),
        message=gift.message,
        expires_at=gift.expires_at,
        created_at=gift.created_at,
    )


@router.post(
    "/gifts/{code}/claim",
    status_code=status.HTTP_201_CREATED,
    summary="Claim a gift",
    description="By an existing `member_id`, or with `member` enrolment fields to enrol the "
    "friend on the spot (referred by the sender). The points become a new lot with a fresh "
    "expiry; a voucher gets a new code, shown in this response only. A code is claimed once; "
    "a sender cannot claim their own gift. Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(
        *LOOKUP_ERRORS,
        *SETTLED_ERRORS,
        GiftOwnClaim,
        MemberNotFound,
        MemberErased,
        MemberExists,
        ReferralCodeUnknown,
        *IDEMPOTENCY_ERRORS,
    ),
)
async def claim_gift(
    code: str,
    body: GiftClaim,
    request: Request,
    key: Member,
    claim: IdempotencyKey,
    session: Session,
) -> GiftClaimed:
    claimed = await service.claim_gift(session, get_runtime(request), key, code, body)
    voucher = claimed.voucher
    read = GiftClaimed(
        gift_id=claimed.gift.id,
        member_id=claimed.member.id,
        member_created=claimed.member_created,
        points=claimed.gift.points,
        voucher=None
        if voucher is None
        else ClaimedVoucher.model_validate(
            {
                **GiftVoucher.model_validate(voucher, from_attributes=True).model_dump(),
                "code": claimed.voucher_code,
                "valid_from": voucher.valid_from,
                "expires_at": voucher.expires_at,
            }
        ),
        balance=BalanceSummary.of(claimed.ledger),
    )
    if read.voucher is not None:
        claim.replay_without_secret(
            read.model_copy(update={"voucher": read.voucher.model_copy(update={"code": None})})
        )
    return read


@router.post(
    "/gifts/{code}/cancel",
    summary="Take an open gift back",
    description="The sender (`member_id`) takes an unclaimed gift back: the points return to "
    "the lots they came from, with their expiry; a voucher gift's voucher is cancelled and "
    "its points returned. Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(
        *LOOKUP_ERRORS, *SETTLED_ERRORS, GiftNotSender, MemberNotFound, *IDEMPOTENCY_ERRORS
    ),
)
async def cancel_gift(
    code: str,
    body: GiftCancel,
    request: Request,
    key: Member,
    _: IdempotencyKey,
    session: Session,
) -> GiftTakenBack:
    cancelled = await service.cancel_gift(session, get_runtime(request), key, code, body.member_id)
    gift = cancelled.gift
    return GiftTakenBack(
        gift_id=gift.id,
        status=gift.status,
        points=gift.points,
        voucher_id=gift.voucher_id,
        balance=BalanceSummary.of(cancelled.ledger),
    )
