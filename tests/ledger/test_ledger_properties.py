"""The ledger's invariants hold after every step of any sequence of operations.

Hypothesis draws sequences of what tills and the back office do — purchases (some pending),
partial and full returns under each return policy, redemptions (some for more than the
member has), cancellations, goodwill credits and debits — and time jumps that run the
pending-release and expiry jobs on a simulated clock. Each step runs in its own session and
commits, as a request would, on SQLite and on PostgreSQL.

After every step: ``verify`` finds nothing; every transaction's postings and all postings
together sum to zero; no lot holds less than nothing or more than it was given; the member
balances equal a model of what the steps should have done, and every lot holds what the
rules say (spent first-expiring-first, a return from its own purchase's lot first, a debt
paid back before points go into lots); the available balance is below zero only after a
return under the ``unlimited`` policy; a redemption succeeds exactly when the member has
the points.

The ``app`` fixture is built once per test, not per example, so each example starts by
emptying the database again (``verify`` reads every member, so a database that grew over
all examples would make each step slower than the last).
"""

import shutil
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import case, func, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.earning import service as earning
from app.earning.errors import ReturnExceedsPurchase
from app.earning.models import PurchaseReturn
from app.earning.schemas import PurchaseCreate, PurchaseReturnCreate
from app.kit.errors import StammkundeError
from app.ledger import jobs
from app.ledger import service as ledger_service
from app.ledger.errors import InsufficientPoints
from app.ledger.models import (
    Account,
    AccountKind,
    EarnLot,
    LotConsumption,
    LotStatus,
    Posting,
    Side,
)
from app.ledger.postings import (
    LotView,
    debt_payback,
    proportional_points,
    spending_order,
    take_fifo,
)
from app.ledger.verify import first_mismatch
from app.members import service as members
from app.members.schemas import MemberCreate
from app.program import calendar
from app.program.schemas import ProgramSettings, ProgramUpdate, ReturnPolicy
from app.program.service import update_program
from app.spending import service as spending
from app.spending.errors import RedemptionAlreadyCancelled
from app.spending.schemas import AdjustmentCreate, RedemptionCreate
from tests import conftest

MEMBERS = 3
START = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)  # a week before the spring DST change
STEP = timedelta(minutes=7, microseconds=123_457)  # stamps with microseconds, as real ones

_signed = case((Posting.side == Side.credit, Posting.amount), else_=-Posting.amount)


# --- operations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Configure:
    pending_days: int
    expiry_months: int
    policy: ReturnPolicy


@dataclass(frozen=True)
class Buy:
    member: int
    total: int  # minor units; 1 point per 1.00


@dataclass(frozen=True)
class Return:
    purchase: int  # index into the purchases so far (modulo)
    percent: int  # of the purchase total; more than what is left is refused


@dataclass(frozen=True)
class Redeem:
    member: int
    points: int


@dataclass(frozen=True)
class Cancel:
    redemption: int  # index into the redemptions so far (modulo)


@dataclass(frozen=True)
class Adjust:
    member: int
    points: int  # positive: goodwill credit; negative: correction debit


@dataclass(frozen=True)
class Wait:
    days: int
    hours: int


policies = st.sampled_from(ReturnPolicy)
configure = st.builds(
    Configure,
    pending_days=st.sampled_from([0, 1, 14]),
    expiry_months=st.sampled_from([0, 1, 2]),
    policy=policies,
)
member_index = st.integers(min_value=0, max_value=MEMBERS - 1)
operations = st.one_of(
    st.builds(Buy, member_index, st.integers(min_value=0, max_value=40_000)),
    st.builds(Return, st.integers(min_value=0, max_value=30), st.integers(1, 110)),
    st.builds(Redeem, member_index, st.integers(min_value=1, max_value=500)),
    st.builds(Cancel, st.integers(min_value=0, max_value=30)),
    st.builds(Adjust, member_index, st.integers(-300, 300).filter(bool)),
    st.builds(Wait, st.integers(min_value=0, max_value=45), st.integers(0, 23)),
    configure,
)


# --- the model: what the balances and lots must be -----------------------------------------


