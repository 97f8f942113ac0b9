"""The ladder's requests take exactly what the OpenAPI document allows.

JSON Schema's integer is no boolean and no string, a date-time has an offset, a UUID is
hyphenated; a field a change may leave out but not clear is not nullable in the document.
"""

import pytest

from tests.factories import assert_problem, enrol

GOLD = {"name": "Gold", "rank": 2, "threshold": 300, "multiplier": "2"}
IN_2100 = 4_102_444_800  # 2100-01-01 as Unix time: no date-time for the document


async def tiers(client, admin):
    response = await client.get("/v1/tiers", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("threshold", False),
        ("threshold", "300"),
        ("threshold", 300.5),
        ("rank", True),
        ("multiplier", True),
        ("multiplier", "1e1"),
        ("multiplier", " 2"),
        ("multiplier", "2.00001"),
    ],
)
async def test_a_tier_with_a_value_the_document_calls_invalid_is_refused_and_not_written(
    client, admin, field, value
):
    response = await client.post("/v1/tiers", json={**GOLD, field: value}, headers=admin)

    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [["body", field]]
    assert await tiers(client, admin) == []


async def test_a_whole_number_written_with_a_zero_fraction_is_an_integer(client, admin):
    response = await client.post("/v1/tiers", json={**GOLD, "threshold": 300.0}, headers=admin)

    assert response.status_code == 201, response.text
    assert response.json()["threshold"] == 300


async def test_a_multiplier_given_as_a_number_is_rounded_to_four_places(client, admin):
    response = await client.post("/v1/tiers", json={**GOLD, "multiplier": 1.23456}, headers=admin)

    assert response.status_code == 201, response.text
    assert response.json()["multiplier"] == "1.2346"


async def test_a_change_may_leave_fields_out_but_not_clear_them_as_the_document_says(
    app, client, admin
):
    gold = (await client.post("/v1/tiers", json=GOLD, headers=admin)).json()
    schema = app.openapi()["components"]["schemas"]["TierUpdate"]

    cleared = await client.patch(f"/v1/tiers/{gold['id']}", json={"threshold": None}, headers=admin)

    problem = assert_problem(cleared, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [["body", "threshold"]]
    assert await tiers(client, admin) == [gold]
    for name, field in schema["properties"].items():
        assert {"type": "null"} not in field.get("anyOf", []), name


@pytest.mark.parametrize(
    ("field", "value"),
    [("until", IN_2100), ("until", "2100-01-01T00:00"), ("tier_id", "hex")],
)
async def test_a_manual_tier_needs_a_date_time_with_offset_and_a_hyphenated_id(
    client, admin, pos, field, value
):
    anna = await enrol(client, pos, name="Anna")
    gold = (await client.post("/v1/tiers", json=GOLD, headers=admin)).json()
    body = {"tier_id": gold["id"], "until": "2100-01-01T00:00:00Z"}
    body[field] = gold["id"].replace("-", "") if value == "hex" else value

    response = await client.put(f"/v1/members/{anna['id']}/tier", json=body, headers=admin)

    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [["body", field]]
    tier = (await client.get(f"/v1/members/{anna['id']}/tier", headers=pos)).json()
    assert tier["manual_tier"] is None
