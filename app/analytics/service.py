"""The figures: key performance indicators and the ABC segmentation of members by revenue.

Every number comes from a SQL aggregate (see ``repository``); the formulas that turn the
counts into rates are the pure functions of ``rules``.
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import repository, rules
from app.analytics.errors import PeriodInvalid, PeriodTooLong
from app.analytics.models import AbcClass, Interval
from app.analytics.rules import Period
from app.analytics.schemas import (
    AbcClassRead,
    AbcMemberRead,
    AbcSummaryRead,
    KpisRead,
    MembersByTierRead,
    MonthlyRetentionRead,
    MonthRetentionRead,
    PeriodRead,
    PointsBucketRead,
    PointsFlowRead,
    TierMembersRead,
)
from app.kit.pagination import InvalidCursor, PageParams
from app.program.calendar import start_of_local_day
from app.program.schemas import ProgramSettings
from app.program.service import get_program
from app.tiers import service as tiers


def period_of(start: date, end: date, program: ProgramSettings) -> Period:
    if start >= end:
        raise PeriodInvalid(
            "The period must end after it starts: `to` is the first day after the period.",
            errors=[
                {
                    "loc": ["query", "to"],
                    "msg": "must be after `from`",
                    "type": "value_error",
                }
            ],
        )
    return rules.period(start, end, program.timezone)


def _period_read(period: Period) -> PeriodRead:
    return PeriodRead(
        from_=period.start,
        to=period.end,
        timezone=period.timezone,
        starts_at=period.starts_at,
        ends_at=period.ends_at,
    )


async def kpis(session: AsyncSession, start: date, end: date) -> KpisRead:
    program = await get_program(session)
    period = period_of(start, end, program)
    customers = await repository.customer_counts(session, period, program.currency)
    flows = await repository.point_flows(session, period)
    outstanding = await repository.points_outstanding(session, period.ends_at)
    issued = flows.issued + flows.adjusted
    return KpisRead(
        period=_period_read(period),
        currency=program.currency,
        retention_rate=rules.retention_rate(
            customers.at_start, customers.at_end, customers.new_at_end
        ),
        customers_at_start=customers.at_start,
        customers_at_end=customers.at_end,
        new_customers=customers.new_at_end,
        repeat_purchase_rate=rules.repeat_purchase_rate(customers.repeat, customers.active),
        repeat_customers=customers.repeat,
        average_order_value=rules.average_order_value(customers.revenue, customers.purchases),
        purchases=customers.purchases,
        revenue_minor=customers.revenue,
        active_members=customers.active,
        new_members=await repository.members_enrolled(session, period),
        points_issued=issued,
        points_adjusted=flows.adjusted,
        points_redeemed=flows.redeemed,
        points_expired=flows.expired,
        points_outstanding=outstanding,
        point_value_minor=program.point_value_minor,
        liability_minor=rules.liability(outstanding, program.point_value_minor),
        breakage_rate=rules.breakage_rate(flows.expired, issued),
    )


# --- Series -------------------------------------------------------------------------------


def _cut(period: Period, interval: Interval, limit: int, parameter: str) -> list[tuple[date, date]]:
    spans = rules.buckets(period.start, period.end, interval, limit)
    if spans is None:
        raise PeriodTooLong(
            f"The period has more than {limit} {interval.value}s; choose a shorter period"
            + (" or a longer interval." if parameter == "interval" else "."),
            errors=[
                {
                    "loc": ["query", parameter],
                    "msg": f"at most {limit} {interval.value}s",
                    "type": "value_error",
                }
            ],
        )
    return spans


async def points_flow(
    session: AsyncSession, start: date, end: date, interval: Interval | None = None
) -> PointsFlowRead:
    """Points issued, redeemed and expired per bucket of the period, as ``kpis`` counts
    them for the whole period (one query cuts the same entries into buckets)."""
    program = await get_program(session)
    period = period_of(start, end, program)
    interval = interval or rules.interval_for(start, end)
    spans = _cut(period, interval, rules.MAX_BUCKETS, "interval")
    edges = [start_of_local_day(day, program.timezone) for day, _ in spans]
    flows = await repository.point_flows_by_bucket(session, [*edges, period.ends_at])
    return PointsFlowRead(
        period=_period_read(period),
        interval=interval,
        buckets=[
            PointsBucketRead(
                from_=first,
                to=following,
                points_issued=flow.issued + flow.adjusted,
                points_adjusted=flow.adjusted,
                points_redeemed=flow.redeemed,
                points_expired=flow.expired,
            )
            for (first, following), flow in zip(spans, flows, strict=True)
        ],
    )


async def monthly_retention(session: AsyncSession, start: date, end: date) -> MonthlyRetentionRead:
    """CRR of each calendar month of the period (cut at its ends), each exactly as ``kpis``
    gives it for that month alone; the counts of all months come from one query."""
    program = await get_program(session)
    period = period_of(start, end, program)
    spans = _cut(period, Interval.month, rules.MAX_MONTHS, "from")
    months = [rules.period(first, following, program.timezone) for first, following in spans]
    counts = await repository.retention_counts(session, months, program.currency)
    return MonthlyRetentionRead(
        period=_period_read(period),
        currency=program.currency,
        months=[
            MonthRetentionRead(
                month=month.start.replace(day=1),
                from_=month.start,
                to=month.end,
                retention_rate=rules.retention_rate(count.at_start, count.at_end, count.new_at_end),
                customers_at_start=count.at_start,
                customers_at_end=count.at_end,
                new_customers=count.new_at_end,
            )
            for month, count in zip(months, counts, strict=True)
        ],
    )


async def members_by_tier(session: AsyncSession, now: datetime) -> MembersByTierRead:
    """Active members per tier in force at ``now``, every tier of the ladder listed."""
    counts = await repository.members_per_tier(session, now)
    ladder = await tiers.list_tiers(session)
    return MembersByTierRead(
        as_of=now,
        members=sum(counts.values()),
        without_tier=counts.get(None, 0),
        tiers=[
            TierMembersRead(
                tier_id=tier.id, name=tier.name, rank=tier.rank, members=counts.get(tier.id, 0)
            )
            for tier in ladder
        ],
    )


@dataclass(frozen=True, slots=True)
class Ranking:
    program: ProgramSettings
    period: Period


async def _ranking(session: AsyncSession, start: date, end: date) -> Ranking:
    program = await get_program(session)
    return Ranking(program, period_of(start, end, program))


async def abc_summary(session: AsyncSession, start: date, end: date) -> AbcSummaryRead:
    ranking = await _ranking(session, start, end)
    program, period = ranking.program, ranking.period
    found = {
        totals.abc_class: totals
        for totals in await repository.class_totals(
            session,
            repository.classified(
                period, program.currency, program.abc_a_share, program.abc_b_share
            ),
        )
    }
    members = sum(totals.members for totals in found.values())
    revenue = sum(totals.revenue for totals in found.values())
    classes = []
    for abc_class in AbcClass:
        totals = found.get(abc_class, repository.ClassTotals(abc_class, 0, 0))
        classes.append(
            AbcClassRead(
                abc_class=abc_class,
                members=totals.members,
                revenue_minor=totals.revenue,
                revenue_share=rules.percent(totals.revenue, revenue),
                member_share=rules.percent(totals.members, members),
            )
        )
    return AbcSummaryRead(
        period=_period_read(period),
        currency=program.currency,
        a_share=program.abc_a_share,
        b_share=program.abc_b_share,
        members=members,
        revenue_minor=revenue,
        classes=classes,
    )


def _encode_cursor(revenue: int, member_id: UUID) -> str:
    raw = f"{revenue}|{member_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        revenue, member_id = raw.split("|")
        if not 0 < int(revenue) < 2**63:
            raise ValueError("revenue out of range")
        return int(revenue), UUID(member_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidCursor("The cursor is not one this service handed out.") from error


async def abc_members(
    session: AsyncSession, start: date, end: date, abc_class: AbcClass, page: PageParams
) -> tuple[list[AbcMemberRead], str | None]:
    """One page of a class's members, best first; the cursor of the next page or None."""
    ranking = await _ranking(session, start, end)
    program, period = ranking.program, ranking.period
    after = None if page.cursor is None else _decode_cursor(page.cursor)
    rows = await repository.class_members(
        session,
        repository.classified(period, program.currency, program.abc_a_share, program.abc_b_share),
        abc_class,
        after,
        page.limit + 1,
    )
    items = [
        AbcMemberRead(
            member_id=row.member_id,
            rank=row.rank,
            revenue_minor=row.revenue,
            purchases=row.purchases,
            revenue_share=rules.percent(row.revenue, row.total),
            cumulative_share=rules.percent(row.before + row.revenue, row.total),
        )
        for row in rows[: page.limit]
    ]
    if len(rows) <= page.limit:
        return items, None
    last = rows[page.limit - 1]
    return items, _encode_cursor(last.revenue, last.member_id)
