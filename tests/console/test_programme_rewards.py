"""The rewards catalogue in the console: money in major units, refusals, withdrawing, deleting."""

import pytest

from tests.console.programme_support import (
    alert,
    api_get,
    field_error,
    follow,
    form_of,
    form_values,
    notice,
)

REWARDS = "/admin/programme/rewards"
NEW = f"{REWARDS}/new"


async def rewards(client, admin):
    return (await api_get(client, admin, "/v1/rewards"))["items"]


async def create_reward(client, admin, **fields):
    body = {"name": "5 € off", "cost_points": 500, "kind": "amount", "value": 500}
    response = await client.post(
        "/v1/rewards", json={**body, "valid_days": 90, **fields}, headers=admin
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_amount_reward_is_entered_in_major_units(console, client, admin):
    values = await form_of(console, NEW)
    assert (values["kind"], values["active"]) == ("amount", "on")
    values.update(
        name="5 € off",
        cost_points="500",
        value="5.00",
        min_order_total="1,020.50",
        valid_days="90",
    )

    response = await console.post_form(NEW, values)

    assert response.headers["location"] == f"{REWARDS}?done=created"
    page = (await follow(console, response)).text
    assert notice(page) == "Reward created."
    assert "€5.00 off" in page
    assert "from €1,020.50" in page
    [reward] = await rewards(client, admin)
    assert (reward["kind"], reward["value"], reward["min_order_total"]) == ("amount", 500, 102050)
    assert (reward["cost_points"], reward["valid_days"], reward["active"]) == (500, 90, True)
    assert (reward["sku"], reward["max_discount"], reward["stock"]) == (None, None, None)


async def test_a_percent_reward_is_entered_in_percent(console, client, admin):
    values = await form_of(console, NEW)
    values.update(
        name="12.5 % off",
        cost_points="800",
        kind="percent",
        value="12.5",
        max_discount="10",
        valid_days="30",
        channels=["web"],
        categories="shoes, bags",
        starts_at="2026-12-01T00:00",
        ends_at="2026-12-24T12:00",
        stock="100",
    )

    response = await console.post_form(NEW, values)

    assert response.status_code == 303, response.text
    [reward] = await rewards(client, admin)
    assert (reward["value"], reward["max_discount"]) == (1250, 1000)  # basis points, cents
    assert (reward["channels"], reward["categories"]) == (["web"], ["shoes", "bags"])
    # Local times in the programme's zone (Europe/Berlin, winter: +01:00).
    assert reward["starts_at"].startswith("2026-11-30T23:00:00")
    assert reward["ends_at"].startswith("2026-12-24T11:00:00")
    assert reward["stock"] == 100
    assert "12.5% off" in (await console.get(REWARDS)).text
    edit = await form_of(console, f"{REWARDS}/{reward['id']}")
    assert (edit["value"], edit["max_discount"]) == ("12.5", "10.00")
    assert (edit["starts_at"], edit["ends_at"]) == ("2026-12-01T00:00", "2026-12-24T12:00")


async def test_a_product_reward_needs_its_sku(console, client, admin):
    values = await form_of(console, NEW)
    values.update(name="Free cup", cost_points="1200", kind="product", valid_days="30")

    refused = await console.post_form(NEW, values)
    created = await console.post_form(NEW, {**values, "sku": "CUP-ESPRESSO"})

    assert refused.status_code == 422
    assert field_error(refused.text, "sku") == "Enter the SKU of the free product."
    assert created.status_code == 303, created.text
    [reward] = await rewards(client, admin)
    assert (reward["kind"], reward["sku"], reward["value"]) == ("product", "CUP-ESPRESSO", None)


async def test_amounts_follow_the_currencys_minor_units(console, client, admin):
    await client.put("/v1/program", json={"currency": "JPY"}, headers=admin)
    values = await form_of(console, NEW)
    values.update(name="500 yen off", cost_points="500", value="500", valid_days="30")

    assert (await console.post_form(NEW, {**values, "value": "500.5"})).status_code == 422
    response = await console.post_form(NEW, values)

    assert response.status_code == 303, response.text
    assert [reward["value"] for reward in await rewards(client, admin)] == [500]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"value": "5.001"}, "value", "Enter at most 2 decimal places."),
        ({"value": "five"}, "value", "Enter an amount, e.g. 5.00."),
        ({"value": "0"}, "value", "Must be at least 0.01."),
        ({"value": ""}, "value", "Enter the amount off."),
        (
            {"kind": "percent", "value": "150"},
            "value",
            "Enter a percentage from 0.01 to 100, with at most 2 decimal places.",
        ),
        (
            {"kind": "percent", "value": "0.001"},
            "value",
            "Enter a percentage from 0.01 to 100, with at most 2 decimal places.",
        ),
        ({"kind": "product", "sku": "CUP"}, "value", "Leave it empty for a free product."),
        ({"sku": "CUP"}, "sku", "Only for a free product; leave it empty."),
        ({"max_discount": "3.00"}, "max_discount", "Only for percent off; leave it empty."),
        ({"cost_points": ""}, "cost_points", "Required."),
        ({"valid_days": "0"}, "valid_days", "Must be at least 1."),
        ({"stock": "-1"}, "stock", "Must be at least 0."),
        ({"min_order_total": "-5"}, "min_order_total", "Must be at least 0.00."),
        (
            {"starts_at": "2026-12-24T18:00", "ends_at": "2026-12-24T18:00"},
            "ends_at",
            "Must be after the start.",
        ),
        ({"ends_at": "tomorrow"}, "ends_at", "Enter a date and time."),
    ],
)
async def test_refused_fields_are_explained_and_nothing_is_written(
    console, client, admin, changes, field, message
):
    values = await form_of(console, NEW)
    values.update(name="5 € off", cost_points="500", value="5.00", valid_days="90")
    values.update(changes)

    response = await console.post_form(NEW, values)

    assert response.status_code == 422
    assert field_error(response.text, field) == message
    assert alert(response.text) == "Please correct the marked fields."
    assert form_values(response.text, NEW)[field] == values[field]  # as entered
    assert await rewards(client, admin) == []


