"""A member's balance and ledger history, as a till or a partner app shows them."""

import uuid

import pytest

from app.api_keys.models import Scope
from tests.factories import (
    adjust,
    assert_problem,
    balance,
    days_ago,
    enrol,
    headers_for,
    purchase,
    redeem,
    return_purchase,
    set_program,
    transactions,
)


@pytest.fixture
async def anna(client, pos):
    return await enrol(client, pos, name="Anna")


async def test_the_balance_shows_what_expires_in_the_next_90_days_by_expiry_date(client, pos, anna):
    # Two sales on one day share an expiry date; sales 23 and 22 months ago expire within
    # 90 days; this week's sale expires in two years and is not listed yet.
    same_day = days_ago(700)
    morning = await purchase(client, pos, anna, 5000, occurred_at=same_day)
    await purchase(client, pos, anna, 2000, occurred_at=same_day)
    month_later = await purchase(client, pos, anna, 1000, occurred_at=days_ago(670))
    await purchase(client, pos, anna, 9000)

    current = await balance(client, pos, anna)

    assert current["available"] == 170
    assert current["expiring"] == [
        {"points": 70, "expires_at": morning["expires_at"]},
        {"points": 10, "expires_at": month_later["expires_at"]},
    ]


async def test_lifetime_earned_counts_earnings_net_of_returns_not_spending(
    client, admin, pos, anna
):
    bought = await purchase(client, pos, anna, 10000)
    await purchase(client, pos, anna, 5000)
    await return_purchase(client, pos, bought, amount=2500)
    await redeem(client, pos, anna, 40)
    await adjust(client, admin, anna, 20, "Kulanz")
    await adjust(client, admin, anna, -5, "correction")
    await set_program(client, admin, pending_days=14)
    await purchase(client, pos, anna, 3000)

    current = await balance(client, pos, anna)

    assert current["available"] == 100 + 50 - 25 - 40 + 20 - 5
    assert current["pending"] == 30
    assert current["lifetime_earned"] == 100 + 50 - 25 + 20 + 30


async def test_transactions_are_listed_newest_first_with_the_balance_after_each(
    client, admin, pos, anna
):
    bought = await purchase(client, pos, anna, 4590, order_id="POS-1")
    await redeem(client, pos, anna, 20, order_id="POS-2")
    await adjust(client, admin, anna, 10, "Kulanz")
    await return_purchase(client, pos, bought, amount=1000)

    history = await transactions(client, pos, anna)

    assert [
        (t["type"], t["points"], t["reference"], t["balance_after"]) for t in history["items"]
    ] == [
        ("purchase_return", -9, "POS-1", 26),
        ("adjustment", 10, None, 35),
        ("redemption", -20, "POS-2", 25),
        ("purchase", 45, "POS-1", 45),
    ]
    assert history["next_cursor"] is None


async def test_partner_apps_may_read_the_history_paged_by_cursor(app, client, pos, anna):
    partner = await headers_for(app, Scope.partner)
    for total in (100, 200, 300, 400, 500):
        await purchase(client, pos, anna, total)

    pages = [await transactions(client, partner, anna, limit=2)]
    while pages[-1]["next_cursor"] is not None:
        pages.append(
            await transactions(client, partner, anna, limit=2, cursor=pages[-1]["next_cursor"])
        )

    assert [[t["points"] for t in page["items"]] for page in pages] == [[5, 4], [3, 2], [1]]
    assert (await balance(client, partner, anna))["available"] == 15


async def test_the_balance_and_history_of_an_unknown_member_are_404(client, pos):
    unknown = uuid.uuid4()

    for path in (f"/v1/members/{unknown}/balance", f"/v1/members/{unknown}/transactions"):
        assert_problem(await client.get(path, headers=pos), 404, "member_not_found")


async def test_pending_points_show_with_their_expiry_too(client, admin, pos, anna):
    await set_program(client, admin, pending_days=14, points_expiry_months=1)

    bought = await purchase(client, pos, anna, 4590)

    current = await balance(client, pos, anna)
    assert (current["available"], current["pending"]) == (0, 45)
    assert current["expiring"] == [{"points": 45, "expires_at": bought["expires_at"]}]
