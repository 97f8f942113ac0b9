import re
from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NaiveDatetime,
    StrictBool,
    WithJsonSchema,
    model_validator,
)

from app.analytics.models import AbcClass
from app.campaigns.models import CampaignKind
from app.earning.schemas import Channel
from app.kit.schemas import JsonInteger, MinorUnits, Omittable, Uuid, text_in
from app.tiers.schemas import Multiplier

Name = Annotated[str, Field(min_length=1, max_length=100)]
Label = Annotated[str, Field(min_length=1, max_length=64)]
Points = Annotated[int, Field(ge=1, le=1_000_000), JsonInteger]
PointsCap = Annotated[int, Field(ge=0, le=1_000_000), JsonInteger]
# Lists a campaign is limited by; empty: no limit.
Categories = Annotated[list[Label], Field(max_length=100)]
Skus = Annotated[list[Label], Field(max_length=1000)]
Weekdays = Annotated[
    list[Annotated[int, Field(ge=1, le=7), JsonInteger]],
    Field(max_length=7, description="ISO weekdays: 1 = Monday ... 7 = Sunday."),
]
Channels = Annotated[list[Channel], Field(max_length=3)]
StoreIds = Annotated[list[Label], Field(max_length=1000)]
TierIds = Annotated[list[Uuid], Field(max_length=50)]
AbcClasses = Annotated[
    list[AbcClass],
    Field(
        max_length=3,
        description="Only members currently in one of these ABC classes (by revenue over the "
        "trailing 12 months, as the daily classification job last stored them; members "
        "without revenue in that window have no class).",
    ),
]

# A calendar date and a time of day to the second, without an offset. Day 29 to 31 of a
# shorter month passes the pattern and is refused as no date.
_LOCAL_TIME = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
)

LocalTime = Annotated[
    NaiveDatetime,
    text_in(
        re.compile(_LOCAL_TIME),
        datetime,
        "a local time to the second, no offset: 2026-12-24T18:00:00",
    ),
    # Not `format: date-time`: RFC 3339 requires an offset, and a campaign's times have none.
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _LOCAL_TIME,
            "examples": ["2026-12-24T18:00:00"],
            "description": "Wall-clock time in the programme's time zone, to the second and "
            "without an offset: a campaign follows the shop's clock across the changes to "
            "and from daylight saving time, which a time with an offset would not.",
        }
    ),
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

    name: Name
    kind: CampaignKind
    active: StrictBool = True
    multiplier: Multiplier | None = Field(
        default=None, description="For multiplier and category_multiplier: 2 = double points."
    )
    points: Points | None = Field(
        default=None,
        description="For bonus_points and per_visit: points per purchase; sku_bonus: per unit.",
    )
    categories: Categories = Field(default_factory=list)
    skus: Skus = Field(default_factory=list)
    starts_at: LocalTime | None = None
    ends_at: LocalTime | None = Field(default=None, description="Exclusive.")
    weekdays: Weekdays = Field(default_factory=list)
    channels: Channels = Field(default_factory=list)
    store_ids: StoreIds = Field(default_factory=list)
    min_total: MinorUnits | None = Field(default=None, description="Minor units.")
    tier_ids: TierIds = Field(default_factory=list)
    segment: Label | None = Field(
        default=None, description="Only members flagged with this segment (exclusive offers)."
    )
    abc_classes: AbcClasses = Field(default_factory=list)
    combinable: StrictBool = Field(
        default=True,
        description="False: of the non-combinable campaigns that apply, only the best counts.",
    )
    max_points_per_purchase: PointsCap | None = None

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
    """Fields given replace the current value; ``null`` clears the nullable ones (a list is
    emptied with ``[]``)."""

    model_config = ConfigDict(extra="forbid")

    name: Omittable[Name] = None
    kind: Omittable[CampaignKind] = None
    active: Omittable[StrictBool] = None
    multiplier: Multiplier | None = None
    points: Points | None = None
    categories: Omittable[Categories] = None
    skus: Omittable[Skus] = None
    starts_at: LocalTime | None = None
    ends_at: LocalTime | None = None
    weekdays: Omittable[Weekdays] = None
    channels: Omittable[Channels] = None
    store_ids: Omittable[StoreIds] = None
    min_total: MinorUnits | None = None
    tier_ids: Omittable[TierIds] = None
    segment: Label | None = None
    abc_classes: Omittable[AbcClasses] = None
    combinable: Omittable[StrictBool] = None
    max_points_per_purchase: PointsCap | None = None


class CampaignRead(CampaignFields):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    created_at: datetime
    updated_at: datetime
