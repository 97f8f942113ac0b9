from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin
from app.db.types import JSONVariant


class Scope(StrEnum):
    pos = "pos"
    shop = "shop"
    partner = "partner"
    admin = "admin"


class ApiKey(IdMixin, CreatedAtMixin, Base):
    """An API client's credential. Only an HMAC of the secret part is stored."""

    __tablename__ = "api_key"
    __table_args__ = (Index("ix_api_key_created_at_id", "created_at", "id"),)

    name: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSONVariant)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    def has_scope(self, *allowed: Scope) -> bool:
        """Admin keys may do everything; others need one of the allowed scopes."""
        return Scope.admin in self.scopes or any(scope in self.scopes for scope in allowed)
