from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status

from app.api_keys.models import ApiKey, Scope
from app.db.base import utcnow
from app.kit.auth import AdminKey, RateLimited, require_scope
from app.kit.errors import error_responses
from app.kit.idempotency import IDEMPOTENCY_ERRORS, IdempotencyKey
from app.kit.pagination import InvalidCursor, Page, PageQuery
from app.kit.runtime import get_runtime
from app.kit.uow import Session, UnitOfWorkRoute
from app.ledger.errors import InsufficientPoints
from app.ledger.schemas import BalanceSummary
from app.members.errors import MemberErased, MemberNotFound
from app.vouchers import service
from app.vouchers.errors import (
    RewardNotAvailable,
    RewardNotFound,
    RewardOutOfStock,
    VoucherCodeInvalid,
    VoucherNotFound,
)
from app.vouchers.lookup import voucher_by_code
from app.vouchers.models import Voucher
from app.vouchers.schemas import (
    VoucherBatchCreate,
    VoucherBatchRead,
    VoucherHistoryRead,
    VoucherIssue,
    VoucherIssued,
    VoucherRead,
)

router = APIRouter(tags=["vouchers"], route_class=UnitOfWorkRoute)

Reader = Annotated[ApiKey, Depends(require_scope(Scope.pos, Scope.shop, Scope.partner))]


def _read(voucher: Voucher, now: datetime) -> VoucherRead:
    return VoucherRead(
        id=voucher.id,
        code_last4=voucher.code_last4,
        status=service.effective_status(voucher, now),
        kind=voucher.kind,
        value=voucher.value,
        sku=voucher.sku,
        min_order_total=voucher.min_order_total,
        max_discount=voucher.max_discount,
        channels=voucher.channels,
        categories=voucher.categories,
        currency=voucher.currency,
        valid_from=voucher.valid_from,
        expires_at=voucher.expires_at,
        member_id=voucher.member_id,
        reward_id=voucher.reward_id,
        batch_id=voucher.batch_id,
        created_at=voucher.created_at,
    )


@router.post(
    "/members/{member_id}/vouchers",
    status_code=status.HTTP_201_CREATED,
    summary="Buy a reward with points",
    description="Debits the reward's points (first-expiring first) and issues its voucher to "
    "the member. The `code` is shown in this response only. Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(
        MemberNotFound,
        MemberErased,
        RewardNotFound,
        RewardNotAvailable,
        RewardOutOfStock,
        InsufficientPoints,
        *IDEMPOTENCY_ERRORS,
    ),
)
async def issue_voucher(
    member_id: UUID,
    body: VoucherIssue,
    request: Request,
    _key: Reader,
    claim: IdempotencyKey,
    session: Session,
) -> VoucherIssued:
    issued = await service.issue_from_reward(
        session, get_runtime(request).secret_key, member_id, body.reward_id
    )
    read = VoucherIssued(
        **_read(issued.voucher, issued.voucher.created_at).model_dump(),
        code=issued.code,
        points_spent=issued.points,
        balance=BalanceSummary.of(issued.ledger),
    )
    claim.replay_without_secret(read.model_copy(update={"code": None}))
    return read


@router.get(
    "/members/{member_id}/vouchers",
    summary="List a member's vouchers",
    description="Newest first, with their status; codes show their last four symbols only. "
    "Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(MemberNotFound, InvalidCursor),
)
async def list_member_vouchers(
    member_id: UUID, _key: Reader, page: PageQuery, session: Session
) -> Page[VoucherRead]:
    vouchers, next_cursor = await service.list_member_vouchers(session, member_id, page)
    now = utcnow()
    return Page[VoucherRead](
        items=[_read(voucher, now) for voucher in vouchers], next_cursor=next_cursor
    )


@router.post(
    "/vouchers",
    status_code=status.HTTP_201_CREATED,
    summary="Create campaign vouchers in bulk",
    description="Up to 100 000 codes owned by nobody, with the terms of `template` or of the "
    "reward `reward_id` (its stock and points are not touched). The codes are in this "
    "response only: an idempotent replay returns the batch without them. Scope `admin`.",
    responses=error_responses(RewardNotFound, *IDEMPOTENCY_ERRORS),
)
async def create_voucher_batch(
    body: VoucherBatchCreate,
    request: Request,
    _admin: AdminKey,
    claim: IdempotencyKey,
    session: Session,
) -> VoucherBatchRead:
    batch = await service.issue_batch(session, get_runtime(request).secret_key, body)
    read = VoucherBatchRead(
        batch_id=batch.batch_id,
        count=len(batch.codes),
        kind=batch.terms.kind,
        value=batch.terms.value,
        currency=batch.currency,
        valid_from=batch.valid_from,
        expires_at=batch.expires_at,
        codes=batch.codes,
    )
    claim.replay_without_secret(read.model_copy(update={"codes": []}))
    return read


@router.get(
    "/vouchers/{code}",
    summary="Look a voucher up by its code",
    description="The voucher's status, terms, expiry, owner and last four symbols; never the "
    "code. Mistyped codes are 422, unknown ones 404; too many of either per API key and "
    "minute are 429. Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(VoucherCodeInvalid, VoucherNotFound, RateLimited),
)
async def get_voucher(code: str, request: Request, key: Reader, session: Session) -> VoucherRead:
    voucher = await voucher_by_code(session, get_runtime(request), key, code)
    return _read(voucher, utcnow())


@router.get(
    "/vouchers/{code}/history",
    summary="List a voucher's state changes",
    description="Issued, reserved, released, redeemed, rolled back, expired: each with its "
    "order and details, newest first. Failed look-ups count towards the limit of "
    "`GET /v1/vouchers/{code}`. Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(VoucherCodeInvalid, VoucherNotFound, RateLimited, InvalidCursor),
)
async def list_voucher_history(
    code: str, request: Request, key: Reader, page: PageQuery, session: Session
) -> Page[VoucherHistoryRead]:
    voucher = await voucher_by_code(session, get_runtime(request), key, code)
    changes, next_cursor = await service.list_history(session, voucher, page)
    return Page[VoucherHistoryRead](
        items=[
            VoucherHistoryRead.model_validate(change, from_attributes=True) for change in changes
        ],
        next_cursor=next_cursor,
    )
