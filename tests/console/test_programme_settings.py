"""The programme's overview and settings pages: every setting, saved through the service."""

import re

import pytest

from app.program.schemas import ProgramUpdate
from tests.console.programme_support import (
    alert,
    api_get,
    field_error,
    follow,
    form_of,
    form_values,
    notice,
)

SETTINGS = "/admin/programme/settings"


async def test_the_overview_links_the_four_parts_with_a_summary(console, client, admin):
    await client.put("/v1/program", json={"points_per_currency_unit": "2"}, headers=admin)
    await client.post(
        "/v1/tiers", json={"name": "Silver", "rank": 1, "threshold": 100}, headers=admin
    )
    for name, active in (("Summer", True), ("Winter", False)):
        body = {"name": name, "kind": "bonus_points", "points": 5, "active": active}
        assert (await client.post("/v1/campaigns", json=body, headers=admin)).status_code == 201

    response = await console.get("/admin/programme")

    assert response.status_code == 200
    page = response.text
    for href in ("settings", "tiers", "campaigns", "rewards"):
        assert f'href="/admin/programme/{href}"' in page
    assert "EUR" in page
    assert "Points per €1.00" in page
    assert "Tiers: 1" in page
    assert "Silver" in page
    assert "Campaigns: 2, active: 1" in page
    assert "Rewards: 0, active: 0" in page
    assert 'aria-current="page">Programme' in page


async def test_the_form_shows_every_setting_with_its_current_value(console, client, admin):
    await client.put(
        "/v1/program",
        json={"point_value_minor": 5, "excluded_categories": ["gift-cards", "tobacco"]},
        headers=admin,
    )

    values = await form_of(console, SETTINGS)

    assert set(ProgramUpdate.model_fields) <= set(values)
    assert values["point_value_minor"] == "0.05"  # money in major units
    assert values["points_per_currency_unit"] == "1"
    assert values["excluded_categories"] == "gift-cards, tobacco"
    assert values["return_policy"] == "unlimited"
    assert values["timezone"] == "Europe/Berlin"


async def test_saving_the_settings_stores_them_and_says_so(console, client, admin):
    values = await form_of(console, SETTINGS)
    values.update(
        pending_days="14",
        points_per_currency_unit="0.5",
        point_value_minor="0.02",
        referral_min_purchase_total="1,250.50",
        excluded_categories="gift-cards, tobacco",
        excluded_skus="",
        return_policy="within_balance",
        birthday_bonus_timing="day",
        tier_qualifying_window="rolling_12_months",
        timezone="Europe/Vienna",
    )

    response = await console.post_form(SETTINGS, values)

    assert response.headers["location"] == f"{SETTINGS}?done=saved"
    assert notice((await follow(console, response)).text) == "Settings saved."
    program = await api_get(client, admin, "/v1/program")
    assert program["pending_days"] == 14
    assert program["points_per_currency_unit"] == "0.5"
    assert program["point_value_minor"] == 2
    assert program["referral_min_purchase_total"] == 125050
    assert program["excluded_categories"] == ["gift-cards", "tobacco"]
    assert program["excluded_skus"] == []
    assert program["return_policy"] == "within_balance"
    assert program["birthday_bonus_timing"] == "day"
    assert program["tier_qualifying_window"] == "rolling_12_months"
    assert program["timezone"] == "Europe/Vienna"


async def test_amounts_follow_the_currency_chosen_in_the_same_form(console, client, admin):
    values = await form_of(console, SETTINGS)
    values.update(currency="JPY", point_value_minor="1", referral_min_purchase_total="2000")

    response = await console.post_form(SETTINGS, values)

    assert response.status_code == 303, response.text
    program = await api_get(client, admin, "/v1/program")
    assert (program["currency"], program["point_value_minor"]) == ("JPY", 1)
    assert program["referral_min_purchase_total"] == 2000
    page = (await console.get(SETTINGS)).text
    assert form_values(page, SETTINGS)["referral_min_purchase_total"] == "2000"


