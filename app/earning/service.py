"""Purchases earn points; returns take them back; receipts without a member wait for a claim."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.campaigns import service as campaigns
from app.db.base import utcnow, uuid7
from app.db.statements import insert_unless_present
from app.earning import repository, rules
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
from app.earning.models import Purchase, PurchaseReturn
from app.earning.rules import Evaluation
from app.earning.schemas import BreakdownLine, PurchaseCreate, PurchaseReturnCreate
from app.kit import codes
from app.ledger import service as ledger_service
from app.ledger.models import EarnLot, LotStatus, TransactionType
from app.ledger.postings import proportional_points
from app.ledger.service import MemberLedger
from app.members import service as members
from app.members.models import Member, MemberStatus
from app.program import calendar
from app.program.schemas import ProgramSettings, ReturnPolicy
from app.program.service import get_program
from app.referrals import service as referrals
from app.tiers import service as tiers
from app.tiers.models import Tier

# Receipts are printed with this prefix so a till tells them from voucher and gift codes.
CLAIM_CODE_PREFIX = "R"
# A till's clock may run a little ahead of ours.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class RecordedPurchase:
    purchase: Purchase
    lot: EarnLot | None
    ledger: MemberLedger | None
    claim_code: str | None


@dataclass(frozen=True, slots=True)
class RecordedReturn:
    purchase_return: PurchaseReturn
    ledger: MemberLedger | None


def _check_currency(currency: str, program: ProgramSettings) -> None:
    if currency != program.currency:
        raise CurrencyMismatch(
            f"The programme runs in {program.currency}; this purchase is in {currency}."
        )


@dataclass(frozen=True, slots=True)
class Quote:
    member: Member | None
    occurred_at: datetime
    evaluation: Evaluation
    tier: Tier | None


async def quote(
    session: AsyncSession, data: PurchaseCreate, program: ProgramSettings, now: datetime
) -> Quote:
    """What a purchase would earn: the one evaluation behind quotes and purchases alike."""
    _check_currency(data.currency, program)
    occurred_at = min(data.occurred_at or now, now + CLOCK_SKEW)
    member = None
    earner = None
    tier = None
    if data.member_id is not None or data.card_number is not None:
        member = await members.find_member(session, data.member_id, data.card_number)
        tier = await tiers.earning_tier(session, member, now)
        earner = rules.Earner(
            tier_id=tier.id if tier else None,
            tier_name=tier.name if tier else None,
            tier_multiplier=tier.multiplier if tier else Decimal(1),
            segments=frozenset(member.segments),
            abc_class=member.abc_class,
        )
    sale = rules.Sale(
        total=data.total,
        currency=data.currency,
        channel=data.channel.value,
        store_id=data.store_id,
        lines=[
            rules.Line(item.sku, item.category, item.quantity, item.unit_price)
            for item in data.items
        ],
        local_time=occurred_at.astimezone(ZoneInfo(program.timezone)).replace(tzinfo=None),
    )
    evaluation = rules.evaluate(sale, program, earner, await campaigns.active_rules(session))
    return Quote(member, occurred_at, evaluation, tier)


async def record_purchase(
    session: AsyncSession, server_secret: bytes, data: PurchaseCreate, now: datetime | None = None
) -> RecordedPurchase:
    now = now or utcnow()
    program = await get_program(session)
    quoted = await quote(session, data, program, now)
    member = quoted.member
    purchase = Purchase(
        id=uuid7(),
        member_id=member.id if member else None,
        order_id=data.order_id,
        channel=data.channel,
        store_id=data.store_id,
        currency=data.currency,
        total=data.total,
        items=[item.model_dump() for item in data.items],
        occurred_at=quoted.occurred_at,
        points_earned=quoted.evaluation.points,
        breakdown=[
            BreakdownLine.model_validate(line).model_dump(mode="json")
            for line in quoted.evaluation.breakdown
        ],
        returned_total=0,
        returned_items={},
        points_reversed=0,
        created_at=now,
    )
    claim_code = None
    ledger = None
    lot = None
    if member is None:
        claim_code = codes.generate_code(CLAIM_CODE_PREFIX)
        canonical = codes.normalize_code(claim_code, CLAIM_CODE_PREFIX)
        purchase.claim_code_hash = codes.hash_code(server_secret, canonical)
        purchase.claim_code_last4 = codes.last_four(canonical)
        purchase.claim_expires_at = calendar.end_of_local_day(
            calendar.local_date(now, program.timezone) + timedelta(days=program.receipt_claim_days),
            program.timezone,
        )
    else:
        # A merge of the member that finished while this waited leads on to the target.
        member, ledger = await members.lock_ledger(session, member)
        purchase.member_id = member.id
        lot = _credit(session, ledger, program, purchase, TransactionType.purchase, now)
        await session.flush()  # the lot, before the purchase refers to it
    await _insert_purchase(session, purchase)
    if member is not None and ledger is not None:
        await referrals.after_purchase(session, member, ledger, purchase, program, now)
        await tiers.after_points_change(session, member, program, now)
        await session.flush()
    return RecordedPurchase(purchase, lot, ledger, claim_code)


async def _insert_purchase(session: AsyncSession, purchase: Purchase) -> None:
    """Insert the purchase in one statement, or refuse with 409 when its order id is taken,
    also by a sale in flight (the insert waits for it and inserts nothing if it commits).

    A refusal after the points were credited is fine: it rolls the whole request back.
    """
    values = {column.key: getattr(purchase, column.key) for column in Purchase.__table__.columns}
    inserted = await session.scalar(
        insert_unless_present(session, Purchase.__table__, "order_id")
        .values(values)
        .returning(Purchase.id)
    )
    if inserted is None:
        existing = await repository.get_by_order_id(session, purchase.order_id)
        raise PurchaseExists(
            f"Order {purchase.order_id!r} is already recorded.",
            purchase_id=str(existing.id) if existing is not None else None,
        )


def _credit(
    session: AsyncSession,
    ledger: MemberLedger,
    program: ProgramSettings,
    purchase: Purchase,
    type: TransactionType,
    now: datetime,
) -> EarnLot | None:
    points = purchase.points_earned - purchase.points_reversed
    if points <= 0:
        return None
    earned = ledger_service.earn(
        session,
        ledger,
        type,
        points,
        available_at=calendar.available_at(purchase.occurred_at, program),
        expires_at=calendar.expires_at(purchase.occurred_at, program),
        now=now,
        reference=purchase.order_id,
        related_id=purchase.id,
    )
    purchase.lot_id = earned.lot.id
    return earned.lot


async def claim_receipt(
    session: AsyncSession,
    server_secret: bytes,
    raw_code: str,
    member_id: UUID,
    now: datetime | None = None,
) -> RecordedPurchase:
    """Credit a receipt's points to a member, once, within the claim window."""
    now = now or utcnow()
    canonical = codes.normalize_code(raw_code, CLAIM_CODE_PREFIX, ClaimCodeInvalid)
    purchase = await repository.get_by_claim_code_for_update(
        session, codes.hash_code(server_secret, canonical)
    )
    if purchase is None:
        raise ClaimCodeNotFound("No receipt has this claim code.")
    if purchase.member_id is not None:
        raise ReceiptAlreadyClaimed("This receipt's points were already credited.")
    assert purchase.claim_expires_at is not None
    if purchase.claim_expires_at <= now:
        raise ReceiptClaimExpired("This receipt can no longer be claimed.")
    member = await members.find_member(session, member_id)
    program = await get_program(session)
    member, ledger = await members.lock_ledger(session, member)
    purchase.member_id = member.id
    purchase.claimed_at = now
    lot = _credit(session, ledger, program, purchase, TransactionType.receipt_claim, now)
    await session.flush()
    await referrals.after_purchase(session, member, ledger, purchase, program, now)
    await tiers.after_points_change(session, member, program, now)
    await session.flush()
    return RecordedPurchase(purchase, lot, ledger, None)


