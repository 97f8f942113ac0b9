"""Moving points: the only code that writes ledger transactions, postings and lots.

Every operation works on a :class:`MemberLedger`, the member's accounts locked for the
database transaction, so that one member's writes are serialised and never overspend,
while different members never wait for each other.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow, uuid7
from app.events.service import emit
from app.kit.pagination import PageParams, paginate
from app.ledger import chain, events, repository
from app.ledger.errors import InsufficientPoints
from app.ledger.models import (
    Account,
    AccountKind,
    EarnLot,
    LedgerTransaction,
    LotConsumption,
    LotStatus,
    Posting,
    TransactionType,
    program_account_id,
)
from app.ledger.postings import (
    Leg,
    LotView,
    balance_change,
    debt_payback,
    is_balanced,
    spending_order,
    spending_order_key,
    take_fifo,
    transfer,
)
from app.members.errors import MemberNotFound


@dataclass(slots=True)
class MemberLedger:
    member_id: UUID
    available: Account
    pending: Account

    @property
    def available_balance(self) -> int:
        assert self.available.balance is not None
        return self.available.balance

    @property
    def pending_balance(self) -> int:
        assert self.pending.balance is not None
        return self.pending.balance


@dataclass(frozen=True, slots=True)
class Earned:
    transaction: LedgerTransaction
    lot: EarnLot


@dataclass(frozen=True, slots=True)
class Reversal:
    transaction: LedgerTransaction | None
    points_reversed: int
    shortfall: int


def new_member_accounts(member_id: UUID, now: datetime) -> list[dict[str, Any]]:
    """The rows of a new member's accounts: available (which carries the hash chain) and
    pending, empty. As values, for a bulk insert of many members' (``app.imports``)."""
    return [
        {
            "id": uuid7(),
            "member_id": member_id,
            "kind": AccountKind.available,
            "balance": 0,
            "entry_count": 0,
            "chain_head": chain.GENESIS,
            "created_at": now,
        },
        {
            "id": uuid7(),
            "member_id": member_id,
            "kind": AccountKind.pending,
            "balance": 0,
            "entry_count": None,
            "chain_head": None,
            "created_at": now,
        },
    ]


def open_member_accounts(
    session: AsyncSession, member_id: UUID, now: datetime | None = None
) -> MemberLedger:
    """A new member's accounts; the ledger returned takes writes before they are flushed."""
    available, pending = (Account(**row) for row in new_member_accounts(member_id, now or utcnow()))
    session.add_all([available, pending])
    return MemberLedger(member_id, available, pending)


async def lock(session: AsyncSession, member_id: UUID) -> MemberLedger:
    accounts = {
        account.kind: account
        for account in await repository.lock_member_accounts(session, member_id)
    }
    if AccountKind.available not in accounts:
        raise MemberNotFound(f"No member {member_id}.")
    return MemberLedger(member_id, accounts[AccountKind.available], accounts[AccountKind.pending])


def _record(
    session: AsyncSession,
    ledger: MemberLedger,
    type: TransactionType,
    legs: Sequence[Leg],
    *,
    points: int,
    now: datetime,
    reference: str | None = None,
    reason: str | None = None,
    related_id: UUID | None = None,
) -> LedgerTransaction:
    """Append one balanced transaction to the member's chain, update cached balances and
    emit the transaction's event (see ``app.ledger.events``): every ledger write comes here,
    so every change of points is an event, written in the same database transaction."""
    if not is_balanced(legs):
        raise ValueError(f"unbalanced legs: {legs}")
    available_change = balance_change(legs, ledger.available.id)
    pending_change = balance_change(legs, ledger.pending.id)
    ledger.available.balance = ledger.available_balance + available_change
    ledger.pending.balance = ledger.pending_balance + pending_change
    assert ledger.available.entry_count is not None
    assert ledger.available.chain_head is not None
    transaction = LedgerTransaction(
        id=uuid7(),
        member_id=ledger.member_id,
        seq=ledger.available.entry_count + 1,
        type=type,
        points=points,
        available_after=ledger.available_balance,
        pending_after=ledger.pending_balance,
        reference=reference,
        reason=reason,
        related_id=related_id,
        created_at=now,
        prev_hash=ledger.available.chain_head,
    )
    transaction.hash = chain.entry_hash(
        prev_hash=transaction.prev_hash,
        transaction_id=transaction.id,
        member_id=transaction.member_id,
        seq=transaction.seq,
        type=transaction.type,
        points=transaction.points,
        available_after=transaction.available_after,
        pending_after=transaction.pending_after,
        reference=transaction.reference,
        related_id=transaction.related_id,
        created_at=now,
        legs=legs,
    )
    ledger.available.entry_count = transaction.seq
    ledger.available.chain_head = transaction.hash
    session.add(transaction)
    session.add_all(
        Posting(
            transaction_id=transaction.id,
            member_id=ledger.member_id,
            account_id=leg.account_id,
            side=leg.side,
            amount=leg.amount,
            created_at=now,
        )
        for leg in legs
    )
    emit(
        session,
        events.event_type(type, points),
        ledger.member_id,
        events.event_data(transaction, available_change, pending_change),
        now,
    )
    return transaction


