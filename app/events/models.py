from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin
from app.db.types import JSONVariant


class Event(IdMixin, CreatedAtMixin, Base):
    """The outbox: one row per state change, written in the change's own transaction."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_created_at_id", "created_at", "id"),
        Index("ix_event_member_id", "member_id"),
        # The webhook dispatcher's queue: only events not yet handed to it are indexed.
        Index(
            "ix_event_undispatched",
            "created_at",
            "id",
            postgresql_where=text("dispatched_at IS NULL"),
            sqlite_where=text("dispatched_at IS NULL"),
        ),
    )

    type: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[UUID | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSONVariant)
    # When the webhook dispatcher turned the event into deliveries (app.webhooks.delivery).
    # A mark rather than a cursor over created_at, so that an event whose transaction
    # committed late is still handed on.
    dispatched_at: Mapped[datetime | None]
