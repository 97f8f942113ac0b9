"""The programme's figures on a fixed data set, computed by hand.

The period is the last 30 local days and today: from = today - 30, to = tomorrow. Purchases
are dated back (``occurred_at``); their points, and every other ledger entry, are written
now, so they fall into the period too. Members' enrolment dates are set back by hand.
"""

from typing import Any

import pytest

from app.api_keys.models import Scope
from app.ledger import jobs as ledger_jobs
from tests.analytics.helpers import day, enrolled, noon, period
from tests.factories import (
    adjust,
    assert_problem,
    balance,
    cancel_redemption,
    days_ago,
    enrol,
    headers_for,
    member_id,
    purchase,
    redeem,
    return_purchase,
    set_program,
    write,
)

KPIS = "/v1/analytics/kpis"


async def kpis(client, admin, start, end) -> dict[str, Any]:
    response = await client.get(KPIS, params=period(start, end), headers=admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def build_data_set(app, client, admin, pos) -> None:
    """Seven members, written as the till and the back office would, step by step."""
    await set_program(client, admin, point_value_minor=2)
    anna, ben, clara, dan, eva, finn, gus = [
        await enrol(client, pos, name=name)
        for name in ("Anna", "Ben", "Clara", "Dan", "Eva", "Finn", "Gus")
    ]
    for member, enrolled_days_ago in (
        (anna, 400),
        (ben, 400),
        (clara, 400),
        (finn, 500),
        (dan, 20),
        (eva, 20),
        (gus, 10),
    ):
        await enrolled(app, member, enrolled_days_ago)

    # Anna: a customer at the start (200 days ago) and three purchases in the period, one of
    # them bought on a duplicate card (Gus) that is merged into her.
    await purchase(client, pos, anna, 5000, occurred_at=noon(200))  # 50 points
    await purchase(client, pos, anna, 3000, occurred_at=noon(10))  # 30 points
    await purchase(client, pos, anna, 2000, occurred_at=noon(5))  # 20 points
    await purchase(client, pos, gus, 700, occurred_at=noon(6))  # 7 points
    merged = await write(
        client, f"/v1/members/{member_id(anna)}/merge", admin, {"source_member_id": gus["id"]}
    )
    assert merged.status_code == 200, merged.text
    # Ben: a customer at the start, none in the period; 800 days ago he earned 9 points that
    # expired two months ago.
    await purchase(client, pos, ben, 4000, occurred_at=noon(100))  # 40 points
    await purchase(client, pos, ben, 900, occurred_at=noon(800))  # 9 points, expired
    # Clara: a customer at the start who has lapsed since (no purchase in the last year).
    await purchase(client, pos, clara, 1000, occurred_at=noon(380))  # 10 points
    # Dan: new, two purchases; the second's points are pending (14-day return window), and
    # 5.00 of it comes back.
    await purchase(client, pos, dan, 1500, occurred_at=noon(15))  # 15 points
    await set_program(client, admin, pending_days=14)
    dans_second = await purchase(client, pos, dan, 2500, occurred_at=noon(3))  # 25 pending
    await set_program(client, admin, pending_days=0)
    await return_purchase(client, pos, dans_second, amount=500)  # 5 points back
    # Eva: new; her only purchase was paid back in full after she had spent its points.
    evas = await purchase(client, pos, eva, 6000, occurred_at=noon(8))  # 60 points
    await redeem(client, pos, eva, 60)
    await return_purchase(client, pos, evas, amount=6000)  # 60 back: she owes 60
    # Finn: bought 450 days ago (no customer at the start), and is back in the period.
    await purchase(client, pos, finn, 2000, occurred_at=noon(450))  # 20 points
    await purchase(client, pos, finn, 800, occurred_at=noon(12))  # 8 points
    # A receipt nobody claimed: no member's purchase.
    await purchase(client, pos, None, 9999, occurred_at=noon(4))

    # The expiry job takes Ben's 9 points; goodwill for Clara, a correction for Finn.
    assert await ledger_jobs.expire_due_lots(app.state.runtime.sessionmaker, now=days_ago(0)) == 1
    await adjust(client, admin, clara, 25, "apology for a broken machine")
    await adjust(client, admin, finn, -5, "double-scanned receipt")
    # Anna pays with 40 points; Dan pays with 10 and the payment is cancelled; Anna passes 15
    # points on in a gift nobody has claimed yet.
    await redeem(client, pos, anna, 40)
    cancelled = await cancel_redemption(client, pos, await redeem(client, pos, dan, 10))
    assert cancelled.status_code == 200, cancelled.text
    gift = await write(client, f"/v1/members/{member_id(anna)}/gifts", pos, {"points": 15})
    assert gift.status_code == 201, gift.text

    balances = {
        who["name"]: await balance(client, pos, who) for who in (anna, ben, clara, dan, eva, finn)
    }
    assert {name: (b["available"], b["pending"]) for name, b in balances.items()} == {
        "Anna": (52, 0),  # 50 + 30 + 20 + 7 (from Gus) - 40 paid - 15 given
        "Ben": (40, 0),  # 40 + 9 - 9 expired
        "Clara": (35, 0),  # 10 + 25 goodwill
        "Dan": (15, 20),  # 15; 25 pending - 5 returned; 10 paid and given back
        "Eva": (-60, 0),  # 60 - 60 paid - 60 returned
        "Finn": (23, 0),  # 20 + 8 - 5 corrected
    }


async def test_the_figures_of_a_fixed_data_set(app, client, admin, pos):
    await build_data_set(app, client, admin, pos)

    figures = await kpis(client, admin, day(30), day(-1))

    assert figures["period"]["from"] == day(30).isoformat()
    assert figures["period"]["to"] == day(-1).isoformat()
    assert figures["period"]["timezone"] == "Europe/Berlin"
    assert figures["currency"] == "EUR"
    rest = {name: value for name, value in figures.items() if name not in ("period", "currency")}
    assert rest == {
        # S: a purchase in the 12 months before `from`: Anna (200 days ago), Ben (100),
        # Clara (380) = 3. E: a purchase in the 12 months before `to`: Anna, Ben, Dan, Finn
        # = 4 (Clara lapsed; Eva's only purchase was returned in full, it does not count).
        # N: of E, first purchase in the period: Dan = 1. Finn, back after 450 days, is in
        # E and not new. CRR = (4 - 1) / 3 x 100 = 100.00.
        "customers_at_start": 3,
        "customers_at_end": 4,
        "new_customers": 1,
        "retention_rate": "100.00",
        # In the period: Anna 3 purchases (10, 6 as Gus, 5 days ago) 3000 + 700 + 2000 = 5700;
        # Dan 2: 1500 + (2500 - 500 returned) = 3500; Finn 1: 800. Eva's 6000 was returned
        # in full; the unclaimed receipt is nobody's.
        "active_members": 3,
        "repeat_customers": 2,
        "repeat_purchase_rate": "66.67",  # 2 / 3
        "purchases": 6,
        "revenue_minor": 10_000,  # 5700 + 3500 + 800
        "average_order_value": 1667,  # 10000 / 6 = 1666.67, rounded
        # Enrolled in the period: Dan and Eva (20 days ago); Gus (10 days ago) is Anna now.
        "new_members": 2,
        # Issued: purchase points 50 + 30 + 20 + 7 + 40 + 9 + 10 + 15 + 25 + 60 + 20 + 8 = 294,
        # less returns 5 (Dan) + 60 (Eva) = 229; goodwill 25 - correction 5 = 20; 249 in all.
        "points_issued": 249,
        "points_adjusted": 20,
        # Redeemed: Anna 40 + Eva 60 + Dan 10 - Dan's 10 given back = 100. The gift is not.
        "points_redeemed": 100,
        "points_expired": 9,  # Ben's
        # Outstanding: Anna 52 + Ben 40 + Clara 35 + Dan 15 + 20 pending + Finn 23 = 185,
        # Eva's -60 counting as 0; plus 15 in Anna's open gift = 200.
        # (249 issued - 100 redeemed - 9 expired = 140 = 200 less Eva's debt of 60.)
        "points_outstanding": 200,
        "point_value_minor": 2,
        "liability_minor": 400,  # 200 x 2
        "breakage_rate": "3.61",  # 9 / 249 = 3.614...
    }


async def test_ledger_figures_count_entries_by_when_they_were_written(app, client, admin, pos):
    await build_data_set(app, client, admin, pos)

    # The same 30 days without today: every ledger entry was written today.
    figures = await kpis(client, admin, day(30), day(0))

    assert (
        figures["points_issued"],
        figures["points_redeemed"],
        figures["points_expired"],
        figures["points_outstanding"],
        figures["liability_minor"],
        figures["breakage_rate"],
    ) == (0, 0, 0, 0, 0, None)
    # The purchases happened before today: the customer figures are the same as above.
    assert (
        figures["customers_at_start"],
        figures["customers_at_end"],
        figures["new_customers"],
        figures["revenue_minor"],
        figures["purchases"],
        figures["new_members"],
    ) == (3, 4, 1, 10_000, 6, 2)


async def test_a_period_a_year_back_has_other_customers(app, client, admin, pos):
    await build_data_set(app, client, admin, pos)

    figures = await kpis(client, admin, day(400), day(30))

    # S: a purchase in the 12 months before 400 days ago: Finn (450) = 1; Ben's 800 days is
    # older. E: in the 12 months before 30 days ago (back to about 395 days ago): Anna (200),
    # Ben (100), Clara (380) = 3. N: of E, first purchase in the period: Anna, Clara (Ben
    # first bought 800 days ago) = 2. CRR = (3 - 2) / 1 x 100 = 100.00.
    assert (
        figures["customers_at_start"],
        figures["customers_at_end"],
        figures["new_customers"],
        figures["retention_rate"],
    ) == (1, 3, 2, "100.00")
    # Purchases in the period: Anna 5000, Ben 4000, Clara 1000; nobody bought twice.
    assert (figures["purchases"], figures["revenue_minor"], figures["average_order_value"]) == (
        3,
        10_000,
        3333,
    )
    assert (figures["active_members"], figures["repeat_purchase_rate"]) == (3, "0.00")
    # Enrolled 400 days ago at noon: Anna, Ben, Clara.
    assert figures["new_members"] == 3


async def test_an_empty_programme_has_figures_of_zero_and_no_rates(client, admin):
    figures = await kpis(client, admin, day(30), day(-1))

    assert {name: figures[name] for name in figures if name not in ("period", "currency")} == {
        "customers_at_start": 0,
        "customers_at_end": 0,
        "new_customers": 0,
        "retention_rate": None,
        "active_members": 0,
        "repeat_customers": 0,
        "repeat_purchase_rate": None,
        "purchases": 0,
        "revenue_minor": 0,
        "average_order_value": None,
        "new_members": 0,
        "points_issued": 0,
        "points_adjusted": 0,
        "points_redeemed": 0,
        "points_expired": 0,
        "points_outstanding": 0,
        "point_value_minor": 1,
        "liability_minor": 0,
        "breakage_rate": None,
    }


@pytest.mark.parametrize(
    "path", [KPIS, "/v1/analytics/segments/abc", "/v1/analytics/segments/abc/A/members"]
)
async def test_a_period_must_end_after_it_starts(client, admin, path):
    for start, end in ((day(0), day(0)), (day(0), day(1))):
        response = await client.get(path, params=period(start, end), headers=admin)

        body = assert_problem(response, 422, "validation_error")
        assert body["errors"][0]["loc"] == ["query", "to"]


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13-01", "to": "2027-01-01"},
        {"from": "2026-01-01"},
        {"to": "2026-01-01"},
        {"from": "0001-01-01", "to": "2026-01-01"},
    ],
)
async def test_dates_are_validated(client, admin, params):
    response = await client.get(KPIS, params=params, headers=admin)

    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize(
    "path", [KPIS, "/v1/analytics/segments/abc", "/v1/analytics/segments/abc/A/members"]
)
async def test_only_admins_see_the_figures(app, client, path):
    params = period(day(30), day(0))
    for scope in (Scope.pos, Scope.shop, Scope.partner):
        response = await client.get(path, params=params, headers=await headers_for(app, scope))

        assert_problem(response, 403, "insufficient_scope")
    assert_problem(await client.get(path, params=params), 401, "unauthenticated")
