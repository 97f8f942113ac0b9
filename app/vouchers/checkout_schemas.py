"""Checkout with a voucher: validate, reserve, redeem, release, roll back."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.earning.schemas import Channel, LineItem
from app.kit.schemas import JsonInteger, MinorUnits, Uuid
from app.program.schemas import CurrencyCode
from app.vouchers.discount import Item, Order, Reason

OrderId = Annotated[str, Field(min_length=1, max_length=100)]


class _OrderFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total: MinorUnits
    currency: CurrencyCode
    items: list[LineItem] = Field(
        default_factory=list,
        max_length=500,
        description="Needed for vouchers limited to categories and for free products.",
    )
    channel: Channel | None = Field(
        default=None, description="Needed for vouchers limited to channels."
    )

    def order(self) -> Order:
        return Order(
            total=self.total,
            currency=self.currency,
            channel=self.channel.value if self.channel is not None else None,
            items=tuple(
                Item(item.sku, item.quantity, item.unit_price, item.category) for item in self.items
            ),
        )


class VoucherValidate(_OrderFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "total": 4590,
                    "currency": "EUR",
                    "channel": "web",
                    "items": [
                        {
                            "sku": "COFFEE-1KG",
                            "category": "coffee",
                            "quantity": 2,
                            "unit_price": 1800,
                        }
                    ],
                }
            ]
        },
    )

    order_id: OrderId | None = Field(
        default=None,
        description="The checkout's order: a voucher it reserved is valid for it.",
    )


class VoucherValidation(BaseModel):
    valid: bool
    discount: int = Field(description="Minor units off; 0 when not valid.")
    reason: Reason | None = Field(default=None, description="Why the voucher is not valid.")


class VoucherReservationCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"order_id": "WEB-2026-000481"}]}
    )

    order_id: OrderId
    ttl_seconds: Annotated[int, Field(ge=1), JsonInteger] | None = Field(
        default=None,
        description="How long to hold the voucher (default 15 minutes; longer than the "
        "configured maximum is cut to it). The same order reserving again extends it.",
    )


class VoucherReservationRead(BaseModel):
    reservation_id: UUID
    order_id: str
    expires_at: datetime


class VoucherRedeem(_OrderFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"order_id": "WEB-2026-000481", "total": 4590, "currency": "EUR"}]
        },
    )

    order_id: OrderId
    reservation_id: Uuid | None = Field(
        default=None, description="The reservation this checkout holds, if any."
    )


class VoucherRedemptionRead(BaseModel):
    redemption_id: UUID
    order_id: str
    discount: int
    total: int
    currency: str
    created_at: datetime


class VoucherReservationRelease(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reservation_id: Uuid


class VoucherRedemptionRollback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    redemption_id: Uuid


class VoucherCheckoutState(BaseModel):
    """Where a voucher stands after a release or a rollback."""

    status: str
    expires_at: datetime
    reserved_until: datetime | None = None
