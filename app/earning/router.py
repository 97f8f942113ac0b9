from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status

from app.api_keys.models import ApiKey, Scope
from app.db.base import utcnow
from app.earning import service
from app.earning.errors import (
    ClaimCodeInvalid,
    ClaimCodeNotFound,
    CurrencyMismatch,
    PurchaseExists,
    PurchaseNotFound,
    ReceiptAlreadyClaimed,
    ReceiptClaimExpired,
    ReturnExceedsPurchase,
)
from app.earning.schemas import (
    BreakdownLine,
    PurchaseCreate,
    PurchaseRead,
    PurchaseReturnCreate,
    PurchaseReturnRead,
    QuoteRead,
    ReceiptClaim,
    ReceiptClaimed,
)
from app.kit.auth import require_scope
from app.kit.errors import error_responses
from app.kit.idempotency import IDEMPOTENCY_ERRORS, IdempotencyKey
from app.kit.runtime import get_runtime
from app.kit.uow import Session, UnitOfWorkRoute
from app.ledger.models import LotStatus
from app.ledger.schemas import BalanceSummary
from app.members.errors import MemberErased, MemberNotFound
from app.program.service import get_program

router = APIRouter(prefix="/purchases", tags=["earning"], route_class=UnitOfWorkRoute)
quotes_router = APIRouter(prefix="/quotes", tags=["earning"], route_class=UnitOfWorkRoute)

Till = Annotated[ApiKey, Depends(require_scope(Scope.pos, Scope.shop))]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Record a purchase",
    description="Earns points for the member given by `member_id` or `card_number`. Without a "
    "member the purchase gets a `claim_code` to print on the receipt. One purchase per "
    "`order_id`. Scopes `pos`, `shop`.",
    responses=error_responses(
        MemberNotFound, MemberErased, PurchaseExists, CurrencyMismatch, *IDEMPOTENCY_ERRORS
    ),
)
async def create_purchase(
    body: PurchaseCreate, request: Request, _key: Till, claim: IdempotencyKey, session: Session
) -> PurchaseRead:
    recorded = await service.record_purchase(session, get_runtime(request).secret_key, body)
    purchase, lot = recorded.purchase, recorded.lot
    pending = lot is not None and lot.status == LotStatus.pending
    read = PurchaseRead(
        id=purchase.id,
        member_id=purchase.member_id,
        order_id=purchase.order_id,
        total=purchase.total,
        currency=purchase.currency,
        points_earned=purchase.points_earned,
        breakdown=[BreakdownLine.model_validate(line) for line in purchase.breakdown],
        points_pending=lot.points if lot is not None and pending else 0,
        available_at=lot.available_at if lot is not None and pending else None,
        expires_at=lot.expires_at if lot is not None else None,
        claim_code=recorded.claim_code,
        claim_expires_at=purchase.claim_expires_at,
        balance=BalanceSummary.of(recorded.ledger) if recorded.ledger else None,
        created_at=purchase.created_at,
    )
    if recorded.claim_code is not None:
        claim.replay_without_secret(read.model_copy(update={"claim_code": None}))
    return read


@router.post(
    "/claim",
    status_code=status.HTTP_201_CREATED,
    summary="Claim a receipt's points",
    description="Credits the points of a purchase recorded without a member, once, within the "
    "programme's claim window. Scopes `pos`, `shop`.",
    responses=error_responses(
        ClaimCodeInvalid,
        ClaimCodeNotFound,
        ReceiptAlreadyClaimed,
        ReceiptClaimExpired,
        MemberNotFound,
        MemberErased,
        *IDEMPOTENCY_ERRORS,
    ),
)
async def claim_receipt(
    body: ReceiptClaim, request: Request, _key: Till, _: IdempotencyKey, session: Session
) -> ReceiptClaimed:
    recorded = await service.claim_receipt(
        session, get_runtime(request).secret_key, body.claim_code, body.member_id
    )
    assert recorded.ledger is not None
    lot = recorded.lot
    return ReceiptClaimed(
        purchase_id=recorded.purchase.id,
        member_id=recorded.purchase.member_id or body.member_id,  # a merged record's target
        points=lot.points if lot is not None else 0,
        available_at=lot.available_at if lot is not None else None,
        balance=BalanceSummary.of(recorded.ledger),
    )


@router.post(
    "/{purchase_id}/returns",
    status_code=status.HTTP_201_CREATED,
    summary="Return (part of) a purchase",
    description="Takes back the points of the returned share, from pending points first. By "
    "`items` or by `amount`. Scopes `pos`, `shop`.",
    responses=error_responses(PurchaseNotFound, ReturnExceedsPurchase, *IDEMPOTENCY_ERRORS),
)
async def create_return(
    purchase_id: UUID,
    body: PurchaseReturnCreate,
    _key: Till,
    _: IdempotencyKey,
    session: Session,
) -> PurchaseReturnRead:
    recorded = await service.record_return(session, purchase_id, body)
    purchase_return = recorded.purchase_return
    return PurchaseReturnRead(
        id=purchase_return.id,
        purchase_id=purchase_id,
        amount=purchase_return.amount,
        points_reversed=purchase_return.points_reversed,
        shortfall=purchase_return.shortfall,
        balance=BalanceSummary.of(recorded.ledger) if recorded.ledger else None,
        created_at=purchase_return.created_at,
    )


@quotes_router.post(
    "",
    summary="Quote a purchase's points",
    description="Evaluates a purchase exactly as `POST /v1/purchases` would, now, and writes "
    "nothing (the order id is not checked). Scopes `pos`, `shop`.",
    responses=error_responses(MemberNotFound, CurrencyMismatch),
)
async def create_quote(body: PurchaseCreate, _key: Till, session: Session) -> QuoteRead:
    quoted = await service.quote(session, body, await get_program(session), utcnow())
    return QuoteRead(
        member_id=quoted.member.id if quoted.member else None,
        points=quoted.evaluation.points,
        breakdown=[BreakdownLine.model_validate(line) for line in quoted.evaluation.breakdown],
        tier=quoted.tier.name if quoted.tier else None,
    )
