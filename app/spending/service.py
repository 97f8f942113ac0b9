"""Paying with points, cancelling such a payment, and goodwill adjustments."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow, uuid7
from app.ledger import service as ledger_service
from app.ledger.models import AccountKind, LedgerTransaction, TransactionType
from app.ledger.service import MemberLedger
from app.members.service import find_member, get_member, lock_ledger, refuse_if_erased
from app.program import calendar
from app.program.service import get_program
from app.spending.errors import RedemptionAlreadyCancelled, RedemptionExists, RedemptionNotFound
from app.spending.models import Redemption, RedemptionStatus
from app.spending.schemas import AdjustmentCreate, RedemptionCreate


async def redeem(
    session: AsyncSession, member_id: UUID, data: RedemptionCreate, now: datetime | None = None
) -> tuple[Redemption, MemberLedger]:
    now = now or utcnow()
    program = await get_program(session)
    member, ledger = await lock_ledger(session, await find_member(session, member_id))
    member_id = member.id  # a merged duplicate's id leads to the member it became
    if data.order_id is not None:
        existing = await session.scalar(
            select(Redemption.id).where(
                Redemption.member_id == member_id, Redemption.order_id == data.order_id
            )
        )
        if existing is not None:
            raise RedemptionExists(
                f"Order {data.order_id!r} already has a redemption.", redemption_id=str(existing)
            )
    redemption_id = uuid7()
    transaction = await ledger_service.spend(
        session,
        ledger,
        TransactionType.redemption,
        data.points,
        destination=AccountKind.redeemed,
        now=now,
        reference=data.order_id or data.reference,
        related_id=redemption_id,
    )
    redemption = Redemption(
        id=redemption_id,
        member_id=member_id,
        points=data.points,
        value_minor=data.points * program.point_value_minor,
        currency=program.currency,
        order_id=data.order_id,
        reference=data.reference,
        status=RedemptionStatus.completed,
        transaction_id=transaction.id,
        created_at=now,
    )
    session.add(redemption)
    try:
        await session.flush()
    except IntegrityError as error:  # the member row lock makes this unreachable in practice
        raise RedemptionExists(f"Order {data.order_id!r} already has a redemption.") from error
    return redemption, ledger


async def cancel_redemption(
    session: AsyncSession, redemption_id: UUID, now: datetime | None = None
) -> tuple[Redemption, MemberLedger]:
    now = now or utcnow()
    member_id = await session.scalar(
        select(Redemption.member_id).where(Redemption.id == redemption_id)
    )
    if member_id is None:
        raise RedemptionNotFound(f"No redemption {redemption_id}.")
    ledger = await ledger_service.lock(session, member_id)
    redemption = await session.get(Redemption, redemption_id, populate_existing=True)
    assert redemption is not None
    if redemption.member_id != member_id:
        # A merge moved it to the record merged into while this waited for the lock.
        ledger = await ledger_service.lock(session, redemption.member_id)
    refuse_if_erased(await get_member(session, redemption.member_id))
    if redemption.status == RedemptionStatus.cancelled:
        raise RedemptionAlreadyCancelled("This redemption was already cancelled.")
    spent = await session.get(LedgerTransaction, redemption.transaction_id)
    assert spent is not None
    transaction = await ledger_service.restore(
        session,
        ledger,
        spent,
        TransactionType.redemption_cancel,
        source=AccountKind.redeemed,
        now=now,
        reference=redemption.order_id or redemption.reference,
        related_id=redemption.id,
    )
    redemption.status = RedemptionStatus.cancelled
    redemption.cancel_transaction_id = transaction.id
    redemption.cancelled_at = now
    await session.flush()
    return redemption, ledger


async def adjust(
    session: AsyncSession, member_id: UUID, data: AdjustmentCreate, now: datetime | None = None
) -> tuple[LedgerTransaction, MemberLedger]:
    """Goodwill credit (a new lot, expiring like purchases) or a correction debit."""
    now = now or utcnow()
    member, ledger = await lock_ledger(session, await find_member(session, member_id))
    member_id = member.id  # a merged duplicate's id leads to the member it became
    if data.points > 0:
        program = await get_program(session)
        earned = ledger_service.earn(
            session,
            ledger,
            TransactionType.adjustment,
            data.points,
            expires_at=calendar.expires_at(now, program),
            source=AccountKind.adjustments,
            now=now,
            reason=data.reason,
        )
        transaction = earned.transaction
    else:
        transaction = await ledger_service.spend(
            session,
            ledger,
            TransactionType.adjustment,
            -data.points,
            destination=AccountKind.adjustments,
            now=now,
            reason=data.reason,
        )
    await session.flush()
    return transaction, ledger
