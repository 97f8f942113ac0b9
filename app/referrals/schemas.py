from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.referrals.models import ReferralStatus


class ReferrerLink(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"referral_code": "7KQ2M9XD"}]}
    )

    referral_code: str = Field(
        min_length=1,
        max_length=20,
        description="The referral code of the member who recommended us.",
    )


class ReferralRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    referrer_id: UUID
    referee_id: UUID
    status: ReferralStatus = Field(
        description="`pending` until the referee's first qualifying purchase; `qualified` when "
        "the referee got the bonus and the referrer's is due; `rewarded` when both got it; "
        "`capped` when the referrer had reached the monthly cap; `void` when the link ended."
    )
    qualified_at: datetime | None
    rewarded_at: datetime | None
    created_at: datetime
