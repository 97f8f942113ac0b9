from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from app.analytics import service
from app.analytics.errors import PeriodInvalid
from app.analytics.models import AbcClass, Interval
from app.analytics.rules import (
    AUTO_BUCKETS,
    EARLIEST_DAY,
    LATEST_DAY,
    MAX_BUCKETS,
    MAX_MONTHS,
)
from app.analytics.schemas import (
    AbcMemberRead,
    AbcSummaryRead,
    KpisRead,
    MembersByTierRead,
    MonthlyRetentionRead,
    PointsFlowRead,
)
from app.db.base import utcnow
from app.kit.auth import AdminKey
from app.kit.errors import error_responses
from app.kit.pagination import InvalidCursor, Page, PageQuery
from app.kit.uow import Session, UnitOfWorkRoute

router = APIRouter(prefix="/analytics", tags=["analytics"], route_class=UnitOfWorkRoute)

From = Annotated[
    date,
    Query(
        alias="from",
        ge=EARLIEST_DAY,
        le=LATEST_DAY - timedelta(days=1),
        description="First day of the period (inclusive), a local date in the programme's "
        "time zone.",
    ),
]
To = Annotated[
    date,
    Query(
        ge=EARLIEST_DAY + timedelta(days=1),
        le=LATEST_DAY,
        description="The day the period ends at (exclusive): `from=2026-01-01&to=2026-02-01` "
        "is January. Must be after `from`.",
    ),
]

PERIOD = (
    "The period runs from the start of the local day `from` to the start of the local day "
    "`to` (exclusive), in the programme's time zone. A purchase counts when it is a member's "
    "(a receipt not yet claimed has none), in the programme's currency and not wholly "
    "returned; revenue is a purchase's total less what was returned of it (whenever that "
    "happened), by the time the purchase happened (`occurred_at`). Duplicate records merged "
    "into another are not counted: their purchases moved to the member they were merged into."
)


@router.get(
    "/kpis",
    summary="Get the programme's figures for a period",
    description=PERIOD
    + "\n\n- **retention_rate** CRR = ((E - N) / S) x 100. S (`customers_at_start`): members "
    "with a purchase in the 12 months before `from`. E (`customers_at_end`): members with a "
    "purchase in the 12 months before `to`. N (`new_customers`): members of E whose first "
    "purchase ever is in the period.\n"
    "- **repeat_purchase_rate** = members with at least 2 purchases in the period / members "
    "with at least 1 (`active_members`) x 100.\n"
    "- **average_order_value** = revenue / purchases of the period, net of returns, in "
    "minor units rounded half away from zero.\n"
    "- **new_members**: members enrolled in the period.\n"
    "- **points_issued / points_redeemed / points_expired**: what the programme's issued "
    "(plus adjustments), redeemed and expired accounts moved in the period, net, by the time "
    "of the ledger entries (a purchase recorded late issues its points when recorded).\n"
    "- **points_outstanding**: members' available plus pending points at `to` (negative "
    "balances as 0) plus points in open gifts; **liability_minor** = that x "
    "`point_value_minor`.\n"
    "- **breakage_rate** = points_expired / points_issued x 100, both of the period.\n\n"
    "Rates are percent, as decimal strings with two places, rounded half away from zero; null "
    "when the denominator is 0. Scope `admin`.",
    responses=error_responses(PeriodInvalid),
)
async def get_kpis(from_: From, to: To, _admin: AdminKey, session: Session) -> KpisRead:
    return await service.kpis(session, from_, to)


ABC = (
    "Members with revenue in the period, ranked by revenue (descending; ties by member id). "
    "A is the smallest set of top members whose revenue reaches `abc_a_share` percent of "
    "the total (the member who crosses the line is in A), B the members after them up to "
    "`abc_a_share + abc_b_share` percent, C the rest. Thresholds are programme settings "
    "(80 and 15 by default)."
)


@router.get(
    "/segments/abc",
    summary="Get the ABC segmentation of members by revenue",
    description=PERIOD + "\n\n" + ABC + " Per class: members, revenue and their shares. "
    "Scope `admin`.",
    responses=error_responses(PeriodInvalid),
)
async def get_abc_segments(
    from_: From, to: To, _admin: AdminKey, session: Session
) -> AbcSummaryRead:
    return await service.abc_summary(session, from_, to)


@router.get(
    "/segments/abc/{abc_class}/members",
    summary="List the members of an ABC class",
    description=ABC + " The class's members, best first, a page at a time. Scope `admin`.",
    responses=error_responses(PeriodInvalid, InvalidCursor),
)
async def list_abc_members(
    abc_class: AbcClass, from_: From, to: To, page: PageQuery, _admin: AdminKey, session: Session
) -> Page[AbcMemberRead]:
    items, next_cursor = await service.abc_members(session, from_, to, abc_class, page)
    return Page[AbcMemberRead](items=items, next_cursor=next_cursor)


@router.get(
    "/points/flow",
    summary="Get points issued, redeemed and expired over time",
    description="The figures' points_issued, points_adjusted, points_redeemed and "
    "points_expired (see `GET /v1/analytics/kpis`) for each bucket of the period: local "
    "days, weeks (Monday to Sunday), calendar months or calendar years, the first and the "
    "last cut at the period's ends. The buckets add up to the figures of the whole period. "
    f"At most {MAX_BUCKETS} buckets. Scope `admin`.",
    responses=error_responses(PeriodInvalid),
)
async def get_points_flow(
    from_: From,
    to: To,
    _admin: AdminKey,
    session: Session,
    interval: Annotated[
        Interval | None,
        Query(
            description="The buckets' length; by default the finest that cuts the period "
            f"into at most {AUTO_BUCKETS} buckets (years when none does)."
        ),
    ] = None,
) -> PointsFlowRead:
    return await service.points_flow(session, from_, to, interval)


@router.get(
    "/members/tiers",
    summary="Get how many members hold each tier",
    description="Active members by the tier in force now: a manual tier while it lasts, "
    "else the earned one. Every tier of the ladder is listed, lowest rank first; members "
    "without a tier are counted apart. Duplicate records merged into another and erased "
    "members are not members any more and are not counted. Scope `admin`.",
)
async def get_members_by_tier(_admin: AdminKey, session: Session) -> MembersByTierRead:
    return await service.members_by_tier(session, utcnow())


@router.get(
    "/retention/monthly",
    summary="Get the customer retention rate month by month",
    description=PERIOD + "\n\nFor each calendar month of the period (the first and the "
    "last cut at the period's ends): the retention rate CRR = ((E - N) / S) x 100 and its "
    "counts, exactly as `GET /v1/analytics/kpis` gives them for that month alone. "
    f"At most {MAX_MONTHS} months. Scope `admin`.",
    responses=error_responses(PeriodInvalid),
)
async def get_monthly_retention(
    from_: From, to: To, _admin: AdminKey, session: Session
) -> MonthlyRetentionRead:
    return await service.monthly_retention(session, from_, to)
