"""Rewards take exactly what the OpenAPI document allows: points and counts are JSON
integers, flags JSON booleans, the window RFC 3339 date-times with an offset; a change may
leave any field out, and only the nullable ones can be cleared with null."""

import pytest

from tests.factories import assert_problem

REWARDS = "/v1/rewards"
FIVE_OFF = {"name": "5 € off", "cost_points": 500, "kind": "amount", "value": 500, "valid_days": 90}


async def rewards(client, admin):
    response = await client.get(REWARDS, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cost_points", "500"),
        ("value", True),
        ("valid_days", 90.5),
        ("active", 0),
        ("stock", False),
        ("starts_at", 1_767_225_600),
        ("ends_at", "2027-01-01"),
        ("tier_ids", ["0193c2a45b6e7c8d9e0f1a2b3c4d5e6f"]),
    ],
)
async def test_a_reward_the_document_calls_invalid_is_refused_and_not_written(
    client, admin, field, value
):
    response = await client.post(REWARDS, json={**FIVE_OFF, field: value}, headers=admin)

    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"][:2] for error in problem["errors"]] == [["body", field]]
    assert await rewards(client, admin) == []


async def test_a_change_clears_only_what_the_document_calls_nullable(app, client, admin):
    created = (await client.post(REWARDS, json={**FIVE_OFF, "stock": 10}, headers=admin)).json()
    schema = app.openapi()["components"]["schemas"]["RewardUpdate"]["properties"]
    path = f"{REWARDS}/{created['id']}"

    for name in ("name", "cost_points", "active", "kind", "valid_days", "channels"):
        response = await client.patch(path, json={name: None}, headers=admin)

        problem = assert_problem(response, 422, "validation_error")
        assert [error["loc"] for error in problem["errors"]] == [["body", name]]
        assert {"type": "null"} not in schema[name].get("anyOf", []), name
    cleared = await client.patch(path, json={"stock": None}, headers=admin)

    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["stock"] is None
    assert {"type": "null"} in schema["stock"]["anyOf"]
