from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.kit.schemas import Instant, JsonInteger, MinorUnits, Uuid
from app.ledger.schemas import BalanceSummary
from app.members.schemas import CardNumber
from app.program.schemas import CurrencyCode

Sku = Annotated[str, Field(min_length=1, max_length=64)]
Quantity = Annotated[int, Field(gt=0, le=100_000), JsonInteger]


class Channel(StrEnum):
    pos = "pos"
    web = "web"
    app = "app"


class LineItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    category: str | None = Field(default=None, max_length=64)
    quantity: Quantity
    unit_price: MinorUnits


class PurchaseCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "card_number": "2712345678901236",
                    "order_id": "POS-3-000912",
                    "channel": "pos",
                    "store_id": "berlin-mitte",
                    "currency": "EUR",
                    "total": 4590,
                    "items": [
                        {
                            "sku": "COFFEE-1KG",
                            "category": "coffee",
                            "quantity": 2,
                            "unit_price": 1800,
                        },
                        {"sku": "MUG", "category": "merch", "quantity": 1, "unit_price": 990},
                    ],
                }
            ]
        },
    )

    member_id: Uuid | None = None
    card_number: CardNumber | None = None
    order_id: str = Field(min_length=1, max_length=100)
    channel: Channel
    store_id: str | None = Field(default=None, max_length=100)
    currency: CurrencyCode
    total: MinorUnits
    items: list[LineItem] = Field(default_factory=list, max_length=500)
    occurred_at: Instant | None = Field(
        default=None,
        description="When the sale happened (default: now); dates are counted from it.",
    )

    @model_validator(mode="after")
    def _one_member_reference(self) -> Self:
        if self.member_id is not None and self.card_number is not None:
            raise ValueError("give member_id or card_number, not both")
        return self


class BreakdownLine(BaseModel):
    """What one rule added to the purchase's points (the lines sum to ``points_earned``)."""

    model_config = ConfigDict(from_attributes=True)

    rule: str = Field(description="`base`, `tier` or `campaign`.")
    name: str
    points: int
    campaign_id: UUID | None = None
    kind: str | None = Field(default=None, description="The campaign's kind.")


class QuoteRead(BaseModel):
    member_id: UUID | None
    points: int = Field(description="What the purchase would earn now.")
    breakdown: list[BreakdownLine]
    tier: str | None = Field(description="The tier whose multiplier applies, if any.")


class PurchaseRead(BaseModel):
    id: UUID
    member_id: UUID | None
    order_id: str
    total: int
    currency: str
    points_earned: int
    breakdown: list[BreakdownLine] = Field(description="Which rules applied and what each gave.")
    points_pending: int = Field(description="Of points_earned, how many are pending.")
    available_at: datetime | None
    expires_at: datetime | None
    claim_code: str | None = Field(
        default=None,
        description="For a purchase without a member: print it on the receipt. Shown only in "
        "this response (null in an idempotent replay of it): only its HMAC is stored.",
    )
    claim_expires_at: datetime | None = None
    balance: BalanceSummary | None
    created_at: datetime


class ReceiptClaim(BaseModel):
    model_config = ConfigDict(extra="forbid")

    claim_code: str = Field(min_length=1, max_length=40)
    member_id: Uuid


class ReceiptClaimed(BaseModel):
    purchase_id: UUID
    member_id: UUID
    points: int
    available_at: datetime | None
    balance: BalanceSummary


class ReturnedItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: Quantity


class PurchaseReturnCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"items": [{"sku": "MUG", "quantity": 1}]}, {"amount": 990}]
        },
    )

    items: list[ReturnedItem] | None = Field(default=None, min_length=1, max_length=500)
    amount: Annotated[int, Field(gt=0, le=100_000_000_000), JsonInteger] | None = None

    @model_validator(mode="after")
    def _items_or_amount(self) -> Self:
        if (self.items is None) == (self.amount is None):
            raise ValueError("give either items or amount")
        return self


class PurchaseReturnRead(BaseModel):
    id: UUID
    purchase_id: UUID
    amount: int = Field(description="The returned amount in minor units.")
    points_reversed: int
    shortfall: int = Field(
        description="Points that could not be taken back under the return policy."
    )
    balance: BalanceSummary | None
    created_at: datetime
