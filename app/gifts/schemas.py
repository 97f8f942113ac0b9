from datetime import datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.gifts.models import GiftStatus
from app.kit.schemas import JsonInteger, Uuid
from app.ledger.schemas import BalanceSummary
from app.members.schemas import MemberCreate
from app.vouchers.models import VoucherKind


class GiftCreate(BaseModel):
    """Points, or a reward bought with points, passed on by a code."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"points": 500, "message": "Happy birthday!", "recipient_hint": "Ben"},
                {"reward_id": "0193c2a4-5b6e-7c8d-9e0f-1a2b3c4d5e6f"},
            ]
        },
    )

    points: Annotated[int, Field(ge=1, le=10_000_000), JsonInteger] | None = None
    reward_id: Uuid | None = None
    message: str | None = Field(default=None, max_length=500)
    recipient_hint: str | None = Field(
        default=None, max_length=200, description="Who it is for, for the sender's own list."
    )

    @model_validator(mode="after")
    def _points_or_reward(self) -> Self:
        if (self.points is None) == (self.reward_id is None):
            raise ValueError("give either points or reward_id")
        return self


class GiftVoucher(BaseModel):
    """What the voucher in a gift is worth; its code goes to whoever claims the gift."""

    id: UUID
    kind: VoucherKind
    value: int | None
    sku: str | None
    min_order_total: int | None
    max_discount: int | None
    currency: str
    reward_id: UUID | None


class GiftCreated(BaseModel):
    id: UUID
    code: str | None = Field(
        description="The gift code, shown in this response only (null in idempotent replays)."
    )
    code_last4: str
    status: GiftStatus
    points: int | None
    voucher: GiftVoucher | None
    message: str | None
    recipient_hint: str | None
    expires_at: datetime
    created_at: datetime
    balance: BalanceSummary = Field(description="The sender's balance afterwards.")


class GiftRead(BaseModel):
    """A gift as its holder sees it: no personal data of the sender beyond the first name."""

    status: GiftStatus = Field(description="An open gift past its expiry shows expired.")
    code_last4: str
    points: int | None
    voucher: GiftVoucher | None
    sender_first_name: str | None
    message: str | None
    expires_at: datetime
    created_at: datetime


class GiftSummary(BaseModel):
    """A gift in its sender's list."""

    id: UUID
    code_last4: str
    status: GiftStatus
    points: int | None
    voucher_id: UUID | None
    recipient_hint: str | None
    recipient_id: UUID | None
    expires_at: datetime
    settled_at: datetime | None
    created_at: datetime


class GiftClaim(BaseModel):
    """Claim as an existing member, or enrol on the spot (referred by the sender)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"member_id": "0193c2a4-5b6e-7c8d-9e0f-1a2b3c4d5e6f"},
                {"member": {"email": "ben@example.com", "name": "Ben Weber"}},
            ]
        },
    )

    member_id: Uuid | None = None
    member: MemberCreate | None = None

    @model_validator(mode="after")
    def _member_or_enrolment(self) -> Self:
        if (self.member_id is None) == (self.member is None):
            raise ValueError("give either member_id or member")
        return self


class ClaimedVoucher(GiftVoucher):
    code: str | None = Field(
        description="The voucher's code, shown in this response only (null in replays)."
    )
    valid_from: datetime
    expires_at: datetime


class GiftClaimed(BaseModel):
    gift_id: UUID
    member_id: UUID
    member_created: bool = Field(description="True when the claim enrolled the member.")
    points: int | None
    voucher: ClaimedVoucher | None
    balance: BalanceSummary = Field(description="The recipient's balance afterwards.")


class GiftCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: Uuid = Field(description="The sender, confirming it is theirs to take back.")


class GiftTakenBack(BaseModel):
    gift_id: UUID
    status: GiftStatus
    points: int | None = Field(description="Points back on the sender's balance.")
    voucher_id: UUID | None = Field(description="The voucher, now cancelled; its points are back.")
    balance: BalanceSummary = Field(description="The sender's balance afterwards.")
