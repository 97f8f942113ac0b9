"""Background jobs: run in the service process (embedded case) or by `stammkunde jobs run`.

Every job is idempotent and safe to run in several processes at once.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.analytics import jobs as analytics_jobs
from app.bonuses import jobs as bonus_jobs
from app.config import Settings
from app.db.base import utcnow
from app.events import retention as event_retention
from app.gifts import service as gifts
from app.kit import idempotency
from app.ledger import jobs as ledger_jobs
from app.ledger import notices as expiry_notices
from app.referrals import jobs as referral_jobs
from app.tiers import jobs as tier_jobs
from app.vouchers import checkout as voucher_checkout
from app.webhooks import delivery as webhook_delivery

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
    "notify_expiring_points": expiry_notices.notify_expiring_lots,
    "purge_idempotency_records": _purge_idempotency_records,
    "grant_birthday_bonuses": bonus_jobs.grant_birthday_bonuses,
    "review_tiers": tier_jobs.review_tiers,
    "clean_up_vouchers": voucher_checkout.clean_up_vouchers,
    "expire_gifts": gifts.expire_due_gifts,
    "reward_referrers": referral_jobs.reward_referrers,
    "classify_members_abc": analytics_jobs.classify_members,
}


@dataclass(frozen=True, slots=True)
class JobConfig:
    """What some jobs need besides the database: the settings and the server secret."""

    settings: Settings
    secret_key: bytes


def configured_jobs(config: JobConfig) -> dict[str, Job]:
    """The jobs that need the configuration; they run after JOBS, so that the events those
    record go out in the same run."""
    retention = timedelta(days=config.settings.event_retention_days)

    async def prune_events(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> int:
        return await event_retention.prune_events(sessionmaker, retention, now)

    worker = webhook_delivery.WorkerConfig.from_settings(config.settings, config.secret_key)
    return {"deliver_webhooks": webhook_delivery.deliver_job(worker), "prune_events": prune_events}


async def run_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    now: datetime | None = None,
    config: JobConfig | None = None,
) -> dict[str, int]:
    """Run every job once, in order; return how many items each handled.

    Without ``config`` only the jobs that need nothing but the database run (JOBS).
    """
    now = now or utcnow()
    jobs = {**JOBS, **(configured_jobs(config) if config is not None else {})}
    return {name: await job(sessionmaker, now) for name, job in jobs.items()}


async def run_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    interval: float,
    config: JobConfig | None = None,
) -> None:
    """Run the jobs every ``interval`` seconds until cancelled; a failing run is logged."""
    while True:
        try:
            handled = await run_once(sessionmaker, config=config)
            if any(handled.values()):
                logger.info("jobs ran", extra={"handled": handled})
        except Exception:
            logger.exception("a job run failed; retrying next interval")
        await asyncio.sleep(interval)
