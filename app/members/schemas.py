from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from app.kit.schemas import Day, Omittable, Uuid
from app.members.cards import is_valid_card_number
from app.members.phones import to_e164


def _card_number(value: str) -> str:
    if not is_valid_card_number(value):
        raise ValueError("not a card number: 8 to 19 digits ending in a Luhn check digit")
    return value


def _lower(value: str) -> str:
    return value.strip().lower()


def _phone(value: str) -> str:
    return to_e164(value)


CardNumber = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{8,19}$",
        examples=["2712345678901236"],
        description="8 to 19 digits, the last a Luhn check digit.",
    ),
    AfterValidator(_card_number),
]
Email = Annotated[EmailStr, AfterValidator(_lower)]
ExternalId = Annotated[str, Field(min_length=1, max_length=100)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Phone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        examples=["+49 30 1234567"],
        description="Stored in E.164 (`+49301234567`); a number without a country code is "
        "read as German.",
    ),
    AfterValidator(_phone),
]
Segment = Annotated[str, Field(min_length=1, max_length=64)]


class MemberCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"email": "anna@example.com", "name": "Anna Schmidt", "external_id": "crm-4711"}
            ]
        },
    )

    external_id: ExternalId | None = None
    card_number: CardNumber | None = Field(
        default=None, description="A printed card's number; generated when left out."
    )
    email: Email | None = None
    phone: Phone | None = None
    name: Name | None = None
    birthdate: Day | None = None
    segments: list[Segment] = Field(
        default_factory=list,
        max_length=20,
        description="Flags for exclusive campaigns (e.g. `vip-evening`); set by the merchant.",
    )
    referral_code: str | None = Field(
        default=None,
        max_length=20,
        description="The referral code of the member who recommended us.",
    )


class MemberUpdate(BaseModel):
    """Fields given replace the current value; ``null`` clears an optional field (and
    ``segments``). A member always has a card: ``card_number`` can be replaced, not cleared."""

    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId | None = None
    card_number: Omittable[CardNumber] = None
    email: Email | None = None
    phone: Phone | None = None
    name: Name | None = None
    birthdate: Day | None = None
    segments: list[Segment] | None = Field(default=None, max_length=20)


class MemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    external_id: str | None
    card_number: str
    email: str | None
    phone: str | None = Field(default=None, description="E.164, e.g. `+49301234567`.")
    name: str | None
    birthdate: date | None
    referral_code: str
    referred_by_id: UUID | None
    tier: str | None = Field(
        default=None,
        description="Name of the tier in force: a manual tier while it lasts, else the earned one.",
    )
    segments: list[str]
    abc_class: str | None = Field(
        default=None,
        description="`A`, `B` or `C` by revenue over the trailing 12 months, as the daily "
        "classification job last stored it (campaigns' `abc_classes`); null without revenue.",
    )
    status: str = Field(
        description="`active`; `merged` into `merged_into_id`; or `erased` (personal data "
        "erased on request: no name, e-mail, birthdate or external id, and a pseudonym for "
        "the card number and the referral code)."
    )
    merged_into_id: UUID | None = Field(
        default=None, description="The member this duplicate record was merged into."
    )
    merged_at: datetime | None = None
    erased_at: datetime | None = Field(default=None, description="When it was erased.")
    created_at: datetime
    updated_at: datetime


class MemberMerge(BaseModel):
    """The duplicate record to fold into the member named in the path."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"source_member_id": "0190f5c2-7d1e-7b3a-9c41-2f6e8d0a1b2c"}]
        },
    )

    source_member_id: Uuid = Field(
        description="The duplicate: its points, lots, vouchers, open gifts and history move "
        "to the member in the path, and look-ups of its card number lead there."
    )