def earn(
    session: AsyncSession,
    ledger: MemberLedger,
    type: TransactionType,
    points: int,
    *,
    expires_at: datetime | None,
    available_at: datetime | None = None,
    source: AccountKind = AccountKind.issued,
    now: datetime | None = None,
    reference: str | None = None,
    reason: str | None = None,
    related_id: UUID | None = None,
) -> Earned:
    """Credit ``points`` as a new lot: pending until ``available_at`` if that is still ahead.

    Points credited to available first pay back a negative balance left by a return.
    """
    now = now or utcnow()
    if available_at is not None and available_at > now:
        target, status, remaining = ledger.pending.id, LotStatus.pending, points
    else:
        payback = debt_payback(ledger.available_balance, points)
        target, status, remaining = ledger.available.id, LotStatus.available, points - payback
        available_at = None
    transaction = _record(
        session,
        ledger,
        type,
        transfer(program_account_id(source), target, points),
        points=points,
        now=now,
        reference=reference,
        reason=reason,
        related_id=related_id,
    )
    lot = EarnLot(
        id=uuid7(),
        member_id=ledger.member_id,
        transaction_id=transaction.id,
        points=points,
        remaining=remaining,
        expired_points=0,
        status=status,
        available_at=available_at,
        expires_at=expires_at,
        created_at=now,
    )
    session.add(lot)
    return Earned(transaction, lot)


def _lot_view(lot: EarnLot) -> LotView:
    return LotView(lot.id, lot.remaining, lot.expires_at, lot.created_at)


async def spend(
    session: AsyncSession,
    ledger: MemberLedger,
    type: TransactionType,
    points: int,
    *,
    destination: AccountKind,
    now: datetime | None = None,
    reference: str | None = None,
    reason: str | None = None,
    related_id: UUID | None = None,
) -> LedgerTransaction:
    """Debit available points first-expiring-first, remembering which lots paid.

    Lots already past their expiry are expired first, so that points are never spent after
    they expired just because the expiry job has not come round yet.
    """
    now = now or utcnow()
    expire(session, ledger, await repository.due_expiring_lots(session, ledger.member_id, now), now)
    if points > ledger.available_balance:
        raise InsufficientPoints(
            f"The member has {max(ledger.available_balance, 0)} points available; "
            f"{points} were asked for.",
            available=max(ledger.available_balance, 0),
            requested=points,
        )
    lots = {lot.id: lot for lot in await repository.spendable_lots(session, ledger.member_id)}
    taken = take_fifo([_lot_view(lot) for lot in lots.values()], points)
    if sum(take for _, take in taken) != points:
        raise RuntimeError(f"lots of member {ledger.member_id} do not cover its balance")
    transaction = _record(
        session,
        ledger,
        type,
        transfer(ledger.available.id, program_account_id(destination), points),
        points=-points,
        now=now,
        reference=reference,
        reason=reason,
        related_id=related_id,
    )
    for lot_id, take in taken:
        lots[lot_id].remaining -= take
        session.add(
            LotConsumption(
                member_id=ledger.member_id,
                transaction_id=transaction.id,
                lot_id=lot_id,
                points=take,
                created_at=now,
            )
        )
    return transaction


