"""The programme settings: sensible defaults, partial changes, and only admins touch them."""

from app.api_keys.models import Scope
from tests.factories import assert_problem, headers_for, set_program

DEFAULTS = {
    "currency": "EUR",
    "points_per_currency_unit": "1",
    "pending_days": 0,
    "points_expiry_months": 24,
    "expiry_notice_days": 30,
    "point_value_minor": 1,
    "timezone": "Europe/Berlin",
    "receipt_claim_days": 30,
    "return_policy": "unlimited",
    "excluded_categories": [],
    "excluded_skus": [],
    "signup_bonus": 0,
    "birthday_bonus": 0,
    "birthday_bonus_timing": "month",
    "profile_completion_bonus": 0,
    "tier_qualifying_window": "calendar_year",
    "tier_downgrade_grace_days": 0,
    "gift_expiry_days": 30,
    "gift_min_points": 1,
    "gift_max_points": 10_000,
    "gift_max_open_per_member": 5,
    "gift_max_points_per_month": 0,
    "referral_bonus_referrer": 0,
    "referral_bonus_referee": 0,
    "referral_min_purchase_total": 0,
    "referral_max_per_referrer_per_month": 0,
    "abc_a_share": 80,
    "abc_b_share": 15,
}


async def test_a_new_programme_runs_on_defaults(client, admin):
    response = await client.get("/v1/program", headers=admin)

    assert response.status_code == 200, response.text
    assert response.json() == DEFAULTS


async def test_put_changes_the_fields_given_and_keeps_the_others(client, admin):
    first = await set_program(client, admin, points_per_currency_unit="0.1", pending_days=14)
    second = await set_program(client, admin, return_policy="within_balance")

    assert first == {**DEFAULTS, "points_per_currency_unit": "0.1", "pending_days": 14}
    expected = {**first, "return_policy": "within_balance"}
    assert second == expected
    assert (await client.get("/v1/program", headers=admin)).json() == expected


async def test_invalid_settings_are_422_and_change_nothing(client, admin):
    for invalid in (
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": "../../etc/passwd"},
        {"currency": "eur"},
        {"currency": "EURO"},
        {"pending_days": -1},
        {"points_per_currency_unit": "0.00001"},
        {"receipt_claim_days": 0},
        {"return_policy": "never"},
        {"balance": 100},
    ):
        response = await client.put("/v1/program", json=invalid, headers=admin)

        body = assert_problem(response, 422, "validation_error")
        assert [error["loc"][-1] for error in body["errors"]] == list(invalid), invalid
    assert (await client.get("/v1/program", headers=admin)).json() == DEFAULTS


async def test_only_admins_see_or_change_the_programme(app, client, admin):
    for scope in (Scope.pos, Scope.shop, Scope.partner):
        headers = await headers_for(app, scope)

        read = await client.get("/v1/program", headers=headers)
        changed = await client.put("/v1/program", json={"pending_days": 30}, headers=headers)

        assert_problem(read, 403, "insufficient_scope")
        assert_problem(changed, 403, "insufficient_scope")
    assert (await client.get("/v1/program", headers=admin)).json() == DEFAULTS


async def test_settings_that_contradict_each_other_are_422_and_change_nothing(client, admin):
    await set_program(client, admin, gift_max_points=500)

    response = await client.put("/v1/program", json={"gift_min_points": 501}, headers=admin)

    body = assert_problem(response, 422, "validation_error")
    assert "gift_min_points" in body["errors"][0]["msg"]
    assert (await client.get("/v1/program", headers=admin)).json()["gift_min_points"] == 1
