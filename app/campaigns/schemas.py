from datetime import datetime
from decimal import Decimal
from typing import Annotated, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, NaiveDatetime, model_validator

from app.analytics.models import AbcClass
from app.campaigns.models import CampaignKind
from app.earning.schemas import Channel

Multiplier = Annotated[Decimal, Field(ge=1, le=100, decimal_places=4)]
Label = Annotated[str, Field(min_length=1, max_length=64)]


def _whole_second(value: datetime) -> datetime:
    # Stored to the second: a fraction would be cut off, moving the window's edge.
    if value.microsecond:
        raise ValueError("give the time to the second, without a fraction")
    return value


LocalTime = Annotated[
    NaiveDatetime,
    AfterValidator(_whole_second),
    Field(description="Wall-clock time in the programme's time zone, without an offset."),
]

_NEEDS = {
    CampaignKind.multiplier: ("multiplier",),
    CampaignKind.category_multiplier: ("multiplier", "categories"),
    CampaignKind.bonus_points: ("points",),
    CampaignKind.per_visit: ("points",),
    CampaignKind.sku_bonus: ("points", "skus"),
}


class CampaignFields(BaseModel):
    """What a campaign gives and when it applies; every condition left empty always holds."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kind: CampaignKind
    active: bool = True
    multiplier: Multiplier | None = Field(
        default=None, description="For multiplier and category_multiplier: 2 = double points."
    )
    points: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="For bonus_points and per_visit: points per purchase; sku_bonus: per unit.",
    )
    categories: list[Label] = Field(default_factory=list, max_length=100)
    skus: list[Label] = Field(default_factory=list, max_length=1000)
    starts_at: LocalTime | None = None
    ends_at: LocalTime | None = Field(default=None, description="Exclusive.")
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        default_factory=list, max_length=7, description="ISO weekdays: 1 = Monday ... 7 = Sunday."
    )
    channels: list[Channel] = Field(default_factory=list, max_length=3)
    store_ids: list[Label] = Field(default_factory=list, max_length=1000)
    min_total: int | None = Field(default=None, ge=0, description="Minor units.")
    tier_ids: list[UUID] = Field(default_factory=list, max_length=50)
    segment: Label | None = Field(
        default=None, description="Only members flagged with this segment (exclusive offers)."
    )
    abc_classes: list[AbcClass] = Field(
        default_factory=list,
        max_length=3,
        description="Only members currently in one of these ABC classes (by revenue over the "
        "trailing 12 months, as the daily classification job last stored them; members "
        "without revenue in that window have no class).",
    )
    combinable: bool = Field(
        default=True,
        description="False: of the non-combinable campaigns that apply, only the best counts.",
    )
    max_points_per_purchase: int | None = Field(default=None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        missing = [name for name in _NEEDS[self.kind] if not getattr(self, name)]
        if missing:
            raise ValueError(f"a {self.kind.value} campaign needs {' and '.join(missing)}")
        if self.starts_at and self.ends_at and self.starts_at >= self.ends_at:
            raise ValueError("starts_at must be before ends_at")
        return self


class CampaignCreate(CampaignFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Double points weekend",
                    "kind": "multiplier",
                    "multiplier": "2",
                    "weekdays": [6, 7],
                },
                {
                    "name": "Coffee stamp card",
                    "kind": "per_visit",
                    "points": 1,
                    "channels": ["pos"],
                },
            ]
        },
    )


class CampaignUpdate(BaseModel):
    """Fields given replace the current value (``null`` clears an optional one)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: CampaignKind | None = None
    active: bool | None = None
    multiplier: Multiplier | None = None
    points: int | None = Field(default=None, ge=1, le=1_000_000)
    categories: list[Label] | None = Field(default=None, max_length=100)
    skus: list[Label] | None = Field(default=None, max_length=1000)
    starts_at: LocalTime | None = None
    ends_at: LocalTime | None = None
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] | None = Field(default=None, max_length=7)
    channels: list[Channel] | None = Field(default=None, max_length=3)
    store_ids: list[Label] | None = Field(default=None, max_length=1000)
    min_total: int | None = Field(default=None, ge=0)
    tier_ids: list[UUID] | None = Field(default=None, max_length=50)
    segment: Label | None = None
    abc_classes: list[AbcClass] | None = Field(default=None, max_length=3)
    combinable: bool | None = None
    max_points_per_purchase: int | None = Field(default=None, ge=0, le=1_000_000)


class CampaignRead(CampaignFields):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    created_at: datetime
    updated_at: datetime
