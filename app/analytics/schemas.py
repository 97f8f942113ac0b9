from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.analytics.models import AbcClass, Interval

RATE = (
    'Percent with two decimal places as a decimal string ("66.67"), rounded half away '
    "from zero; null when the denominator is 0."
)


class PeriodRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", description="First local day of the period (inclusive).")
    to: date = Field(description="The local day the period ends at (exclusive).")
    timezone: str = Field(description="The programme's time zone the days are taken in.")
    starts_at: datetime = Field(description="The instant the period starts.")
    ends_at: datetime = Field(description="The instant the period ends (exclusive).")


class KpisRead(BaseModel):
    """The programme's figures for a period; see each field for its exact definition."""

    period: PeriodRead
    currency: str = Field(description="Revenue and money figures are in this currency.")
    retention_rate: Decimal | None = Field(
        description="Customer retention rate CRR = ((E - N) / S) x 100. " + RATE + " Can pass "
        "100 when customers who had lapsed for over a year come back (they are in E, and not "
        "new)."
    )
    customers_at_start: int = Field(
        description="S: members with a purchase in the 12 months before `from`."
    )
    customers_at_end: int = Field(
        description="E: members with a purchase in the 12 months before `to`."
    )
    new_customers: int = Field(
        description="N: members of E whose first purchase ever falls in the period."
    )
    repeat_purchase_rate: Decimal | None = Field(
        description="repeat_customers / active_members x 100. " + RATE
    )
    repeat_customers: int = Field(description="Members with at least 2 purchases in the period.")
    average_order_value: int | None = Field(
        description="revenue_minor / purchases in minor units, rounded half away from zero; "
        "net of returns; null without purchases."
    )
    purchases: int = Field(description="Members' purchases in the period.")
    revenue_minor: int = Field(
        description="Their totals less what was returned of them, in minor units."
    )
    active_members: int = Field(description="Members with at least 1 purchase in the period.")
    new_members: int = Field(
        description="Members enrolled in the period (duplicate records merged into another "
        "left out)."
    )
    points_issued: int = Field(
        description="Points given to members in the period: purchase points less those returns "
        "took back, bonuses (signup, birthday, profile, referral) and goodwill adjustments "
        "less correcting adjustments. Gifts and merges move points between members and are "
        "not issued."
    )
    points_adjusted: int = Field(
        description="The adjustments part of points_issued: goodwill credited (and debts "
        "written off when a member was erased) less correcting debits."
    )
    points_redeemed: int = Field(
        description="Points paid with or spent on vouchers in the period, less cancelled "
        "payments and vouchers given back."
    )
    points_expired: int = Field(
        description="Points that expired in the period or were forfeited when a member was "
        "erased, less expired points a return took back."
    )
    points_outstanding: int = Field(
        description="Points owed at the end of the period: every member's available plus "
        "pending balance at `to` (a negative balance counts as 0) plus the points in open gifts."
    )
    point_value_minor: int = Field(description="The programme's value of one point, now.")
    liability_minor: int = Field(description="points_outstanding x point_value_minor.")
    breakage_rate: Decimal | None = Field(
        description="points_expired / points_issued x 100, both of the period. " + RATE
    )


class AbcClassRead(BaseModel):
    abc_class: AbcClass = Field(alias="class")
    members: int
    revenue_minor: int
    revenue_share: Decimal | None = Field(description="Of the total revenue. " + RATE)
    member_share: Decimal | None = Field(description="Of the ranked members. " + RATE)

    model_config = ConfigDict(populate_by_name=True)


class AbcSummaryRead(BaseModel):
    period: PeriodRead
    currency: str
    a_share: int = Field(description="Percent of revenue class A reaches (abc_a_share).")
    b_share: int = Field(description="Percent of revenue of class B (abc_b_share).")
    members: int = Field(description="Members with revenue in the period (all ranked).")
    revenue_minor: int = Field(description="Their revenue, net of returns.")
    classes: list[AbcClassRead] = Field(description="A, B and C, each listed (0 when empty).")


class AbcMemberRead(BaseModel):
    member_id: UUID
    rank: int = Field(description="1 = most revenue in the period; ties by member id.")
    revenue_minor: int
    purchases: int
    revenue_share: Decimal | None = Field(description="Of the total revenue. " + RATE)
    cumulative_share: Decimal | None = Field(
        description="Of the total revenue, this member's and everyone ranked before. " + RATE
    )


class PointsBucketRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", description="First local day of the bucket (inclusive).")
    to: date = Field(description="The local day the bucket ends at (exclusive).")
    points_issued: int = Field(description="As the figures' points_issued, in this bucket.")
    points_adjusted: int = Field(description="The adjustments part of points_issued.")
    points_redeemed: int = Field(description="As the figures' points_redeemed, in this bucket.")
    points_expired: int = Field(description="As the figures' points_expired, in this bucket.")


class PointsFlowRead(BaseModel):
    """Points issued, redeemed and expired over time: the period cut into buckets."""

    period: PeriodRead
    interval: Interval = Field(description="The length of the buckets.")
    buckets: list[PointsBucketRead] = Field(
        description="Every bucket of the period in order, empty ones with 0; together they "
        "add up to the figures of the whole period."
    )


class TierMembersRead(BaseModel):
    tier_id: UUID
    name: str
    rank: int
    members: int = Field(description="Active members whose tier in force this is.")


class MembersByTierRead(BaseModel):
    """How many members hold each tier now."""

    as_of: datetime = Field(description="The moment the tiers in force were taken at.")
    members: int = Field(description="Active members, with a tier or without.")
    without_tier: int = Field(description="Active members with no tier in force.")
    tiers: list[TierMembersRead] = Field(
        description="Every tier of the ladder by rank, lowest first (0 when nobody holds it)."
    )


class MonthRetentionRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    month: date = Field(description="The first day of the calendar month.")
    from_: date = Field(
        alias="from", description="First local day counted (the month's, or the period's)."
    )
    to: date = Field(description="The local day counting ends at (exclusive).")
    retention_rate: Decimal | None = Field(
        description="CRR = ((E - N) / S) x 100 of this month alone, as the figures' "
        "retention_rate for the period `from` to `to`. " + RATE
    )
    customers_at_start: int = Field(description="S of this month.")
    customers_at_end: int = Field(description="E of this month.")
    new_customers: int = Field(description="N of this month.")


class MonthlyRetentionRead(BaseModel):
    """The customer retention rate of each calendar month of a period."""

    period: PeriodRead
    currency: str = Field(description="Purchases count in this currency.")
    months: list[MonthRetentionRead] = Field(
        description="Each calendar month of the period in order; the first and the last cut "
        "at the period's ends."
    )