def _returned_amount(purchase: Purchase, data: PurchaseReturnCreate) -> tuple[int, dict[str, int]]:
    """The amount a return gives back, and the purchase's returned quantities after it.

    By items: each item's share of the item total, applied to the paid total (so discounts
    on the receipt are shared out proportionally).
    """
    if data.amount is not None:
        if purchase.returned_total + data.amount > purchase.total:
            raise ReturnExceedsPurchase(
                f"Only {purchase.total - purchase.returned_total} of {purchase.total} remain "
                "to be returned."
            )
        return data.amount, purchase.returned_items
    assert data.items is not None
    bought = Counter[str]()
    # An item on several lines (say, a second one free) is returned at its average price.
    line_totals = Counter[str]()
    for line in purchase.items:
        bought[line["sku"]] += line["quantity"]
        line_totals[line["sku"]] += line["quantity"] * line["unit_price"]
    returned = Counter[str](purchase.returned_items)
    value = Fraction(0)
    for item in data.items:
        returned[item.sku] += item.quantity
        if returned[item.sku] > bought[item.sku]:
            raise ReturnExceedsPurchase(
                f"{item.sku}: {returned[item.sku]} returned in all, {bought[item.sku]} bought."
            )
        value += Fraction(item.quantity * line_totals[item.sku], bought[item.sku])
    items_value = sum(line_totals.values())
    amount = purchase.total * value // items_value if items_value else 0
    if all(returned[sku] == bought[sku] for sku in bought):
        amount = purchase.total - purchase.returned_total  # the last return takes what is left
    return min(amount, purchase.total - purchase.returned_total), dict(returned)


