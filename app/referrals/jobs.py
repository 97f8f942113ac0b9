"""The referrers' bonuses: each qualified referral is settled once on the referrer's side.

Idempotent and safe with several runners: each referral is settled in its own short
transaction under the referrer's ledger lock, by a conditional move out of ``qualified``,
so a second runner finds it settled and does nothing. The lock is waited for rather than
skipped: it also orders the settlements of one referrer, so the monthly cap is counted
right. Referrals are settled in the order they qualified, so under the cap the earliest
referrals are the ones rewarded.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import utcnow
from app.program.service import get_program
from app.referrals import repository, service

BATCH_SIZE = 500


async def reward_referrers(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> int:
    """Settle every qualified referral (rewarded, capped or void); return how many."""
    now = now or utcnow()
    async with sessionmaker() as session:
        program = await get_program(session)
    settled = 0
    after: tuple[datetime, UUID] | None = None
    while True:
        async with sessionmaker() as session:
            batch = await repository.qualified(session, after, BATCH_SIZE)
        for _, referral_id in batch:
            async with sessionmaker() as session, session.begin():
                if await service.reward_referrer(session, referral_id, program, now) is not None:
                    settled += 1
        if len(batch) < BATCH_SIZE:
            return settled
        after = batch[-1]
