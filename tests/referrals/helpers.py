"""Steps and looks shared by the referral tests."""

import uuid
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from app.events.models import Event
from app.referrals import jobs
from tests.factories import Headers, Member, member_id, transactions

REFERRER_BONUS = 500
REFEREE_BONUS = 300
MINIMUM_TOTAL = 2000  # 20.00

RULES = {
    "referral_bonus_referrer": REFERRER_BONUS,
    "referral_bonus_referee": REFEREE_BONUS,
    "referral_min_purchase_total": MINIMUM_TOTAL,
}


async def reward_referrers(app: FastAPI, now: datetime | str | None = None) -> int:
    """Run the referrers' job once, at ``now`` (an instant or its ISO text)."""
    moment = datetime.fromisoformat(now) if isinstance(now, str) else now
    return await jobs.reward_referrers(app.state.runtime.sessionmaker, now=moment)


async def referral_bonuses(
    client: httpx.AsyncClient, headers: Headers, member: Member
) -> list[int]:
    """The referral bonuses in the member's history, oldest first."""
    items = (await transactions(client, headers, member))["items"]
    return [t["points"] for t in reversed(items) if t["type"] == "referral_bonus"]


async def referrals_of(
    client: httpx.AsyncClient, headers: Headers, referrer: Member, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        f"/v1/members/{member_id(referrer)}/referrals", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def statuses(client: httpx.AsyncClient, headers: Headers, referrer: Member) -> dict[str, str]:
    """Each referee's referral status, by referee id."""
    items = (await referrals_of(client, headers, referrer, limit=200))["items"]
    return {item["referee_id"]: item["status"] for item in items}


async def events(app: FastAPI, type: str, member: Member) -> list[dict[str, Any]]:
    async with app.state.runtime.sessionmaker() as session:
        rows = await session.scalars(
            select(Event.data)
            .where(Event.type == type, Event.member_id == uuid.UUID(member_id(member)))
            .order_by(Event.created_at, Event.id)
        )
        return list(rows.all())
