"""Paying with points and adjustments take points as JSON integers, as the document says:
`"500"`, `true` or `500.5` is refused and the balance stays as it was."""

import pytest

from tests.factories import adjust, assert_problem, enrol, write


async def available(client, pos, member):
    response = await client.get(f"/v1/members/{member['id']}/balance", headers=pos)
    assert response.status_code == 200, response.text
    return response.json()["available"]


@pytest.mark.parametrize("points", ["500", True, 500.5])
@pytest.mark.parametrize("kind", ["redemptions", "adjustments"])
async def test_points_that_are_no_json_integer_are_refused_and_nothing_moves(
    client, pos, admin, kind, points
):
    anna = await enrol(client, pos, name="Anna")
    await adjust(client, admin, anna, 1000, "Welcome")
    body = {"points": points, "reason": "Goodwill"} if kind == "adjustments" else {"points": points}

    response = await write(client, f"/v1/members/{anna['id']}/{kind}", admin, body)

    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [["body", "points"]]
    assert await available(client, pos, anna) == 1000
