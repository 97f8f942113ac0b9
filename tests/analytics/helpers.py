"""Dates for the figures' tests: local days in the programme's time zone (Europe/Berlin)."""

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import update

from app.db.base import utcnow
from app.members.models import Member
from tests.factories import Member as MemberRef
from tests.factories import execute, member_id

BERLIN = ZoneInfo("Europe/Berlin")


def today() -> date:
    return utcnow().astimezone(BERLIN).date()


def day(days_ago: int) -> date:
    return today() - timedelta(days=days_ago)


def noon(days_ago: int) -> datetime:
    """Noon (local) ``days_ago`` days before today: clear of every day's edges."""
    return datetime.combine(day(days_ago), time(12), BERLIN)


async def enrolled(app: FastAPI, member: MemberRef, days_ago: int) -> None:
    """Date a member's enrolment back (the API enrols members now)."""
    await execute(
        app,
        update(Member)
        .where(Member.id == uuid.UUID(member_id(member)))
        .values(created_at=noon(days_ago)),
    )


def period(start: date, end: date) -> dict[str, Any]:
    return {"from": start.isoformat(), "to": end.isoformat()}
