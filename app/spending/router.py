from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, status

from app.api_keys.models import ApiKey, Scope
from app.kit.auth import AdminKey, require_scope
from app.kit.errors import error_responses
from app.kit.idempotency import IDEMPOTENCY_ERRORS, IdempotencyKey
from app.kit.uow import Session, UnitOfWorkRoute
from app.ledger.errors import InsufficientPoints
from app.ledger.schemas import BalanceSummary
from app.ledger.service import MemberLedger
from app.members.errors import MemberErased, MemberNotFound
from app.spending import service
from app.spending.errors import RedemptionAlreadyCancelled, RedemptionExists, RedemptionNotFound
from app.spending.models import Redemption
from app.spending.schemas import AdjustmentCreate, AdjustmentRead, RedemptionCreate, RedemptionRead

router = APIRouter(tags=["spending"], route_class=UnitOfWorkRoute)

Till = Annotated[ApiKey, Depends(require_scope(Scope.pos, Scope.shop))]


def _redemption_read(redemption: Redemption, ledger: MemberLedger) -> RedemptionRead:
    return RedemptionRead(
        id=redemption.id,
        member_id=redemption.member_id,
        points=redemption.points,
        value_minor=redemption.value_minor,
        currency=redemption.currency,
        order_id=redemption.order_id,
        reference=redemption.reference,
        status=redemption.status,
        created_at=redemption.created_at,
        balance=BalanceSummary.of(ledger),
    )


@router.post(
    "/members/{member_id}/redemptions",
    status_code=status.HTTP_201_CREATED,
    summary="Pay with points",
    description="Takes points from the member's available balance, first-expiring first. "
    "Scopes `pos`, `shop`.",
    responses=error_responses(
        MemberNotFound, MemberErased, InsufficientPoints, RedemptionExists, *IDEMPOTENCY_ERRORS
    ),
)
async def create_redemption(
    member_id: UUID, body: RedemptionCreate, _key: Till, _: IdempotencyKey, session: Session
) -> RedemptionRead:
    redemption, ledger = await service.redeem(session, member_id, body)
    return _redemption_read(redemption, ledger)


@router.post(
    "/redemptions/{redemption_id}/cancel",
    summary="Cancel a redemption",
    description="Gives the points back into the lots they came from. Scopes `pos`, `shop`.",
    responses=error_responses(
        RedemptionNotFound, RedemptionAlreadyCancelled, MemberErased, *IDEMPOTENCY_ERRORS
    ),
)
async def cancel_redemption(
    redemption_id: UUID, _key: Till, _: IdempotencyKey, session: Session
) -> RedemptionRead:
    redemption, ledger = await service.cancel_redemption(session, redemption_id)
    return _redemption_read(redemption, ledger)


@router.post(
    "/members/{member_id}/adjustments",
    status_code=status.HTTP_201_CREATED,
    summary="Adjust a member's points",
    description="Goodwill credit (positive) or correction (negative), with a reason that stays "
    "in the ledger. Scope `admin`.",
    responses=error_responses(
        MemberNotFound, MemberErased, InsufficientPoints, *IDEMPOTENCY_ERRORS
    ),
)
async def create_adjustment(
    member_id: UUID, body: AdjustmentCreate, _admin: AdminKey, _: IdempotencyKey, session: Session
) -> AdjustmentRead:
    transaction, ledger = await service.adjust(session, member_id, body)
    return AdjustmentRead(
        id=transaction.id,
        member_id=member_id,
        points=body.points,
        reason=body.reason,
        created_at=transaction.created_at,
        balance=BalanceSummary.of(ledger),
    )
