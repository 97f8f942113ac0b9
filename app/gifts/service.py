"""Gift-to-a-friend: points, or a voucher bought with points, passed on by a bearer code.

Points leave the sender for the gift escrow account at once, in the sender's transaction;
a claim moves them from escrow to the recipient as a new lot, in the recipient's; a cancel
or the expiry job moves them back to the sender, in the sender's. So every step is local to
one member, as the scale-out plan asks, and the escrow holds exactly the open gifts' points.

Exactly one of claim, cancel and expiry settles a gift: each locks its member's ledger, then
moves the gift out of ``open`` with a conditional update; only the one whose update changed
the row goes on, the others answer with the state the winner left. Ledger first, gift row
second is the order every path (merges too) takes, so none of them deadlock.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api_keys.models import ApiKey
from app.db.base import utcnow, uuid7
from app.events.service import emit
from app.gifts import repository
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
from app.gifts.models import Gift, GiftStatus
from app.gifts.schemas import GiftClaim, GiftCreate
from app.kit import codes
from app.kit.code_lookup import limited_lookup
from app.kit.pagination import PageParams, paginate
from app.kit.runtime import Runtime
from app.ledger import service as ledger_service
from app.ledger.models import AccountKind, LedgerTransaction, TransactionType
from app.ledger.service import MemberLedger
from app.members import service as members
from app.members.models import Member
from app.program import calendar
from app.program.schemas import ProgramSettings
from app.program.service import get_program
from app.rewards.models import Reward
from app.vouchers import history as voucher_history
from app.vouchers import service as vouchers
from app.vouchers.models import Voucher, VoucherStatus

GIFT_CODE_PREFIX = "G"
JOB_BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class CreatedGift:
    gift: Gift
    code: str
    ledger: MemberLedger
    voucher: Voucher | None


@dataclass(frozen=True, slots=True)
class ClaimedGift:
    gift: Gift
    member: Member
    member_created: bool
    ledger: MemberLedger
    voucher: Voucher | None
    voucher_code: str | None


@dataclass(frozen=True, slots=True)
class CancelledGift:
    gift: Gift
    ledger: MemberLedger


def effective_status(gift: Gift, now: datetime) -> GiftStatus:
    """An open gift past its expiry is expired, whether or not the job has come round."""
    if gift.status == GiftStatus.open and gift.expires_at <= now:
        return GiftStatus.expired
    return GiftStatus(gift.status)


def _refuse_unless_open(gift: Gift, now: datetime) -> None:
    status = effective_status(gift, now)
    if status == GiftStatus.claimed:
        raise GiftAlreadyClaimed("This gift has already been claimed.")
    if status == GiftStatus.cancelled:
        raise GiftCancelled("The sender has taken this gift back.")
    if status == GiftStatus.expired:
        raise GiftExpired(f"This gift expired at {gift.expires_at.isoformat()}.")


async def _check_limits(
    session: AsyncSession,
    program: ProgramSettings,
    sender_id: UUID,
    points: int | None,
    now: datetime,
) -> None:
    """The programme's gift limits; checked under the sender's ledger lock, so they hold
    however many gifts the sender makes at once."""
    if points is not None and points < program.gift_min_points:
        raise GiftPointsBelowMinimum(
            f"A gift holds at least {program.gift_min_points} points.",
            minimum=program.gift_min_points,
        )
    if points is not None and points > program.gift_max_points:
        raise GiftPointsAboveMaximum(
            f"A gift holds at most {program.gift_max_points} points.",
            maximum=program.gift_max_points,
        )
    limit = program.gift_max_open_per_member
    if limit and await repository.count_open(session, sender_id, now) >= limit:
        raise GiftOpenLimitReached(
            f"A member may have {limit} unclaimed gifts at once.", limit=limit
        )
    allowance = program.gift_max_points_per_month
    if points is not None and allowance:
        first_of_month = calendar.local_date(now, program.timezone).replace(day=1)
        since = calendar.start_of_local_day(first_of_month, program.timezone)
        given = await repository.points_given_since(session, sender_id, since, now)
        if given + points > allowance:
            raise GiftMonthlyLimitReached(
                f"A member may give {allowance} points a month; {max(allowance - given, 0)} "
                "are left this month.",
                limit=allowance,
                remaining=max(allowance - given, 0),
            )


async def create_gift(
    session: AsyncSession,
    secret_key: bytes,
    sender_id: UUID,
    data: GiftCreate,
    now: datetime | None = None,
) -> CreatedGift:
    """Take the points (or buy the reward) from the sender and wrap them in a gift code."""
    now = now or utcnow()
    # A merged duplicate's id leads to the member it was merged into, as purchases do.
    sender, ledger = await members.lock_ledger(
        session, await members.find_member(session, sender_id)
    )
    sender_id = sender.id
    program = await get_program(session)
    await _check_limits(session, program, sender_id, data.points, now)
    gift_id = uuid7()
    voucher = None
    if data.points is not None:
        sent = await ledger_service.spend(
            session,
            ledger,
            TransactionType.gift_sent,
            data.points,
            destination=AccountKind.gift_escrow,
            now=now,
            related_id=gift_id,
        )
        send_transaction_id = sent.id
    else:
        assert data.reward_id is not None
        # The voucher's first code is never shown: the claim gives it a new one.
        issued = await vouchers.issue_from_reward(
            session, secret_key, sender_id, data.reward_id, now
        )
        voucher = issued.voucher
        voucher.status = VoucherStatus.gifted
        voucher_history.record(session, voucher, "gifted", now, gift_id=str(gift_id))
        assert voucher.transaction_id is not None
        send_transaction_id = voucher.transaction_id
    await session.flush()  # the gift refers to the transaction that paid for it
    code = codes.generate_code(GIFT_CODE_PREFIX)
    canonical = codes.canonical_symbols(code)
    gift = Gift(
        id=gift_id,
        code_hash=codes.hash_code(secret_key, canonical),
        code_last4=codes.last_four(canonical),
        sender_id=sender_id,
        points=data.points,
        voucher_id=voucher.id if voucher else None,
        message=data.message,
        recipient_hint=data.recipient_hint,
        status=GiftStatus.open,
        expires_at=vouchers.expires_at(now, program.gift_expiry_days, program),
        send_transaction_id=send_transaction_id,
        created_at=now,
    )
    session.add(gift)
    emit(session, "gift.created", sender_id, _event_data(gift), now)
    await session.flush()
    return CreatedGift(gift, code, ledger, voucher)


def _event_data(gift: Gift) -> dict[str, str | int | None]:
    return {
        "gift_id": str(gift.id),
        "code_last4": gift.code_last4,
        "sender_id": str(gift.sender_id),
        "points": gift.points,
        "voucher_id": str(gift.voucher_id) if gift.voucher_id else None,
    }


async def gift_by_code(
    session: AsyncSession, runtime: Runtime, api_key: ApiKey, raw_code: str
) -> Gift:
    """The gift with this code: 422 when mistyped, 404 when unknown, 429 when guessing."""
    with limited_lookup(runtime, api_key):
        canonical = codes.normalize_code(raw_code, GIFT_CODE_PREFIX, GiftCodeInvalid)
        gift = await repository.by_code_hash(
            session, codes.hash_code(runtime.secret_key, canonical)
        )
        if gift is None:
            raise GiftNotFound("No gift has this code.")
    return gift


async def sender_first_name(session: AsyncSession, gift: Gift) -> str | None:
    sender = await members.get_member(session, gift.sender_id)
    return sender.name.split()[0] if sender.name and sender.name.split() else None


async def voucher_of(session: AsyncSession, gift: Gift) -> Voucher | None:
    return await session.get(Voucher, gift.voucher_id) if gift.voucher_id else None


async def _settle_or_refuse(
    session: AsyncSession, gift: Gift, status: GiftStatus, now: datetime, **values: object
) -> None:
    if not await repository.settle(session, gift, status, now, **values):
        _refuse_unless_open(gift, now)
        raise RuntimeError(f"gift {gift.id} is open but could not be settled")


async def _relock_if_merged(
    session: AsyncSession, ledger: MemberLedger, member_id: UUID
) -> MemberLedger:
    """The ledger of ``member_id``: a merge that finished while we waited for the lock may
    have moved the gift to another member."""
    if ledger.member_id == member_id:
        return ledger
    return await ledger_service.lock(session, member_id)


async def claim_gift(
    session: AsyncSession,
    runtime: Runtime,
    api_key: ApiKey,
    raw_code: str,
    data: GiftClaim,
    now: datetime | None = None,
) -> ClaimedGift:
    """The gift's points (or voucher) to an existing member or one enrolled now, once."""
    now = now or utcnow()
    gift = await gift_by_code(session, runtime, api_key, raw_code)
    _refuse_unless_open(gift, now)
    sender = await members.find_member(session, gift.sender_id)
    if data.member_id is not None:
        recipient = await members.find_member(session, data.member_id)
        if recipient.id == sender.id:
            raise GiftOwnClaim("A member cannot claim their own gift.")
    else:
        assert data.member is not None
        recipient = await members.create_member(session, data.member, referrer=sender)
    recipient, ledger = await members.lock_ledger(session, recipient)
    await _settle_or_refuse(session, gift, GiftStatus.claimed, now, recipient_id=recipient.id)
    program = await get_program(session)
    voucher, voucher_code = None, None
    if gift.points is not None:
        received = ledger_service.earn(
            session,
            ledger,
            TransactionType.gift_received,
            gift.points,
            expires_at=calendar.expires_at(now, program),
            source=AccountKind.gift_escrow,
            now=now,
            related_id=gift.id,
        )
        await session.flush()
        gift.settle_transaction_id = received.transaction.id
    else:
        voucher = await voucher_of(session, gift)
        assert voucher is not None
        voucher_code = _hand_over(session, runtime.secret_key, voucher, recipient.id, gift, now)
    emit(session, "gift.claimed", recipient.id, _event_data(gift), now)
    await session.flush()
    return ClaimedGift(gift, recipient, data.member is not None, ledger, voucher, voucher_code)


