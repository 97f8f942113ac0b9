"""A change of the programme settings takes exactly what the OpenAPI document allows.

Counts and points are JSON integers (never `true` or `"14"`); the earn rate is a number or a
decimal string in plain notation with at most four places. Nothing of a refused change is
kept.
"""

import pytest

from tests.factories import assert_problem


async def program(client, admin):
    response = await client.get("/v1/program", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("signup_bonus", True),
        ("pending_days", "14"),
        ("gift_max_points", 500.5),
        ("referral_min_purchase_total", False),
        ("points_per_currency_unit", True),
        ("points_per_currency_unit", False),
        ("points_per_currency_unit", "1e1"),
        ("points_per_currency_unit", "0.12345"),
        ("points_per_currency_unit", " 2"),
    ],
)
async def test_a_value_the_document_calls_invalid_is_refused_and_nothing_changes(
    client, admin, field, value
):
    before = await program(client, admin)

    response = await client.put(
        "/v1/program", json={"birthday_bonus": 100, field: value}, headers=admin
    )

    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [["body", field]]
    assert await program(client, admin) == before


@pytest.mark.parametrize(
    ("given", "kept"), [("0.1", "0.1"), (0.1, "0.1"), (2, "2"), (0.12345, "0.1235")]
)
async def test_an_earn_rate_is_a_decimal_string_or_a_number_rounded_to_four_places(
    client, admin, given, kept
):
    response = await client.put(
        "/v1/program", json={"points_per_currency_unit": given}, headers=admin
    )

    assert response.status_code == 200, response.text
    assert (await program(client, admin))["points_per_currency_unit"] == kept
