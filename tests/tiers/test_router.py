"""Tiers through the API: the ladder (admin), a member's tier, upgrades by purchase, VIP tiers.

The programme earns 1 point per 1.00 (the default); Silver (100 points, x1.5) and Gold
(300 points, x2) make the ladder unless a test builds its own.
"""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.api_keys.models import Scope
from app.events.models import Event
from tests.factories import (
    adjust,
    assert_problem,
    enrol,
    headers_for,
    member_id,
    purchase,
    return_purchase,
)

UNKNOWN = "01936b2e-6f1c-7c3a-9d2e-4b5a6c7d8e9f"


@pytest.fixture
async def anna(client, pos):
    return await enrol(client, pos, name="Anna")


async def create_tier(client, admin, name, rank, threshold, multiplier="1", **fields):
    body = {"name": name, "rank": rank, "threshold": threshold, "multiplier": multiplier}
    response = await client.post("/v1/tiers", json={**body, **fields}, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def ladder(client, admin):
    silver = await create_tier(client, admin, "Silver", 1, 100, "1.5", benefits=["Free coffee"])
    gold = await create_tier(client, admin, "Gold", 2, 300, "2", benefits=["Free delivery"])
    return {"Silver": silver, "Gold": gold}


async def member_tier(client, headers, member):
    response = await client.get(f"/v1/members/{member_id(member)}/tier", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def history(client, headers, member, **params):
    response = await client.get(
        f"/v1/members/{member_id(member)}/tier/history", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def tier_events(app, member):
    async with app.state.runtime.sessionmaker() as session:
        events = await session.scalars(
            select(Event)
            .where(Event.type == "tier.changed", Event.member_id == uuid.UUID(member_id(member)))
            .order_by(Event.created_at, Event.id)
        )
        return [(e.data["from_tier"], e.data["to_tier"], e.data["reason"]) for e in events]


def secured_until_end_of_next_year() -> str:
    """A tier reached this (local) year is secured until the next local year has ended."""
    year = datetime.now(ZoneInfo("Europe/Berlin")).year
    end = datetime(year + 2, 1, 1, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
    return end.isoformat().replace("+00:00", "Z")


def same_instant(a: str, b: str) -> bool:
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)


# --- the ladder --------------------------------------------------------------------------


async def test_admin_creates_lists_reads_updates_and_deletes_tiers(client, admin):
    gold = await create_tier(client, admin, "Gold", 2, 300, "2.5", benefits=["Lounge"])
    silver = await create_tier(client, admin, "Silver", 1, 100)
    assert (gold["name"], gold["rank"], gold["threshold"], gold["multiplier"]) == (
        "Gold",
        2,
        300,
        "2.5",
    )
    assert (gold["benefits"], silver["benefits"], silver["multiplier"]) == (["Lounge"], [], "1")

    listed = (await client.get("/v1/tiers", headers=admin)).json()
    assert [t["name"] for t in listed] == ["Silver", "Gold"]

    one = await client.get(f"/v1/tiers/{gold['id']}", headers=admin)
    assert one.status_code == 200
    assert one.json() == gold

    patched = await client.patch(
        f"/v1/tiers/{gold['id']}",
        json={"threshold": 250, "benefits": ["Lounge", "Parking"]},
        headers=admin,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["threshold"], patched.json()["benefits"]) == (250, ["Lounge", "Parking"])
    assert patched.json()["name"] == "Gold"

    deleted = await client.delete(f"/v1/tiers/{gold['id']}", headers=admin)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_problem(
        await client.get(f"/v1/tiers/{gold['id']}", headers=admin), 404, "tier_not_found"
    )
    assert [t["name"] for t in (await client.get("/v1/tiers", headers=admin)).json()] == ["Silver"]


async def test_duplicate_names_and_ranks_are_refused(client, admin, ladder):
    same_name = {"name": "Gold", "rank": 5, "threshold": 900}
    body = assert_problem(
        await client.post("/v1/tiers", json=same_name, headers=admin), 409, "tier_exists"
    )
    assert body["fields"] == ["name"]
    same_rank = {"name": "Platinum", "rank": 2, "threshold": 900}
    assert_problem(
        await client.post("/v1/tiers", json=same_rank, headers=admin), 409, "tier_exists"
    )
    gold = ladder["Gold"]["id"]
    response = await client.patch(f"/v1/tiers/{gold}", json={"name": "Silver"}, headers=admin)
    assert_problem(response, 409, "tier_exists")
    # Keeping its own name and rank is no clash.
    response = await client.patch(
        f"/v1/tiers/{gold}", json={"name": "Gold", "rank": 2}, headers=admin
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("rank", "threshold"),
    [(5, 300), (5, 250), (0, 100), (0, 150), (2, 50), (3, 300)],
    ids=["top-equal", "top-lower", "bottom-equal", "bottom-higher", "middle-low", "middle-high"],
)
async def test_thresholds_must_rise_with_the_rank(client, admin, rank, threshold):
    await create_tier(client, admin, "Silver", 1, 100)
    await create_tier(client, admin, "Gold", 4, 300)
    body = {"name": "New", "rank": rank, "threshold": threshold}
    response = await client.post("/v1/tiers", json=body, headers=admin)
    assert_problem(response, 422, "tier_thresholds_out_of_order")
    assert len((await client.get("/v1/tiers", headers=admin)).json()) == 2


async def test_a_change_that_breaks_the_order_of_thresholds_is_refused(client, admin, ladder):
    silver, gold = ladder["Silver"]["id"], ladder["Gold"]["id"]
    response = await client.patch(f"/v1/tiers/{silver}", json={"threshold": 300}, headers=admin)
    assert_problem(response, 422, "tier_thresholds_out_of_order")
    response = await client.patch(f"/v1/tiers/{gold}", json={"rank": 0}, headers=admin)
    assert_problem(response, 422, "tier_thresholds_out_of_order")
    # Moving both rank and threshold together is fine.
    response = await client.patch(
        f"/v1/tiers/{gold}", json={"rank": 0, "threshold": 50}, headers=admin
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "rank": 1, "threshold": 10, "multiplier": "0.5"},
        {"name": "X", "rank": 1, "threshold": 10, "multiplier": "101"},
        {"name": "X", "rank": 1, "threshold": 10, "multiplier": "1.00001"},
        {"name": "X", "rank": -1, "threshold": 10},
        {"name": "X", "rank": 1, "threshold": -1},
        {"name": "", "rank": 1, "threshold": 10},
        {"name": "X", "rank": 1},
        {"name": "X", "rank": 1, "threshold": 10, "members": 3},
        {"name": "X", "rank": 1, "threshold": 10, "benefits": [""]},
    ],
    ids=[
        "multiplier-below-1",
        "multiplier-over-100",
        "multiplier-too-precise",
        "negative-rank",
        "negative-threshold",
        "empty-name",
        "no-threshold",
        "extra-field",
        "empty-benefit",
    ],
)
async def test_invalid_tiers_are_validation_errors(client, admin, body):
    response = await client.post("/v1/tiers", json=body, headers=admin)
    assert_problem(response, 422, "validation_error")


async def test_a_patch_cannot_clear_a_field(client, admin, ladder):
    response = await client.patch(
        f"/v1/tiers/{ladder['Gold']['id']}", json={"multiplier": None}, headers=admin
    )
    assert_problem(response, 422, "validation_error")


async def test_unknown_tiers_are_404(client, admin):
    assert_problem(await client.get(f"/v1/tiers/{UNKNOWN}", headers=admin), 404, "tier_not_found")
    response = await client.patch(f"/v1/tiers/{UNKNOWN}", json={"threshold": 5}, headers=admin)
    assert_problem(response, 404, "tier_not_found")
    assert_problem(
        await client.delete(f"/v1/tiers/{UNKNOWN}", headers=admin), 404, "tier_not_found"
    )


async def test_a_tier_members_hold_cannot_be_deleted(client, admin, pos, anna, ladder):
    await purchase(client, pos, anna, 10000)  # 100 points: Silver
    silver = ladder["Silver"]["id"]
    assert_problem(await client.delete(f"/v1/tiers/{silver}", headers=admin), 409, "tier_in_use")
    # A tier held only by hand counts too.
    gold = ladder["Gold"]["id"]
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    response = await client.put(
        f"/v1/members/{anna['id']}/tier", json={"tier_id": gold, "until": until}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert_problem(await client.delete(f"/v1/tiers/{gold}", headers=admin), 409, "tier_in_use")
    assert (await member_tier(client, pos, anna))["tier"]["name"] == "Gold"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/tiers"),
        ("get", "/v1/tiers"),
        ("get", f"/v1/tiers/{UNKNOWN}"),
        ("patch", f"/v1/tiers/{UNKNOWN}"),
        ("delete", f"/v1/tiers/{UNKNOWN}"),
        ("put", "/v1/members/{member}/tier"),
        ("delete", "/v1/members/{member}/tier"),
    ],
)
async def test_the_ladder_and_manual_tiers_need_the_admin_scope(
    client, app, pos, anna, method, path
):
    body = {"name": "X", "rank": 1, "threshold": 1}
    if method == "put":
        body = {"tier_id": UNKNOWN, "until": "2099-01-01T00:00:00Z"}
    shop = await headers_for(app, Scope.shop, Scope.partner)
    for headers in (pos, shop):
        kwargs = {"json": body} if method in ("post", "patch", "put") else {}
        url = path.format(member=anna["id"])
        response = await client.request(method, url, headers=headers, **kwargs)
        assert_problem(response, 403, "insufficient_scope")


