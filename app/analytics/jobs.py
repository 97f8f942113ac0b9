"""The ABC classification job: stores each member's class by revenue over the trailing
12 months on the member, so that campaigns limited to classes (``abc_classes``) need no
ranking when a purchase is recorded.

The window is the 12 local months before today (today's purchases count from tomorrow), so
the ranking changes once a day: the job ranks at its first run of a local day, and again
when the programme's thresholds changed; other runs find a run for today and do nothing.
It writes only members whose class changed, in batches, each its own short transaction.
Safe with several runners: two that rank at once find the same classes and write the same
values.
"""

from collections import defaultdict
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.analytics import repository, rules
from app.analytics.models import AbcClass, AbcClassification
from app.db.base import utcnow
from app.program.calendar import local_date
from app.program.service import get_program

BATCH_SIZE = 500


async def classify_members(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> int:
    """Rank members by revenue over the trailing 12 months and store their classes; return
    how many members' class changed (0 when today's ranking is already stored)."""
    now = now or utcnow()
    async with sessionmaker() as session:
        program = await get_program(session)
        today = local_date(now, program.timezone)
        latest = await repository.latest_classification(session)
        if (
            latest is not None
            and latest.as_of == today
            and (latest.a_share, latest.b_share) == (program.abc_a_share, program.abc_b_share)
        ):
            return 0
        window = rules.trailing_year(today, program.timezone)
        ranking = repository.classified(
            window, program.currency, program.abc_a_share, program.abc_b_share
        )
        totals = {t.abc_class: t.members for t in await repository.class_totals(session, ranking)}
        changes = await repository.class_changes(session, ranking)
    by_class: dict[str | None, list[UUID]] = defaultdict(list)
    for member_id, abc_class in changes:
        by_class[abc_class].append(member_id)
    for abc_class, members in by_class.items():
        for start in range(0, len(members), BATCH_SIZE):
            async with sessionmaker() as session, session.begin():
                await repository.store_classes(
                    session, abc_class, members[start : start + BATCH_SIZE]
                )
    async with sessionmaker() as session, session.begin():
        session.add(
            AbcClassification(
                as_of=today,
                window_starts_at=window.starts_at,
                window_ends_at=window.ends_at,
                a_share=program.abc_a_share,
                b_share=program.abc_b_share,
                members_a=totals.get(AbcClass.A, 0),
                members_b=totals.get(AbcClass.B, 0),
                members_c=totals.get(AbcClass.C, 0),
                changed=len(changes),
                created_at=now,
            )
        )
    return len(changes)
