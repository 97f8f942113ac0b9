"""The rewards catalogue: what a member buys with points, and the voucher it issues."""

from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from app.kit.schemas import Instant, JsonInteger, MinorUnits, Omittable, Uuid
from app.vouchers.models import VoucherKind
from app.vouchers.schemas import Categories, Channels, Discount, Label, ValidDays, VoucherTerms

Name = Annotated[str, Field(min_length=1, max_length=100)]
CostPoints = Annotated[int, Field(ge=1, le=100_000_000), JsonInteger]
Stock = Annotated[int, Field(ge=0, le=1_000_000_000), JsonInteger]
TierIds = Annotated[list[Uuid], Field(max_length=50)]


class RewardFields(VoucherTerms):
    """A catalogue entry; ``kind`` … ``categories`` are the terms of the voucher it issues."""

    name: Name
    description: str | None = Field(default=None, max_length=2000)
    cost_points: CostPoints
    active: StrictBool = True
    starts_at: Instant | None = None
    ends_at: Instant | None = Field(default=None, description="Exclusive.")
    stock: Stock | None = Field(default=None, description="Vouchers left to issue; null: no limit.")
    tier_ids: TierIds = Field(default_factory=list, description="Empty: members of every tier.")

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.starts_at and self.ends_at and self.starts_at >= self.ends_at:
            raise ValueError("starts_at must be before ends_at")
        return self


class RewardCreate(RewardFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "5 € off",
                    "cost_points": 500,
                    "kind": "amount",
                    "value": 500,
                    "min_order_total": 2000,
                    "valid_days": 90,
                },
                {
                    "name": "Free espresso cup",
                    "cost_points": 1200,
                    "kind": "product",
                    "sku": "CUP-ESPRESSO",
                    "valid_days": 30,
                    "stock": 200,
                },
            ]
        },
    )


class RewardUpdate(BaseModel):
    """Fields given replace the current value; ``null`` clears the nullable ones (a list is
    emptied with ``[]``)."""

    model_config = ConfigDict(extra="forbid")

    name: Omittable[Name] = None
    description: str | None = Field(default=None, max_length=2000)
    cost_points: Omittable[CostPoints] = None
    active: Omittable[StrictBool] = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    stock: Stock | None = None
    tier_ids: Omittable[TierIds] = None
    kind: Omittable[VoucherKind] = None
    value: Discount | None = None
    sku: Label | None = None
    min_order_total: MinorUnits | None = None
    max_discount: Discount | None = None
    valid_days: Omittable[ValidDays] = None
    channels: Omittable[Channels] = None
    categories: Omittable[Categories] = None


class RewardRead(RewardFields):
    id: UUID
    created_at: datetime
    updated_at: datetime
