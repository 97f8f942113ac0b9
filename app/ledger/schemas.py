from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.ledger.service import MemberLedger


class BalanceSummary(BaseModel):
    available: int = Field(
        description="Points the member can spend now (negative after a return of spent points)."
    )
    pending: int = Field(description="Points held until the return window closes.")

    @classmethod
    def of(cls, ledger: MemberLedger) -> "BalanceSummary":
        return cls(available=ledger.available_balance, pending=ledger.pending_balance)


class ExpiringPoints(BaseModel):
    points: int
    expires_at: datetime


class Balance(BalanceSummary):
    lifetime_earned: int = Field(
        description="Points earned from purchases (net of returns), event bonuses and goodwill."
    )
    expiring: list[ExpiringPoints] = Field(
        description="Points expiring in the next 90 days, by expiry."
    )


class TransactionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    type: str
    points: int = Field(description="Change of the member's points (available + pending).")
    reference: str | None
    reason: str | None
    related_id: UUID | None
    balance_after: int = Field(validation_alias="available_after")
    pending_after: int
    created_at: datetime