def _hand_over(
    session: AsyncSession,
    secret_key: bytes,
    voucher: Voucher,
    recipient_id: UUID,
    gift: Gift,
    now: datetime,
) -> str:
    """Give the voucher to the recipient with a new code, valid as long as it was meant to
    be from today: its validity starts with the claim, not with the gift."""
    code = vouchers.new_code(secret_key)
    voucher.expires_at = voucher.expires_at + (now - voucher.valid_from)
    voucher.valid_from = now
    voucher.code_hash, voucher.code_last4 = code.code_hash, code.code_last4
    voucher.member_id = recipient_id
    voucher.status = VoucherStatus.active
    voucher_history.record(session, voucher, "gift_claimed", now, gift_id=str(gift.id))
    return code.code


async def cancel_gift(
    session: AsyncSession,
    runtime: Runtime,
    api_key: ApiKey,
    raw_code: str,
    member_id: UUID,
    now: datetime | None = None,
) -> CancelledGift:
    """The sender takes an open gift back: points to their lots, or the voucher's points."""
    now = now or utcnow()
    gift = await gift_by_code(session, runtime, api_key, raw_code)
    sender = await members.find_member(session, gift.sender_id)
    if (await members.find_member(session, member_id)).id != sender.id:
        raise GiftNotSender("Only the member who sent this gift can take it back.")
    _refuse_unless_open(gift, now)
    ledger = await ledger_service.lock(session, sender.id)
    await _settle_or_refuse(session, gift, GiftStatus.cancelled, now)
    ledger = await _relock_if_merged(session, ledger, gift.sender_id)
    await _return_to_sender(session, ledger, gift, now)
    emit(session, "gift.cancelled", gift.sender_id, _event_data(gift), now)
    await session.flush()
    return CancelledGift(gift, ledger)


