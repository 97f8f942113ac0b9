"""Statements that each database spells its own way."""

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.session import is_postgresql


def insert_unless_present(session: AsyncSession, entity: Any, *unique_columns: str) -> Any:
    """``INSERT … ON CONFLICT (unique_columns) DO NOTHING``: one round trip that inserts the
    row or, when a row with the same unique values exists (or is being inserted by a
    transaction that then commits), inserts nothing. Add ``.values()`` and ``.returning()``."""
    insert = postgresql.insert if is_postgresql(session) else sqlite.insert
    return insert(entity).on_conflict_do_nothing(index_elements=list(unique_columns))