@dataclass(frozen=True)
class Lot:
    """An earn lot as the database holds it."""

    points: int
    remaining: int
    status: str
    available_at: datetime | None
    expires_at: datetime | None
    created_at: datetime
    expired_points: int = 0

    def took(self, points: int) -> "Lot":
        return replace(self, remaining=self.remaining - points)

    def expired(self) -> "Lot":
        return replace(self, remaining=0, expired_points=self.expired_points + self.remaining)


Lots = dict[UUID, Lot]


def spendable(lots: Lots) -> list[LotView]:
    return [
        LotView(lot_id, lot.remaining, lot.expires_at, lot.created_at)
        for lot_id, lot in lots.items()
        if lot.status == LotStatus.available and lot.remaining > 0
    ]


def take(lots: Lots, points: int, own: UUID | None = None) -> tuple[Lots, list[tuple[UUID, int]]]:
    """Lots after ``points`` are taken: from ``own`` (if available) first, then FIFO."""
    lots = dict(lots)
    taken = []
    if own is not None and lots[own].status == LotStatus.available:
        first = min(lots[own].remaining, points)
        lots[own] = lots[own].took(first)
        points -= first
    for lot_id, points_taken in take_fifo(spendable(lots), points):
        lots[lot_id] = lots[lot_id].took(points_taken)
        taken.append((lot_id, points_taken))
    assert sum(points_taken for _, points_taken in taken) == points, "lots do not cover it"
    return lots, taken


@dataclass
class MemberModel:
    id: UUID
    available: int = 0
    pending: int = 0
    # Set when a return under ``unlimited`` took the balance below zero; cleared at >= 0.
    owes_from_return: bool = False


@dataclass
class PurchaseModel:
    id: UUID
    member: MemberModel
    total: int
    earned: int
    lot_id: UUID | None
    returned_total: int = 0
    reversed: int = 0
    pending_until: datetime | None = None  # while the lot is pending: when it is released
    pending_left: int = 0


@dataclass
class RedemptionModel:
    id: UUID
    member: MemberModel
    points: int
    taken: list[tuple[UUID, int]]
    cancelled: bool = False


