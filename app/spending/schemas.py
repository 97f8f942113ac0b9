from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.kit.schemas import JsonInteger
from app.ledger.schemas import BalanceSummary

Reference = Annotated[str, Field(min_length=1, max_length=100)]


class RedemptionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"points": 500, "order_id": "POS-3-000912"}]},
    )

    points: Annotated[int, Field(gt=0, le=1_000_000_000), JsonInteger]
    order_id: Reference | None = Field(
        default=None, description="At most one redemption per member and order."
    )
    reference: Reference | None = None


class RedemptionRead(BaseModel):
    id: UUID
    member_id: UUID
    points: int
    value_minor: int = Field(
        description="What the points pay, in minor units of the programme currency."
    )
    currency: str
    order_id: str | None
    reference: str | None
    status: str
    created_at: datetime
    balance: BalanceSummary


class AdjustmentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"points": 200, "reason": "Kulanz: late delivery"}]},
    )

    points: Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000), JsonInteger] = Field(
        description="Positive credits, negative debits; not 0."
    )
    reason: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _not_zero(self) -> Self:
        if self.points == 0:
            raise ValueError("points must not be 0")
        return self


class AdjustmentRead(BaseModel):
    id: UUID
    member_id: UUID
    points: int
    reason: str
    created_at: datetime
    balance: BalanceSummary
