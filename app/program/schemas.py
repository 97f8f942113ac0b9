from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.kit.schemas import DecimalRange, JsonInteger, MinorUnits

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]


def _known_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error
    return name


class ReturnPolicy(StrEnum):
    """What a return does when the member already spent the points it reverses."""

    unlimited = "unlimited"  # the balance may go negative; later earnings pay it back first
    within_balance = "within_balance"  # reverse at most what is there; record the shortfall
    only_pending = "only_pending"  # reverse only points still pending; record the rest


class BirthdayBonusTiming(StrEnum):
    month = "month"  # on the first job run in the birthday month
    day = "day"  # on the birthday itself (28 February for 29 February in other years)


class QualifyingWindow(StrEnum):
    calendar_year = "calendar_year"
    rolling_12_months = "rolling_12_months"


# Each setting's type and limits, shared by the settings and by their partial update.
TimeZoneName = Annotated[
    str,
    Field(max_length=64, description="IANA time zone for all local dates and times."),
    AfterValidator(_known_timezone),
]
EarnRate = Annotated[
    Decimal,
    DecimalRange(0, 10_000, r"^(10000(\.0{1,4})?|(0|[1-9][0-9]{0,3})(\.[0-9]{1,4})?)$"),
    Field(
        description="Points per 1.00 of currency; may be fractional (0.1 = 1 point per 10.00): "
        '0 to 10000, at most 4 decimal places as a string ("0.1"); a number is rounded to 4 '
        "places.",
    ),
]
PendingDays = Annotated[
    int,
    Field(ge=0, le=365, description="Days purchase points stay pending (the return window)."),
    JsonInteger,
]
ExpiryMonths = Annotated[
    int,
    Field(
        ge=0,
        le=120,
        description="Months after the purchase at whose local day's end points expire; 0 = never.",
    ),
    JsonInteger,
]
ExpiryNoticeDays = Annotated[
    int,
    Field(
        ge=0,
        le=365,
        description="Days before a lot of points expires that `points.expiring_soon` is "
        "emitted for it (once per lot); 0 = no notices.",
    ),
    JsonInteger,
]
PointValue = Annotated[
    int, Field(ge=0, le=1_000_000, description="Value of one point in minor units."), JsonInteger
]
ClaimDays = Annotated[
    int,
    Field(ge=1, le=365, description="Days a receipt without a member can be claimed."),
    JsonInteger,
]
Codes = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=200)]
BonusPoints = Annotated[int, Field(ge=0, le=1_000_000), JsonInteger]
GiftDays = Annotated[
    int,
    Field(ge=1, le=365, description="Days a gift code can be claimed before it expires."),
    JsonInteger,
]
GiftPoints = Annotated[int, Field(ge=1, le=10_000_000), JsonInteger]
Limit = Annotated[int, Field(ge=0, le=10_000_000, description="0 = no limit."), JsonInteger]
GraceDays = Annotated[
    int,
    Field(ge=0, le=365, description="Days after a tier review date before a downgrade applies."),
    JsonInteger,
]
AbcAShare = Annotated[
    int,
    Field(
        ge=1,
        le=100,
        description="Percent of revenue that class A reaches: A is the smallest set of top "
        "members (by revenue) whose revenue together reaches this share.",
    ),
    JsonInteger,
]
AbcBShare = Annotated[
    int,
    Field(
        ge=0,
        le=99,
        description="Percent of revenue of class B, the members after A until A and B "
        "together reach abc_a_share + abc_b_share; the rest is C.",
    ),
    JsonInteger,
]


