"""Campaigns in the back office: an admin creates, changes, pauses and deletes earn rules."""

import uuid
from typing import Any

from app.api_keys.models import Scope
from tests.factories import assert_problem, enrol, headers_for, purchase

CAMPAIGNS = "/v1/campaigns"

ONE_OF_EACH_KIND = [
    {"name": "Double points weekend", "kind": "multiplier", "multiplier": "2", "weekdays": [6, 7]},
    {"name": "Welcome back", "kind": "bonus_points", "points": 50, "min_total": 2000},
    {"name": "Coffee stamp card", "kind": "per_visit", "points": 1, "channels": ["pos"]},
    {
        "name": "Triple coffee",
        "kind": "category_multiplier",
        "multiplier": "3",
        "categories": ["coffee"],
    },
    {"name": "Mug bonus", "kind": "sku_bonus", "points": 25, "skus": ["MUG", "MUG-XL"]},
]


async def create(client, admin, **fields: Any) -> dict[str, Any]:
    response = await client.post(CAMPAIGNS, json=fields, headers=admin)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def get(client, admin, campaign: dict[str, Any]) -> dict[str, Any]:
    response = await client.get(f"{CAMPAIGNS}/{campaign['id']}", headers=admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def patch(client, admin, campaign: dict[str, Any], **fields: Any):
    return await client.patch(f"{CAMPAIGNS}/{campaign['id']}", json=fields, headers=admin)


async def test_an_admin_creates_a_campaign_of_each_kind(client, admin):
    for fields in ONE_OF_EACH_KIND:
        created = await create(client, admin, **fields)

        assert uuid.UUID(created["id"])
        assert {name: created[name] for name in fields} == fields
        assert created["active"] is True
        assert created["combinable"] is True
        assert created["max_points_per_purchase"] is None
        assert await get(client, admin, created) == created


async def test_every_condition_is_kept_as_given(client, admin):
    tier_id = str(uuid.uuid4())
    fields = {
        "name": "VIP evening",
        "kind": "multiplier",
        "multiplier": "1.5",
        "starts_at": "2026-03-29T01:30:00",
        "ends_at": "2026-03-29T03:30:00",
        "weekdays": [7],
        "channels": ["pos", "app"],
        "store_ids": ["berlin-mitte"],
        "min_total": 2000,
        "tier_ids": [tier_id],
        "segment": "vip-evening",
        "combinable": False,
        "max_points_per_purchase": 500,
    }

    created = await create(client, admin, **fields)

    assert {name: created[name] for name in fields} == fields


KIND_WITHOUT_ITS_FIELDS = [
    ({"kind": "multiplier"}, "multiplier"),
    ({"kind": "category_multiplier", "multiplier": "3"}, "categories"),
    ({"kind": "category_multiplier", "categories": ["coffee"]}, "multiplier"),
    ({"kind": "bonus_points"}, "points"),
    ({"kind": "per_visit"}, "points"),
    ({"kind": "sku_bonus", "points": 25}, "skus"),
    ({"kind": "sku_bonus", "skus": ["MUG"]}, "points"),
    ({"kind": "sku_bonus", "points": 25, "skus": []}, "skus"),
]


async def test_each_kind_needs_its_own_fields(client, admin):
    for fields, missing in KIND_WITHOUT_ITS_FIELDS:
        response = await client.post(CAMPAIGNS, json={"name": "x", **fields}, headers=admin)

        problem = assert_problem(response, 422, "validation_error")
        assert f"needs {missing}" in str(problem), problem


NONSENSE = [
    {"starts_at": "2026-06-01T10:00:00", "ends_at": "2026-06-01T10:00:00"},  # empty
    {"starts_at": "2026-06-01T10:00:00", "ends_at": "2026-06-01T09:59:59"},
    {"starts_at": "2026-06-01T10:00:00+02:00"},  # local wall-clock time, no offset
    {"starts_at": "2026-06-01T10:00:00.5"},  # to the second
    {"starts_at": "2026-06-01T10:00:00.1", "ends_at": "2026-06-01T10:00:00.9"},
    {"weekdays": [0]},
    {"weekdays": [8]},
    {"channels": ["fax"]},
    {"multiplier": "0.5"},  # a multiplier never takes points away
    {"points": 0},
    {"min_total": -1},
    {"max_points_per_purchase": -1},
    {"tier_ids": ["gold"]},
    {"segment": ""},
    {"colour": "red"},  # unknown fields are refused
]


async def test_a_campaign_that_makes_no_sense_is_refused(client, admin):
    body = {"name": "Double points", "kind": "multiplier", "multiplier": "2", "points": 1}

    for fields in NONSENSE:
        response = await client.post(CAMPAIGNS, json={**body, **fields}, headers=admin)

        assert_problem(response, 422, "validation_error")
    assert (await client.get(CAMPAIGNS, headers=admin)).json()["items"] == []


async def test_a_change_is_merged_into_the_campaign(client, admin):
    campaign = await create(client, admin, **ONE_OF_EACH_KIND[0])

    response = await patch(client, admin, campaign, multiplier="3", channels=["app"])

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["multiplier"] == "3"
    assert changed["channels"] == ["app"]
    assert changed["name"] == "Double points weekend"  # what was not given is kept
    assert changed["weekdays"] == [6, 7]
    assert changed["created_at"] == campaign["created_at"]
    assert await get(client, admin, campaign) == changed


async def test_null_clears_an_optional_field(client, admin):
    campaign = await create(
        client,
        admin,
        name="Spring",
        kind="bonus_points",
        points=50,
        starts_at="2026-03-01T00:00:00",
        ends_at="2026-06-01T00:00:00",
        segment="vip-evening",
    )

    response = await patch(client, admin, campaign, ends_at=None, segment=None)

    assert response.status_code == 200, response.text
    assert (response.json()["starts_at"], response.json()["ends_at"]) == (
        "2026-03-01T00:00:00",
        None,
    )
    assert response.json()["segment"] is None


INVALID_CHANGES = [
    {"kind": "sku_bonus"},  # keeps points 50, but has no skus
    {"kind": "multiplier"},  # has no multiplier
    {"points": None},  # a bonus without points
    {"starts_at": "2026-07-01T00:00:00"},  # after the kept ends_at
    {"ends_at": "2026-02-01T00:00:00"},  # before the kept starts_at
    {"kind": None},
    {"weekdays": [9]},
    {"ends_at": "2026-05-31T23:59:59.999"},
]


async def test_a_change_is_checked_against_the_whole_campaign(client, admin):
    campaign = await create(
        client,
        admin,
        name="Spring",
        kind="bonus_points",
        points=50,
        starts_at="2026-03-01T00:00:00",
        ends_at="2026-06-01T00:00:00",
    )

    for change in INVALID_CHANGES:
        response = await patch(client, admin, campaign, **change)

        assert_problem(response, 422, "validation_error")
    assert await get(client, admin, campaign) == campaign


async def test_a_change_of_kind_with_its_fields_is_accepted(client, admin):
    campaign = await create(client, admin, name="Spring", kind="bonus_points", points=50)

    response = await patch(client, admin, campaign, kind="sku_bonus", skus=["MUG"])

    assert response.status_code == 200, response.text
    assert (response.json()["kind"], response.json()["points"], response.json()["skus"]) == (
        "sku_bonus",
        50,
        ["MUG"],
    )


async def test_a_paused_campaign_stops_applying_until_it_is_resumed(client, admin, pos):
    anna = await enrol(client, pos, name="Anna")
    campaign = await create(client, admin, name="Welcome back", kind="bonus_points", points=50)

    running = await purchase(client, pos, anna, 1000)
    paused = await patch(client, admin, campaign, active=False)
    while_paused = await purchase(client, pos, anna, 1000)
    await patch(client, admin, campaign, active=True)
    resumed = await purchase(client, pos, anna, 1000)

    assert paused.status_code == 200
    assert paused.json()["active"] is False
    assert [p["points_earned"] for p in (running, while_paused, resumed)] == [60, 10, 60]
    assert [line["name"] for line in while_paused["breakdown"]] == ["base rate"]


async def test_a_deleted_campaign_is_gone(client, admin, pos):
    anna = await enrol(client, pos, name="Anna")
    campaign = await create(client, admin, name="Welcome back", kind="bonus_points", points=50)
    path = f"{CAMPAIGNS}/{campaign['id']}"

    deleted = await client.delete(path, headers=admin)

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_problem(await client.get(path, headers=admin), 404, "campaign_not_found")
    assert_problem(await client.delete(path, headers=admin), 404, "campaign_not_found")
    assert_problem(await patch(client, admin, campaign, points=5), 404, "campaign_not_found")
    assert (await purchase(client, pos, anna, 1000))["points_earned"] == 10


async def test_an_unknown_campaign_is_not_found(client, admin):
    path = f"{CAMPAIGNS}/{uuid.uuid4()}"

    assert_problem(await client.get(path, headers=admin), 404, "campaign_not_found")


async def test_campaigns_are_listed_newest_first_a_page_at_a_time(client, admin):
    created = [
        await create(client, admin, name=f"Bonus {n}", kind="bonus_points", points=n)
        for n in range(1, 6)
    ]

    pages = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        response = await client.get(CAMPAIGNS, params=params, headers=admin)
        assert response.status_code == 200, response.text
        pages.append([item["name"] for item in response.json()["items"]])
        if response.json()["next_cursor"] is None:
            break
        params["cursor"] = response.json()["next_cursor"]

    assert pages == [["Bonus 5", "Bonus 4"], ["Bonus 3", "Bonus 2"], ["Bonus 1"]]
    everything = (await client.get(CAMPAIGNS, headers=admin)).json()
    assert everything["items"] == created[::-1]
    assert everything["next_cursor"] is None


async def test_only_an_admin_manages_campaigns(app, client, admin, pos):
    campaign = await create(client, admin, **ONE_OF_EACH_KIND[1])
    path = f"{CAMPAIGNS}/{campaign['id']}"
    shop = await headers_for(app, Scope.shop)

    for headers in (pos, shop):
        assert_problem(
            await client.post(CAMPAIGNS, json=ONE_OF_EACH_KIND[0], headers=headers),
            403,
            "insufficient_scope",
        )
        assert_problem(await client.get(CAMPAIGNS, headers=headers), 403, "insufficient_scope")
        assert_problem(await client.get(path, headers=headers), 403, "insufficient_scope")
        assert_problem(
            await client.patch(path, json={"active": False}, headers=headers),
            403,
            "insufficient_scope",
        )
        assert_problem(await client.delete(path, headers=headers), 403, "insufficient_scope")
    assert_problem(await client.get(CAMPAIGNS), 401, "unauthenticated")
    assert await get(client, admin, campaign) == campaign