async def record_return(
    session: AsyncSession,
    purchase_id: UUID,
    data: PurchaseReturnCreate,
    now: datetime | None = None,
) -> RecordedReturn:
    now = now or utcnow()
    purchase = await repository.get_for_update(session, purchase_id)
    if purchase is None:
        raise PurchaseNotFound(f"No purchase {purchase_id}.")
    amount, returned_items = _returned_amount(purchase, data)
    if amount <= 0:
        raise ReturnExceedsPurchase("This return has no value to give back.")
    purchase.returned_total += amount
    purchase.returned_items = returned_items
    to_reverse = (
        proportional_points(purchase.points_earned, purchase.total, purchase.returned_total)
        - purchase.points_reversed
    )
    ledger = None
    transaction_id = None
    shortfall = 0
    reversed_points = to_reverse
    if purchase.member_id is not None and to_reverse > 0:
        program = await get_program(session)
        ledger = await ledger_service.lock(session, purchase.member_id)
        lot = await repository.lot(session, purchase.lot_id)
        # An erased member's points were forfeited: the return takes them back from the
        # expired account, never from a balance nobody can pay back any more.
        buyer = await members.get_member(session, purchase.member_id)
        reversal = await ledger_service.reverse_earned(
            session,
            ledger,
            lot,
            to_reverse,
            allow_available=program.return_policy is not ReturnPolicy.only_pending,
            clamp_to_balance=program.return_policy is ReturnPolicy.within_balance
            or buyer.status == MemberStatus.erased,
            now=now,
            reference=purchase.order_id,
            related_id=purchase.id,
        )
        reversed_points, shortfall = reversal.points_reversed, reversal.shortfall
        transaction_id = reversal.transaction.id if reversal.transaction else None
    elif purchase.member_id is not None:
        ledger = await ledger_service.lock(session, purchase.member_id)
    # Counted as taken back even where the policy left a shortfall: it is settled.
    purchase.points_reversed += to_reverse
    purchase_return = PurchaseReturn(
        purchase_id=purchase.id,
        member_id=purchase.member_id,
        amount=amount,
        items=[item.model_dump() for item in data.items] if data.items else None,
        points_reversed=reversed_points,
        shortfall=shortfall,
        transaction_id=transaction_id,
        created_at=now,
    )
    session.add(purchase_return)
    await session.flush()
    return RecordedReturn(purchase_return, ledger)


__all__ = ["LotStatus", "RecordedPurchase", "RecordedReturn"]
