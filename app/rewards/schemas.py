"""The rewards catalogue: what a member buys with points, and the voucher it issues."""

from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from app.earning.schemas import Channel
from app.vouchers.models import VoucherKind
from app.vouchers.schemas import Label, MinorAmount, VoucherTerms

CostPoints = Annotated[int, Field(ge=1, le=100_000_000)]


class RewardFields(VoucherTerms):
    """A catalogue entry; ``kind`` … ``categories`` are the terms of the voucher it issues."""

    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    cost_points: CostPoints
    active: bool = True
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = Field(default=None, description="Exclusive.")
    stock: int | None = Field(
        default=None, ge=0, le=1_000_000_000, description="Vouchers left to issue; null: no limit."
    )
    tier_ids: list[UUID] = Field(
        default_factory=list, max_length=50, description="Empty: members of every tier."
    )

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
    """Fields given replace the current value (``null`` clears an optional one)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    cost_points: CostPoints | None = None
    active: bool | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    stock: int | None = Field(default=None, ge=0, le=1_000_000_000)
    tier_ids: list[UUID] | None = Field(default=None, max_length=50)
    kind: VoucherKind | None = None
    value: int | None = Field(default=None, ge=1, le=100_000_000_000)
    sku: Label | None = None
    min_order_total: MinorAmount | None = None
    max_discount: int | None = Field(default=None, ge=1, le=100_000_000_000)
    valid_days: int | None = Field(default=None, ge=1, le=3650)
    channels: list[Channel] | None = Field(default=None, max_length=3)
    categories: list[Label] | None = Field(default=None, max_length=100)


class RewardRead(RewardFields):
    id: UUID
    created_at: datetime
    updated_at: datetime
