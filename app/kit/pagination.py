"""Cursor pagination on ``(created_at, id)``: newest first, or oldest first for feeds.

The cursor is opaque to clients: base64 of the last item's timestamp and id.
"""

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.errors import StammkundeError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Row = TypeVar("Row")
Item = TypeVar("Item")


class InvalidCursor(StammkundeError):
    status = 400
    code = "invalid_cursor"
    title = "Invalid cursor"


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200, description="From `next_cursor`.")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageQuery = Annotated[PageParams, Depends(page_params)]


def encode_cursor(created_at: datetime, row_id: UUID) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, row_id = raw.split("|")
        parsed = datetime.fromisoformat(created_at)
        if parsed.tzinfo is None:
            raise ValueError("cursor timestamp without offset")
        # Converted here, so that a crafted offset that leaves the datetime range is a bad
        # cursor (400), not an OverflowError when the query is bound (500).
        return parsed.astimezone(UTC), UUID(row_id)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidCursor("The cursor is not one this service handed out.") from error


async def paginate(
    session: AsyncSession,
    statement: Select[Row],
    model: Any,
    params: PageParams,
    *,
    oldest_first: bool = False,
) -> tuple[Sequence[Row], str | None]:
    """One page of ``statement`` ordered newest first (or oldest first), and the next cursor."""
    if params.cursor is not None:
        created_at, row_id = decode_cursor(params.cursor)
        if oldest_first:
            after = or_(
                model.created_at > created_at,
                and_(model.created_at == created_at, model.id > row_id),
            )
        else:
            after = or_(
                model.created_at < created_at,
                and_(model.created_at == created_at, model.id < row_id),
            )
        statement = statement.where(after)
    if oldest_first:
        statement = statement.order_by(model.created_at.asc(), model.id.asc())
    else:
        statement = statement.order_by(model.created_at.desc(), model.id.desc())
    statement = statement.limit(params.limit + 1)
    rows = (await session.scalars(statement)).all()
    if len(rows) <= params.limit:
        return rows, None
    last = rows[params.limit - 1]
    return rows[: params.limit], encode_cursor(last.created_at, last.id)  # type: ignore[attr-defined]
