"""The figures' queries: SQL aggregates (GROUP BY, window functions) that run on SQLite and
PostgreSQL alike and return a handful of numbers, never the rows they count.

A purchase counts when it is a member's (a receipt not yet claimed has no member), in the
programme's currency, and not wholly returned; its revenue is its total less what was
returned of it, whenever that happened.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import SQLCoreOperations

from app.analytics.models import AbcClass, AbcClassification
from app.analytics.rules import Period
from app.earning.models import Purchase
from app.ledger.models import PROGRAM_ACCOUNT_KINDS, AccountKind, Posting, Side, program_account_id
from app.members.models import Member, MemberStatus

NET_REVENUE = Purchase.total - Purchase.returned_total


def _counting_purchases(currency: str) -> list[ColumnElement[bool]]:
    return [
        Purchase.member_id.is_not(None),
        Purchase.currency == currency,
        Purchase.total > Purchase.returned_total,
    ]


def _int(value: Any) -> int:
    """SUM over BIGINT is NUMERIC on PostgreSQL (a Decimal here); the values are whole."""
    return int(value or 0)


@dataclass(frozen=True, slots=True)
class CustomerCounts:
    at_start: int  # S
    at_end: int  # E
    new_at_end: int  # N: of E, those whose first purchase falls in the period
    active: int  # at least one purchase in the period
    repeat: int  # at least two purchases in the period
    purchases: int
    revenue: int


async def customer_counts(session: AsyncSession, period: Period, currency: str) -> CustomerCounts:
    """One pass over each member's purchases before the period's end, grouped by member."""
    in_period = Purchase.occurred_at >= period.starts_at
    per_member = (
        select(
            Purchase.member_id,
            func.min(Purchase.occurred_at).label("first_at"),
            func.max(
                case(
                    (
                        and_(
                            Purchase.occurred_at >= period.start_customers_since,
                            Purchase.occurred_at < period.starts_at,
                        ),
                        1,
                    ),
                    else_=0,
                )
            ).label("at_start"),
            func.max(case((Purchase.occurred_at >= period.end_customers_since, 1), else_=0)).label(
                "at_end"
            ),
            func.sum(case((in_period, 1), else_=0)).label("purchases"),
            func.sum(case((in_period, NET_REVENUE), else_=0)).label("revenue"),
        )
        .where(*_counting_purchases(currency), Purchase.occurred_at < period.ends_at)
        .group_by(Purchase.member_id)
        .subquery()
    )
    m = per_member.c
    row = (
        await session.execute(
            select(
                func.sum(m.at_start),
                func.sum(m.at_end),
                func.sum(case((and_(m.at_end == 1, m.first_at >= period.starts_at), 1), else_=0)),
                func.sum(case((m.purchases >= 1, 1), else_=0)),
                func.sum(case((m.purchases >= 2, 1), else_=0)),
                func.sum(m.purchases),
                func.sum(m.revenue),
            )
        )
    ).one()
    return CustomerCounts(*(_int(value) for value in row))


async def members_enrolled(session: AsyncSession, period: Period) -> int:
    """Members enrolled in the period; a duplicate record merged into another is not a
    member of its own (the person counts once, as the record it was merged into)."""
    count = await session.scalar(
        select(func.count())
        .select_from(Member)
        .where(
            Member.created_at >= period.starts_at,
            Member.created_at < period.ends_at,
            Member.status != MemberStatus.merged,
        )
    )
    return _int(count)


@dataclass(frozen=True, slots=True)
class RetentionCounts:
    at_start: int  # S
    at_end: int  # E
    new_at_end: int  # N


async def retention_counts(
    session: AsyncSession, periods: Sequence[Period], currency: str
) -> list[RetentionCounts]:
    """S, E and N of ``customer_counts`` for each of ``periods``, in one pass over each
    member's purchases before the last period's end (per member: a flag per period for
    "a purchase in the 12 months before its start" and "before its end", and the first
    purchase ever)."""
    if not periods:
        return []
    flags = []
    for index, period in enumerate(periods):
        in_start_window = and_(
            Purchase.occurred_at >= period.start_customers_since,
            Purchase.occurred_at < period.starts_at,
        )
        in_end_window = and_(
            Purchase.occurred_at >= period.end_customers_since,
            Purchase.occurred_at < period.ends_at,
        )
        flags.append(func.max(case((in_start_window, 1), else_=0)).label(f"s{index}"))
        flags.append(func.max(case((in_end_window, 1), else_=0)).label(f"e{index}"))
    per_member = (
        select(func.min(Purchase.occurred_at).label("first_at"), *flags)
        .where(
            *_counting_purchases(currency),
            Purchase.occurred_at < max(period.ends_at for period in periods),
        )
        .group_by(Purchase.member_id)
        .subquery()
    )
    m = per_member.c
    sums = []
    for index, period in enumerate(periods):
        at_end = m[f"e{index}"]
        # A member of E has a purchase before the period's end, so the first purchase
        # among all those read here is its first one before the end, as in customer_counts.
        new = and_(at_end == 1, m.first_at >= period.starts_at)
        sums += [func.sum(m[f"s{index}"]), func.sum(at_end), func.sum(case((new, 1), else_=0))]
    row = (await session.execute(select(*sums))).one()
    values = [_int(value) for value in row]
    return [RetentionCounts(*values[i : i + 3]) for i in range(0, len(values), 3)]


@dataclass(frozen=True, slots=True)
class PointFlows:
    issued: int  # net debits of the issued account: purchases (less returns) and bonuses
    adjusted: int  # net debits of the adjustments account: goodwill less corrections
    redeemed: int  # net credits of the redeemed account: payments and vouchers, less undos
    expired: int  # net credits of the expired account: expiry, less returns taking it back


async def point_flows(session: AsyncSession, period: Period) -> PointFlows:
    """What the programme accounts took and gave in the period, by the time of the entries."""
    return (await point_flows_by_bucket(session, [period.starts_at, period.ends_at]))[0]


def bucket_of(column: SQLCoreOperations[datetime], edges: Sequence[datetime]) -> ColumnElement[int]:
    """The index of the bucket ``[edges[i], edges[i + 1])`` a moment falls in, for moments
    between the first and the last edge (the query's WHERE keeps to those)."""
    inner = edges[1:-1]
    if not inner:
        return literal(0)
    return case(*((column < edge, index) for index, edge in enumerate(inner)), else_=len(inner))


async def point_flows_by_bucket(
    session: AsyncSession, edges: Sequence[datetime]
) -> list[PointFlows]:
    """``point_flows`` for each bucket between consecutive ``edges``, in one pass over the
    period's entries: the buckets add up to the whole period exactly."""
    accounts = {
        kind: program_account_id(kind)
        for kind in (
            AccountKind.issued,
            AccountKind.adjustments,
            AccountKind.redeemed,
            AccountKind.expired,
        )
    }
    debit_minus_credit = func.sum(
        case((Posting.side == Side.debit, Posting.amount), else_=-Posting.amount)
    )
    bucket = bucket_of(Posting.created_at, edges).label("bucket")
    rows = await session.execute(
        select(bucket, Posting.account_id, debit_minus_credit)
        .where(
            Posting.account_id.in_(list(accounts.values())),
            Posting.created_at >= edges[0],
            Posting.created_at < edges[-1],
        )
        .group_by(bucket, Posting.account_id)
    )
    net: dict[tuple[int, UUID], int] = {
        (int(index), account_id): _int(value) for index, account_id, value in rows.all()
    }

    def flows(index: int) -> PointFlows:
        return PointFlows(
            issued=net.get((index, accounts[AccountKind.issued]), 0),
            adjusted=net.get((index, accounts[AccountKind.adjustments]), 0),
            redeemed=-net.get((index, accounts[AccountKind.redeemed]), 0),
            expired=-net.get((index, accounts[AccountKind.expired]), 0),
        )

    return [flows(index) for index in range(len(edges) - 1)]


_CREDIT_MINUS_DEBIT = case((Posting.side == Side.credit, Posting.amount), else_=-Posting.amount)


async def points_outstanding(session: AsyncSession, at: datetime) -> int:
    """Points the programme owes at ``at``: each member's available plus pending balance as
    of then (a negative one, a debt from a return, as 0), plus the points held in open gifts.
    """
    program_accounts = [program_account_id(kind) for kind in PROGRAM_ACCOUNT_KINDS]
    # A member account takes postings only from its own member's transactions.
    per_member = (
        select(func.sum(_CREDIT_MINUS_DEBIT).label("balance"))
        .where(Posting.account_id.not_in(program_accounts), Posting.created_at < at)
        .group_by(Posting.member_id)
        .subquery()
    )
    members = await session.scalar(
        select(func.sum(case((per_member.c.balance > 0, per_member.c.balance), else_=0)))
    )
    in_gifts = await session.scalar(
        select(func.sum(_CREDIT_MINUS_DEBIT)).where(
            Posting.account_id == program_account_id(AccountKind.gift_escrow),
            Posting.created_at < at,
        )
    )
    return _int(members) + _int(in_gifts)


# --- Members by tier --------------------------------------------------------------------


async def members_per_tier(session: AsyncSession, now: datetime) -> dict[UUID | None, int]:
    """Active members per tier in force at ``now`` (a manual tier while it lasts, else the
    earned one, as ``app.tiers.service.earning_tier``); None: members without a tier.
    Merged duplicates and erased members are left out: they are nobody's membership any
    more (the person of a merged record counts once, as the record it was merged into)."""
    manual_in_force = and_(
        Member.manual_tier_id.is_not(None),
        Member.manual_tier_until.is_not(None),
        Member.manual_tier_until > now,
    )
    tier = case((manual_in_force, Member.manual_tier_id), else_=Member.tier_id).label("tier")
    rows = await session.execute(
        select(tier, func.count())
        .select_from(Member)
        .where(Member.status == MemberStatus.active)
        .group_by(tier)
    )
    return {tier_id: _int(count) for tier_id, count in rows.all()}


# --- ABC: members ranked by revenue -------------------------------------------------------


def classified(period: Period, currency: str, a_share: int, b_share: int) -> Subquery:
    """Every member with revenue in the period: revenue, purchases, rank (revenue
    descending, then member id), the revenue of the members ranked before, the total, and
    the class (see ``rules.abc_class``, which this computes in SQL)."""
    per_member = (
        select(
            Purchase.member_id,
            func.sum(NET_REVENUE).label("revenue"),
            func.count().label("purchases"),
        )
        .where(
            *_counting_purchases(currency),
            Purchase.occurred_at >= period.starts_at,
            Purchase.occurred_at < period.ends_at,
        )
        .group_by(Purchase.member_id)
        .subquery()
    )
    order = (per_member.c.revenue.desc(), per_member.c.member_id)
    ranked = select(
        per_member.c.member_id,
        per_member.c.revenue,
        per_member.c.purchases,
        func.row_number().over(order_by=order).label("rank"),
        (
            func.sum(per_member.c.revenue).over(order_by=order, rows=(None, 0))
            - per_member.c.revenue
        ).label("before"),
        func.sum(per_member.c.revenue).over().label("total"),
    ).subquery()
    r = ranked.c
    abc = case(
        (r.before * 100 < r.total * a_share, AbcClass.A.value),
        (r.before * 100 < r.total * (a_share + b_share), AbcClass.B.value),
        else_=AbcClass.C.value,
    )
    return select(
        r.member_id, r.revenue, r.purchases, r.rank, r.before, r.total, abc.label("abc_class")
    ).subquery()


@dataclass(frozen=True, slots=True)
class ClassTotals:
    abc_class: AbcClass
    members: int
    revenue: int


async def class_totals(session: AsyncSession, ranking: Subquery) -> list[ClassTotals]:
    """Members and revenue per class, A to C; a class without members is left out."""
    c = ranking.c
    rows = await session.execute(
        select(c.abc_class, func.count(), func.sum(c.revenue))
        .group_by(c.abc_class)
        .order_by(c.abc_class)
    )
    return [ClassTotals(AbcClass(name), _int(n), _int(revenue)) for name, n, revenue in rows.all()]


@dataclass(frozen=True, slots=True)
class RankedMember:
    member_id: UUID
    rank: int
    revenue: int
    purchases: int
    before: int
    total: int


async def class_members(
    session: AsyncSession,
    ranking: Subquery,
    abc_class: AbcClass,
    after: tuple[int, UUID] | None,
    limit: int,
) -> Sequence[RankedMember]:
    """The class's members in ranking order, after the (revenue, member id) of ``after``."""
    c = ranking.c
    statement = select(c.member_id, c.rank, c.revenue, c.purchases, c.before, c.total).where(
        c.abc_class == abc_class.value
    )
    if after is not None:
        revenue, member_id = after
        statement = statement.where(
            or_(c.revenue < revenue, and_(c.revenue == revenue, c.member_id > member_id))
        )
    rows = await session.execute(statement.order_by(c.revenue.desc(), c.member_id).limit(limit))
    return [
        RankedMember(
            member_id, _int(rank), _int(revenue), _int(purchases), _int(before), _int(total)
        )
        for member_id, rank, revenue, purchases, before, total in rows.all()
    ]


# --- The classification job -----------------------------------------------------------------


async def class_changes(session: AsyncSession, ranking: Subquery) -> list[tuple[UUID, str | None]]:
    """Members whose stored class differs from the ranking's. None: no revenue, or not an
    active member (a merged duplicate, an erased member: they take part in no campaign)."""
    c = ranking.c
    target = case((Member.status == MemberStatus.active, c.abc_class), else_=None)
    rows = await session.execute(
        select(Member.id, target)
        .select_from(Member)
        .outerjoin(ranking, c.member_id == Member.id)
        .where(Member.abc_class.is_distinct_from(target))
        .order_by(Member.id)
    )
    return [(member_id, abc_class) for member_id, abc_class in rows.all()]


async def store_classes(session: AsyncSession, abc_class: str | None, members: list[UUID]) -> None:
    """Set the class of ``members``, locking their rows in id order first (as a merge does),
    so that the job and a merge never wait for each other in a circle."""
    ordered = sorted(members)
    await session.execute(
        select(Member.id)
        .where(Member.id.in_(ordered))
        .order_by(Member.id)
        .with_for_update(key_share=True)
    )
    await session.execute(
        update(Member)
        .where(Member.id.in_(ordered))
        .values(abc_class=abc_class)
        .execution_options(synchronize_session=False)
    )


async def latest_classification(session: AsyncSession) -> AbcClassification | None:
    return await session.scalar(
        select(AbcClassification)
        .order_by(AbcClassification.created_at.desc(), AbcClassification.id.desc())
        .limit(1)
    )
