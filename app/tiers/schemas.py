from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.kit.schemas import DecimalRange, Instant, JsonInteger, Omittable, Uuid

TierName = Annotated[str, Field(min_length=1, max_length=100, examples=["Gold"])]
Rank = Annotated[
    int,
    Field(ge=0, le=1_000, description="Order of the tiers: higher is better; unique."),
    JsonInteger,
]
Threshold = Annotated[
    int,
    Field(
        ge=0,
        le=1_000_000_000,
        description="Qualifying points that reach the tier; must rise with the rank.",
    ),
    JsonInteger,
]
Multiplier = Annotated[
    Decimal,
    DecimalRange(1, 100, r"^(100(\.0{1,4})?|[1-9][0-9]?(\.[0-9]{1,4})?)$"),
    Field(
        description="Multiplies a purchase's base points (1.5 = 50 % extra): 1 to 100, at "
        'most 4 decimal places as a string ("1.5"); a number is rounded to 4 places.',
    ),
]
Benefits = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]],
    Field(max_length=50, description="What the tier offers, as shown to members."),
]


class TierCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Gold",
                    "rank": 2,
                    "threshold": 2000,
                    "multiplier": "1.5",
                    "benefits": ["Free delivery", "Birthday coffee"],
                }
            ]
        },
    )

    name: TierName
    rank: Rank
    threshold: Threshold
    multiplier: Multiplier = Decimal(1)
    benefits: Benefits = Field(default_factory=list)


class TierUpdate(BaseModel):
    """Fields given replace the current value; fields left out keep it (none is nullable)."""

    model_config = ConfigDict(extra="forbid")

    name: Omittable[TierName] = None
    rank: Omittable[Rank] = None
    threshold: Omittable[Threshold] = None
    multiplier: Omittable[Multiplier] = None
    benefits: Omittable[Benefits] = None


class TierSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    rank: int
    threshold: int
    multiplier: Decimal
    benefits: list[str]


class TierRead(TierSummary):
    created_at: datetime
    updated_at: datetime


class TierSource(StrEnum):
    earned = "earned"  # reached by qualifying points
    manual = "manual"  # given by hand (VIP invitation) until its end date


class ManualTierRead(BaseModel):
    tier: TierSummary
    until: datetime


class MemberTierRead(BaseModel):
    member_id: UUID
    tier: TierSummary | None = Field(
        description="The tier in force: the manual tier while it lasts, else the earned one."
    )
    source: TierSource | None
    qualifying_points: int = Field(
        description="Points from purchases (returns subtracted) in the current qualifying window."
    )
    qualifying_since: datetime = Field(description="Start of the current qualifying window.")
    next_tier: TierSummary | None
    points_to_next_tier: int | None
    tier_expires_at: datetime | None = Field(
        description="Until when the tier is secured: the manual tier's end while it is in "
        "force, else the earned tier's review date (a downgrade may follow after the grace "
        "period)."
    )
    manual_tier: ManualTierRead | None = Field(description="The manual tier while in force.")


class ManualTierAssign(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "tier_id": "01936b2e-6f1c-7c3a-9d2e-4b5a6c7d8e9f",
                    "until": "2027-06-30T23:59:59+02:00",
                    "reason": "VIP evening invitation",
                }
            ]
        },
    )

    tier_id: Uuid
    until: Instant = Field(description="When the manual tier ends; in the future.")
    reason: str | None = Field(default=None, min_length=1, max_length=200)


class TierChangeRead(BaseModel):
    id: UUID
    from_tier_id: UUID | None
    from_tier: str | None = Field(description="The tier's current name; null for no tier.")
    to_tier_id: UUID | None
    to_tier: str | None
    reason: str = Field(
        description="upgrade | downgrade | review_kept | manual | manual_ended",
        examples=["upgrade"],
    )
    qualifying_points: int
    note: str | None
    created_at: datetime