async def _return_to_sender(
    session: AsyncSession, ledger: MemberLedger, gift: Gift, now: datetime
) -> None:
    """Give the sender back what the gift took, into the lots it came from (their expiry
    kept); a voucher gift's voucher is cancelled and its reward's stock given back."""
    sent = await session.get(LedgerTransaction, gift.send_transaction_id)
    assert sent is not None
    source = AccountKind.gift_escrow
    if gift.voucher_id is not None:
        source = AccountKind.redeemed
        voucher = await voucher_of(session, gift)
        assert voucher is not None
        voucher.status = VoucherStatus.cancelled
        voucher_history.record(session, voucher, "cancelled", now, gift_id=str(gift.id))
        if voucher.reward_id is not None:
            await session.execute(
                update(Reward)
                .where(Reward.id == voucher.reward_id, Reward.stock.is_not(None))
                .values(stock=Reward.stock + 1)
                .execution_options(synchronize_session=False)
            )
    if sent.member_id == ledger.member_id:
        returned = await ledger_service.restore(
            session,
            ledger,
            sent,
            TransactionType.gift_returned,
            source=source,
            now=now,
            related_id=gift.id,
        )
    else:
        # The sender's record was merged into this one since: a new lot, as merged lots are.
        program = await get_program(session)
        returned = ledger_service.earn(
            session,
            ledger,
            TransactionType.gift_returned,
            -sent.points,
            expires_at=calendar.expires_at(now, program),
            source=source,
            now=now,
            related_id=gift.id,
        ).transaction
    await session.flush()
    gift.settle_transaction_id = returned.id


