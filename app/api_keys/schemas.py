from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from app.api_keys.models import Scope


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Till 3, Hauptstraße", "scopes": ["pos"]}]},
    )

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, max_length=4)


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    key_id: str = Field(description="The public part of the key, shown in listings and logs.")
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="Updated at most once a minute.")


class ApiKeyCreated(ApiKeyRead):
    key: str | None = Field(
        description="The whole key, `stk_<key id>_<secret>`. Shown only in this response; null "
        "in an idempotent replay of it."
    )
