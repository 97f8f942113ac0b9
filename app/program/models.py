from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow
from app.db.types import JSONVariant

PROGRAM_ID = 1


class Program(Base):
    """The merchant's programme settings: one row, a JSON document validated by ProgramSettings.

    A document instead of columns because every feature adds settings; defaults for new ones
    live in the schema, not in migrations.
    """

    __tablename__ = "program"
    __table_args__ = (CheckConstraint(f"id = {PROGRAM_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONVariant)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
