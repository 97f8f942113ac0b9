from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.kit.pagination import Page


class EventRead(BaseModel):
    """One recorded change; also the body of a webhook delivery."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0193a0c4-5e1f-7a2b-9c3d-4e5f60718293",
                    "type": "points.earned",
                    "member_id": "0193a0c4-1111-7a2b-9c3d-4e5f60718293",
                    "created_at": "2026-12-02T10:15:00Z",
                    "data": {"points": 45, "purchase_id": "0193a0c4-2222-7a2b-9c3d-4e5f60718293"},
                }
            ]
        },
    )

    id: UUID = Field(description="Unique per event: use it to drop duplicates.")
    type: str = Field(examples=["points.earned"])
    member_id: UUID | None = Field(description="The member the change concerns, if any.")
    created_at: datetime
    data: dict[str, Any] = Field(
        description="The event's details; their shape depends on the type."
    )


class EventPage(Page[EventRead]):
    poll_cursor: str | None = Field(
        description="Where a consumer that has handled this page goes on: the position after "
        "its last event (or the cursor it sent, when the page is empty). Unlike `next_cursor` "
        "it is also set on the last page: store it and poll again with it later. Null only "
        "while the log (under the filters) is empty."
    )
