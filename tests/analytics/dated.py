"""A data set whose ledger entries are written on different local days.

The API writes every ledger entry now; the services take the moment they run at, so these
helpers call them as the till and the back office would have on earlier days. Each
member's entries are written in the order of their moments, as the ledger's chain needs.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from app.earning import service as earning
from app.earning.models import Purchase
from app.earning.schemas import PurchaseCreate, PurchaseReturnCreate
from app.ledger import jobs as ledger_jobs
from app.spending import service as spending
from app.spending.schemas import AdjustmentCreate, RedemptionCreate
from tests.analytics.helpers import enrolled, noon
from tests.factories import enrol, member_id, set_program, write


async def buy(app: FastAPI, member: dict[str, Any], total: int, days_ago: int) -> Purchase:
    """A purchase at noon ``days_ago`` days back, recorded then (its points issued then)."""
    runtime = app.state.runtime
    data = PurchaseCreate(
        member_id=uuid.UUID(member["id"]),
        order_id=f"order-{uuid.uuid4().hex[:12]}",
        channel="pos",
        currency="EUR",
        total=total,
    )
    async with runtime.sessionmaker() as session:
        recorded = await earning.record_purchase(
            session, runtime.secret_key, data, now=noon(days_ago)
        )
        await session.commit()
    return recorded.purchase


async def give_back(app: FastAPI, bought: Purchase, amount: int, days_ago: int) -> None:
    async with app.state.runtime.sessionmaker() as session:
        await earning.record_return(
            session, bought.id, PurchaseReturnCreate(amount=amount), now=noon(days_ago)
        )
        await session.commit()


async def spend(app: FastAPI, member: dict[str, Any], points: int, days_ago: int) -> None:
    async with app.state.runtime.sessionmaker() as session:
        await spending.redeem(
            session, uuid.UUID(member["id"]), RedemptionCreate(points=points), now=noon(days_ago)
        )
        await session.commit()


async def credit(app: FastAPI, member: dict[str, Any], points: int, days_ago: int) -> None:
    async with app.state.runtime.sessionmaker() as session:
        await spending.adjust(
            session,
            uuid.UUID(member["id"]),
            AdjustmentCreate(points=points, reason="goodwill"),
            now=noon(days_ago),
        )
        await session.commit()


@dataclass(frozen=True)
class DataSet:
    members: dict[str, dict[str, Any]]
    tiers: dict[str, dict[str, Any]]


async def build_dated_data_set(app, client, admin, pos) -> DataSet:
    """Seven members; their ledger entries fall on these local days (days ago):

    - Anna (new, enrolled now): buys 30.00 on day 20 (30 points, reaching Silver) and
      20.00 on day 5 (20 points); pays with 40 points on day 4.
    - Ben (enrolled 900 days ago): 9.00 on day 800 (9 points, expired by the job on day 2);
      15.00 on day 12 (15 points), 5.00 of it returned on day 3 (5 points back).
    - Clara: 10.00 on day 380 (10 points, lapsed since); Gold given by hand, for 90 days.
    - Dan: 10.00 on day 200 (10 points); 25 points goodwill on day 1.
    - Finn: 10.00 on day 380 (10 points).
    - Eva (new, enrolled now): erased. Gus: Gold by hand, then merged into Dan.

    The programme: 1 point per euro, a point is worth 0.25, tiers Silver (20 qualifying
    points, x1) and Gold (1000, x2).
    """
    await set_program(client, admin, point_value_minor=25)
    tiers = {}
    for name, rank, threshold, multiplier in (("Silver", 1, 20, "1"), ("Gold", 2, 1000, "2")):
        response = await client.post(
            "/v1/tiers",
            json={"name": name, "rank": rank, "threshold": threshold, "multiplier": multiplier},
            headers=admin,
        )
        assert response.status_code == 201, response.text
        tiers[name] = response.json()
    names = ("Anna", "Ben", "Clara", "Dan", "Eva", "Finn", "Gus")
    members = {name: await enrol(client, pos, name=name) for name in names}
    for name in ("Ben", "Clara", "Dan", "Finn"):
        await enrolled(app, members[name], 900)

    anna, ben, clara, dan, finn = (
        members[name] for name in ("Anna", "Ben", "Clara", "Dan", "Finn")
    )
    await buy(app, anna, 3000, 20)
    await buy(app, anna, 2000, 5)
    await spend(app, anna, 40, 4)
    await buy(app, ben, 900, 800)
    bens = await buy(app, ben, 1500, 12)
    await give_back(app, bens, 500, 3)
    await buy(app, clara, 1000, 380)
    await buy(app, dan, 1000, 200)
    await credit(app, dan, 25, 1)
    await buy(app, finn, 1000, 380)
    expired = await ledger_jobs.expire_due_lots(app.state.runtime.sessionmaker, now=noon(2))
    assert expired == 1  # Ben's 9 points of day 800

    until = (datetime.now(UTC) + timedelta(days=90)).replace(microsecond=0).isoformat()
    for name in ("Clara", "Gus"):
        response = await client.put(
            f"/v1/members/{members[name]['id']}/tier",
            json={"tier_id": tiers["Gold"]["id"], "until": until, "reason": "VIP evening"},
            headers=admin,
        )
        assert response.status_code == 200, response.text
    merged = await write(
        client,
        f"/v1/members/{member_id(dan)}/merge",
        admin,
        {"source_member_id": members["Gus"]["id"]},
    )
    assert merged.status_code == 200, merged.text
    erased = await client.delete(f"/v1/members/{members['Eva']['id']}", headers=admin)
    assert erased.status_code == 200, erased.text
    return DataSet(members, tiers)
