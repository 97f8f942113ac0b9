"""Small async helpers that do what a till or the back office does, through the HTTP API.

Every write goes out as a real request with a fresh ``Idempotency-Key``; helpers that expect
success assert the status and return the JSON body, so a test reads as the steps a merchant
would take. For refusals, tests call ``write`` and look at the response themselves.
"""

import asyncio
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from click.testing import Result
from fastapi import FastAPI
from sqlalchemy import Executable
from typer.testing import CliRunner

from app.api_keys.models import Scope
from app.cli import cli
from app.config import get_settings
from app.ledger import verify
from tests.conftest import TEST_SECRET_KEY, bearer, create_key

PROBLEM = "application/problem+json"

Headers = dict[str, str]
Member = Mapping[str, Any] | str


async def headers_for(app: FastAPI, *scopes: Scope) -> Headers:
    """Headers that authenticate with a new API key of the given scopes."""
    return bearer(await create_key(app, *scopes, name="/".join(scopes)))


def idempotent(headers: Headers, key: str | None = None) -> Headers:
    return {**headers, "Idempotency-Key": key or uuid.uuid4().hex}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    return body


def member_id(member: Member) -> str:
    return member if isinstance(member, str) else str(member["id"])


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def write(
    client: httpx.AsyncClient, path: str, headers: Headers, body: Any = None
) -> httpx.Response:
    """POST with a fresh Idempotency-Key, as a till sends each new write."""
    return await client.post(path, json=body, headers=idempotent(headers))


def _expect(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def set_program(client: httpx.AsyncClient, admin: Headers, **fields: Any) -> dict[str, Any]:
    """Change programme settings (``points_per_currency_unit`` as a string, e.g. "0.1")."""
    return _expect(await client.put("/v1/program", json=fields, headers=admin), 200)


async def enrol(client: httpx.AsyncClient, headers: Headers, **fields: Any) -> dict[str, Any]:
    return _expect(await client.post("/v1/members", json=fields, headers=headers))


async def purchase(
    client: httpx.AsyncClient,
    headers: Headers,
    member: Member | None,
    total: int,
    order_id: str | None = None,
    items: list[dict[str, Any]] | None = None,
    *,
    by_card: bool = False,
    currency: str = "EUR",
    occurred_at: datetime | None = None,
    channel: str = "pos",
) -> dict[str, Any]:
    """Record a receipt: for ``member`` (by id, or by card number), or without one."""
    body: dict[str, Any] = {
        "order_id": order_id or f"order-{uuid.uuid4().hex[:12]}",
        "channel": channel,
        "currency": currency,
        "total": total,
    }
    if member is not None and by_card:
        assert not isinstance(member, str), "give the member's JSON to buy by card number"
        body["card_number"] = member["card_number"]
    elif member is not None:
        body["member_id"] = member_id(member)
    if items is not None:
        body["items"] = items
    if occurred_at is not None:
        body["occurred_at"] = occurred_at.isoformat()
    return _expect(await write(client, "/v1/purchases", headers, body))


def item(sku: str, quantity: int, unit_price: int, category: str | None = None) -> dict[str, Any]:
    return {"sku": sku, "category": category, "quantity": quantity, "unit_price": unit_price}


async def return_purchase(
    client: httpx.AsyncClient,
    headers: Headers,
    bought: Mapping[str, Any],
    *,
    amount: int | None = None,
    items: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Return part of a purchase, by amount or by ``{sku: quantity}``."""
    body: dict[str, Any] = (
        {"amount": amount}
        if items is None
        else {"items": [{"sku": sku, "quantity": q} for sku, q in items.items()]}
    )
    return _expect(await write(client, f"/v1/purchases/{bought['id']}/returns", headers, body))


async def claim(
    client: httpx.AsyncClient, headers: Headers, claim_code: str, member: Member
) -> httpx.Response:
    body = {"claim_code": claim_code, "member_id": member_id(member)}
    return await write(client, "/v1/purchases/claim", headers, body)


async def redeem(
    client: httpx.AsyncClient, headers: Headers, member: Member, points: int, **fields: Any
) -> dict[str, Any]:
    path = f"/v1/members/{member_id(member)}/redemptions"
    return _expect(await write(client, path, headers, {"points": points, **fields}))


async def cancel_redemption(
    client: httpx.AsyncClient, headers: Headers, redemption: Mapping[str, Any] | str
) -> httpx.Response:
    redemption_id = redemption if isinstance(redemption, str) else redemption["id"]
    return await write(client, f"/v1/redemptions/{redemption_id}/cancel", headers)


async def adjust(
    client: httpx.AsyncClient, admin: Headers, member: Member, points: int, reason: str
) -> dict[str, Any]:
    path = f"/v1/members/{member_id(member)}/adjustments"
    return _expect(await write(client, path, admin, {"points": points, "reason": reason}))


async def fetch_member(
    client: httpx.AsyncClient, headers: Headers, member: Member
) -> dict[str, Any]:
    return _expect(await client.get(f"/v1/members/{member_id(member)}", headers=headers), 200)


async def look_up(
    client: httpx.AsyncClient, headers: Headers, **query: str
) -> list[dict[str, Any]]:
    """Members found by ``card_number``, ``external_id`` or ``email``."""
    items: list[dict[str, Any]] = _expect(
        await client.get("/v1/members", params=query, headers=headers), 200
    )["items"]
    return items


async def balance(client: httpx.AsyncClient, headers: Headers, member: Member) -> dict[str, Any]:
    return _expect(
        await client.get(f"/v1/members/{member_id(member)}/balance", headers=headers), 200
    )


async def transactions(
    client: httpx.AsyncClient, headers: Headers, member: Member, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        f"/v1/members/{member_id(member)}/transactions", params=params, headers=headers
    )
    return _expect(response, 200)


async def execute(app: FastAPI, *statements: Executable) -> None:
    """Change stored rows behind the API's back (tests of time and of tampering)."""
    async with app.state.runtime.sessionmaker() as session:
        for statement in statements:
            await session.execute(statement)
        await session.commit()


async def assert_ledger_verifies(app: FastAPI) -> None:
    """`stammkunde verify` finds nothing wrong with the ledger."""
    async with app.state.runtime.sessionmaker() as session:
        assert await verify.first_mismatch(session) is None


async def stammkunde(database_url: str, *args: str) -> Result:
    """Run the ``stammkunde`` command against the test's database, as an operator would.

    In a thread, because the command runs its own event loop.
    """
    env = {"STAMMKUNDE_DATABASE_URL": database_url, "STAMMKUNDE_SECRET_KEY": TEST_SECRET_KEY}
    get_settings.cache_clear()  # settings are read once per process; read them from env
    try:
        return await asyncio.to_thread(CliRunner(env=env).invoke, cli, list(args))
    finally:
        get_settings.cache_clear()
