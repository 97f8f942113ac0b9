"""ABC segmentation of members by revenue, on a Pareto-shaped data set of 20 members."""

import uuid
from typing import Any

import pytest

from app.analytics import rules
from app.analytics.models import AbcClass
from tests.analytics.helpers import day, noon, period
from tests.factories import (
    assert_problem,
    enrol,
    purchase,
    return_purchase,
    set_program,
)

ABC = "/v1/analytics/segments/abc"
PERIOD = period(day(30), day(0))

# Revenue of the 20 members in whole euros, best first: a power law (the top fifth has 75 %).
# Sum: 10 000. Revenue of the members ranked before each, in the same order: 0, 3000, 5000,
# 6500, 7500, 8200, 8700, 9100, 9400, 9600, 9750, 9850, 9900, 9930, 9955, 9975, 9985, 9990,
# 9995, 9998.
EUROS = [3000, 2000, 1500, 1000, 700, 500, 400, 300, 200, 150, 100, 50, 30, 25, 20, 10, 5, 5, 3, 2]


@pytest.fixture
async def ranking(client, pos) -> list[tuple[str, int]]:
    """(member id, revenue in minor units) of the 20 members, in ranking order: revenue
    descending, the two members at 5 euros by member id."""
    members = [await enrol(client, pos, name=f"Member {n}") for n in range(1, 21)]
    best, *others, last = members
    for member, euros in zip(others, EUROS[1:-1], strict=True):
        await purchase(client, pos, member, euros * 100, occurred_at=noon(20))
    await purchase(client, pos, last, 200, occurred_at=noon(20))
    # The best member's 3000 euros: 1500 + (2000 - 500 returned).
    await purchase(client, pos, best, 150_000, occurred_at=noon(20))
    second = await purchase(client, pos, best, 200_000, occurred_at=noon(10))
    await return_purchase(client, pos, second, amount=50_000)
    # Neither counts: a purchase returned in full, one from before the period, one of today.
    returned = await purchase(client, pos, last, 99_900, occurred_at=noon(5))
    await return_purchase(client, pos, returned, amount=99_900)
    await purchase(client, pos, last, 5_000_000, occurred_at=noon(400))
    await purchase(client, pos, last, 5_000_000)
    return sorted(
        ((m["id"], euros * 100) for m, euros in zip(members, EUROS, strict=True)),
        key=lambda pair: (-pair[1], uuid.UUID(pair[0])),
    )


async def summary(client, admin) -> dict[str, Any]:
    response = await client.get(ABC, params=PERIOD, headers=admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def class_members(client, admin, abc_class: str, **params: Any) -> dict[str, Any]:
    response = await client.get(
        f"{ABC}/{abc_class}/members", params={**PERIOD, **params}, headers=admin
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def all_members(client, admin, abc_class: str, limit: int) -> list[list[dict[str, Any]]]:
    pages = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = await class_members(client, admin, abc_class, **params)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


def classes(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (c["class"], c["members"], c["revenue_minor"], c["revenue_share"], c["member_share"])
        for c in body["classes"]
    ]


async def test_a_reaches_80_percent_of_revenue_b_the_next_15_and_c_the_rest(client, admin, ranking):
    body = await summary(client, admin)

    assert (body["members"], body["revenue_minor"], body["currency"]) == (20, 1_000_000, "EUR")
    assert (body["a_share"], body["b_share"]) == (80, 15)
    assert classes(body) == [
        # The 5th member has 75 % before it and crosses 80 % (82 %): the smallest set
        # reaching 80 % is the top 5.
        ("A", 5, 820_000, "82.00", "25.00"),
        # From 82 %: the 9th member has 94 % before it and reaches 96 %; the 10th has 96 %
        # before it, past 95 %.
        ("B", 4, 140_000, "14.00", "20.00"),
        ("C", 11, 40_000, "4.00", "55.00"),
    ]


async def test_the_thresholds_are_programme_settings(client, admin, ranking):
    await set_program(client, admin, abc_a_share=75, abc_b_share=15)

    body = await summary(client, admin)

    assert (body["a_share"], body["b_share"]) == (75, 15)
    assert classes(body) == [
        # The top 4 reach exactly 75 %: the 5th, with 75 % before it, is B.
        ("A", 4, 750_000, "75.00", "20.00"),
        # Up to 90 %: the 7th reaches 91 %; the 8th has 91 % before it.
        ("B", 3, 160_000, "16.00", "15.00"),
        ("C", 13, 90_000, "9.00", "65.00"),
    ]

    await set_program(client, admin, abc_a_share=50, abc_b_share=0)

    assert classes(await summary(client, admin)) == [
        ("A", 2, 500_000, "50.00", "10.00"),  # 3000 + 2000 is exactly half
        ("B", 0, 0, "0.00", "0.00"),
        ("C", 18, 500_000, "50.00", "90.00"),
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"abc_a_share": 90, "abc_b_share": 15},
        {"abc_a_share": 0},
        {"abc_a_share": 101},
        {"abc_b_share": -1},
        {"abc_b_share": 100},
    ],
)
async def test_thresholds_that_do_not_add_up_are_refused(client, admin, change):
    response = await client.put("/v1/program", json=change, headers=admin)

    assert_problem(response, 422, "validation_error")


