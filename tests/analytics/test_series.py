"""The figures over time: points per bucket, members by tier, retention month by month.

Each series agrees with ``GET /v1/analytics/kpis``: the buckets add up to the figures of
the whole period, and each bucket or month is what the figures say for it alone.
"""

import uuid
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import update

from app.analytics import rules
from app.analytics.models import Interval
from app.api_keys.models import Scope
from app.members.models import Member
from tests.analytics.dated import build_dated_data_set
from tests.analytics.helpers import day, noon, period
from tests.factories import assert_problem, execute, headers_for

KPIS = "/v1/analytics/kpis"
FLOW = "/v1/analytics/points/flow"
TIERS = "/v1/analytics/members/tiers"
RETENTION = "/v1/analytics/retention/monthly"
POINTS = ("points_issued", "points_adjusted", "points_redeemed", "points_expired")
CRR = ("retention_rate", "customers_at_start", "customers_at_end", "new_customers")


async def get(client, admin, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params, headers=admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def kpis(client, admin, start: date, end: date) -> dict[str, Any]:
    return await get(client, admin, KPIS, **period(start, end))


def totals(buckets: list[dict[str, Any]]) -> dict[str, int]:
    return {name: sum(bucket[name] for bucket in buckets) for name in POINTS}


async def test_points_per_day_are_the_figures_of_each_day(app, client, admin, pos):
    await build_dated_data_set(app, client, admin, pos)

    flow = await get(client, admin, FLOW, **period(day(30), day(-1)))

    assert flow["interval"] == "day"
    buckets = flow["buckets"]
    assert [bucket["from"] for bucket in buckets] == [day(n).isoformat() for n in range(30, -1, -1)]
    assert all(
        date.fromisoformat(bucket["to"]) == date.fromisoformat(bucket["from"]) + timedelta(days=1)
        for bucket in buckets
    )
    moved = {
        bucket["from"]: tuple(bucket[name] for name in POINTS)
        for bucket in buckets
        if any(bucket[name] for name in POINTS)
    }
    # (issued, of which adjusted, redeemed, expired) on the days the entries were written.
    assert moved == {
        day(20).isoformat(): (30, 0, 0, 0),  # Anna buys
        day(12).isoformat(): (15, 0, 0, 0),  # Ben buys
        day(5).isoformat(): (20, 0, 0, 0),  # Anna buys
        day(4).isoformat(): (0, 0, 40, 0),  # Anna pays with points
        day(3).isoformat(): (-5, 0, 0, 0),  # Ben returns a third
        day(2).isoformat(): (0, 0, 0, 9),  # Ben's old points expire
        day(1).isoformat(): (25, 25, 0, 0),  # goodwill for Dan
    }
    whole = await kpis(client, admin, day(30), day(-1))
    assert totals(buckets) == {name: whole[name] for name in POINTS}
    assert {name: whole[name] for name in POINTS} == {
        "points_issued": 85,
        "points_adjusted": 25,
        "points_redeemed": 40,
        "points_expired": 9,
    }
    for bucket in buckets:
        if bucket["from"] in moved:
            alone = await kpis(
                client, admin, date.fromisoformat(bucket["from"]), date.fromisoformat(bucket["to"])
            )
            assert {name: alone[name] for name in POINTS} == {name: bucket[name] for name in POINTS}


@pytest.mark.parametrize("interval", ["week", "month", "year"])
async def test_longer_buckets_add_up_to_the_figures_of_the_period(
    app, client, admin, pos, interval
):
    await build_dated_data_set(app, client, admin, pos)
    start, end = day(45), day(-1)

    flow = await get(client, admin, FLOW, interval=interval, **period(start, end))

    buckets = flow["buckets"]
    assert flow["interval"] == interval
    assert buckets[0]["from"] == start.isoformat()
    assert buckets[-1]["to"] == end.isoformat()
    for before, after in pairwise(buckets):
        assert before["to"] == after["from"]
        first = date.fromisoformat(after["from"])
        assert {
            "week": first.weekday() == 0,
            "month": first.day == 1,
            "year": (first.month, first.day) == (1, 1),
        }[interval]
    whole = await kpis(client, admin, start, end)
    assert totals(buckets) == {name: whole[name] for name in POINTS}


@pytest.mark.parametrize(
    ("start", "end", "interval", "count"),
    [
        (date(2026, 3, 1), date(2026, 3, 2), "day", 1),
        (date(2026, 1, 1), date(2026, 2, 6), "day", 36),  # 36 days: still days
        (date(2026, 1, 1), date(2026, 2, 7), "week", 6),  # Thursday to Monday, 4 weeks, 5 days
        (date(2026, 1, 1), date(2027, 1, 1), "month", 12),
        (date(2025, 1, 1), date(2028, 1, 1), "month", 36),
        (date(2025, 1, 15), date(2028, 1, 15), "year", 4),  # 37 months, two of them cut
        (date(2020, 1, 1), date(2030, 1, 1), "year", 10),
    ],
)
async def test_without_an_interval_the_finest_with_few_buckets_is_taken(
    client, admin, start, end, interval, count
):
    flow = await get(client, admin, FLOW, **period(start, end))

    assert (flow["interval"], len(flow["buckets"])) == (interval, count)


def test_buckets_are_cut_at_the_periods_ends():
    assert rules.buckets(date(2026, 1, 1), date(2026, 1, 20), Interval.week) == [
        (date(2026, 1, 1), date(2026, 1, 5)),  # Thursday to Monday
        (date(2026, 1, 5), date(2026, 1, 12)),
        (date(2026, 1, 12), date(2026, 1, 19)),
        (date(2026, 1, 19), date(2026, 1, 20)),
    ]
    assert rules.buckets(date(2026, 1, 31), date(2026, 3, 15), Interval.month) == [
        (date(2026, 1, 31), date(2026, 2, 1)),
        (date(2026, 2, 1), date(2026, 3, 1)),
        (date(2026, 3, 1), date(2026, 3, 15)),
    ]
    assert rules.buckets(date(2026, 1, 1), date(2026, 1, 4), Interval.day, limit=2) is None
    # The calendar's last days: no day after them to compute.
    assert rules.buckets(date(9999, 12, 30), date(9999, 12, 31), Interval.year) == [
        (date(9999, 12, 30), date(9999, 12, 31))
    ]
    assert rules.buckets(date(9999, 12, 1), date(9999, 12, 31), Interval.month) == [
        (date(9999, 12, 1), date(9999, 12, 31))
    ]
    assert rules.buckets(date(9999, 12, 29), date(9999, 12, 31), Interval.week) == [
        (date(9999, 12, 29), date(9999, 12, 31))
    ]


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        (FLOW, {"from": "2020-01-01", "to": "2021-06-01", "interval": "day"}, "interval"),
        (FLOW, {"from": "1970-01-01", "to": "9999-12-31"}, "interval"),
        (RETENTION, {"from": "2020-01-01", "to": "2023-01-02"}, "from"),
    ],
)
async def test_a_series_of_too_many_buckets_is_refused(client, admin, path, params, parameter):
    response = await client.get(path, params=params, headers=admin)

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["query", parameter]