async def test_tills_and_partners_read_a_members_tier(client, app, pos, anna, ladder):
    partner = await headers_for(app, Scope.partner)
    shop = await headers_for(app, Scope.shop)
    for headers in (pos, shop, partner):
        assert (await member_tier(client, headers, anna))["qualifying_points"] == 0
        assert (await history(client, headers, anna))["items"] == []
    response = await client.get(f"/v1/members/{UNKNOWN}/tier", headers=partner)
    assert_problem(response, 404, "member_not_found")
    response = await client.get(f"/v1/members/{UNKNOWN}/tier/history", headers=partner)
    assert_problem(response, 404, "member_not_found")


# --- a member's tier ---------------------------------------------------------------------


async def test_without_any_tier_a_member_sees_the_first_tier_ahead(client, pos, anna, ladder):
    await purchase(client, pos, anna, 4000)
    tier = await member_tier(client, pos, anna)
    assert tier["member_id"] == anna["id"]
    assert (tier["tier"], tier["source"], tier["tier_expires_at"], tier["manual_tier"]) == (
        None,
        None,
        None,
        None,
    )
    assert tier["qualifying_points"] == 40
    assert tier["next_tier"]["name"] == "Silver"
    assert tier["points_to_next_tier"] == 60
    local_year = datetime.now(ZoneInfo("Europe/Berlin")).year
    since = datetime(local_year, 1, 1, tzinfo=ZoneInfo("Europe/Berlin"))
    assert datetime.fromisoformat(tier["qualifying_since"]) == since


