"""Vouchers as clients see them: the terms a voucher carries, issuing, bulk batches, reads.

A voucher's code is a bearer secret: it appears in the one response that creates it and
nowhere else; every other view shows its last four symbols.
"""

from datetime import datetime
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.earning.schemas import Channel
from app.kit.schemas import JsonInteger, MinorUnits, Uuid
from app.ledger.schemas import BalanceSummary
from app.vouchers.models import VoucherKind, VoucherStatus

BASIS_POINTS = 10_000
MAX_BATCH = 100_000
Label = Annotated[str, Field(min_length=1, max_length=64)]
# The terms' types, shared by a reward's partial update.
Discount = Annotated[int, Field(ge=1, le=100_000_000_000), JsonInteger]
ValidDays = Annotated[int, Field(ge=1, le=3650), JsonInteger]
Channels = Annotated[list[Channel], Field(max_length=3)]
Categories = Annotated[list[Label], Field(max_length=100)]


class VoucherTerms(BaseModel):
    """What a voucher gives and where it applies; shared by rewards and bulk templates."""

    model_config = ConfigDict(extra="forbid")

    kind: VoucherKind
    value: Discount | None = Field(
        default=None,
        description="amount: minor units off; percent: basis points off (1000 = 10 %, "
        "at most 10000); product: not used.",
    )
    sku: Label | None = Field(default=None, description="product: the item given free.")
    min_order_total: MinorUnits | None = Field(
        default=None, description="Minor units the order must reach."
    )
    max_discount: Discount | None = Field(
        default=None, description="percent: the most it takes off."
    )
    valid_days: ValidDays = Field(
        description="Valid until the end of the local day this many days on."
    )
    channels: Channels = Field(default_factory=list, description="Empty: every channel.")
    categories: Categories = Field(default_factory=list, description="Empty: the whole order.")

    @model_validator(mode="after")
    def _consistent_with_kind(self) -> Self:
        if self.kind == VoucherKind.amount:
            if self.value is None:
                raise ValueError("an amount voucher needs value (minor units, more than 0)")
        elif self.kind == VoucherKind.percent:
            if self.value is None or self.value > BASIS_POINTS:
                raise ValueError("a percent voucher needs value in basis points, 1 to 10000")
        elif self.sku is None:
            raise ValueError("a product voucher needs sku")
        if self.kind != VoucherKind.product and self.sku is not None:
            raise ValueError("only a product voucher takes sku")
        if self.kind == VoucherKind.product and self.value is not None:
            raise ValueError("a product voucher takes no value")
        if self.kind != VoucherKind.percent and self.max_discount is not None:
            raise ValueError("only a percent voucher takes max_discount")
        return self


class VoucherIssue(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reward_id": "0193c2a4-5b6e-7c8d-9e0f-1a2b3c4d5e6f"}]},
    )

    reward_id: Uuid


class VoucherRead(BaseModel):
    """A voucher without its code: the last four symbols identify it to a person."""

    id: UUID
    code_last4: str = Field(description="The last four symbols of the code.")
    status: VoucherStatus = Field(description="An active voucher past its expiry shows expired.")
    kind: VoucherKind
    value: int | None
    sku: str | None
    min_order_total: int | None
    max_discount: int | None
    channels: list[str]
    categories: list[str]
    currency: str
    valid_from: datetime
    expires_at: datetime
    member_id: UUID | None = Field(description="The owner; null for campaign vouchers.")
    reward_id: UUID | None
    batch_id: UUID | None
    created_at: datetime


class VoucherHistoryRead(BaseModel):
    """One state change of a voucher."""

    id: UUID
    action: str = Field(
        description="issued, reserved, reservation_extended, released, reservation_expired, "
        "redeemed, rolled_back or expired."
    )
    order_id: str | None
    data: dict[str, Any] = Field(description="Details of the change, such as `redemption_id`.")
    created_at: datetime


class VoucherIssued(VoucherRead):
    code: str | None = Field(
        description="The bearer code, shown in this response only (null in idempotent replays)."
    )
    points_spent: int
    balance: BalanceSummary


class VoucherBatchCreate(BaseModel):
    """Campaign vouchers: ``count`` codes with the terms of ``template`` or of a reward."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"template": {"kind": "amount", "value": 500, "valid_days": 30}, "count": 1000},
                {"reward_id": "0193c2a4-5b6e-7c8d-9e0f-1a2b3c4d5e6f", "count": 50},
            ]
        },
    )

    template: VoucherTerms | None = None
    reward_id: Uuid | None = Field(default=None, description="Copy this reward's voucher terms.")
    count: Annotated[int, Field(ge=1, le=MAX_BATCH), JsonInteger]

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.template is None) == (self.reward_id is None):
            raise ValueError("give either template or reward_id")
        return self


class VoucherBatchRead(BaseModel):
    batch_id: UUID
    count: int
    kind: VoucherKind
    value: int | None
    currency: str
    valid_from: datetime
    expires_at: datetime
    codes: list[str] = Field(
        description="The bearer codes, shown in this response only (empty in idempotent "
        "replays): store them now."
    )
