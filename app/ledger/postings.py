"""Pure ledger rules: balanced legs, first-expiring-first lots, paying back a negative balance.

Plain values in and out, no database: the service applies what these functions decide.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.ledger.models import Side


@dataclass(frozen=True, slots=True)
class Leg:
    account_id: UUID
    side: Side
    amount: int


def transfer(debit_account: UUID, credit_account: UUID, amount: int) -> list[Leg]:
    """The two legs that move ``amount`` from one account to another."""
    if amount <= 0:
        raise ValueError(f"a transfer moves a positive amount, not {amount}")
    return [Leg(debit_account, Side.debit, amount), Leg(credit_account, Side.credit, amount)]


def is_balanced(legs: Iterable[Leg]) -> bool:
    total = 0
    for leg in legs:
        if leg.amount <= 0:
            return False
        total += leg.amount if leg.side is Side.credit else -leg.amount
    return total == 0


def balance_change(legs: Iterable[Leg], account_id: UUID) -> int:
    """How a credit-normal account's balance changes: credits add, debits take away."""
    return sum(
        leg.amount if leg.side is Side.credit else -leg.amount
        for leg in legs
        if leg.account_id == account_id
    )


@dataclass(frozen=True, slots=True)
class LotView:
    id: UUID
    remaining: int
    expires_at: datetime | None
    created_at: datetime


def spending_order_key(lot: LotView) -> tuple[bool, datetime, datetime, UUID]:
    """First expiring first; lots that never expire last; older before newer."""
    return (lot.expires_at is None, lot.expires_at or lot.created_at, lot.created_at, lot.id)


def spending_order(lots: Iterable[LotView]) -> list[LotView]:
    return sorted(lots, key=spending_order_key)


def take_fifo(lots: Sequence[LotView], points: int) -> list[tuple[UUID, int]]:
    """How many points to take from which lot, first expiring first.

    Takes at most what the lots hold; the caller decides what a shortfall means.
    """
    taken: list[tuple[UUID, int]] = []
    still_needed = points
    for lot in spending_order(lots):
        if still_needed == 0:
            break
        take = min(lot.remaining, still_needed)
        if take > 0:
            taken.append((lot.id, take))
            still_needed -= take
    return taken


def debt_payback(available_balance: int, incoming: int) -> int:
    """Of ``incoming`` points, how many first pay back a negative available balance.

    A return may take the balance below zero when the member already spent the points;
    the next points credited cover that before they can be spent.
    """
    return min(incoming, max(0, -available_balance))


def proportional_points(points_earned: int, total: int, returned_total: int) -> int:
    """Points that a return of ``returned_total`` (cumulative) out of ``total`` takes back.

    Computed on the cumulative returned amount, rounded down, so several partial returns
    never take back more than a single return of the same amount, and a full return takes
    back exactly what was earned.
    """
    if total <= 0:
        return points_earned
    return points_earned * min(returned_total, total) // total
