"""Campaigns at the till, through the API: what purchases earn while campaigns run.

Campaign windows are wall-clock times in the programme's time zone (Europe/Berlin); the tills
send ``occurred_at`` in UTC. On 29 March 2026 Berlin's clocks jump from 02:00 to 03:00 (CET,
+01:00, to CEST, +02:00); on 25 October 2026 they go back from 03:00 to 02:00, so the local
hour from 02:00 to 03:00 happens twice.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.earning.models import Purchase
from app.ledger.models import LedgerTransaction
from tests.factories import (
    balance,
    enrol,
    item,
    member_id,
    purchase,
    set_program,
    transactions,
    write,
)


@pytest.fixture
async def anna(client, pos):
    return await enrol(client, pos, name="Anna")


async def create_campaign(client, admin, **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/campaigns", json=fields, headers=admin)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def lines(bought: dict[str, Any]) -> list[tuple[str, int]]:
    return [(line["name"], line["points"]) for line in bought["breakdown"]]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def earned_at(client, pos, member, *moments: datetime) -> list[int]:
    """What a 10.00 purchase earns at each moment (the base rate gives 10)."""
    return [
        (await purchase(client, pos, member, 1000, occurred_at=moment))["points_earned"]
        for moment in moments
    ]


# What a purchase lists


async def test_a_purchase_lists_each_campaign_that_applied_and_what_it_gave(
    client, admin, pos, anna
):
    double = await create_campaign(
        client, admin, name="Double points", kind="multiplier", multiplier="2"
    )
    welcome = await create_campaign(
        client, admin, name="Welcome back", kind="bonus_points", points=50
    )
    await create_campaign(
        client, admin, name="App triple", kind="multiplier", multiplier="3", channels=["app"]
    )

    bought = await purchase(client, pos, anna, 4590)

    assert bought["breakdown"] == [
        {"rule": "base", "name": "base rate", "points": 45, "campaign_id": None, "kind": None},
        {
            "rule": "campaign",
            "name": "Double points",
            "points": 46,
            "campaign_id": double["id"],
            "kind": "multiplier",
        },
        {
            "rule": "campaign",
            "name": "Welcome back",
            "points": 50,
            "campaign_id": welcome["id"],
            "kind": "bonus_points",
        },
    ]
    assert bought["points_earned"] == 141 == sum(line["points"] for line in bought["breakdown"])
    assert (await balance(client, pos, anna))["available"] == 141


async def test_a_stamp_card_gives_one_stamp_per_visit_at_the_till(client, admin, pos, anna):
    await set_program(client, admin, points_per_currency_unit="0")  # stamps only
    await create_campaign(
        client, admin, name="Coffee stamp card", kind="per_visit", points=1, channels=["pos"]
    )

    visits = [
        (await purchase(client, pos, anna, total, channel=channel))["points_earned"]
        for total, channel in [(350, "pos"), (4590, "web"), (120, "pos"), (990, "app")]
    ]

    assert visits == [1, 0, 1, 0]
    assert (await balance(client, pos, anna))["available"] == 2


async def test_excluded_categories_earn_nothing_even_under_double_points(client, admin, pos, anna):
    await set_program(
        client, admin, excluded_categories=["gift_card", "tobacco"], excluded_skus=["PFAND"]
    )
    await create_campaign(client, admin, name="Double points", kind="multiplier", multiplier="2")

    gift_card = await purchase(
        client, pos, anna, 5000, items=[item("GIFT-50", 1, 5000, "gift_card")]
    )
    # 36.00 of coffee, a 50.00 gift card and 1.25 deposit, 10.00 off the receipt: 77.25 paid.
    mixed = await purchase(
        client,
        pos,
        anna,
        7725,
        items=[
            item("COFFEE-1KG", 2, 1800, "coffee"),
            item("GIFT-50", 1, 5000, "gift_card"),
            item("PFAND", 5, 25, "drinks"),
        ],
    )

    assert lines(gift_card) == [("base rate", 0)]  # excluded items do not qualify
    assert gift_card["points_earned"] == 0
    # The coffee's share of the paid total: 77.25 x 36.00 / 87.25 = 31.87; doubled 63.75.
    assert lines(mixed) == [("base rate", 31), ("Double points", 32)]
    assert (await balance(client, pos, anna))["available"] == 63


async def test_of_two_equally_good_exclusive_offers_the_one_created_first_counts(
    client, admin, pos, anna
):
    first = await create_campaign(
        client, admin, name="First", kind="bonus_points", points=50, combinable=False
    )
    await create_campaign(
        client, admin, name="Second", kind="bonus_points", points=50, combinable=False
    )
    changed = await client.patch(
        f"/v1/campaigns/{first['id']}", json={"name": "First, renamed"}, headers=admin
    )
    assert changed.status_code == 200, changed.text

    bought = await purchase(client, pos, anna, 1000)

    assert lines(bought) == [("base rate", 10), ("First, renamed", 50)]


# When a campaign applies: local wall-clock time across the daylight-saving changes


async def test_a_window_across_the_spring_change_is_read_in_local_time(client, admin, pos, anna):
    await create_campaign(
        client,
        admin,
        name="Night owls",
        kind="bonus_points",
        points=100,
        starts_at="2026-03-29T01:30:00",
        ends_at="2026-03-29T03:30:00",  # one real hour: 02:00 to 03:00 does not exist
    )

    earned = await earned_at(
        client,
        pos,
        anna,
        utc(2026, 3, 29, 0, 20),  # 01:20 CET: not yet
        utc(2026, 3, 29, 0, 30),  # 01:30 CET: the start is inclusive
        utc(2026, 3, 29, 0, 40),  # 01:40 CET
        utc(2026, 3, 29, 1, 20),  # 03:20 CEST
        utc(2026, 3, 29, 1, 30),  # 03:30 CEST: the end is exclusive
        utc(2026, 3, 29, 1, 40),  # 03:40 CEST
    )

    assert earned == [10, 110, 110, 110, 10, 10]


async def test_a_window_in_the_skipped_spring_hour_never_applies(client, admin, pos, anna):
    await create_campaign(
        client,
        admin,
        name="Missing hour",
        kind="bonus_points",
        points=100,
        starts_at="2026-03-29T02:00:00",
        ends_at="2026-03-29T03:00:00",
    )

    earned = await earned_at(
        client,
        pos,
        anna,
        utc(2026, 3, 29, 0, 59, 59),  # 01:59:59 CET
        utc(2026, 3, 29, 1, 0),  # the next second is 03:00 CEST
    )

    assert earned == [10, 10]


async def test_a_window_in_the_repeated_autumn_hour_applies_both_times(client, admin, pos, anna):
    await create_campaign(
        client,
        admin,
        name="Extra hour",
        kind="bonus_points",
        points=100,
        starts_at="2026-10-25T02:00:00",
        ends_at="2026-10-25T03:00:00",
    )

    earned = await earned_at(
        client,
        pos,
        anna,
        utc(2026, 10, 24, 23, 59),  # 01:59 CEST
        utc(2026, 10, 25, 0, 0),  # 02:00 CEST, the first time
        utc(2026, 10, 25, 0, 59),  # 02:59 CEST
        utc(2026, 10, 25, 1, 0),  # 02:00 CET, the second time
        utc(2026, 10, 25, 1, 59),  # 02:59 CET
        utc(2026, 10, 25, 2, 0),  # 03:00 CET
    )

    assert earned == [10, 110, 110, 110, 110, 10]


async def test_a_window_ending_inside_the_repeated_hour_ends_twice(client, admin, pos, anna):
    await create_campaign(
        client,
        admin,
        name="Until half past two",
        kind="bonus_points",
        points=100,
        starts_at="2026-10-25T00:00:00",
        ends_at="2026-10-25T02:30:00",
    )

    earned = await earned_at(
        client,
        pos,
        anna,
        utc(2026, 10, 25, 0, 20),  # 02:20 CEST
        utc(2026, 10, 25, 0, 40),  # 02:40 CEST
        utc(2026, 10, 25, 1, 20),  # 02:20 CET: the wall clock is back inside the window
        utc(2026, 10, 25, 1, 40),  # 02:40 CET
    )

    assert earned == [110, 10, 110, 10]


async def test_weekdays_follow_the_local_date(client, admin, pos, anna):
    await create_campaign(
        client, admin, name="Sunday bonus", kind="bonus_points", points=100, weekdays=[7]
    )

    earned = await earned_at(
        client,
        pos,
        anna,
        utc(2026, 10, 24, 21, 59),  # Saturday 23:59 CEST
        utc(2026, 10, 24, 22, 0),  # Sunday 00:00 CEST, still Saturday in UTC
        utc(2026, 10, 25, 22, 59),  # Sunday 23:59 CET
        utc(2026, 10, 25, 23, 0),  # Monday 00:00 CET, still Sunday in UTC
    )

    assert earned == [10, 110, 110, 10]


# Who a campaign is for


async def test_a_segment_campaign_applies_only_to_members_flagged_for_it(client, admin, pos):
    anna = await enrol(client, pos, name="Anna", segments=["vip-evening"])
    ben = await enrol(client, pos, name="Ben")
    await create_campaign(
        client, admin, name="VIP evening", kind="bonus_points", points=100, segment="vip-evening"
    )

    before = [
        (await purchase(client, pos, who, 1000))["points_earned"] for who in (anna, ben, None)
    ]
    for who, segments in ((anna, []), (ben, ["vip-evening", "staff"])):
        response = await client.patch(
            f"/v1/members/{member_id(who)}", json={"segments": segments}, headers=pos
        )
        assert response.status_code == 200, response.text
    after = [(await purchase(client, pos, who, 1000))["points_earned"] for who in (anna, ben)]

    assert before == [110, 10, 10]  # the receipt without a member gets no exclusive offer
    assert after == [10, 110]


async def test_a_tier_campaign_applies_only_to_members_in_that_tier(client, admin, pos, anna):
    ladder = {}
    for name, rank, threshold, multiplier in (("Silver", 1, 100, "1.25"), ("Gold", 2, 1000, "1.5")):
        response = await client.post(
            "/v1/tiers",
            json={"name": name, "rank": rank, "threshold": threshold, "multiplier": multiplier},
            headers=admin,
        )
        assert response.status_code == 201, response.text
        ladder[name] = response.json()
    await create_campaign(
        client,
        admin,
        name="Gold week",
        kind="bonus_points",
        points=100,
        tier_ids=[ladder["Gold"]["id"]],
    )
    ben = await enrol(client, pos, name="Ben")
    for member, tier in ((anna, "Gold"), (ben, "Silver")):  # VIP invitations, given by hand
        response = await client.put(
            f"/v1/members/{member_id(member)}/tier",
            json={"tier_id": ladder[tier]["id"], "until": "2099-12-31T23:00:00+00:00"},
            headers=admin,
        )
        assert response.status_code == 200, response.text
    cleo = await enrol(client, pos, name="Cleo")

    as_gold = await purchase(client, pos, anna, 1000)
    as_silver = await purchase(client, pos, ben, 1000)
    without_tier = await purchase(client, pos, cleo, 1000)

    assert lines(as_gold) == [("base rate", 10), ("Gold", 5), ("Gold week", 100)]
    assert lines(as_silver) == [("base rate", 10), ("Silver", 2)]
    assert lines(without_tier) == [("base rate", 10)]


# Quotes


async def count(app, column: Any) -> int:
    async with app.state.runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count(column))) or 0)


async def test_a_quote_writes_nothing(app, client, admin, pos, anna):
    await create_campaign(client, admin, name="Double points", kind="multiplier", multiplier="2")
    body = {
        "member_id": anna["id"],
        "order_id": "POS-3-000912",
        "channel": "pos",
        "currency": "EUR",
        "total": 4590,
    }

    response = await client.post("/v1/quotes", json=body, headers=pos)

    assert response.status_code == 200, response.text
    quote = response.json()
    assert quote["member_id"] == anna["id"]
    assert quote["points"] == 91
    assert [(line["name"], line["points"]) for line in quote["breakdown"]] == [
        ("base rate", 45),
        ("Double points", 46),
    ]
    assert await count(app, Purchase.id) == 0
    assert await count(app, LedgerTransaction.id) == 0
    assert (await balance(client, pos, anna))["available"] == 0
    assert (await transactions(client, pos, anna))["items"] == []
    # The order id is still free: the purchase itself earns what was quoted.
    bought = await purchase(client, pos, anna, 4590, order_id="POS-3-000912")
    assert bought["points_earned"] == 91
    assert bought["breakdown"] == quote["breakdown"]


# Property: a quote is exactly what the purchase then records

SHOP_ITEMS = [
    ("COFFEE-1KG", "coffee", 1800),
    ("ESPRESSO", "coffee", 2150),
    ("MUG", "merch", 990),
    ("GIFT-50", "gift_card", 5000),
    ("PFAND", "drinks", 25),
    ("CROISSANT", None, 180),
]
# Moments where campaign windows and weekdays begin or end, around both DST changes.
EDGES = [
    utc(2026, 3, 29, 0, 29, 59),
    utc(2026, 3, 29, 0, 30),
    utc(2026, 3, 29, 1, 30),
    utc(2026, 10, 24, 22, 0),
    utc(2026, 10, 25, 0, 0),
    utc(2026, 10, 25, 1, 30),
    utc(2026, 10, 25, 2, 0),
]


@st.composite
def receipts(draw: st.DrawFn) -> dict[str, Any]:
    items = [
        item(sku, draw(st.integers(1, 4)), price, category)
        for sku, category, price in draw(st.lists(st.sampled_from(SHOP_ITEMS), max_size=4))
    ]
    value = sum(i["quantity"] * i["unit_price"] for i in items)
    occurred_at = draw(
        st.sampled_from(EDGES)
        | st.datetimes(datetime(2026, 3, 1), datetime(2026, 11, 1), timezones=st.just(UTC))
    )
    return {
        "channel": draw(st.sampled_from(["pos", "web", "app"])),
        "store_id": draw(st.sampled_from([None, "berlin-mitte", "hamburg"])),
        "currency": "EUR",
        "total": draw(st.integers(0, value)) if items else draw(st.integers(0, 20_000)),
        "items": items,
        "occurred_at": occurred_at.isoformat(),
        "who": draw(st.sampled_from(["anna", "ben", None])),
    }


@pytest.fixture
async def rulebook(client, admin, pos) -> dict[str, Any]:
    """A programme with a fractional rate, exclusions, and one campaign of each kind."""
    await set_program(
        client,
        admin,
        points_per_currency_unit="0.7",
        excluded_categories=["gift_card"],
        excluded_skus=["PFAND"],
    )
    campaigns = [
        {"name": "Weekend x2", "kind": "multiplier", "multiplier": "2", "weekdays": [6, 7]},
        {"name": "Stamp", "kind": "per_visit", "points": 1, "channels": ["pos"]},
        {
            "name": "Coffee x3",
            "kind": "category_multiplier",
            "multiplier": "3",
            "categories": ["coffee"],
            "combinable": False,
        },
        {
            "name": "Mugs",
            "kind": "sku_bonus",
            "points": 25,
            "skus": ["MUG"],
            "max_points_per_purchase": 50,
        },
        {
            "name": "Big basket",
            "kind": "bonus_points",
            "points": 40,
            "min_total": 5000,
            "combinable": False,
        },
        {"name": "App x1.15", "kind": "multiplier", "multiplier": "1.15", "channels": ["app"]},
        {"name": "VIP", "kind": "bonus_points", "points": 30, "segment": "vip"},
        {
            "name": "Night owls",
            "kind": "bonus_points",
            "points": 20,
            "starts_at": "2026-03-29T01:30:00",
            "ends_at": "2026-03-29T03:30:00",
        },
        {
            "name": "Mitte extra hour",
            "kind": "multiplier",
            "multiplier": "1.5",
            "store_ids": ["berlin-mitte"],
            "starts_at": "2026-10-25T02:00:00",
            "ends_at": "2026-10-25T03:00:00",
        },
    ]
    for fields in campaigns:
        await create_campaign(client, admin, **fields)
    return {
        "anna": await enrol(client, pos, name="Anna", segments=["vip"]),
        "ben": await enrol(client, pos, name="Ben"),
        None: None,
    }


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(receipt=receipts())
async def test_a_quote_is_exactly_what_the_purchase_then_records(client, pos, rulebook, receipt):
    member = rulebook[receipt["who"]]
    body = {name: value for name, value in receipt.items() if name != "who"}
    body["order_id"] = f"order-{uuid.uuid4()}"  # not drawn: a replayed example is a new sale
    if member is not None:
        body["member_id"] = member["id"]

    response = await client.post("/v1/quotes", json=body, headers=pos)
    assert response.status_code == 200, response.text
    quote = response.json()
    recorded = await write(client, "/v1/purchases", pos, body)
    assert recorded.status_code == 201, recorded.text
    bought = recorded.json()

    assert bought["points_earned"] == quote["points"]
    assert bought["breakdown"] == quote["breakdown"]
    assert bought["member_id"] == quote["member_id"]
    assert sum(line["points"] for line in quote["breakdown"]) == quote["points"]