async def restore(
    session: AsyncSession,
    ledger: MemberLedger,
    spent: LedgerTransaction,
    type: TransactionType,
    *,
    source: AccountKind,
    now: datetime | None = None,
    reference: str | None = None,
    related_id: UUID | None = None,
) -> LedgerTransaction:
    """Give back what ``spent`` took, into the lots it took from (with their expiry).

    A lot already past its expiry is restored too; the expiry job then expires it. A lot
    of another record (``spent`` was taken from a duplicate merged into this member since)
    is not touched: its points come back as a new lot of this member, with its expiry.
    """
    now = now or utcnow()
    consumed = await repository.consumption_of(session, spent.id)
    points = sum(entry.points for entry in consumed)
    payback = debt_payback(ledger.available_balance, points)
    transaction = _record(
        session,
        ledger,
        type,
        transfer(program_account_id(source), ledger.available.id, points),
        points=points,
        now=now,
        reference=reference,
        related_id=related_id,
    )
    lots = await repository.lots_by_id(session, [entry.lot_id for entry in consumed])
    by_lot = {entry.lot_id: entry.points for entry in consumed}
    # What pays back a negative balance is not restored; take it from the soonest-expiring.
    for view in spending_order(_lot_view(lot) for lot in lots.values()):
        withheld = min(payback, by_lot[view.id])
        payback -= withheld
        lot = lots[view.id]
        if lot.member_id == ledger.member_id:
            lot.remaining += by_lot[view.id] - withheld
        else:
            session.add(
                EarnLot(
                    id=uuid7(),
                    member_id=ledger.member_id,
                    transaction_id=transaction.id,
                    points=by_lot[view.id],
                    remaining=by_lot[view.id] - withheld,
                    expired_points=0,
                    status=LotStatus.available,
                    expires_at=lot.expires_at,
                    created_at=now,
                )
            )
    return transaction


async def reverse_earned(
    session: AsyncSession,
    ledger: MemberLedger,
    lot: EarnLot | None,
    points: int,
    *,
    allow_available: bool,
    clamp_to_balance: bool,
    now: datetime | None = None,
    reference: str | None = None,
    related_id: UUID | None = None,
) -> Reversal:
    """Take back points a purchase earned, in this order: what its own lot still holds
    (pending or available), what of it expired (the member lost those already), and last
    what the member spent, from other lots or as a negative balance.

    ``allow_available=False`` takes back pending points only; ``clamp_to_balance`` takes
    spent points back only as far as the balance goes. What is not taken back is the shortfall.
    """
    now = now or utcnow()
    pending_lot = lot is not None and lot.status == LotStatus.pending
    from_own = min(points, lot.remaining) if lot and (pending_lot or allow_available) else 0
    from_expired = min(points - from_own, lot.expired_points) if lot and allow_available else 0
    spent = points - from_own - from_expired
    available_after_own = ledger.available_balance - (0 if pending_lot else from_own)
    if not allow_available:
        from_spent = 0
    elif clamp_to_balance:
        from_spent = min(spent, max(available_after_own, 0))
    else:
        from_spent = spent
    reversed_points = from_own + from_expired + from_spent
    if reversed_points == 0:
        return Reversal(None, 0, points)
    issued = program_account_id(AccountKind.issued)
    from_pending = from_own if pending_lot else 0
    from_available = reversed_points - from_pending - from_expired
    legs: list[Leg] = []
    if from_pending:
        legs += transfer(ledger.pending.id, issued, from_pending)
    if from_expired:
        legs += transfer(program_account_id(AccountKind.expired), issued, from_expired)
    if from_available:
        legs += transfer(ledger.available.id, issued, from_available)
    if lot is not None:
        lot.remaining -= from_own
        lot.expired_points -= from_expired
    if from_spent:
        await _take_from_other_lots(session, ledger, min(from_spent, max(available_after_own, 0)))
    transaction = _record(
        session,
        ledger,
        TransactionType.purchase_return,
        legs,
        points=-(from_pending + from_available),
        now=now,
        reference=reference,
        related_id=related_id,
    )
    return Reversal(transaction, reversed_points, points - reversed_points)


async def _take_from_other_lots(session: AsyncSession, ledger: MemberLedger, points: int) -> None:
    """Reduce the member's available lots by ``points``, first-expiring-first."""
    lots = {lot.id: lot for lot in await repository.spendable_lots(session, ledger.member_id)}
    for lot_id, take in take_fifo([_lot_view(lot) for lot in lots.values()], points):
        lots[lot_id].remaining -= take


def release_pending(
    session: AsyncSession, ledger: MemberLedger, lots: Sequence[EarnLot], now: datetime
) -> LedgerTransaction | None:
    """Make due pending lots available, in one transaction."""
    points = sum(lot.remaining for lot in lots)
    transaction = None
    if points:
        payback = debt_payback(ledger.available_balance, points)
        transaction = _record(
            session,
            ledger,
            TransactionType.pending_release,
            transfer(ledger.pending.id, ledger.available.id, points),
            points=0,
            now=now,
        )
        for lot in sorted(lots, key=lambda lot: spending_order_key(_lot_view(lot))):
            withheld = min(payback, lot.remaining)
            payback -= withheld
            lot.remaining -= withheld
    for lot in lots:
        lot.status = LotStatus.available
        lot.available_at = lot.available_at or now
    return transaction


