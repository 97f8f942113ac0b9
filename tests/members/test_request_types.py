"""Members' requests take exactly what the OpenAPI document allows.

A birthdate is a `YYYY-MM-DD` date (not a Unix time, not a date-time), a member id is a
hyphenated UUID, and a card number can be replaced but not cleared, which the document says
by not making it nullable.
"""

import pytest

from tests.factories import assert_problem, enrol, write

PRINTED_CARD = "2712345678901236"


async def members(client, pos):
    response = await client.get("/v1/members", headers=pos)
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.mark.parametrize("birthdate", [0, 638_928_000, "1990-03-01T00:00:00", "19900301"])
async def test_a_birthdate_that_is_no_date_is_refused_and_nobody_enrolled(client, pos, birthdate):
    response = await client.post(
        "/v1/members", json={"name": "Anna", "birthdate": birthdate}, headers=pos
    )

    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [["body", "birthdate"]]
    assert await members(client, pos) == []


async def test_a_card_number_may_be_left_out_of_a_change_but_not_cleared(app, client, pos):
    anna = await enrol(client, pos, name="Anna", card_number=PRINTED_CARD)
    schema = app.openapi()["components"]["schemas"]["MemberUpdate"]["properties"]

    cleared = await client.patch(
        f"/v1/members/{anna['id']}", json={"card_number": None}, headers=pos
    )

    problem = assert_problem(cleared, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [["body", "card_number"]]
    assert schema["card_number"]["type"] == "string"
    assert schema["card_number"]["pattern"] == "^[0-9]{8,19}$"
    assert "anyOf" not in schema["card_number"]
    assert (await members(client, pos))[0]["card_number"] == PRINTED_CARD


@pytest.mark.parametrize("form", ["hex", "braces", "urn"])
async def test_a_merge_names_the_duplicate_by_its_hyphenated_id(client, pos, admin, form):
    anna = await enrol(client, pos, name="Anna")
    duplicate = await enrol(client, pos, name="Anna S.")
    written = {
        "hex": duplicate["id"].replace("-", ""),
        "braces": "{" + duplicate["id"] + "}",
        "urn": "urn:uuid:" + duplicate["id"],
    }[form]

    response = await write(
        client, f"/v1/members/{anna['id']}/merge", admin, {"source_member_id": written}
    )

    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [["body", "source_member_id"]]
    assert {member["status"] for member in await members(client, pos)} == {"active"}
