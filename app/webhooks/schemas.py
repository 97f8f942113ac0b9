from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.events.types import MAX_PATTERNS, TypePattern
from app.webhooks.models import DeliveryStatus
from app.webhooks.schedule import MAX_ATTEMPTS
from app.webhooks.urls import MAX_URL_LENGTH

Url = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="https:// URL that resolves to public addresses only.",
        examples=["https://crm.example.com/hooks/stammkunde"],
    ),
]
EventTypes = Annotated[
    list[TypePattern],
    Field(
        max_length=MAX_PATTERNS,
        description="Event types (`tier.changed`) or prefixes (`points.`) to send; empty: "
        "every event.",
    ),
]
Description = Annotated[str, Field(max_length=500)]


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://crm.example.com/hooks/stammkunde",
                    "event_types": ["tier.changed", "points."],
                    "description": "CRM: tier mails and point statements",
                }
            ]
        },
    )

    url: Url
    event_types: EventTypes = Field(default_factory=list)
    description: Description | None = None


class WebhookEndpointUpdate(BaseModel):
    """Fields given replace the current value; fields left out keep it."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: StrictBool | None = Field(
        default=None,
        description="A disabled endpoint gets no new deliveries; its pending ones wait until "
        "it is enabled again.",
    )


class EndpointState(StrEnum):
    active = "active"
    failing = "failing"
    disabled = "disabled"


class WebhookEndpointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    status: EndpointState = Field(
        description="`failing` once a delivery was given up after its last attempt, until "
        "the next successful delivery; `disabled` while `enabled` is false."
    )
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookEndpointCreated(WebhookEndpointRead):
    secret: str | None = Field(
        description="The signing secret, `whsec_…`. Shown only in this response (and when "
        "rotated); null in an idempotent replay of it."
    )


class WebhookSecret(BaseModel):
    id: UUID
    secret: str = Field(description="The new signing secret; the old one stops at once.")


class WebhookAttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int = Field(
        description=f"1 to {MAX_ATTEMPTS} on the schedule; each retry of a failed delivery "
        "adds one."
    )
    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status, if it answered.")
    error: str | None = Field(description="Why the attempt failed, if it did.")
    duration_ms: int


class WebhookDeliveryRead(BaseModel):
    id: UUID
    endpoint_id: UUID
    event_id: UUID
    event_type: str
    member_id: UUID | None
    status: DeliveryStatus = Field(
        description="`pending` (due at `next_attempt_at`), `delivered`, or `failed` (given up "
        f"after {MAX_ATTEMPTS} attempts; a retry makes it `pending` again)."
    )
    attempts: int
    next_attempt_at: datetime | None = Field(description="Null once the delivery is finished.")
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[WebhookAttemptRead] = Field(description="Every attempt, first first.")