def expire(
    session: AsyncSession, ledger: MemberLedger, lots: Sequence[EarnLot], now: datetime
) -> LedgerTransaction | None:
    """Move what is left of expired lots to the expired account, in one transaction."""
    points = sum(lot.remaining for lot in lots)
    if points == 0:
        return None
    transaction = _record(
        session,
        ledger,
        TransactionType.expiry,
        transfer(ledger.available.id, program_account_id(AccountKind.expired), points),
        points=-points,
        now=now,
    )
    for lot in lots:
        lot.expired_points += lot.remaining
        lot.remaining = 0
    return transaction


async def _expire_due_then_lots_holding_points(
    session: AsyncSession, ledger: MemberLedger, now: datetime
) -> list[EarnLot]:
    """Expire what is due, then the member's lots that still hold points (lots expired just
    now still hold points in the database: nothing is flushed yet)."""
    expire(session, ledger, await repository.due_expiring_lots(session, ledger.member_id, now), now)
    return [
        lot
        for lot in await repository.lots_holding_points(session, ledger.member_id)
        if lot.remaining > 0
    ]


async def forfeit(
    session: AsyncSession,
    ledger: MemberLedger,
    now: datetime,
    *,
    reference: str | None = None,
    related_id: UUID | None = None,
) -> LedgerTransaction | None:
    """Everything an erased member holds goes, in one ``erasure`` transaction: available and
    pending points to the expired account (breakage, as if they had expired), and a debt
    left by a return is written off against the adjustments account. Lots past their expiry
    expire first. The lots are emptied the way expiry empties them, so that a later return
    of their purchase takes its points from the expired account. Nothing held writes nothing.
    """
    lots = await _expire_due_then_lots_holding_points(session, ledger, now)
    available, pending = ledger.available_balance, ledger.pending_balance
    expired = program_account_id(AccountKind.expired)
    legs: list[Leg] = []
    if available > 0:
        legs += transfer(ledger.available.id, expired, available)
    elif available < 0:
        legs += transfer(
            program_account_id(AccountKind.adjustments), ledger.available.id, -available
        )
    if pending > 0:
        legs += transfer(ledger.pending.id, expired, pending)
    if not legs:
        return None
    transaction = _record(
        session,
        ledger,
        TransactionType.erasure,
        legs,
        points=-(available + pending),
        now=now,
        reference=reference,
        related_id=related_id,
    )
    for lot in lots:
        lot.expired_points += lot.remaining
        lot.remaining = 0
    return transaction


@dataclass(frozen=True, slots=True)
class BalanceView:
    available: int
    pending: int
    lifetime_earned: int
    expiring: list[tuple[int, datetime]]


EXPIRING_WINDOW = timedelta(days=90)


async def balance(
    session: AsyncSession, member_id: UUID, now: datetime | None = None
) -> BalanceView:
    """The member's balance and the points that expire in the next 90 days, by expiry."""
    now = now or utcnow()
    accounts = {a.kind: a for a in await repository.member_accounts(session, member_id)}
    if AccountKind.available not in accounts:
        raise MemberNotFound(f"No member {member_id}.")
    expiring: dict[datetime, int] = {}
    for lot in await repository.expiring_lots(session, member_id, now + EXPIRING_WINDOW):
        assert lot.expires_at is not None
        expiring[lot.expires_at] = expiring.get(lot.expires_at, 0) + lot.remaining
    return BalanceView(
        available=accounts[AccountKind.available].balance or 0,
        pending=accounts[AccountKind.pending].balance or 0,
        lifetime_earned=await repository.lifetime_earned(session, member_id),
        expiring=[(points, at) for at, points in sorted(expiring.items())],
    )


async def transactions(
    session: AsyncSession, member_id: UUID, params: PageParams
) -> tuple[Sequence[LedgerTransaction], str | None]:
    """One page of the member's ledger entries, newest first."""
    return await paginate(
        session, repository.member_transactions(member_id), LedgerTransaction, params
    )


# --- Merging duplicate records -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LotSnapshot:
    """What one lot held when a merge moved it out, so the other record gets it back alike."""

    lot_id: UUID
    remaining: int
    expired_points: int
    status: LotStatus
    available_at: datetime | None
    expires_at: datetime | None
    created_at: datetime
    expiry_notified_at: datetime | None


@dataclass(frozen=True, slots=True)
class MovedOut:
    """Step 1 of a merge: what left the duplicate record for the escrow account."""

    transaction: LedgerTransaction | None
    available: int  # negative: a debt left by a return moved too
    pending: int
    lots: list[LotSnapshot]


@dataclass(frozen=True, slots=True)
class MovedIn:
    """Step 2 of a merge: the record merged into got it, lot by lot."""

    transaction: LedgerTransaction | None
    lot_ids: dict[UUID, UUID]  # each moved lot -> the lot that now holds its points


async def move_out_for_merge(
    session: AsyncSession,
    ledger: MemberLedger,
    now: datetime,
    *,
    reference: str,
    related_id: UUID,
) -> MovedOut:
    """Move everything a duplicate record holds to the gift escrow account, in one
    ``merge_out`` transaction local to that record: its available balance (also when it
    is negative, a debt from a return), its pending balance, and its lots, which are
    emptied and described so that :func:`move_in_for_merge` recreates them.

    Lots past their expiry are expired first: a merge never revives expired points. What
    expired of a moved lot goes with it (``expired_points``), so that a later return of
    its purchase still takes those from the expired account. Nothing to move writes nothing.
    """
    lots = await _expire_due_then_lots_holding_points(session, ledger, now)
    available, pending = ledger.available_balance, ledger.pending_balance
    held = {
        status: sum(lot.remaining for lot in lots if lot.status == status) for status in LotStatus
    }
    if held[LotStatus.available] != max(available, 0) or held[LotStatus.pending] != pending:
        raise RuntimeError(f"lots of member {ledger.member_id} do not hold its balance")
    escrow = program_account_id(AccountKind.gift_escrow)
    legs: list[Leg] = []
    if available > 0:
        legs += transfer(ledger.available.id, escrow, available)
    elif available < 0:
        legs += transfer(escrow, ledger.available.id, -available)
    if pending > 0:
        legs += transfer(ledger.pending.id, escrow, pending)
    if not legs:
        return MovedOut(None, 0, 0, [])
    transaction = _record(
        session,
        ledger,
        TransactionType.merge_out,
        legs,
        points=-(available + pending),
        now=now,
        reference=reference,
        related_id=related_id,
    )
    snapshots = []
    for lot in sorted(lots, key=lambda lot: spending_order_key(_lot_view(lot))):
        snapshots.append(
            LotSnapshot(
                lot_id=lot.id,
                remaining=lot.remaining,
                expired_points=lot.expired_points,
                status=LotStatus(lot.status),
                available_at=lot.available_at,
                expires_at=lot.expires_at,
                created_at=lot.created_at,
                expiry_notified_at=lot.expiry_notified_at,
            )
        )
        lot.remaining = 0
        lot.expired_points = 0
    return MovedOut(transaction, available, pending, snapshots)


async def move_in_for_merge(
    session: AsyncSession,
    ledger: MemberLedger,
    moved: MovedOut,
    now: datetime,
    *,
    reference: str,
    related_id: UUID,
) -> MovedIn:
    """Take what :func:`move_out_for_merge` put into escrow, in one ``merge_in`` transaction
    local to the record merged into: each lot is recreated with its expiry, and a pending
    lot stays pending until its date. As with any credit, available points first pay back
    a negative balance; a moved debt takes from this record's lots first-expiring-first.
    """
    if moved.transaction is None:
        return MovedIn(None, {})
    escrow = program_account_id(AccountKind.gift_escrow)
    legs: list[Leg] = []
    payback = 0
    if moved.available > 0:
        payback = debt_payback(ledger.available_balance, moved.available)
        legs += transfer(escrow, ledger.available.id, moved.available)
    elif moved.available < 0:
        debt = -moved.available
        await _take_from_other_lots(session, ledger, min(debt, max(ledger.available_balance, 0)))
        legs += transfer(ledger.available.id, escrow, debt)
    if moved.pending > 0:
        legs += transfer(escrow, ledger.pending.id, moved.pending)
    transaction = _record(
        session,
        ledger,
        TransactionType.merge_in,
        legs,
        points=moved.available + moved.pending,
        now=now,
        reference=reference,
        related_id=related_id,
    )
    lot_ids: dict[UUID, UUID] = {}
    for snapshot in moved.lots:  # in spending order: a payback takes the soonest-expiring
        withheld = 0
        if snapshot.status == LotStatus.available:
            withheld = min(payback, snapshot.remaining)
            payback -= withheld
        lot = EarnLot(
            id=uuid7(),
            member_id=ledger.member_id,
            transaction_id=transaction.id,
            points=snapshot.remaining + snapshot.expired_points,
            remaining=snapshot.remaining - withheld,
            expired_points=snapshot.expired_points,
            status=snapshot.status,
            available_at=snapshot.available_at,
            expires_at=snapshot.expires_at,
            created_at=now,
            expiry_notified_at=snapshot.expiry_notified_at,  # one notice per lot, moved or not
        )
        session.add(lot)
        lot_ids[snapshot.lot_id] = lot.id
    return MovedIn(transaction, lot_ids)
