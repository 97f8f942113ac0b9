from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from app.api_keys.models import ApiKey, Scope
from app.kit.auth import require_scope
from app.kit.errors import error_responses
from app.kit.pagination import InvalidCursor, Page, PageQuery, paginate
from app.kit.uow import Session, UnitOfWorkRoute
from app.ledger import repository, service
from app.ledger.models import LedgerTransaction
from app.ledger.schemas import Balance, ExpiringPoints, TransactionRead
from app.members import service as members
from app.members.errors import MemberNotFound

router = APIRouter(prefix="/members/{member_id}", tags=["ledger"], route_class=UnitOfWorkRoute)

Reader = Annotated[ApiKey, Depends(require_scope(Scope.pos, Scope.shop, Scope.partner))]


@router.get(
    "/balance",
    summary="Get a member's balance",
    description="Available and pending points, lifetime earned, and points expiring in the next "
    "90 days. Scopes `pos`, `shop`, `partner`.",
    responses=error_responses(MemberNotFound),
)
async def get_balance(member_id: UUID, _key: Reader, session: Session) -> Balance:
    view = await service.balance(session, member_id)
    return Balance(
        available=view.available,
        pending=view.pending,
        lifetime_earned=view.lifetime_earned,
        expiring=[ExpiringPoints(points=p, expires_at=at) for p, at in view.expiring],
    )


@router.get(
    "/transactions",
    summary="List a member's ledger transactions",
    description="Newest first, each with the available balance after it. Scopes `pos`, `shop`, "
    "`partner`.",
    responses=error_responses(MemberNotFound, InvalidCursor),
)
async def list_transactions(
    member_id: UUID, _key: Reader, page: PageQuery, session: Session
) -> Page[TransactionRead]:
    await members.get_member(session, member_id)
    rows, next_cursor = await paginate(
        session, repository.member_transactions(member_id), LedgerTransaction, page
    )
    return Page[TransactionRead](
        items=[TransactionRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )
