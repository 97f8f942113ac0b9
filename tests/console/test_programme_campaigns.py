"""Campaigns in the console: the minimal and the full campaign, refusals, pausing, deleting."""

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

TIMES = "\N{MULTIPLICATION SIGN}"
CAMPAIGNS = "/admin/programme/campaigns"
NEW = f"{CAMPAIGNS}/new"


async def campaigns(client, admin):
    return (await api_get(client, admin, "/v1/campaigns"))["items"]


async def create_campaign(client, admin, **fields):
    body = {"name": "Double points", "kind": "multiplier", "multiplier": "2", **fields}
    response = await client.post("/v1/campaigns", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_minimal_campaign_is_a_name_a_kind_and_what_it_gives(console, client, admin):
    values = await form_of(console, NEW)
    assert (values["kind"], values["active"], values["combinable"]) == ("multiplier", "on", "on")

    response = await console.post_form(NEW, {**values, "name": "Double points", "multiplier": "2"})

    assert response.headers["location"] == f"{CAMPAIGNS}?done=created"
    page = (await follow(console, response)).text
    assert notice(page) == "Campaign created."
    assert "Double points" in page
    assert f"{TIMES} 2" in page
    [campaign] = await campaigns(client, admin)
    assert campaign["name"] == "Double points"
    assert (campaign["kind"], campaign["multiplier"], campaign["points"]) == (
        "multiplier",
        "2",
        None,
    )
    assert (campaign["active"], campaign["combinable"]) == (True, True)
    assert (campaign["starts_at"], campaign["weekdays"], campaign["channels"]) == (None, [], [])


async def test_a_campaign_with_every_field(console, client, admin):
    silver = await client.post(
        "/v1/tiers", json={"name": "Silver", "rank": 1, "threshold": 100}, headers=admin
    )
    tier_id = silver.json()["id"]
    values = await form_of(console, NEW)
    assert values["tier_ids"] == []
    assert values["weekdays"] == []
    values.update(
        name="Coffee stamp card",
        kind="per_visit",
        points="1",
        starts_at="2026-12-24T18:00",
        ends_at="2027-01-06T09:30",
        weekdays=["6", "7"],
        channels=["pos", "app"],
        store_ids="berlin-1, hamburg-2",
        categories="coffee",
        skus="ESP-1, LAT-2",
        min_total="4.50",
        tier_ids=[tier_id],
        segment="regulars",
        abc_classes=["A", "B"],
        max_points_per_purchase="10",
    )
    del values["combinable"]  # not ticked: a browser sends nothing

    response = await console.post_form(NEW, values)

    assert response.status_code == 303, response.text
    [campaign] = await campaigns(client, admin)
    assert campaign["kind"] == "per_visit"
    assert campaign["points"] == 1
    assert (campaign["starts_at"], campaign["ends_at"]) == (
        "2026-12-24T18:00:00",
        "2027-01-06T09:30:00",
    )
    assert campaign["weekdays"] == [6, 7]
    assert campaign["channels"] == ["pos", "app"]
    assert campaign["store_ids"] == ["berlin-1", "hamburg-2"]
    assert (campaign["categories"], campaign["skus"]) == (["coffee"], ["ESP-1", "LAT-2"])
    assert campaign["min_total"] == 450
    assert campaign["tier_ids"] == [tier_id]
    assert (campaign["segment"], campaign["abc_classes"]) == ("regulars", ["A", "B"])
    assert campaign["combinable"] is False
    assert campaign["max_points_per_purchase"] == 10
    # The edit form shows it as entered.
    edit = await form_of(console, f"{CAMPAIGNS}/{campaign['id']}")
    assert edit["starts_at"] == "2026-12-24T18:00"
    assert edit["weekdays"] == ["6", "7"]
    assert edit["tier_ids"] == tier_id
    assert (edit["min_total"], edit["skus"], edit["combinable"]) == ("4.50", "ESP-1, LAT-2", [])


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Required."),
        ({"multiplier": ""}, "multiplier", "Required for this kind of campaign."),
        (
            {"multiplier": "0.5"},
            "multiplier",
            "Enter a number from 1 to 100 with at most 4 decimal places.",
        ),
        ({"kind": "bonus_points"}, "points", "Required for this kind of campaign."),
        ({"kind": "sku_bonus", "points": "5"}, "skus", "Required for this kind of campaign."),
        ({"points": "0"}, "points", "Must be at least 1."),
        (
            {"starts_at": "2026-12-24T18:00", "ends_at": "2026-12-24T08:00"},
            "ends_at",
            "Must be after the start.",
        ),
        ({"starts_at": "Christmas"}, "starts_at", "Enter a date and time."),
        ({"min_total": "4.555"}, "min_total", "Enter at most 2 decimal places."),
        ({"weekdays": ["8"]}, "weekdays", "Must be at most 7."),
        ({"channels": ["fax"]}, "channels", "Choose one of: 'pos', 'web' or 'app'."),
        ({"max_points_per_purchase": "-1"}, "max_points_per_purchase", "Must be at least 0."),
    ],
)
async def test_refused_fields_are_explained_and_nothing_is_written(
    console, client, admin, changes, field, message
):
    values = await form_of(console, NEW)
    values.update(name="Double points", multiplier="2", store_ids="berlin-1")
    values.update(changes)

    response = await console.post_form(NEW, values)

    assert response.status_code == 422
    assert field_error(response.text, field) == message
    assert alert(response.text) == "Please correct the marked fields."
    kept = form_values(response.text, NEW)
    assert kept["store_ids"] == "berlin-1"
    if isinstance(changes.get(field), str) and field != "kind":
        assert kept[field] == changes[field]
    assert await campaigns(client, admin) == []


