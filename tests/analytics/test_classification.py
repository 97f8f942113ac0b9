"""The ABC classification job stores each member's class; campaigns can be limited to classes."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.analytics import jobs
from app.analytics.models import AbcClassification
from app.db.base import utcnow
from app.members.models import Member
from tests.analytics.helpers import noon
from tests.factories import (
    assert_problem,
    enrol,
    member_id,
    purchase,
    set_program,
    write,
)


@pytest.fixture
async def members(client, pos) -> dict[str, dict[str, Any]]:
    """Revenue over the last 12 months: Anna 80.00, Ben 15.00, Clara 5.00, Dan nothing.

    Ranked: Anna reaches 80 % alone (A); Ben has 80 % before him (B) and with him A and B
    reach 95 %; Clara has 95 % before her (C). Dan, without revenue, has no class.
    """
    found = {name: await enrol(client, pos, name=name) for name in ("Anna", "Ben", "Clara", "Dan")}
    for name, total in (("Anna", 8000), ("Ben", 1500), ("Clara", 500)):
        await purchase(client, pos, found[name], total, occurred_at=noon(30))
    await purchase(client, pos, found["Dan"], 3000, occurred_at=noon(400))  # too long ago
    return found


async def stored_classes(app) -> dict[str, str | None]:
    async with app.state.runtime.sessionmaker() as session:
        rows = await session.execute(select(Member.name, Member.abc_class))
        return {row.name: row.abc_class for row in rows}


async def classify(app, now=None) -> int:
    return await jobs.classify_members(app.state.runtime.sessionmaker, now or utcnow())


async def create_campaign(client, admin, **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/campaigns", json=fields, headers=admin)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def points_of_a_purchase(client, pos, member) -> int:
    bought = await purchase(client, pos, member, 1000)
    points: int = bought["points_earned"]
    return points


async def test_the_job_stores_each_members_class(app, client, pos, members):
    assert await stored_classes(app) == {"Anna": None, "Ben": None, "Clara": None, "Dan": None}

    assert await classify(app) == 3

    assert await stored_classes(app) == {"Anna": "A", "Ben": "B", "Clara": "C", "Dan": None}
    for name, expected in (("Anna", "A"), ("Dan", None)):
        shown = await client.get(f"/v1/members/{member_id(members[name])}", headers=pos)
        assert shown.json()["abc_class"] == expected
    async with app.state.runtime.sessionmaker() as session:
        run = await session.scalar(select(AbcClassification))
    assert run is not None
    assert (run.members_a, run.members_b, run.members_c, run.changed) == (1, 1, 1, 3)
    assert (run.a_share, run.b_share) == (80, 15)
    assert run.window_ends_at - run.window_starts_at >= timedelta(days=365)


async def test_a_campaign_for_class_a_gives_points_only_to_a_members(
    app, client, admin, pos, members
):
    campaign = await create_campaign(
        client, admin, name="A customers", kind="bonus_points", points=100, abc_classes=["A"]
    )
    assert campaign["abc_classes"] == ["A"]
    # Before the job has classified anyone, nobody is in A.
    assert await points_of_a_purchase(client, pos, members["Anna"]) == 10

    await classify(app)

    earned = {name: await points_of_a_purchase(client, pos, m) for name, m in members.items()}
    assert earned == {"Anna": 110, "Ben": 10, "Clara": 10, "Dan": 10}
    quote = await write(
        client,
        "/v1/quotes",
        pos,
        {
            "member_id": member_id(members["Anna"]),
            "order_id": "quote-1",
            "channel": "pos",
            "currency": "EUR",
            "total": 1000,
        },
    )
    assert quote.status_code == 200, quote.text
    assert [line["name"] for line in quote.json()["breakdown"]] == ["base rate", "A customers"]


async def test_a_campaign_can_name_several_classes(app, client, admin, pos, members):
    await create_campaign(
        client, admin, name="B and C", kind="multiplier", multiplier="2", abc_classes=["B", "C"]
    )
    await classify(app)

    earned = {name: await points_of_a_purchase(client, pos, m) for name, m in members.items()}

    assert earned == {"Anna": 10, "Ben": 20, "Clara": 20, "Dan": 10}


async def test_the_job_ranks_once_a_day_and_again_when_the_thresholds_change(
    app, client, admin, pos, members
):
    now = utcnow()
    assert await classify(app, now) == 3
    # The same day the job does not rank again, even with new revenue (Dan's, yesterday).
    await purchase(client, pos, members["Dan"], 100_000, occurred_at=noon(1))
    assert await classify(app, now + timedelta(minutes=5)) == 0
    assert (await stored_classes(app))["Dan"] is None

    await set_program(client, admin, abc_a_share=90, abc_b_share=5)
    # Changed thresholds: ranked again. Of 1100.00, Dan's 1000.00 reach 90.9 % alone: A.
    # Anna has 90.9 % before her, under 95 %: B. Ben has 98.2 % before him: C; Clara C.
    assert await classify(app, now + timedelta(minutes=10)) == 3
    assert await stored_classes(app) == {"Anna": "B", "Ben": "C", "Clara": "C", "Dan": "A"}

    # Two years on nobody has revenue in the last 12 months: no classes.
    assert await classify(app, now + timedelta(days=730)) == 4
    assert await stored_classes(app) == {"Anna": None, "Ben": None, "Clara": None, "Dan": None}
    assert await classify(app, now + timedelta(days=730, hours=1)) == 0


async def test_erased_and_merged_members_have_no_class(app, client, admin, pos, members):
    anna, ben, clara = (uuid.UUID(member_id(members[n])) for n in ("Anna", "Ben", "Clara"))
    await classify(app)
    erased = await client.delete(f"/v1/members/{anna}", headers=admin)
    assert erased.status_code == 200, erased.text
    merged = await write(
        client, f"/v1/members/{ben}/merge", admin, {"source_member_id": str(clara)}
    )
    assert merged.status_code == 200, merged.text

    assert await classify(app, utcnow() + timedelta(days=1)) == 2

    async with app.state.runtime.sessionmaker() as session:
        rows = await session.execute(select(Member.id, Member.abc_class))
        stored = {row.id: row.abc_class for row in rows}
    # Anna's revenue still ranks first (her 80.00 of 100.00), but an erased member takes
    # part in no campaign. Ben, with Clara's purchase, has 80 % before him: B.
    assert (stored[anna], stored[ben], stored[clara]) == (None, "B", None)


async def test_a_campaigns_classes_are_validated_and_can_be_changed(client, admin):
    for invalid in (["D"], ["a"], "A", ["A", "B", "C", "A"]):
        response = await client.post(
            "/v1/campaigns",
            json={"name": "x", "kind": "bonus_points", "points": 1, "abc_classes": invalid},
            headers=admin,
        )
        assert_problem(response, 422, "validation_error")

    campaign = await create_campaign(client, admin, name="x", kind="bonus_points", points=1)
    assert campaign["abc_classes"] == []
    response = await client.patch(
        f"/v1/campaigns/{campaign['id']}", json={"abc_classes": ["B", "C"]}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["abc_classes"] == ["B", "C"]
    uuid.UUID(campaign["id"])
