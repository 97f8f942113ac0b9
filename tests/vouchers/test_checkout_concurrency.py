"""One voucher, 50 orders redeeming it at once through a real uvicorn on 127.0.0.1: exactly
one wins, on SQLite and on PostgreSQL."""

import asyncio
from collections import Counter

import httpx
from fastapi import FastAPI

from app.api_keys.models import Scope
from tests.conftest import bearer, create_key
from tests.factories import assert_problem
from tests.live_server import LiveServer
from tests.vouchers.checkout_helpers import make_voucher, redemptions, stored_voucher

RACERS = 50
HTTP_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
HTTP_LIMITS = httpx.Limits(max_connections=RACERS, max_keepalive_connections=RACERS)
BURST_TIMEOUT_SECONDS = 90.0


async def test_fifty_orders_redeem_one_voucher_at_once_and_exactly_one_wins(
    app: FastAPI, server: LiveServer
) -> None:
    code = await make_voucher(app, "amount", 500)
    till = bearer(await create_key(app, Scope.pos, name="till"))

    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=HTTP_TIMEOUT, limits=HTTP_LIMITS, trust_env=False
    ) as http:

        async def redeem(order: int) -> httpx.Response:
            return await http.post(
                f"/v1/vouchers/{code}/redeem",
                json={"order_id": f"ORDER-{order}", "total": 4000, "currency": "EUR"},
                headers={**till, "Idempotency-Key": f"redeem-{order}"},
            )

        async with asyncio.timeout(BURST_TIMEOUT_SECONDS):
            responses = await asyncio.gather(*(redeem(order) for order in range(RACERS)))

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: RACERS - 1}, [
        r.text for r in responses if r.status_code >= 500
    ]
    for response in responses:
        if response.status_code == 409:
            body = assert_problem(response, 409, response.json()["code"])
            assert body["code"] in ("voucher_already_redeemed", "voucher_reserved")
    [winner] = [response.json() for response in responses if response.status_code == 201]
    assert winner["discount"] == 500

    stored = await redemptions(app, code)
    assert [(r.order_id, r.discount) for r in stored] == [(winner["order_id"], 500)]
    assert (await stored_voucher(app, code)).status == "redeemed"
