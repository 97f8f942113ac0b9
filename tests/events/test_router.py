"""GET /v1/events: the log oldest first, followed with a cursor, picked by type and member."""

import uuid
from typing import Any

import pytest
from sqlalchemy import delete

from app.api_keys.models import Scope
from app.events.models import Event
from app.events.types import matches
from tests.factories import assert_problem, execute, headers_for
from tests.webhooks.support import record_events

PATH = "/v1/events"


async def get_page(client, admin, **params: Any) -> dict[str, Any]:
    response = await client.get(PATH, params=params, headers=admin)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def follow(client, admin, **params: Any) -> tuple[list[str], list[int], str | None]:
    """Every page from ``params``: the event ids, the page sizes, and where to poll next."""
    ids: list[str] = []
    sizes: list[int] = []
    while True:
        page = await get_page(client, admin, **params)
        ids += [item["id"] for item in page["items"]]
        sizes.append(len(page["items"]))
        if page["next_cursor"] is None:
            return ids, sizes, page["poll_cursor"]
        assert len(sizes) < 50, "paging does not end"
        params = {**params, "cursor": page["next_cursor"]}


@pytest.fixture
async def anna_and_ben(app) -> tuple[uuid.UUID, uuid.UUID]:
    await execute(app, delete(Event))  # only this test's events
    return uuid.uuid4(), uuid.uuid4()


async def test_the_log_is_read_oldest_first_page_by_page(app, client, admin, anna_and_ben):
    anna, ben = anna_and_ben
    recorded = await record_events(
        app,
        ("member.created", anna),
        ("points.earned", anna),
        ("member.created", ben),
        ("points.redeemed", anna),
        ("tier.changed", ben),
    )

    ids, sizes, poll_cursor = await follow(client, admin, limit=2)

    assert ids == recorded
    assert sizes == [2, 2, 1]
    first = (await get_page(client, admin, limit=1))["items"][0]
    assert first == {
        "id": recorded[0],
        "type": "member.created",
        "member_id": str(anna),
        "created_at": first["created_at"],
        "data": {"n": 0},
    }
    assert poll_cursor is not None


async def test_a_consumer_polls_on_from_where_it_stopped(app, client, admin, anna_and_ben):
    anna, _ = anna_and_ben
    empty = await get_page(client, admin)
    assert (empty["items"], empty["next_cursor"], empty["poll_cursor"]) == ([], None, None)
    seen = await record_events(app, ("points.earned", anna), ("points.earned", anna))
    _ids, _sizes, poll_cursor = await follow(client, admin)

    nothing_new = await get_page(client, admin, cursor=poll_cursor)
    later = await record_events(app, ("points.redeemed", anna))
    news = await get_page(client, admin, cursor=poll_cursor)

    assert (nothing_new["items"], nothing_new["poll_cursor"]) == ([], poll_cursor)
    assert [item["id"] for item in news["items"]] == later
    assert news["next_cursor"] is None
    assert news["poll_cursor"] != poll_cursor
    assert later[0] not in seen


async def test_types_are_picked_exactly_or_by_prefix(app, client, admin, anna_and_ben):
    anna, ben = anna_and_ben
    earned, redeemed, tier, _created, points_like = await record_events(
        app,
        ("points.earned", anna),
        ("points.redeemed", ben),
        ("tier.changed", anna),
        ("member.created", anna),
        ("pointsx.earned", anna),  # not under "points."
    )

    exact, _, _ = await follow(client, admin, type="points.earned")
    prefix, _, _ = await follow(client, admin, type="points.")
    several, _, _ = await follow(client, admin, type=["points.", "tier.changed"], limit=1)
    annas_points, _, _ = await follow(client, admin, type="points.", member_id=str(anna))

    assert exact == [earned]
    assert prefix == [earned, redeemed]
    assert several == [earned, redeemed, tier]
    assert annas_points == [earned]
    assert points_like not in prefix


def test_matching_in_python_agrees_with_the_feed():
    assert matches([], "anything.at_all")
    assert matches(["points."], "points.earned")
    assert not matches(["points."], "pointsx.earned")
    assert not matches(["points"], "points.earned")
    assert matches(["gift.claimed", "tier."], "tier.changed")
    assert not matches(["gift_"], "gift.claimed")


async def test_a_type_pattern_with_like_wildcards_matches_them_literally(
    app, client, admin, anna_and_ben
):
    [underscored, _] = await record_events(app, ("a_b.c", None), ("axb.c", None))

    picked, _, _ = await follow(client, admin, type="a_b.")

    assert picked == [underscored]


async def test_bad_requests_are_refused(app, client, admin):
    pos = await headers_for(app, Scope.pos)

    assert_problem(await client.get(PATH, headers=pos), 403, "insufficient_scope")
    assert_problem(await client.get(PATH), 401, "unauthenticated")
    assert_problem(
        await client.get(PATH, params={"type": "Points%"}, headers=admin), 422, "validation_error"
    )
    assert_problem(
        await client.get(PATH, params={"limit": 201}, headers=admin), 422, "validation_error"
    )
    assert_problem(
        await client.get(PATH, params={"cursor": "not-a-cursor"}, headers=admin),
        400,
        "invalid_cursor",
    )