@dataclass
class Run:
    app: FastAPI
    program: ProgramSettings
    clock: datetime = START
    members: list[MemberModel] = field(default_factory=list)
    purchases: list[PurchaseModel] = field(default_factory=list)
    redemptions: list[RedemptionModel] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        sessionmaker: async_sessionmaker[AsyncSession] = self.app.state.runtime.sessionmaker
        return sessionmaker

    async def start(self, config: Configure) -> None:
        async with self.sessionmaker() as session:
            for _ in range(MEMBERS):
                member = await members.create_member(session, MemberCreate())
                self.members.append(MemberModel(member.id))
            await session.commit()
        await self.configure(config)

    async def configure(self, op: Configure) -> None:
        update = ProgramUpdate(
            pending_days=op.pending_days,
            points_expiry_months=op.expiry_months,
            return_policy=op.policy,
            points_per_currency_unit=1,
        )
        async with self.sessionmaker() as session:
            self.program = await update_program(session, update)
            await session.commit()
        assert self.program.return_policy is op.policy

    async def step(self, op: Any) -> None:
        self.clock += STEP
        self.log.append(repr(op))
        handler = {
            Configure: self.configure,
            Buy: self.buy,
            Return: self.return_,
            Redeem: self.redeem,
            Cancel: self.cancel,
            Adjust: self.adjust,
            Wait: self.wait,
        }[type(op)]
        await handler(op)
        await self.check()

    # --- steps -----------------------------------------------------------------------------

    async def buy(self, op: Buy) -> None:
        member = self.members[op.member]
        before = await self.lots(member)
        data = PurchaseCreate(
            member_id=member.id,
            order_id=f"order-{uuid.uuid4().hex}",
            channel="pos",
            currency="EUR",
            total=op.total,
        )
        async with self.sessionmaker() as session:
            recorded = await earning.record_purchase(
                session, self.app.state.runtime.secret_key, data, now=self.clock
            )
            await session.commit()
        earned = op.total // 100
        assert recorded.purchase.points_earned == earned
        lot_id = recorded.lot.id if recorded.lot else None
        bought = PurchaseModel(recorded.purchase.id, member, op.total, earned, lot_id)
        self.purchases.append(bought)
        if lot_id is None:
            assert earned == 0
            assert await self.lots(member) == before
            return
        release = calendar.available_at(self.clock, self.program)
        if release is None:
            remaining = earned - debt_payback(member.available, earned)
            member.available += earned
        else:
            remaining = earned
            bought.pending_until, bought.pending_left = release, earned
            member.pending += earned
        new_lot = Lot(
            points=earned,
            remaining=remaining,
            status=LotStatus.pending if release else LotStatus.available,
            available_at=release,
            expires_at=calendar.expires_at(self.clock, self.program),
            created_at=self.clock,
        )
        assert await self.lots(member) == {**before, lot_id: new_lot}

    async def return_(self, op: Return) -> None:
        if not self.purchases:
            return
        bought = self.purchases[op.purchase % len(self.purchases)]
        member = bought.member
        amount = max(1, bought.total * op.percent // 100)
        data = PurchaseReturnCreate(amount=amount)
        if bought.returned_total + amount > bought.total:
            await self.refused(
                ReturnExceedsPurchase, earning.record_return, bought.id, data, now=self.clock
            )
            return
        before = await self.lots(member)
        async with self.sessionmaker() as session:
            recorded = await earning.record_return(session, bought.id, data, now=self.clock)
            await session.commit()
        bought.returned_total += amount
        to_reverse = (
            proportional_points(bought.earned, bought.total, bought.returned_total)
            - bought.reversed
        )
        bought.reversed += to_reverse
        policy = self.program.return_policy
        expected = dict(before)
        if bought.pending_until is not None:
            # Still pending: taken back from the purchase's own pending lot, whatever the policy.
            assert bought.lot_id is not None
            assert before[bought.lot_id].status == LotStatus.pending
            reversed_points = to_reverse
            expected[bought.lot_id] = before[bought.lot_id].took(to_reverse)
            bought.pending_left -= to_reverse
            member.pending -= to_reverse
        else:
            # Taken back in order: what the purchase's own lot still holds, what of it
            # expired (the member lost those already), then what the member spent.
            own = before[bought.lot_id] if bought.lot_id is not None else None
            counts_available = own is not None and policy is not ReturnPolicy.only_pending
            from_own = min(to_reverse, own.remaining) if own and counts_available else 0
            from_expired = (
                min(to_reverse - from_own, own.expired_points) if own and counts_available else 0
            )
            spent = to_reverse - from_own - from_expired
            after_own = member.available - from_own
            if policy is ReturnPolicy.unlimited:
                from_spent = spent
            elif policy is ReturnPolicy.within_balance:
                from_spent = min(spent, max(after_own, 0))
            else:
                from_spent = 0
            reversed_points = from_own + from_expired + from_spent
            if own is not None and bought.lot_id is not None:
                expected[bought.lot_id] = replace(
                    own.took(from_own), expired_points=own.expired_points - from_expired
                )
            expected, _ = take(expected, min(from_spent, max(after_own, 0)))
            member.available = after_own - from_spent
            if member.available < 0:
                assert policy is ReturnPolicy.unlimited
                member.owes_from_return = True
        assert recorded.purchase_return.points_reversed == reversed_points
        assert recorded.purchase_return.shortfall == to_reverse - reversed_points
        assert await self.lots(member) == expected

    async def redeem(self, op: Redeem) -> None:
        member = self.members[op.member]
        data = RedemptionCreate(points=op.points, reference="till")
        before = await self.lots(member)
        # A payment first expires lots past their expiry (a cancel may have refilled one).
        expiring = {
            lot_id: lot
            for lot_id, lot in before.items()
            if lot.status == LotStatus.available
            and lot.remaining > 0
            and lot.expires_at is not None
            and lot.expires_at <= self.clock
        }
        available = member.available - sum(lot.remaining for lot in expiring.values())
        if op.points > available:
            await self.refused(InsufficientPoints, spending.redeem, member.id, data, self.clock)
            return
        member.available = available
        before = {**before, **{lot_id: lot.expired() for lot_id, lot in expiring.items()}}
        async with self.sessionmaker() as session:
            redemption, ledger = await spending.redeem(session, member.id, data, now=self.clock)
            await session.commit()
        member.available -= op.points
        assert ledger.available_balance == member.available >= 0
        expected, taken = take(before, op.points)
        assert await self.lots(member) == expected
        assert await self.consumed(redemption.transaction_id) == sorted(taken)
        self.redemptions.append(RedemptionModel(redemption.id, member, op.points, taken))

    async def cancel(self, op: Cancel) -> None:
        if not self.redemptions:
            return
        redemption = self.redemptions[op.redemption % len(self.redemptions)]
        if redemption.cancelled:
            await self.refused(
                RedemptionAlreadyCancelled, spending.cancel_redemption, redemption.id, self.clock
            )
            return
        member = redemption.member
        before = await self.lots(member)
        async with self.sessionmaker() as session:
            await spending.cancel_redemption(session, redemption.id, now=self.clock)
            await session.commit()
        redemption.cancelled = True
        # The points go back into the lots they came from, less what pays back a debt,
        # which is withheld from the soonest-expiring of those lots.
        payback = debt_payback(member.available, redemption.points)
        expected = dict(before)
        by_lot = dict(redemption.taken)
        views = [
            LotView(
                lot_id,
                before[lot_id].remaining,
                before[lot_id].expires_at,
                before[lot_id].created_at,
            )
            for lot_id in by_lot
        ]
        for view in spending_order(views):
            withheld = min(payback, by_lot[view.id])
            payback -= withheld
            expected[view.id] = before[view.id].took(withheld - by_lot[view.id])
        member.available += redemption.points
        assert await self.lots(member) == expected

    async def adjust(self, op: Adjust) -> None:
        member = self.members[op.member]
        data = AdjustmentCreate(points=op.points, reason="Kulanz")
        if op.points < 0 and -op.points > member.available:
            await self.refused(InsufficientPoints, spending.adjust, member.id, data, self.clock)
            return
        before = await self.lots(member)
        async with self.sessionmaker() as session:
            transaction, _ = await spending.adjust(session, member.id, data, now=self.clock)
            await session.commit()
        after = await self.lots(member)
        if op.points > 0:
            [new_lot_id] = after.keys() - before.keys()
            assert after[new_lot_id] == Lot(
                points=op.points,
                remaining=op.points - debt_payback(member.available, op.points),
                status=LotStatus.available,
                available_at=None,
                expires_at=calendar.expires_at(self.clock, self.program),
                created_at=self.clock,
            )
            expected = {**before, new_lot_id: after[new_lot_id]}
        else:
            expected, taken = take(before, -op.points)
            assert await self.consumed(transaction.id) == sorted(taken)
        member.available += op.points
        assert after == expected

    async def wait(self, op: Wait) -> None:
        self.clock += timedelta(days=op.days, hours=op.hours)
        before = {member.id: await self.lots(member) for member in self.members}
        await jobs.release_due_pending(self.sessionmaker, now=self.clock)
        released = {member.id: await self.lots(member) for member in self.members}
        for member in self.members:
            self.check_release(member, before[member.id], released[member.id])
        await jobs.expire_due_lots(self.sessionmaker, now=self.clock)
        for member in self.members:
            expected = dict(released[member.id])
            for lot_id, lot in released[member.id].items():
                due = lot.expires_at is not None and lot.expires_at <= self.clock
                if due and lot.status == LotStatus.available:
                    expected[lot_id] = lot.expired()
                    member.available -= lot.remaining
            assert await self.lots(member) == expected

    def check_release(self, member: MemberModel, before: Lots, after: Lots) -> None:
        """Due pending lots became available; what they held first paid back a debt."""
        due = {
            lot_id
            for lot_id, lot in before.items()
            if lot.status == LotStatus.pending
            and lot.available_at is not None
            and lot.available_at <= self.clock
        }
        releasing = [
            bought
            for bought in self.purchases
            if bought.member is member
            and bought.pending_until is not None
            and bought.pending_until <= self.clock
        ]
        assert {bought.lot_id for bought in releasing} == due
        assert sum(bought.pending_left for bought in releasing) == sum(
            before[lot_id].remaining for lot_id in due
        )
        for bought in releasing:
            bought.pending_until, bought.pending_left = None, 0
        points = sum(before[lot_id].remaining for lot_id in due)
        payback = debt_payback(member.available, points)
        member.pending -= points
        member.available += points
        assert after.keys() == before.keys()
        for lot_id, lot in before.items():
            if lot_id not in due:
                assert after[lot_id] == lot
                continue
            assert after[lot_id].status == LotStatus.available
            assert 0 <= after[lot_id].remaining <= lot.remaining
            assert replace(after[lot_id], remaining=0, status="") == replace(
                lot, remaining=0, status=""
            )
        # Which of several lots released together withholds the payback is not specified.
        assert sum(lot.remaining - after[lot_id].remaining for lot_id, lot in before.items()) == (
            payback
        )

    async def lots(self, member: MemberModel) -> Lots:
        async with self.sessionmaker() as session:
            return {
                lot.id: Lot(
                    lot.points,
                    lot.remaining,
                    lot.status,
                    lot.available_at,
                    lot.expires_at,
                    lot.created_at,
                    lot.expired_points,
                )
                for lot in await session.scalars(
                    select(EarnLot).where(EarnLot.member_id == member.id)
                )
            }

    async def consumed(self, transaction_id: UUID) -> list[tuple[UUID, int]]:
        async with self.sessionmaker() as session:
            rows = await session.execute(
                select(LotConsumption.lot_id, LotConsumption.points).where(
                    LotConsumption.transaction_id == transaction_id
                )
            )
            return sorted((lot_id, points) for lot_id, points in rows)

    async def refused(self, error: type[StammkundeError], call: Any, *args: Any, **kw: Any) -> None:
        """The call raises ``error``; like a refused request, nothing of it is committed."""
        async with self.sessionmaker() as session:
            with pytest.raises(error):
                await call(session, *args, **kw)
            await session.rollback()

    # --- invariants ------------------------------------------------------------------------

    async def check(self) -> None:
        async with self.sessionmaker() as session:
            problem = await first_mismatch(session)
            assert problem is None, problem

            unbalanced = (
                await session.execute(
                    select(Posting.transaction_id, func.sum(_signed))
                    .group_by(Posting.transaction_id)
                    .having(func.sum(_signed) != 0)
                )
            ).all()
            assert unbalanced == []
            total = await session.scalar(select(func.coalesce(func.sum(_signed), 0)))
            assert total == 0

            bad_lots = await session.scalar(
                select(func.count())
                .select_from(EarnLot)
                .where(or_(EarnLot.remaining < 0, EarnLot.remaining > EarnLot.points))
            )
            assert bad_lots == 0

            balances = {
                (account.member_id, account.kind): account.balance
                for account in await session.scalars(
                    select(Account).where(Account.member_id.in_([m.id for m in self.members]))
                )
            }
        for member in self.members:
            actual = (
                balances[member.id, AccountKind.available],
                balances[member.id, AccountKind.pending],
            )
            assert actual == (member.available, member.pending), (member, self.log)
            assert member.pending >= 0
            if member.available >= 0:
                member.owes_from_return = False
            else:
                assert member.owes_from_return, "only a return may take the balance below zero"


async def empty_database(app: FastAPI, template_url: str, url: str) -> None:
    """Start an example on an empty database, as a new test would.

    PostgreSQL: truncate every table (what the ``app`` fixture does). SQLite: the ledger's
    triggers refuse DELETE, so close the connections and put a fresh copy of the migrated
    template in place of the file.
    """
    engine = app.state.runtime.engine
    if engine.dialect.name == "postgresql":
        await conftest._empty_tables(app)
        return
    await engine.dispose()
    path = Path(make_url(url).database or "")
    for leftover in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(make_url(template_url).database or "", path)


async def run_sequence(app: FastAPI, config: Configure, steps: list[Any]) -> Run:
    run = Run(app, ProgramSettings())
    await run.start(config)
    await run.check()
    for op in steps:
        await run.step(op)
    return run


# Worked sequences that every run includes, so each return policy meets spent points.
SPENT_THEN_RETURNED = [Buy(0, 10_000), Redeem(0, 80), Return(0, 100), Buy(0, 5_000)]


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(config=configure, steps=st.lists(operations, max_size=20))
@example(config=Configure(0, 1, ReturnPolicy.unlimited), steps=SPENT_THEN_RETURNED)
@example(config=Configure(0, 1, ReturnPolicy.within_balance), steps=SPENT_THEN_RETURNED)
@example(config=Configure(0, 1, ReturnPolicy.only_pending), steps=SPENT_THEN_RETURNED)
@example(
    config=Configure(0, 0, ReturnPolicy.within_balance),
    # Exactly the balance can be spent, one point more cannot.
    steps=[Buy(0, 10_000), Redeem(0, 101), Redeem(0, 100), Adjust(0, -1), Cancel(0)],
)
@example(
    config=Configure(0, 1, ReturnPolicy.unlimited),
    # The return takes from the returned purchase's own lot, not the first-expiring one.
    steps=[Buy(0, 10_000), Wait(10, 0), Buy(0, 10_000), Redeem(0, 50), Return(1, 100)],
)
@example(
    config=Configure(14, 1, ReturnPolicy.only_pending),
    steps=[Buy(1, 20_000), Return(0, 50), Wait(16, 0), Return(0, 50), Redeem(1, 101)],
)
@example(
    config=Configure(0, 1, ReturnPolicy.unlimited),
    steps=[
        Buy(2, 30_000),
        Adjust(2, 50),
        Redeem(2, 320),
        Return(0, 100),  # 300 taken back from 30: 270 owed
        Configure(1, 1, ReturnPolicy.unlimited),
        Buy(2, 10_000),  # pending; released, it pays back 100 of the 270
        Wait(3, 0),
        Cancel(0),  # 320 back: 170 pay off the rest of the debt, 150 go into the lots
        Wait(40, 0),  # everything expires
        Redeem(2, 1),
    ],
)
async def test_ledger_invariants_hold_after_every_step(
    app, migrated_database, database, config, steps
):
    await empty_database(app, migrated_database.url, database.url)
    await run_sequence(app, config, steps)


@pytest.mark.parametrize(
    ("policy", "after_return", "shortfall", "after_next_purchase"),
    [
        # 100 earned, 80 spent, then the whole purchase comes back; then 50 more are earned.
        (ReturnPolicy.unlimited, -80, 0, -30),  # all 100 taken back; the debt is paid first
        (ReturnPolicy.within_balance, 0, 80, 50),  # only the 20 that are left
        (ReturnPolicy.only_pending, 20, 100, 70),  # nothing: the points were not pending
    ],
)
async def test_a_return_of_spent_points_under_each_policy(
    app, policy, after_return, shortfall, after_next_purchase
):
    run = await run_sequence(
        app, Configure(0, 0, policy), [Buy(0, 10_000), Redeem(0, 80), Return(0, 100)]
    )
    anna = run.members[0]
    async with run.sessionmaker() as session:
        assert (await ledger_service.balance(session, anna.id)).available == after_return
        returned = await session.scalar(select(PurchaseReturn))
        assert returned is not None
        assert (returned.points_reversed, returned.shortfall) == (100 - shortfall, shortfall)

    await run.step(Buy(0, 5_000))
    await run.step(Redeem(0, max(after_next_purchase, 0) + 1))  # refused

    async with run.sessionmaker() as session:
        balance = await ledger_service.balance(session, anna.id)
        assert (balance.available, balance.pending) == (after_next_purchase, 0)
        lots = (await session.scalars(select(EarnLot).order_by(EarnLot.created_at))).all()
        # Lots hold only points that can be spent.
        assert [lot.remaining for lot in lots] == {
            ReturnPolicy.unlimited: [0, 0],
            ReturnPolicy.within_balance: [0, 50],
            ReturnPolicy.only_pending: [20, 50],
        }[policy]
