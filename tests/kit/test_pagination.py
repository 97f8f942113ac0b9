"""Cursor pagination, newest first on ``(created_at, id)``, through GET /v1/api-keys."""

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from app.api_keys.models import ApiKey, Scope
from app.db.base import uuid7
from app.kit.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    InvalidCursor,
    decode_cursor,
    encode_cursor,
)
from tests.conftest import create_key
from tests.kit.test_errors import assert_problem

PATH = "/v1/api-keys"


async def create_keys(app: FastAPI, count: int) -> list[str]:
    """``count`` keys created one after another; their names, oldest first."""
    names = [f"key {i}" for i in range(count)]
    for name in names:
        await create_key(app, Scope.pos, name=name)
    return names


async def all_pages(
    client: httpx.AsyncClient, auth: dict[str, str], limit: int
) -> list[dict[str, Any]]:
    """Every page, following ``next_cursor`` until it is null."""
    pages: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        response = await client.get(PATH, headers=auth, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        if page["next_cursor"] is None:
            return pages
        assert len(pages) < 50, "pagination does not end"
        params = {"limit": limit, "cursor": page["next_cursor"]}


async def test_pages_cover_every_key_once_newest_first(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    names = await create_keys(app, 5)
    pages = await all_pages(client, admin, limit=2)

    assert [len(page["items"]) for page in pages] == [2, 2, 2]
    items = [item for page in pages for item in page["items"]]
    assert [item["name"] for item in items] == [*reversed(names), "test admin"]
    assert len({item["id"] for item in items}) == len(items)
    created = [datetime.fromisoformat(item["created_at"]) for item in items]
    assert created == sorted(created, reverse=True)
    assert all(page["next_cursor"] for page in pages[:-1])
    assert pages[-1]["next_cursor"] is None


async def test_short_last_page(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    names = await create_keys(app, 4)
    pages = await all_pages(client, admin, limit=2)
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    items = [item["name"] for page in pages for item in page["items"]]
    assert items == [*reversed(names), "test admin"]


async def test_one_page_when_everything_fits(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await create_keys(app, 5)
    response = await client.get(PATH, headers=admin, params={"limit": 6})
    page = response.json()
    assert len(page["items"]) == 6
    assert page["next_cursor"] is None


async def test_default_limit(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await create_keys(app, DEFAULT_LIMIT)  # plus the admin: one more than a page
    first = (await client.get(PATH, headers=admin)).json()
    assert len(first["items"]) == DEFAULT_LIMIT
    assert first["next_cursor"] is not None
    rest = (await client.get(PATH, headers=admin, params={"cursor": first["next_cursor"]})).json()
    assert [item["name"] for item in rest["items"]] == ["test admin"]
    assert rest["next_cursor"] is None


async def test_keys_created_at_the_same_instant_are_ordered_by_id(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """Ties on created_at are split by id, so a page boundary inside a tie loses nothing."""
    instant = datetime.now(UTC) + timedelta(minutes=1)
    ids = [uuid7() for _ in range(5)]
    async with app.state.runtime.sessionmaker() as session:
        for number, row_id in enumerate(ids):
            session.add(
                ApiKey(
                    id=row_id,
                    created_at=instant,
                    name=f"tied {number}",
                    key_id=f"tied{number}",
                    secret_hash="0" * 64,
                    scopes=["pos"],
                )
            )
        await session.commit()

    pages = await all_pages(client, admin, limit=2)
    items = [item for page in pages for item in page["items"]]
    assert [UUID(item["id"]) for item in items[:5]] == sorted(ids, reverse=True)
    assert [item["name"] for item in items[5:]] == ["test admin"]


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1, 1000, "ten"])
async def test_limit_out_of_range_is_a_validation_error(
    client: httpx.AsyncClient, admin: dict[str, str], limit: object
) -> None:
    response = await client.get(PATH, headers=admin, params={"limit": limit})
    body = assert_problem(response, 422, "validation_error")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert [error["loc"] for error in errors] == [["query", "limit"]]


@pytest.mark.parametrize("limit", [1, MAX_LIMIT])
async def test_limit_at_the_bounds_is_accepted(
    client: httpx.AsyncClient, admin: dict[str, str], limit: int
) -> None:
    response = await client.get(PATH, headers=admin, params={"limit": limit})
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 1


SOME_ID = "0190a000-0000-7000-8000-000000000000"


def _raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


GARBAGE_CURSORS = [
    pytest.param("garbage", id="not-base64-of-anything"),
    pytest.param("!!!!", id="no-base64-characters"),
    pytest.param("é", id="not-ascii"),
    pytest.param(_raw_cursor("no separator"), id="no-separator"),
    pytest.param(_raw_cursor("2026-01-01T00:00:00+00:00|not-a-uuid"), id="bad-uuid"),
    pytest.param(_raw_cursor(f"yesterday|{SOME_ID}"), id="bad-timestamp"),
    pytest.param(_raw_cursor(f"2026-01-01T00:00:00|{SOME_ID}"), id="naive-timestamp"),
    pytest.param(_raw_cursor(f"2026-01-01T00:00:00+00:00|{SOME_ID}|x"), id="three-parts"),
    # Valid ISO timestamps whose offset takes them out of the datetime range in UTC.
    pytest.param(_raw_cursor(f"9999-12-31T23:00:00-14:00|{SOME_ID}"), id="after-year-9999"),
    pytest.param(_raw_cursor(f"0001-01-01T00:00:00+14:00|{SOME_ID}"), id="before-year-1"),
    pytest.param(base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(), id="not-utf-8"),
]


@pytest.mark.parametrize("cursor", GARBAGE_CURSORS)
async def test_garbage_cursor_is_invalid_cursor(
    client: httpx.AsyncClient, admin: dict[str, str], cursor: str
) -> None:
    response = await client.get(PATH, headers=admin, params={"cursor": cursor})
    assert_problem(response, 400, "invalid_cursor")


async def test_every_list_with_a_cursor_documents_invalid_cursor(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    # Found by fuzzing: most lists answered a foreign cursor with a 400 their document lacked.
    document = (await client.get("/openapi.json")).json()
    lists = [
        (path, operation)
        for path, item in document["paths"].items()
        for operation in item.values()
        if any(parameter["name"] == "cursor" for parameter in operation.get("parameters", []))
    ]
    assert len(lists) >= 10
    for path, operation in lists:
        assert "invalid_cursor" in operation["responses"]["400"]["x-problem-codes"], path
    response = await client.get("/v1/members", params={"cursor": "not-ours"}, headers=admin)
    assert_problem(response, 400, "invalid_cursor")


async def test_overlong_cursor_is_a_validation_error(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get(PATH, headers=admin, params={"cursor": "a" * 201})
    assert_problem(response, 422, "validation_error")


# --- the cursor itself ----------------------------------------------------------------------


def test_cursor_round_trip() -> None:
    created_at = datetime(2026, 11, 23, 18, 18, 5, 123456, tzinfo=UTC)
    row_id = uuid7()
    cursor = encode_cursor(created_at, row_id)
    assert decode_cursor(cursor) == (created_at, row_id)


def test_cursor_is_url_safe_without_padding() -> None:
    cursor = encode_cursor(datetime(2026, 1, 1, tzinfo=UTC), uuid7())
    assert "=" not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_cursor_from_another_offset_decodes_to_the_same_instant_in_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    created_at = datetime(2026, 11, 23, 19, 18, tzinfo=berlin)
    row_id = uuid7()
    decoded_at, decoded_id = decode_cursor(encode_cursor(created_at, row_id))
    assert decoded_at == created_at
    assert decoded_at.utcoffset() == timedelta(0)
    assert decoded_id == row_id


@pytest.mark.parametrize("cursor", GARBAGE_CURSORS)
def test_decode_refuses_garbage(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)