async def expire_gift(session: AsyncSession, gift_id: UUID, now: datetime) -> bool:
    """Return an open gift past its expiry to its sender; False when it was settled."""
    gift = await session.get(Gift, gift_id)
    if gift is None or gift.status != GiftStatus.open:
        return False
    sender = await members.find_member(session, gift.sender_id)
    ledger = await ledger_service.lock(session, sender.id)
    if not await repository.settle(session, gift, GiftStatus.expired, now):
        return False
    ledger = await _relock_if_merged(session, ledger, gift.sender_id)
    await _return_to_sender(session, ledger, gift, now)
    emit(session, "gift.expired", gift.sender_id, _event_data(gift), now)
    await session.flush()
    return True


async def take_back_open_gifts(session: AsyncSession, ledger: MemberLedger, now: datetime) -> int:
    """Settle every open gift the member of ``ledger`` (locked) sent, as its sender's erasure
    does: cancelled (expired, when past its expiry) and given back to the sender, whose
    points the erasure then forfeits. Returns how many gifts were taken back."""
    taken = 0
    for gift in await repository.open_sent_by(session, ledger.member_id):
        status = GiftStatus.expired if gift.expires_at <= now else GiftStatus.cancelled
        if not await repository.settle(session, gift, status, now):
            continue
        await _return_to_sender(session, ledger, gift, now)
        emit(session, f"gift.{status.value}", gift.sender_id, _event_data(gift), now)
        taken += 1
    await session.flush()
    return taken


async def expire_due_gifts(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """The expiry job: each gift in a transaction of its own, batch by batch."""
    expired = 0
    while True:
        async with sessionmaker() as session:
            due = await repository.due_for_expiry(session, now, JOB_BATCH_SIZE)
        handled = 0
        for gift_id in due:
            async with sessionmaker() as session, session.begin():
                handled += await expire_gift(session, gift_id, now)
        expired += handled
        if len(due) < JOB_BATCH_SIZE or handled == 0:
            return expired


async def list_sent(
    session: AsyncSession, member_id: UUID, params: PageParams
) -> tuple[Sequence[Gift], str | None]:
    await members.get_member(session, member_id)
    statement = repository.sent_by(member_id)
    return await paginate(session, statement, Gift, params)
