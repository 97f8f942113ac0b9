from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin, utcnow
from app.db.types import JSONVariant


class WebhookEndpoint(IdMixin, CreatedAtMixin, Base):
    """Where events are pushed. Its signing secret is derived, never stored (see signing)."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (Index("ix_webhook_endpoint_created_at_id", "created_at", "id"),)

    url: Mapped[str] = mapped_column(String(2000))
    # Event types and prefixes ("points."); empty: every event.
    event_types: Mapped[list[str]] = mapped_column(JSONVariant)
    description: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool]
    # Random; the secret is HMAC(server secret, salt). A new salt rotates the secret.
    secret_salt: Mapped[str] = mapped_column(String(64))
    # Set when a delivery was given up after its last attempt; cleared by the next success.
    failing_since: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryStatus(StrEnum):
    pending = "pending"  # due at next_attempt_at (or being attempted under a lease)
    delivered = "delivered"
    failed = "failed"  # given up after the last attempt


PENDING = text("status = 'pending'")


class WebhookDelivery(IdMixin, CreatedAtMixin, Base):
    """One event on its way to one endpoint, with its retry state."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status_known"),
        # Due deliveries, and the earlier ones of the same member that hold a later one back.
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        ),
        Index(
            "ix_webhook_delivery_pending_lane",
            "endpoint_id",
            "member_id",
            "event_created_at",
            "event_id",
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        ),
        Index("ix_webhook_delivery_endpoint_id_created_at", "endpoint_id", "created_at", "id"),
        Index("ix_webhook_delivery_event_id", "event_id"),
    )

    endpoint_id: Mapped[UUID] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    event_id: Mapped[UUID] = mapped_column(ForeignKey("event.id"))
    # Copied from the event: a member's deliveries to an endpoint go out in event order.
    member_id: Mapped[UUID | None]
    event_type: Mapped[str] = mapped_column(String(64))
    event_created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(SmallInteger)
    next_attempt_at: Mapped[datetime]
    # A worker's claim: it sends while locked_until lies ahead, and records under its lease.
    locked_until: Mapped[datetime | None]
    lease: Mapped[UUID | None]
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(String(500))
    finished_at: Mapped[datetime | None]


class WebhookAttempt(IdMixin, CreatedAtMixin, Base):
    """One try to deliver: when (created_at), and how it ended."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    delivery_id: Mapped[UUID] = mapped_column(ForeignKey("webhook_delivery.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(SmallInteger)
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int]