async def test_a_programme_without_tiers_has_no_next_tier(client, pos, anna):
    await purchase(client, pos, anna, 4000)
    tier = await member_tier(client, pos, anna)
    assert (tier["tier"], tier["next_tier"], tier["points_to_next_tier"]) == (None, None, None)
    assert tier["qualifying_points"] == 40


async def test_reaching_a_threshold_upgrades_at_once_and_the_next_purchase_earns_more(
    app, client, pos, anna, ladder
):
    first = await purchase(client, pos, anna, 8000)
    crossing = await purchase(client, pos, anna, 4000)  # 120 points: Silver from now on
    after = await purchase(client, pos, anna, 4000)

    # The purchase that crosses the threshold earned at the old tier (none: x1) ...
    assert (first["points_earned"], crossing["points_earned"]) == (80, 40)
    # ... the next one at Silver's x1.5 on its base points.
    assert after["points_earned"] == 60
    assert [(line["rule"], line["points"]) for line in after["breakdown"]] == [
        ("base", 40),
        ("tier", 20),
    ]

    tier = await member_tier(client, pos, anna)
    assert (tier["tier"]["name"], tier["source"]) == ("Silver", "earned")
    assert tier["tier"] == {
        key: ladder["Silver"][key]
        for key in ("id", "name", "rank", "threshold", "multiplier", "benefits")
    }
    assert tier["qualifying_points"] == 180  # tier extras count: they are purchase points
    assert (tier["next_tier"]["name"], tier["points_to_next_tier"]) == ("Gold", 120)
    assert same_instant(tier["tier_expires_at"], secured_until_end_of_next_year())
    member = await client.get(f"/v1/members/{anna['id']}", headers=pos)
    assert member.json()["tier"] == "Silver"

    assert await tier_events(app, anna) == [(None, "Silver", "upgrade")]
    changes = (await history(client, pos, anna))["items"]
    assert [
        (c["from_tier"], c["to_tier"], c["reason"], c["qualifying_points"]) for c in changes
    ] == [(None, "Silver", "upgrade", 120)]