async def test_members_are_counted_by_the_tier_in_force(app, client, admin, pos):
    data = await build_dated_data_set(app, client, admin, pos)

    found = await get(client, admin, TIERS)

    # Anna earned Silver; Clara holds Gold by hand; Ben, Dan and Finn have no tier. Gus's
    # Gold went with his record into Dan; Eva was erased: neither is a member any more.
    assert [(tier["name"], tier["rank"], tier["members"]) for tier in found["tiers"]] == [
        ("Silver", 1, 1),
        ("Gold", 2, 1),
    ]
    assert [tier["tier_id"] for tier in found["tiers"]] == [
        data.tiers["Silver"]["id"],
        data.tiers["Gold"]["id"],
    ]
    assert (found["members"], found["without_tier"]) == (5, 3)


async def test_a_manual_tier_that_ended_counts_the_earned_one(app, client, admin, pos):
    data = await build_dated_data_set(app, client, admin, pos)
    clara = data.members["Clara"]
    # Her invitation ran out yesterday; the job that records its end has not run yet.
    await execute(
        app,
        update(Member).where(Member.id == uuid.UUID(clara["id"])).values(manual_tier_until=noon(1)),
    )

    found = await get(client, admin, TIERS)

    assert [(tier["name"], tier["members"]) for tier in found["tiers"]] == [
        ("Silver", 1),
        ("Gold", 0),
    ]
    assert found["without_tier"] == 4


async def test_an_empty_programme_has_no_members_and_no_tiers(client, admin):
    assert (await get(client, admin, TIERS))["tiers"] == []
    assert (await get(client, admin, TIERS))["without_tier"] == 0


async def test_the_retention_of_each_month_is_the_figures_of_that_month(app, client, admin, pos):
    await build_dated_data_set(app, client, admin, pos)
    end = day(-1)
    start = (end - timedelta(days=1)).replace(day=1) - timedelta(days=400)

    found = await get(client, admin, RETENTION, **period(start, end))

    months = found["months"]
    assert months[0]["from"] == start.isoformat()
    assert months[-1]["to"] == end.isoformat()
    assert all(date.fromisoformat(month["month"]).day == 1 for month in months)
    assert 13 <= len(months) <= 15
    assert any(month["retention_rate"] is not None for month in months)
    for month in months:
        alone = await kpis(
            client, admin, date.fromisoformat(month["from"]), date.fromisoformat(month["to"])
        )
        assert {name: month[name] for name in CRR} == {name: alone[name] for name in CRR}


async def test_the_retention_of_one_month_long_period_is_the_periods(app, client, admin, pos):
    await build_dated_data_set(app, client, admin, pos)
    this_month = day(0).replace(day=1)
    start = date(this_month.year - (this_month.month == 1), (this_month.month - 2) % 12 + 1, 1)

    found = await get(client, admin, RETENTION, **period(start, this_month))

    (month,) = found["months"]
    whole = await kpis(client, admin, start, this_month)
    assert {name: month[name] for name in CRR} == {name: whole[name] for name in CRR}


@pytest.mark.parametrize("path", [FLOW, RETENTION])
async def test_a_series_period_must_end_after_it_starts(client, admin, path):
    response = await client.get(path, params=period(day(0), day(0)), headers=admin)

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["query", "to"]


@pytest.mark.parametrize("path", [FLOW, TIERS, RETENTION])
async def test_only_admins_see_the_series(app, client, path):
    params = period(day(30), day(0)) if path != TIERS else {}
    for scope in (Scope.pos, Scope.shop, Scope.partner):
        response = await client.get(path, params=params, headers=await headers_for(app, scope))

        assert_problem(response, 403, "insufficient_scope")
    assert_problem(await client.get(path, params=params), 401, "unauthenticated")
