"""The birthday bonus job: once per member and year, in the birthday month or on the day.

Idempotent and safe with several runners: the candidates are members born in the month (on
the day) without this year's grant; each is handled in its own short transaction under its
ledger lock, and the grant's unique constraint turns a second grant into a no-op. The lock
is waited for rather than skipped: with "day" timing a member skipped on their birthday
would lose the bonus when the job runs only once a day.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.bonuses import repository, rules, service
from app.db.base import utcnow
from app.program import calendar
from app.program.service import get_program

BATCH_SIZE = 500


async def grant_birthday_bonuses(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> int:
    """Give the birthday bonus to every member it is due to on ``now``; return how many."""
    now = now or utcnow()
    async with sessionmaker() as session:
        program = await get_program(session)
    if program.birthday_bonus == 0:
        return 0
    today = calendar.local_date(now, program.timezone)
    month, days = rules.birthdays_celebrated(today, program.birthday_bonus_timing)
    granted = 0
    after: UUID | None = None
    while True:
        async with sessionmaker() as session:
            batch = await repository.birthday_candidates(
                session,
                month=month,
                days=days,
                period=str(today.year),
                after=after,
                limit=BATCH_SIZE,
            )
        for member_id in batch:
            async with sessionmaker() as session, session.begin():
                if await service.grant_birthday(session, member_id, program, now):
                    granted += 1
        if len(batch) < BATCH_SIZE:
            return granted
        after = batch[-1]