async def test_one_purchase_may_jump_several_tiers(app, client, pos, anna, ladder):
    await purchase(client, pos, anna, 35000)
    assert (await member_tier(client, pos, anna))["tier"]["name"] == "Gold"
    assert (await member_tier(client, pos, anna))["next_tier"] is None
    assert (await member_tier(client, pos, anna))["points_to_next_tier"] is None
    assert await tier_events(app, anna) == [(None, "Gold", "upgrade")]
    later = await purchase(client, pos, anna, 1000)
    assert later["points_earned"] == 20


async def test_returns_subtract_from_qualifying_points_but_do_not_downgrade(
    client, pos, anna, ladder
):
    bought = await purchase(client, pos, anna, 10000)  # exactly Silver's 100
    assert (await member_tier(client, pos, anna))["tier"]["name"] == "Silver"
    await return_purchase(client, pos, bought, amount=5000)

    tier = await member_tier(client, pos, anna)
    assert tier["qualifying_points"] == 50
    # Lowered only at the review: Silver stays until then.
    assert (tier["tier"]["name"], tier["points_to_next_tier"]) == ("Silver", 250)


async def test_goodwill_credits_do_not_qualify(client, admin, pos, anna, ladder):
    await adjust(client, admin, anna, 500, "sorry for the wait")
    await purchase(client, pos, anna, 1000)
    tier = await member_tier(client, pos, anna)
    assert (tier["tier"], tier["qualifying_points"]) == (None, 10)


async def test_receipt_claims_qualify(client, pos, anna, ladder):
    receipt = await purchase(client, pos, None, 12000)
    body = {"claim_code": receipt["claim_code"], "member_id": anna["id"]}
    response = await client.post(
        "/v1/purchases/claim", json=body, headers={**pos, "Idempotency-Key": "claim-1"}
    )
    assert response.status_code == 201, response.text
    tier = await member_tier(client, pos, anna)
    assert (tier["tier"]["name"], tier["qualifying_points"]) == ("Silver", 120)


# --- manual tiers ------------------------------------------------------------------------


