"""Gifts under concurrency, through a real uvicorn on 127.0.0.1: twenty friends claim one
code at once, and claim, cancel and the expiry job race for one gift. Exactly one wins and
the escrow comes back to zero, on SQLite and on PostgreSQL."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.api_keys.models import Scope
from app.gifts import service as gifts
from app.gifts.models import Gift
from tests.conftest import bearer, create_key
from tests.factories import adjust, assert_problem, enrol
from tests.gifts.test_gifts import assert_escrow_holds, available, give
from tests.live_server import LiveServer

CLAIMERS = 20
ROUNDS = 6
JOB_DELAY_STEP_SECONDS = 0.01
HTTP_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
BURST_TIMEOUT_SECONDS = 90.0


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=CLAIMERS, max_keepalive_connections=CLAIMERS)
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=HTTP_TIMEOUT, limits=limits, trust_env=False
    ) as client:
        yield client


async def stored_gift(app: FastAPI, gift_id: str) -> Gift:
    async with app.state.runtime.sessionmaker() as session:
        gift = await session.scalar(select(Gift).where(Gift.id == UUID(gift_id)))
        assert gift is not None
        return gift


async def expire_after(app: FastAPI, delay: float, now: datetime) -> int:
    """The expiry job, started a little later each round so that the interleavings vary."""
    await asyncio.sleep(delay)
    return await gifts.expire_due_gifts(app.state.runtime.sessionmaker, now)


async def test_twenty_friends_claim_one_gift_at_once_and_exactly_one_gets_it(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], http: httpx.AsyncClient
) -> None:
    pos = bearer(await create_key(app, Scope.pos, name="till"))
    sender = await enrol(client, pos)
    await adjust(client, admin, sender, 1000, "test points")
    friends = [await enrol(client, pos) for _ in range(CLAIMERS)]
    gift = await give(client, pos, sender, points=400)

    async def claim(friend: dict[str, Any]) -> httpx.Response:
        return await http.post(
            f"/v1/gifts/{gift['code']}/claim",
            json={"member_id": friend["id"]},
            headers={**pos, "Idempotency-Key": f"claim-{friend['id']}"},
        )

    async with asyncio.timeout(BURST_TIMEOUT_SECONDS):
        responses = await asyncio.gather(*(claim(friend) for friend in friends))

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: CLAIMERS - 1}, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "gift_already_claimed")
    [winner] = [r.json()["member_id"] for r in responses if r.status_code == 201]
    for friend in friends:
        assert await available(client, pos, friend) == (400 if friend["id"] == winner else 0)
    assert (await stored_gift(app, gift["id"])).recipient_id == UUID(winner)
    await assert_escrow_holds(app, 0)


async def test_claim_cancel_and_expiry_race_and_exactly_one_outcome_wins(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], http: httpx.AsyncClient
) -> None:
    pos = bearer(await create_key(app, Scope.pos, name="till"))
    sender = await enrol(client, pos)
    await adjust(client, admin, sender, 1000, "test points")
    friend = await enrol(client, pos)
    outcomes: Counter[str] = Counter()

    for round_number in range(ROUNDS):
        gift = await give(client, pos, sender, points=100)
        past_expiry = (await stored_gift(app, gift["id"])).expires_at + timedelta(seconds=1)
        path = f"/v1/gifts/{gift['code']}"

        async with asyncio.timeout(BURST_TIMEOUT_SECONDS):
            claimed, cancelled, expired = await asyncio.gather(
                http.post(
                    f"{path}/claim",
                    json={"member_id": friend["id"]},
                    headers={**pos, "Idempotency-Key": f"claim-{round_number}"},
                ),
                http.post(
                    f"{path}/cancel",
                    json={"member_id": sender["id"]},
                    headers={**pos, "Idempotency-Key": f"cancel-{round_number}"},
                ),
                expire_after(app, round_number * JOB_DELAY_STEP_SECONDS, past_expiry),
            )

        status = (await stored_gift(app, gift["id"])).status
        outcomes[status] += 1
        wins = {
            "claimed": claimed.status_code == 201,
            "cancelled": cancelled.status_code == 200,
            "expired": expired == 1,
        }
        assert [outcome for outcome, won in wins.items() if won] == [status], (
            claimed.text,
            cancelled.text,
            expired,
        )
        loser_code = {"claimed": "gift_already_claimed", "cancelled": "gift_cancelled"}
        for response, outcome in ((claimed, "claimed"), (cancelled, "cancelled")):
            if outcome != status:
                expected = loser_code.get(status, "gift_expired")
                assert_problem(response, 410 if expected == "gift_expired" else 409, expected)
        await assert_escrow_holds(app, 0)

    given = 100 * outcomes["claimed"]
    assert await available(client, pos, sender) == 1000 - given
    assert await available(client, pos, friend) == given
