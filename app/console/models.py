from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin


class ConsoleSession(IdMixin, CreatedAtMixin, Base):
    """A person logged in to the console with an admin API key.

    The cookie holds a random token; only its HMAC is stored, as with API keys. Revoking the
    key ends its sessions (the foreign key cascades, and every request checks the key).
    """

    __tablename__ = "console_session"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_id: Mapped[UUID] = mapped_column(
        ForeignKey("api_key.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime]
