"""A gift's points are a JSON integer and its member ids hyphenated UUIDs, as the document
says; anything else is refused before a point moves."""

import pytest

from tests.factories import adjust, assert_problem, enrol, write


@pytest.mark.parametrize(
    "body",
    [{"points": True}, {"points": "500"}, {"points": 500.5}, {"reward_id": "hex"}],
)
async def test_a_gift_the_document_calls_invalid_is_refused_and_nothing_moves(
    client, pos, admin, body
):
    anna = await enrol(client, pos, name="Anna")
    await adjust(client, admin, anna, 1000, "Welcome")
    if body.get("reward_id") == "hex":
        body = {"reward_id": anna["id"].replace("-", "")}

    response = await write(client, f"/v1/members/{anna['id']}/gifts", pos, body)

    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [["body", next(iter(body))]]
    balance = (await client.get(f"/v1/members/{anna['id']}/balance", headers=pos)).json()
    assert balance["available"] == 1000