async def test_a_local_time_with_no_moment_in_utc_is_refused(console, client, admin):
    # In New York the last evening of the calendar is already in year 10000 in UTC.
    await client.put("/v1/program", json={"timezone": "America/New_York"}, headers=admin)
    values = await form_of(console, NEW)
    values.update(name="Forever", cost_points="1", value="1", valid_days="1")

    response = await console.post_form(NEW, {**values, "ends_at": "9999-12-31T23:00"})

    assert response.status_code == 422
    assert field_error(response.text, "ends_at") == "Enter a date and time."
    assert await rewards(client, admin) == []


async def test_an_edit_replaces_what_the_form_shows(console, client, admin):
    reward = await create_reward(client, admin, stock=10, description="For loyal customers")
    url = f"{REWARDS}/{reward['id']}"
    values = await form_of(console, url)
    assert (values["value"], values["stock"], values["description"]) == (
        "5.00",
        "10",
        "For loyal customers",
    )

    values.update(value="7.50", stock="", description="", cost_points="700")
    response = await console.post_form(url, values)

    assert response.headers["location"] == f"{REWARDS}?done=saved"
    assert notice((await follow(console, response)).text) == "Reward saved."
    changed = await api_get(client, admin, f"/v1/rewards/{reward['id']}")
    assert (changed["value"], changed["cost_points"]) == (750, 700)
    assert (changed["stock"], changed["description"]) == (None, None)


async def test_a_reward_is_deactivated_and_activated_again(console, client, admin):
    reward = await create_reward(client, admin)
    deactivate = f"{REWARDS}/{reward['id']}/deactivate"
    assert f'action="{deactivate}"' in (await console.get(REWARDS)).text

    response = await console.post_form(deactivate)

    page = (await follow(console, response)).text
    assert notice(page) == "Reward deactivated."
    assert "Inactive" in page
    assert (await api_get(client, admin, f"/v1/rewards/{reward['id']}"))["active"] is False
    response = await console.post_form(f"{REWARDS}/{reward['id']}/activate")
    assert notice((await follow(console, response)).text) == "Reward activated."
    assert (await api_get(client, admin, f"/v1/rewards/{reward['id']}"))["active"] is True


async def test_a_reward_is_deleted_after_confirming(console, client, admin):
    reward = await create_reward(
        client, admin, name="Free cup", kind="product", value=None, sku="CUP"
    )
    delete = f"{REWARDS}/{reward['id']}/delete"

    asked = await console.post_form(delete)

    assert "Delete the reward Free cup?" in asked.text
    assert len(await rewards(client, admin)) == 1
    response = await console.post(delete, data=form_values(asked.text, delete))
    assert notice((await follow(console, response)).text) == "Reward deleted."
    assert await rewards(client, admin) == []


async def test_the_reward_form_speaks_german(console, client, admin):
    await console.get("/admin/language/de")
    page = (await console.get(NEW)).text
    assert "Neue Prämie" in page
    assert "Prämie anlegen" in page
    assert "Mindestbestellwert (EUR)" in page
    values = form_values(page, NEW)
    values.update(name="5 € Rabatt", cost_points="500", value="5,00", valid_days="90")
    values["min_order_total"] = "1.020,50"  # German notation

    response = await console.post(NEW, data=values)

    assert notice((await follow(console, response)).text) == "Prämie angelegt."
    [reward] = await rewards(client, admin)
    assert (reward["value"], reward["min_order_total"]) == (500, 102050)
    url = f"{REWARDS}/{reward['id']}"
    edit = form_values((await console.get(url)).text, url)
    assert (edit["value"], edit["min_order_total"]) == ("5,00", "1020,50")


async def test_without_the_csrf_token_no_reward_is_created(console, client, admin):
    values = {"name": "X", "cost_points": "5", "kind": "amount", "value": "1", "valid_days": "1"}

    response = await console.post(NEW, data=values)

    assert response.status_code == 403
    assert await rewards(client, admin) == []
