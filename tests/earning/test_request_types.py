"""Purchases, quotes and returns take exactly what the OpenAPI document allows.

Money and quantities are JSON integers, not strings or booleans; `occurred_at` is an RFC 3339
date-time with an offset, not a Unix time; a member id is a hyphenated UUID. A refused
purchase earns nothing.
"""

import pytest

from tests.factories import assert_problem, enrol, purchase, write

ORDER = {"order_id": "POS-3-000912", "channel": "pos", "currency": "EUR", "total": 4590}
MUG = {"sku": "MUG", "category": "merch", "quantity": 1, "unit_price": 990}


async def points(client, pos, member):
    response = await client.get(f"/v1/members/{member['id']}/balance", headers=pos)
    assert response.status_code == 200, response.text
    balance = response.json()
    return balance["available"] + balance["pending"]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"total": "4590"}, ["body", "total"]),
        ({"total": True}, ["body", "total"]),
        ({"total": 4590.5}, ["body", "total"]),
        ({"items": [{**MUG, "quantity": True}]}, ["body", "items", 0, "quantity"]),
        ({"items": [{**MUG, "unit_price": "990"}]}, ["body", "items", 0, "unit_price"]),
        ({"occurred_at": 1_767_261_600}, ["body", "occurred_at"]),
        ({"occurred_at": "2026-01-01T10:00"}, ["body", "occurred_at"]),
        ({"occurred_at": "2026-01-01"}, ["body", "occurred_at"]),
        ({"member_id": "hex"}, ["body", "member_id"]),
    ],
)
async def test_a_purchase_the_document_calls_invalid_is_refused_and_earns_nothing(
    client, pos, change, loc
):
    anna = await enrol(client, pos, name="Anna")
    body = {**ORDER, "member_id": anna["id"], **change}
    if body["member_id"] == "hex":
        body["member_id"] = anna["id"].replace("-", "")

    quote = await client.post("/v1/quotes", json=body, headers=pos)
    response = await write(client, "/v1/purchases", pos, body)

    assert_problem(quote, 422, "validation_error")
    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [loc]
    assert await points(client, pos, anna) == 0


@pytest.mark.parametrize("amount", ["990", True, 990.5])
async def test_a_return_amount_is_a_json_integer(client, pos, amount):
    anna = await enrol(client, pos, name="Anna")
    bought = await purchase(client, pos, anna, 4590)

    response = await write(client, f"/v1/purchases/{bought['id']}/returns", pos, {"amount": amount})

    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [["body", "amount"]]
    assert await points(client, pos, anna) == 45
