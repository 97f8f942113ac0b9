"""``points.expiring_soon``: a notice before a lot of points expires, once per lot.

The programme's ``expiry_notice_days`` (default 30; 0 = no notices) says how many days
ahead. The job takes the available lots that still hold points, expire within that many
days and were not noticed yet, batch by batch. Each batch is one short transaction that
marks its lots (``earn_lot.expiry_notified_at``) and emits their events together: a lot is
marked if and only if its notice was recorded. Data, ids and numbers only::

    {"lot_id": "...", "points": 40, "expires_at": "2027-01-31T22:59:59.999999+00:00",
     "balance": {"available": 120, "pending": 0}}

``points`` is what the lot still holds (what will expire unless it is spent first), and
``balance`` the member's balance when the notice was written.

Safe with several runners and re-runs: a marked lot is never taken again, and on
PostgreSQL each runner locks its batch with SKIP LOCKED, so two runners take disjoint lots
and neither waits for a lot a till is spending from (that lot is due on the next run); on
SQLite write transactions take turns. A partial index on ``expires_at`` holds only the
lots still to be noticed (not noticed, still holding points), so a run's range scan does not
wade through the lots already noticed or emptied. Lots moved by a merge keep their
mark; a lot already past its expiry gets no notice (the expiry job handles it), and nor do
lots emptied by spending, expiry or an erasure.
"""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import utcnow
from app.events.service import emit
from app.ledger import events, repository
from app.ledger.models import AccountKind
from app.program.service import get_program

BATCH_SIZE = 500


async def notify_expiring_lots(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> int:
    """Emit ``points.expiring_soon`` for every lot that is due for it; return how many."""
    now = now or utcnow()
    async with sessionmaker() as session:
        program = await get_program(session)
    if program.expiry_notice_days == 0:
        return 0
    until = now + timedelta(days=program.expiry_notice_days)
    notified = 0
    while True:
        async with sessionmaker() as session, session.begin():
            lots = await repository.claim_lots_to_notice(session, now, until, BATCH_SIZE)
            if not lots:
                return notified
            balances = await repository.balances_of(session, {lot.member_id for lot in lots})
            for lot in lots:
                assert lot.expires_at is not None
                lot.expiry_notified_at = now
                balance = balances.get(lot.member_id, {})
                emit(
                    session,
                    events.EXPIRING_SOON,
                    lot.member_id,
                    {
                        "lot_id": str(lot.id),
                        "points": lot.remaining,
                        "expires_at": lot.expires_at.isoformat(),
                        "balance": {
                            "available": balance.get(AccountKind.available, 0),
                            "pending": balance.get(AccountKind.pending, 0),
                        },
                    },
                    now,
                )
        notified += len(lots)
