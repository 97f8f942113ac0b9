"""The rewards catalogue in the back office: an admin creates, changes and removes rewards."""

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from app.api_keys.models import Scope
from app.vouchers.models import Voucher
from tests.factories import adjust, assert_problem, enrol, headers_for, write

REWARDS = "/v1/rewards"

ONE_OF_EACH_KIND = [
    {"name": "5 € off", "cost_points": 500, "kind": "amount", "value": 500, "valid_days": 90},
    {
        "name": "10 % off coffee",
        "cost_points": 800,
        "kind": "percent",
        "value": 1000,
        "max_discount": 1500,
        "min_order_total": 2000,
        "categories": ["coffee"],
        "channels": ["web"],
        "valid_days": 30,
    },
    {
        "name": "Free espresso cup",
        "cost_points": 1200,
        "kind": "product",
        "sku": "CUP-ESPRESSO",
        "valid_days": 60,
        "stock": 200,
    },
]

AMOUNT = ONE_OF_EACH_KIND[0]


async def create(client, admin, **fields: Any) -> dict[str, Any]:
    response = await client.post(REWARDS, json=fields, headers=admin)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def get(client, admin, reward: dict[str, Any]) -> dict[str, Any]:
    response = await client.get(f"{REWARDS}/{reward['id']}", headers=admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_admin_creates_a_reward_of_each_kind(client, admin):
    for fields in ONE_OF_EACH_KIND:
        created = await create(client, admin, **fields)

        assert uuid.UUID(created["id"])
        assert {name: created[name] for name in fields} == fields
        assert created["active"] is True
        assert await get(client, admin, created) == created


async def test_window_tiers_and_description_are_kept(client, admin):
    tier_id = str(uuid.uuid4())
    created = await create(
        client,
        admin,
        **AMOUNT,
        description="Any order over 20 €",
        starts_at="2026-12-01T00:00:00+01:00",
        ends_at="2026-12-24T00:00:00+01:00",
        tier_ids=[tier_id],
    )

    assert created["description"] == "Any order over 20 €"
    assert created["starts_at"] == "2026-11-30T23:00:00Z"
    assert created["ends_at"] == "2026-12-23T23:00:00Z"
    assert created["tier_ids"] == [tier_id]


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "amount"},  # no value
        {"kind": "amount", "value": 0},
        {"kind": "amount", "value": 500, "max_discount": 100},  # only percent caps
        {"kind": "amount", "value": 500, "sku": "MUG"},
        {"kind": "percent"},
        {"kind": "percent", "value": 0},
        {"kind": "percent", "value": 10_001},
        {"kind": "product"},  # no sku
        {"kind": "product", "sku": "MUG", "value": 100},
        {"kind": "voucher", "value": 100},
        {"kind": "amount", "value": 500, "valid_days": 0},
        {"kind": "amount", "value": 500, "valid_days": 3651},
        {"kind": "amount", "value": 500, "cost_points": 0},
        {"kind": "amount", "value": 500, "stock": -1},
        {"kind": "amount", "value": 500, "min_order_total": -1},
        {"kind": "amount", "value": 500, "channels": ["fax"]},
        {"kind": "amount", "value": 500, "starts_at": "2026-12-01T00:00:00"},  # no offset
        {
            "kind": "amount",
            "value": 500,
            "starts_at": "2026-12-24T00:00:00+01:00",
            "ends_at": "2026-12-01T00:00:00+01:00",
        },
        {"kind": "amount", "value": 500, "colour": "gold"},
    ],
)
async def test_invalid_rewards_are_refused(client, admin, fields):
    body = {"name": "Broken", "cost_points": 100, "valid_days": 30, **fields}

    response = await client.post(REWARDS, json=body, headers=admin)

    assert_problem(response, 422, "validation_error")
    listed = await client.get(REWARDS, headers=admin)
    assert listed.json()["items"] == []


async def test_the_percent_edges_are_allowed(client, admin):
    for value in (1, 10_000):
        body = {"name": f"{value}", "cost_points": 1, "kind": "percent", "value": value}
        created = await create(client, admin, **body, valid_days=1)
        assert created["value"] == value


