"""The tier review: ends manual tiers whose time is up and reviews earned tiers whose review
date and grace period have passed (see ``service.review``).

Idempotent: a review moves the member's review date on (or clears it), and an ended manual
tier is cleared, so a second run finds nothing. Safe with several runners: each member is
handled in its own short transaction under its row lock, taken with SKIP LOCKED, so that two
runners never wait for each other; a skipped member is due again on the next run.
"""

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import utcnow
from app.program.service import get_program
from app.tiers import repository, service

BATCH_SIZE = 500


async def review_tiers(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> int:
    """Run due tier reviews and end expired manual tiers; return how many changes were
    recorded (kept, lowered or ended)."""
    now = now or utcnow()
    async with sessionmaker() as session:
        program = await get_program(session)
    review_cutoff = now - timedelta(days=program.tier_downgrade_grace_days)
    done = 0
    after: UUID | None = None
    while True:
        async with sessionmaker() as session:
            due = await repository.members_due_for_review(
                session, review_cutoff, now, after, BATCH_SIZE
            )
        if not due:
            return done
        for member_id in due:
            async with sessionmaker() as session, session.begin():
                member = await repository.lock_member_or_skip(session, member_id)
                if member is not None:
                    done += await service.review(session, member, program, now)
        after = due[-1]