async def test_a_vip_tier_overrides_the_earned_one_until_ended(
    app, client, admin, pos, anna, ladder
):
    await purchase(client, pos, anna, 10000)  # Silver earned
    until = (datetime.now(UTC) + timedelta(days=90)).replace(microsecond=0)
    body = {"tier_id": ladder["Gold"]["id"], "until": until.isoformat(), "reason": "VIP evening"}
    response = await client.put(f"/v1/members/{anna['id']}/tier", json=body, headers=admin)
    assert response.status_code == 200, response.text
    tier = response.json()
    assert (tier["tier"]["name"], tier["source"]) == ("Gold", "manual")
    assert same_instant(tier["tier_expires_at"], until.isoformat())
    assert tier["manual_tier"]["tier"]["name"] == "Gold"
    assert same_instant(tier["manual_tier"]["until"], until.isoformat())
    assert tier["next_tier"] is None
    assert (await client.get(f"/v1/members/{anna['id']}", headers=pos)).json()["tier"] == "Gold"
    listed = await client.get(
        "/v1/members", params={"card_number": anna["card_number"]}, headers=pos
    )
    assert listed.json()["items"][0]["tier"] == "Gold"

    # Purchases earn at the manual tier's multiplier while it lasts.
    assert (await purchase(client, pos, anna, 1000))["points_earned"] == 20

    # Asking again for the same is no new change.
    again = await client.put(f"/v1/members/{anna['id']}/tier", json=body, headers=admin)
    assert again.status_code == 200

    ended = await client.delete(f"/v1/members/{anna['id']}/tier", headers=admin)
    assert ended.status_code == 200, ended.text
    assert (ended.json()["tier"]["name"], ended.json()["source"]) == ("Silver", "earned")
    assert ended.json()["manual_tier"] is None
    assert (await purchase(client, pos, anna, 1000))["points_earned"] == 15

    changes = (await history(client, pos, anna))["items"]
    assert [(c["from_tier"], c["to_tier"], c["reason"], c["note"]) for c in changes] == [
        ("Gold", "Silver", "manual_ended", None),
        ("Silver", "Gold", "manual", "VIP evening"),
        (None, "Silver", "upgrade", None),
    ]
    assert await tier_events(app, anna) == [
        (None, "Silver", "upgrade"),
        ("Silver", "Gold", "manual"),
        ("Gold", "Silver", "manual_ended"),
    ]
    again = await client.delete(f"/v1/members/{anna['id']}/tier", headers=admin)
    assert_problem(again, 404, "manual_tier_not_found")


async def test_a_manual_tier_must_end_in_the_future_and_exist(client, admin, anna, ladder):
    path = f"/v1/members/{anna['id']}/tier"
    gold = ladder["Gold"]["id"]
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    response = await client.put(path, json={"tier_id": gold, "until": past}, headers=admin)
    assert_problem(response, 422, "manual_tier_until_past")
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    response = await client.put(path, json={"tier_id": UNKNOWN, "until": future}, headers=admin)
    assert_problem(response, 404, "tier_not_found")
    naive = {"tier_id": gold, "until": "2099-01-01T00:00:00"}
    assert_problem(await client.put(path, json=naive, headers=admin), 422, "validation_error")
    extra = {"tier_id": gold, "until": future, "source": "manual"}
    assert_problem(await client.put(path, json=extra, headers=admin), 422, "validation_error")
    response = await client.put(
        f"/v1/members/{UNKNOWN}/tier", json={"tier_id": gold, "until": future}, headers=admin
    )
    assert_problem(response, 404, "member_not_found")
    assert_problem(
        await client.delete(f"/v1/members/{UNKNOWN}/tier", headers=admin), 404, "member_not_found"
    )
    # Nothing was recorded by the refusals.
    assert (await history(client, admin, anna))["items"] == []


async def test_tier_history_pages_newest_first(client, admin, pos, anna, ladder):
    await purchase(client, pos, anna, 10000)
    await purchase(client, pos, anna, 20000)
    first = await history(client, pos, anna, limit=1)
    assert [c["to_tier"] for c in first["items"]] == ["Gold"]
    assert first["next_cursor"]
    second = await history(client, pos, anna, limit=1, cursor=first["next_cursor"])
    assert [(c["from_tier"], c["to_tier"]) for c in second["items"]] == [(None, "Silver")]
    assert second["next_cursor"] is None