async def test_each_class_lists_its_members_best_first_a_page_at_a_time(client, admin, ranking):
    pages = await all_members(client, admin, "C", limit=4)

    assert [len(page) for page in pages] == [4, 4, 3]
    listed = [member for page in pages for member in page]
    assert [(m["member_id"], m["revenue_minor"]) for m in listed] == ranking[9:]
    assert [m["rank"] for m in listed] == list(range(10, 21))
    assert [m["cumulative_share"] for m in listed][-3:] == ["99.95", "99.98", "100.00"]
    assert all(m["purchases"] == 1 for m in listed)

    (a_members,) = await all_members(client, admin, "A", limit=50)
    assert [(m["member_id"], m["revenue_minor"]) for m in a_members] == ranking[:5]
    best = a_members[0]
    assert (best["rank"], best["purchases"], best["revenue_share"], best["cumulative_share"]) == (
        1,
        2,
        "30.00",
        "30.00",
    )
    assert [m["cumulative_share"] for m in a_members] == [
        "30.00",
        "50.00",
        "65.00",
        "75.00",
        "82.00",
    ]


async def test_the_classes_are_those_of_the_pure_rule(client, admin, ranking):
    listed = {
        abc_class: [
            m["member_id"]
            for page in await all_members(client, admin, abc_class, 200)
            for m in page
        ]
        for abc_class in "ABC"
    }

    expected = rules.classify(((uuid.UUID(m), r) for m, r in ranking), 80, 15)
    assert listed == {
        abc_class.value: [str(m) for m, found in expected if found is abc_class]
        for abc_class in AbcClass
    }


async def test_a_period_without_purchases_has_empty_classes(client, admin, ranking):
    response = await client.get(ABC, params=period(day(300), day(200)), headers=admin)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["members"], body["revenue_minor"]) == (0, 0)
    assert classes(body) == [
        ("A", 0, 0, None, None),
        ("B", 0, 0, None, None),
        ("C", 0, 0, None, None),
    ]


async def test_a_foreign_cursor_or_an_unknown_class_is_refused(client, admin):
    for cursor in (
        "not-a-cursor",
        "MTB8eA",
        "LTF8MDE5MGY1YzItN2QxZS03YjNhLTljNDEtMmY2ZThkMGExYjJj",
    ):
        response = await client.get(
            f"{ABC}/A/members", params={**PERIOD, "cursor": cursor}, headers=admin
        )
        assert_problem(response, 400, "invalid_cursor")

    response = await client.get(f"{ABC}/D/members", params=PERIOD, headers=admin)
    assert_problem(response, 422, "validation_error")
