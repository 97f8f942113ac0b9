from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]


def _known_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error
    return name


TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_known_timezone)]


class ReturnPolicy(StrEnum):
    """What a return does when the member already spent the points it reverses."""

    unlimited = "unlimited"  # the balance may go negative; later earnings pay it back first
    within_balance = "within_balance"  # reverse at most what is there; record the shortfall
    only_pending = "only_pending"  # reverse only points still pending; record the rest


class ProgramSettings(BaseModel):
    """The programme's rules. Every field has a default, so a new deployment runs at once."""

    model_config = ConfigDict(extra="forbid")

    currency: CurrencyCode = "EUR"
    points_per_currency_unit: Decimal = Field(
        default=Decimal(1),
        ge=0,
        le=10_000,
        decimal_places=4,
        description="Points earned per 1.00 of currency; may be fractional (0.1 = 1 point "
        "per 10.00). Points are rounded down per purchase.",
    )
    pending_days: int = Field(
        default=0,
        ge=0,
        le=365,
        description="Days earned points stay pending (the return window); 0 = available at once.",
    )
    points_expiry_months: int = Field(
        default=24,
        ge=0,
        le=120,
        description="Months after the purchase at whose local day's end points expire; 0 = never.",
    )
    point_value_minor: int = Field(
        default=1,
        ge=0,
        le=1_000_000,
        description="Value of one point in minor units when paying with points.",
    )
    timezone: TimeZoneName = Field(
        default="Europe/Berlin", description="IANA time zone for expiry and availability dates."
    )
    receipt_claim_days: int = Field(
        default=30, ge=1, le=365, description="Days a receipt without a member can be claimed."
    )
    return_policy: ReturnPolicy = ReturnPolicy.unlimited


class ProgramUpdate(BaseModel):
    """Fields given replace the current value; fields left out keep it."""

    model_config = ConfigDict(extra="forbid")

    currency: CurrencyCode | None = None
    points_per_currency_unit: Decimal | None = Field(
        default=None, ge=0, le=10_000, decimal_places=4
    )
    pending_days: int | None = Field(default=None, ge=0, le=365)
    points_expiry_months: int | None = Field(default=None, ge=0, le=120)
    point_value_minor: int | None = Field(default=None, ge=0, le=1_000_000)
    timezone: TimeZoneName | None = None
    receipt_claim_days: int | None = Field(default=None, ge=1, le=365)
    return_policy: ReturnPolicy | None = None