@pytest.mark.parametrize(
    ("field", "entered", "message"),
    [
        ("pending_days", "-3", "Must be at least 0."),
        ("pending_days", "two", "Enter a whole number."),
        ("pending_days", "", "Required."),
        ("timezone", "Mars/Olympus", "Unknown time zone: enter a name such as Europe/Berlin."),
        ("currency", "eur", "Enter a three-letter code in capitals, such as EUR."),
        (
            "points_per_currency_unit",
            "0.12345",
            "Enter a number from 0 to 10000 with at most 4 decimal places.",
        ),
        (
            "points_per_currency_unit",
            "lots",
            "Enter a number from 0 to 10000 with at most 4 decimal places.",
        ),
        ("point_value_minor", "0.001", "Enter at most 2 decimal places."),
        ("point_value_minor", "ten cents", "Enter an amount, e.g. 5.00."),
        ("point_value_minor", "-1", "Must be at least 0.00."),
        ("abc_a_share", "0", "Must be at least 1."),
        (
            "return_policy",
            "generous",
            "Choose one of: 'unlimited', 'within_balance' or 'only_pending'.",
        ),
    ],
)
async def test_a_refused_setting_is_explained_next_to_it_and_nothing_is_saved(
    console, client, admin, field, entered, message
):
    before = await api_get(client, admin, "/v1/program")
    values = await form_of(console, SETTINGS)
    values["signup_bonus"] = "50"  # a valid change beside the refused one is not saved either
    values[field] = entered

    response = await console.post_form(SETTINGS, values)

    assert response.status_code == 422
    assert field_error(response.text, field) == message
    assert alert(response.text) == "Please correct the marked fields."
    if field != "return_policy":  # a list of choices cannot show what is not among them
        assert form_values(response.text, SETTINGS)[field] == entered  # kept as entered
    assert re.search(rf'id="{field}" name="{field}"[^>]*aria-invalid="true"', response.text)
    assert await api_get(client, admin, "/v1/program") == before


@pytest.mark.parametrize(
    ("changes", "fields", "message"),
    [
        (
            {"gift_min_points": "500", "gift_max_points": "100"},
            ("gift_min_points",),
            "Must not be more than the most points per gift.",
        ),
        (
            {"abc_a_share": "90", "abc_b_share": "20"},
            ("abc_a_share", "abc_b_share"),
            "Class A and class B together must not be more than 100 percent.",
        ),
    ],
)
async def test_rules_across_settings_are_explained_next_to_the_fields(
    console, client, admin, changes, fields, message
):
    before = await api_get(client, admin, "/v1/program")
    values = await form_of(console, SETTINGS)
    values.update(changes, pending_days="7")

    response = await console.post_form(SETTINGS, values)

    assert response.status_code == 422
    for field in fields:
        assert field_error(response.text, field) == message
    assert await api_get(client, admin, "/v1/program") == before


async def test_the_settings_page_speaks_german(console):
    await console.get("/admin/language/de")

    page = (await console.get(SETTINGS)).text

    assert '<html lang="de">' in page
    assert "Programmeinstellungen" in page
    assert "Einstellungen speichern" in page
    assert "Vormerkzeit (Tage)" in page
    assert "Wert eines Punktes (EUR)" in page
    values = form_values(page, SETTINGS)
    values.pop("csrf_token")
    values["point_value_minor"] = "0,03"  # German notation
    values["pending_days"] = "-1"
    response = await console.post_form(SETTINGS, values)
    assert field_error(response.text, "pending_days") == "Muss mindestens 0 sein."
    values["pending_days"] = "2"
    response = await console.post_form(SETTINGS, values)
    assert notice((await follow(console, response)).text) == "Einstellungen gespeichert."


async def test_without_the_csrf_token_nothing_is_saved(console, client, admin):
    values = await form_of(console, SETTINGS)
    values["pending_days"] = "21"

    response = await console.post(SETTINGS, data=values)

    assert response.status_code == 403
    assert (await api_get(client, admin, "/v1/program"))["pending_days"] == 0