async def test_listing_pages_newest_first(client, admin):
    made = [await create(client, admin, **AMOUNT | {"name": f"r{i}"}) for i in range(3)]

    first = (await client.get(REWARDS, params={"limit": 2}, headers=admin)).json()
    second = (
        await client.get(
            REWARDS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin
        )
    ).json()

    assert [r["name"] for r in first["items"]] == ["r2", "r1"]
    assert [r["name"] for r in second["items"]] == ["r0"]
    assert second["next_cursor"] is None
    assert {r["id"] for r in first["items"] + second["items"]} == {r["id"] for r in made}


async def test_a_change_is_merged_and_checked_as_a_whole(client, admin):
    reward = await create(client, admin, **AMOUNT)

    changed = await client.patch(
        f"{REWARDS}/{reward['id']}", json={"cost_points": 450, "stock": 10}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["cost_points"] == 450
    assert changed.json()["stock"] == 10
    assert changed.json()["value"] == 500

    # Percent without a value in range is not a valid reward, whatever the old value was.
    to_percent = await client.patch(
        f"{REWARDS}/{reward['id']}", json={"kind": "percent", "value": 20_000}, headers=admin
    )
    assert_problem(to_percent, 422, "validation_error")
    to_product = await client.patch(
        f"{REWARDS}/{reward['id']}", json={"kind": "product"}, headers=admin
    )
    body = assert_problem(to_product, 422, "validation_error")
    assert body["errors"]
    inverted = await client.patch(
        f"{REWARDS}/{reward['id']}",
        json={"starts_at": "2027-01-01T00:00:00Z", "ends_at": "2026-01-01T00:00:00Z"},
        headers=admin,
    )
    assert_problem(inverted, 422, "validation_error")

    product = await client.patch(
        f"{REWARDS}/{reward['id']}",
        json={"kind": "product", "value": None, "sku": "MUG"},
        headers=admin,
    )
    assert product.status_code == 200, product.text
    assert (await get(client, admin, reward))["kind"] == "product"
    assert (await get(client, admin, reward))["sku"] == "MUG"
    assert (await get(client, admin, reward))["cost_points"] == 450


async def test_deleting_a_reward_leaves_its_vouchers_intact(app, client, admin):
    pos = await headers_for(app, Scope.pos)
    reward = await create(client, admin, **AMOUNT)
    anna = await enrol(client, pos, name="Anna")
    await adjust(client, admin, anna, 500, "welcome")
    issued = await write(
        client, f"/v1/members/{anna['id']}/vouchers", pos, {"reward_id": reward["id"]}
    )
    assert issued.status_code == 201, issued.text

    deleted = await client.delete(f"{REWARDS}/{reward['id']}", headers=admin)

    assert deleted.status_code == 204
    assert_problem(
        await client.get(f"{REWARDS}/{reward['id']}", headers=admin), 404, "reward_not_found"
    )
    assert_problem(
        await client.delete(f"{REWARDS}/{reward['id']}", headers=admin), 404, "reward_not_found"
    )
    looked_up = await client.get(f"/v1/vouchers/{issued.json()['code']}", headers=pos)
    assert looked_up.status_code == 200, looked_up.text
    assert looked_up.json()["reward_id"] is None
    assert looked_up.json()["value"] == 500
    async with app.state.runtime.sessionmaker() as session:
        voucher = (await session.scalars(select(Voucher))).one()
    assert voucher.reward_id is None


async def test_unknown_rewards_are_404(client, admin):
    unknown = f"{REWARDS}/{uuid.uuid4()}"
    assert_problem(await client.get(unknown, headers=admin), 404, "reward_not_found")
    patched = await client.patch(unknown, json={"name": "x"}, headers=admin)
    assert_problem(patched, 404, "reward_not_found")


@pytest.mark.parametrize("scope", [Scope.pos, Scope.shop, Scope.partner])
async def test_only_admins_manage_rewards(app, client, admin, scope):
    reward = await create(client, admin, **AMOUNT)
    headers = await headers_for(app, scope)

    for method, path, body in [
        ("post", REWARDS, AMOUNT),
        ("get", REWARDS, None),
        ("get", f"{REWARDS}/{reward['id']}", None),
        ("patch", f"{REWARDS}/{reward['id']}", {"name": "x"}),
        ("delete", f"{REWARDS}/{reward['id']}", None),
    ]:
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["json"] = body
        assert_problem(await client.request(method, path, **kwargs), 403, "insufficient_scope")
    assert (await client.get(REWARDS)).status_code == 401
    assert (await get(client, admin, reward)) == reward