async def test_an_edit_replaces_what_the_form_shows_and_clears_emptied_fields(
    console, client, admin
):
    campaign = await create_campaign(
        client, admin, ends_at="2027-01-01T00:00:00", weekdays=[6], min_total=1000
    )
    url = f"{CAMPAIGNS}/{campaign['id']}"
    values = await form_of(console, url)
    assert (values["ends_at"], values["weekdays"], values["min_total"]) == (
        "2027-01-01T00:00",
        "6",
        "10.00",
    )

    values.update(name="Triple points", multiplier="3", ends_at="", weekdays=[], min_total="")
    response = await console.post_form(url, values)

    assert response.headers["location"] == f"{CAMPAIGNS}?done=saved"
    assert notice((await follow(console, response)).text) == "Campaign saved."
    changed = await api_get(client, admin, f"/v1/campaigns/{campaign['id']}")
    assert (changed["name"], changed["multiplier"]) == ("Triple points", "3")
    assert (changed["ends_at"], changed["weekdays"], changed["min_total"]) == (None, [], None)
    assert changed["active"] is True


async def test_a_campaign_is_deactivated_and_activated_again(console, client, admin):
    campaign = await create_campaign(client, admin)
    list_page = (await console.get(CAMPAIGNS)).text
    deactivate = f"{CAMPAIGNS}/{campaign['id']}/deactivate"
    assert f'action="{deactivate}"' in list_page

    response = await console.post_form(deactivate)

    assert response.headers["location"] == f"{CAMPAIGNS}?done=deactivated"
    page = (await follow(console, response)).text
    assert notice(page) == "Campaign deactivated."
    assert "Inactive" in page
    assert (await api_get(client, admin, f"/v1/campaigns/{campaign['id']}"))["active"] is False

    response = await console.post_form(f"{CAMPAIGNS}/{campaign['id']}/activate")
    assert notice((await follow(console, response)).text) == "Campaign activated."
    assert (await api_get(client, admin, f"/v1/campaigns/{campaign['id']}"))["active"] is True


async def test_a_campaign_is_deleted_after_confirming(console, client, admin):
    campaign = await create_campaign(client, admin, name="Summer")
    delete = f"{CAMPAIGNS}/{campaign['id']}/delete"
    assert f'action="{delete}"' in (await console.get(f"{CAMPAIGNS}/{campaign['id']}")).text

    asked = await console.post_form(delete)

    assert "Delete the campaign Summer?" in asked.text
    assert len(await campaigns(client, admin)) == 1
    confirmed = form_values(asked.text, delete)
    response = await console.post(delete, data=confirmed)
    assert notice((await follow(console, response)).text) == "Campaign deleted."
    assert await campaigns(client, admin) == []
    again = await console.post(delete, data=confirmed)
    assert again.headers["location"] == f"{CAMPAIGNS}?done=deleted"


async def test_the_list_pages_on(console, client, admin):
    for number in range(52):
        await create_campaign(client, admin, name=f"Campaign {number:02}")

    first = (await console.get(CAMPAIGNS)).text

    assert "Campaign 51" in first
    assert "Campaign 02" in first
    assert "Campaign 01" not in first
    next_link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert "Next page" in first
    second = (await console.get(CAMPAIGNS + next_link.replace("&amp;", "&"))).text
    assert "Campaign 01" in second
    assert "Campaign 00" in second
    assert "Campaign 02" not in second
    assert "Next page" not in second


async def test_without_the_csrf_token_nothing_changes(console, client, admin):
    campaign = await create_campaign(client, admin)

    refused = await console.post(f"{CAMPAIGNS}/{campaign['id']}/deactivate")
    created = await console.post(NEW, data={"name": "X", "kind": "multiplier", "multiplier": "2"})

    assert (refused.status_code, created.status_code) == (403, 403)
    [unchanged] = await campaigns(client, admin)
    assert unchanged["active"] is True
