"""Campaign requests take exactly what the OpenAPI document allows.

Start and end are local wall-clock times, so the document gives them a pattern of their own
instead of `format: date-time` (which requires an offset); numbers and flags are JSON's own,
never strings or booleans standing in; a change may leave any field out, and only the
nullable ones can be cleared with null.
"""

import pytest

from tests.factories import assert_problem

CAMPAIGNS = "/v1/campaigns"
WEEKEND = {"name": "Double points weekend", "kind": "multiplier", "multiplier": "2"}
LOCAL_TIME = {
    "type": "string",
    "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    "T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$",
}


async def campaigns(client, admin):
    response = await client.get(CAMPAIGNS, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def nullable(field):
    return {"type": "null"} in field.get("anyOf", [])


def test_start_and_end_are_documented_as_local_times_without_an_offset(app):
    schemas = app.openapi()["components"]["schemas"]

    for model in ("CampaignCreate", "CampaignUpdate", "CampaignRead"):
        for name in ("starts_at", "ends_at"):
            parts = schemas[model]["properties"][name]["anyOf"]
            (documented,) = [part for part in parts if part != {"type": "null"}]
            assert {key: documented[key] for key in LOCAL_TIME} == LOCAL_TIME, (model, name)
            assert "format" not in documented


async def test_a_local_time_to_the_second_is_kept_as_written(client, admin):
    response = await client.post(
        CAMPAIGNS,
        json={**WEEKEND, "starts_at": "2026-12-24T18:00:00", "ends_at": "2026-12-27T00:00:00"},
        headers=admin,
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["starts_at"], created["ends_at"]) == (
        "2026-12-24T18:00:00",
        "2026-12-27T00:00:00",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("starts_at", "2026-12-24T18:00"),  # without seconds
        ("starts_at", "2026-12-24"),  # a date alone
        ("starts_at", "2026-12-24 18:00:00"),
        ("ends_at", 1_798_131_600),  # Unix time
        ("active", 1),
        ("combinable", "false"),
        ("points", True),
        ("weekdays", ["6"]),
        ("min_total", 100_000_000_001),
        ("multiplier", "1e1"),
    ],
)
async def test_a_campaign_with_a_value_the_document_calls_invalid_is_refused_and_not_written(
    client, admin, field, value
):
    body = {**WEEKEND, field: value}

    response = await client.post(CAMPAIGNS, json=body, headers=admin)

    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"][:2] for error in problem["errors"]] == [["body", field]]
    assert await campaigns(client, admin) == []


async def test_a_change_clears_only_what_the_document_calls_nullable(app, client, admin):
    created = (
        await client.post(CAMPAIGNS, json={**WEEKEND, "segment": "vip"}, headers=admin)
    ).json()
    schema = app.openapi()["components"]["schemas"]["CampaignUpdate"]["properties"]
    path = f"{CAMPAIGNS}/{created['id']}"

    for name in ("name", "kind", "active", "categories", "weekdays", "tier_ids", "combinable"):
        response = await client.patch(path, json={name: None}, headers=admin)

        problem = assert_problem(response, 422, "validation_error")
        assert [error["loc"] for error in problem["errors"]] == [["body", name]]
        assert not nullable(schema[name]), name
    cleared = await client.patch(path, json={"segment": None}, headers=admin)

    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["segment"] is None
    assert nullable(schema["segment"])