class ProgramSettings(BaseModel):
    """The programme's rules. Every field has a default, so a new deployment runs at once."""

    model_config = ConfigDict(extra="forbid")

    currency: CurrencyCode = "EUR"
    points_per_currency_unit: EarnRate = Decimal(1)
    pending_days: PendingDays = 0
    points_expiry_months: ExpiryMonths = 24
    expiry_notice_days: ExpiryNoticeDays = 30
    point_value_minor: PointValue = 1
    timezone: TimeZoneName = "Europe/Berlin"
    receipt_claim_days: ClaimDays = 30
    return_policy: ReturnPolicy = ReturnPolicy.unlimited
    excluded_categories: Codes = Field(
        default_factory=list, description="Item categories that earn nothing (gift cards, ...)."
    )
    excluded_skus: Codes = Field(default_factory=list, description="SKUs that earn nothing.")
    signup_bonus: BonusPoints = 0
    birthday_bonus: BonusPoints = 0
    birthday_bonus_timing: BirthdayBonusTiming = BirthdayBonusTiming.month
    profile_completion_bonus: BonusPoints = Field(
        default=0, description="Once, when a member has e-mail, name and birthdate."
    )
    tier_qualifying_window: QualifyingWindow = QualifyingWindow.calendar_year
    tier_downgrade_grace_days: GraceDays = 0
    gift_expiry_days: GiftDays = 30
    gift_min_points: GiftPoints = Field(default=1, description="Fewest points one gift may hold.")
    gift_max_points: GiftPoints = Field(
        default=10_000, description="Most points one gift may hold."
    )
    gift_max_open_per_member: Limit = Field(
        default=5, description="Unclaimed gifts a member may have at once; 0 = no limit."
    )
    gift_max_points_per_month: Limit = Field(
        default=0,
        description="Points a member may give away in a local calendar month (gifts not "
        "cancelled or expired); 0 = no limit.",
    )
    referral_bonus_referrer: BonusPoints = Field(
        default=0, description="Points for the member who recommended us."
    )
    referral_bonus_referee: BonusPoints = Field(
        default=0, description="Points for the new member who came on a recommendation."
    )
    referral_min_purchase_total: MinorUnits = Field(
        default=0, description="Minor units the referee's first qualifying purchase must reach."
    )
    referral_max_per_referrer_per_month: Limit = Field(
        default=0,
        description="Referral bonuses one referrer gets in a local calendar month; 0 = no limit.",
    )
    abc_a_share: AbcAShare = 80
    abc_b_share: AbcBShare = 15

    @model_validator(mode="after")
    def _gift_limits_in_order(self) -> Self:
        if self.gift_min_points > self.gift_max_points:
            raise ValueError("gift_min_points must not be more than gift_max_points")
        return self

    @model_validator(mode="after")
    def _abc_shares_add_up(self) -> Self:
        if self.abc_a_share + self.abc_b_share > 100:
            raise ValueError("abc_a_share + abc_b_share must not be more than 100")
        return self


class ProgramUpdate(BaseModel):
    """Fields given replace the current value; fields left out (or ``null``) keep it."""

    model_config = ConfigDict(extra="forbid")

    currency: CurrencyCode | None = None
    points_per_currency_unit: EarnRate | None = None
    pending_days: PendingDays | None = None
    points_expiry_months: ExpiryMonths | None = None
    expiry_notice_days: ExpiryNoticeDays | None = None
    point_value_minor: PointValue | None = None
    timezone: TimeZoneName | None = None
    receipt_claim_days: ClaimDays | None = None
    return_policy: ReturnPolicy | None = None
    excluded_categories: Codes | None = None
    excluded_skus: Codes | None = None
    signup_bonus: BonusPoints | None = None
    birthday_bonus: BonusPoints | None = None
    birthday_bonus_timing: BirthdayBonusTiming | None = None
    profile_completion_bonus: BonusPoints | None = None
    tier_qualifying_window: QualifyingWindow | None = None
    tier_downgrade_grace_days: GraceDays | None = None
    gift_expiry_days: GiftDays | None = None
    gift_min_points: GiftPoints | None = None
    gift_max_points: GiftPoints | None = None
    gift_max_open_per_member: Limit | None = None
    gift_max_points_per_month: Limit | None = None
    referral_bonus_referrer: BonusPoints | None = None
    referral_bonus_referee: BonusPoints | None = None
    referral_min_purchase_total: MinorUnits | None = None
    referral_max_per_referrer_per_month: Limit | None = None
    abc_a_share: AbcAShare | None = None
    abc_b_share: AbcBShare | None = None
