"""Background jobs: run in the service process (embedded case) or by `stammkunde jobs run`.

Every job is idempotent and safe to run in several processes at once.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.bonuses import jobs as bonus_jobs
from app.db.base import utcnow
from app.gifts import service as gifts
from app.kit import idempotency
from app.ledger import jobs as ledger_jobs
from app.referrals import jobs as referral_jobs
from app.tiers import jobs as tier_jobs
from app.vouchers import checkout as voucher_checkout

logger = logging.getLogger(__name__)

Job = Callable[[async_sessionmaker[AsyncSession], datetime], Awaitable[int]]


async def _purge_idempotency_records(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime
) -> int:
    async with sessionmaker() as session, session.begin():
        return await idempotency.purge_expired(session, now)


JOBS: dict[str, Job] = {
    "release_pending": ledger_jobs.release_due_pending,
    "expire_lots": ledger_jobs.expire_due_lots,
    "purge_idempotency_records": _purge_idempotency_records,
    "grant_birthday_bonuses": bonus_jobs.grant_birthday_bonuses,
    "review_tiers": tier_jobs.review_tiers,
    "clean_up_vouchers": voucher_checkout.clean_up_vouchers,
    "expire_gifts": gifts.expire_due_gifts,
    "reward_referrers": referral_jobs.reward_referrers,
}


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> dict[str, int]:
    """Run every job once, in order; return how many items each handled."""
    now = now or utcnow()
    return {name: await job(sessionmaker, now) for name, job in JOBS.items()}


async def run_forever(sessionmaker: async_sessionmaker[AsyncSession], interval: float) -> None:
    """Run the jobs every ``interval`` seconds until cancelled; a failing run is logged."""
    while True:
        try:
            handled = await run_once(sessionmaker)
            if any(handled.values()):
                logger.info("jobs ran", extra={"handled": handled})
        except Exception:
            logger.exception("a job run failed; retrying next interval")
        await asyncio.sleep(interval)
