"""Referrals: the member who recommended us and the new member both get a bonus, once.

1. Enrolment with a referral code (or by claiming a gift, or ``PUT .../referrer`` soon
   after) links the referee to the referrer: a pending :class:`Referral`, scoped to the
   referee.
2. The referee's first qualifying purchase (a total of at least the programme's minimum),
   recorded or claimed from a receipt, moves it pending → qualified in the purchase's own
   transaction under the referee's ledger lock, and credits the referee's bonus. The move
   is a conditional UPDATE, so it happens once whatever retries, returns and later
   purchases do; a return does not take the bonus back.
3. The job ``reward_referrers`` credits the referrer afterwards, in a transaction of the
   referrer's own under the referrer's ledger lock: qualified → rewarded, or → capped when
   the referrer already got the programme's number of referral bonuses this local month
   (the referee keeps theirs).

A merged record stands for the member it was merged into: its referral code leads there.
Referral bonuses are not purchase points: they do not count towards tiers.
"""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import locks
from app.db.base import uuid7
from app.earning.models import Purchase
from app.events.service import emit
from app.kit.pagination import PageParams, paginate
from app.ledger import service as ledger_service
from app.ledger.models import AccountKind, LedgerTransaction, TransactionType
from app.ledger.service import MemberLedger
from app.members import repository as members
from app.members import service as members_service
from app.members.errors import MemberNotFound
from app.members.models import Member, MemberStatus
from app.program import calendar
from app.program.schemas import ProgramSettings
from app.program.service import get_program
from app.referrals import repository, rules
from app.referrals.errors import ReferralExists, ReferralLoop, ReferralSelf, ReferralTooLate
from app.referrals.models import Referral, ReferralStatus

# Links made after enrolment wait in one line, so that two of them cannot close a loop
# together (A names B while B names A): each sees the other's link when it checks.
_LINK_QUEUE = UUID("6b0c2f1e-5d1a-4c57-9a59-7e2f4f7c0a11")


async def _referred_by_chain_reaches(
    session: AsyncSession, referrer: Member, member_id: UUID
) -> bool:
    """Whether ``referrer`` or anyone up its chain of referrers is ``member_id``."""
    seen: set[UUID] = set()
    current: Member | None = referrer
    while current is not None and current.id not in seen:
        seen.add(current.id)
        if current.id == member_id:
            return True
        if current.referred_by_id is None:
            return False
        above = await members.get(session, current.referred_by_id)
        current = None if above is None else await members.current_member(session, above)
    return False


async def link_referrer(
    session: AsyncSession, member_id: UUID, raw_code: str, now: datetime
) -> Referral:
    """Link a member enrolled without a code to their referrer, before any qualifying purchase.

    Naming the referrer already linked changes nothing and returns the referral.
    """
    await locks.queue_for(session, _LINK_QUEUE)
    # Under the member's ledger lock: a purchase recorded meanwhile is seen here, or sees
    # the link made here.
    member, _ = await members_service.lock_ledger(
        session, await members_service.get_member(session, member_id)
    )
    referrer = await members_service.referrer_by_code(session, raw_code)
    if referrer.id == member.id:
        raise ReferralSelf("A member cannot be their own referrer.")
    existing = await repository.of_referee(session, member.id)
    if existing is not None or member.referred_by_id is not None:
        if existing is not None and member.referred_by_id == referrer.id:
            return existing
        raise ReferralExists("This member already has a referrer.")
    program = await get_program(session)
    if await repository.has_purchase_of_at_least(
        session, member.id, program.referral_min_purchase_total
    ):
        raise ReferralTooLate(
            "This member already made a qualifying purchase; a referrer can no longer be added."
        )
    if await _referred_by_chain_reaches(session, referrer, member.id):
        raise ReferralLoop("This member recommended the referrer, directly or through others.")
    member.referred_by_id = referrer.id
    referral = Referral(id=uuid7(), referee_id=member.id, referrer_id=referrer.id, created_at=now)
    session.add(referral)
    await session.flush()
    return referral


async def _credit(
    session: AsyncSession,
    ledger: MemberLedger,
    referral: Referral,
    points: int,
    program: ProgramSettings,
    now: datetime,
) -> LedgerTransaction | None:
    """Credit a referral bonus as a new lot, expiring like other bonuses."""
    if points <= 0:
        return None
    earned = ledger_service.earn(
        session,
        ledger,
        TransactionType.referral_bonus,
        points,
        expires_at=calendar.expires_at(now, program),
        source=AccountKind.issued,
        now=now,
        related_id=referral.id,
    )
    await session.flush()  # the transaction exists before the referral refers to it
    return earned.transaction  # its points.earned event came with it


async def after_purchase(
    session: AsyncSession,
    buyer: Member,
    ledger: MemberLedger,
    purchase: Purchase,
    program: ProgramSettings,
    now: datetime,
) -> Referral | None:
    """Qualify the buyer's pending referral with this purchase if it is large enough, and
    credit the buyer's bonus; the referral, or None when nothing qualified.

    Runs in the purchase's transaction under the buyer's ledger lock (``ledger``), with
    ``buyer`` read after the lock was granted.
    """
    if not rules.qualifies(purchase.total, program.referral_min_purchase_total):
        return None
    if buyer.referred_by_id is None:  # nobody recommended the buyer: most sales stop here
        return None
    referral = await repository.of_referee(session, ledger.member_id)
    if referral is None or referral.status != ReferralStatus.pending:
        return None
    if not await repository.move(
        session,
        referral,
        ReferralStatus.pending,
        ReferralStatus.qualified,
        purchase_id=purchase.id,
        qualified_at=now,
    ):
        return None
    transaction = await _credit(
        session, ledger, referral, program.referral_bonus_referee, program, now
    )
    if transaction is not None:
        referral.referee_transaction_id = transaction.id
    await session.flush()
    return referral


async def reward_referrer(
    session: AsyncSession, referral_id: UUID, program: ProgramSettings, now: datetime
) -> ReferralStatus | None:
    """Settle a qualified referral on the referrer's side, in a transaction of the referrer's
    own: rewarded (bonus credited, ``referral.rewarded`` emitted) or capped; or void when
    referrer and referee have become one member by a merge or the referrer was erased. None
    when it was not due (any more): another runner settled it first.
    """
    referral = await repository.get(session, referral_id)
    if referral is None or referral.status != ReferralStatus.qualified:
        return None
    named = await members.get(session, referral.referrer_id)
    assert named is not None  # a foreign key
    referrer = await members.current_member(session, named)
    ledger = await ledger_service.lock(session, referrer.id)
    # Read again under the lock: every settlement for this referrer waits for it.
    referral = await repository.get(session, referral_id)
    if referral is None or referral.status != ReferralStatus.qualified:
        return None
    referee = await members.get(session, referral.referee_id)
    assert referee is not None  # a foreign key
    await session.refresh(referrer, ["status"])
    # One person on both sides after a merge, or a referrer erased since: nobody to reward.
    same_person = (await members.current_member(session, referee)).id == referrer.id
    if same_person or referrer.status == MemberStatus.erased:
        moved = await repository.move(
            session, referral, ReferralStatus.qualified, ReferralStatus.void
        )
        return ReferralStatus.void if moved else None
    since, until = rules.local_month(now, program.timezone)
    got = await repository.referrer_bonuses_between(session, referrer.id, since, until)
    if rules.cap_reached(got, program.referral_max_per_referrer_per_month):
        moved = await repository.move(
            session, referral, ReferralStatus.qualified, ReferralStatus.capped
        )
        return ReferralStatus.capped if moved else None
    if not await repository.move(
        session, referral, ReferralStatus.qualified, ReferralStatus.rewarded, rewarded_at=now
    ):
        return None
    transaction = await _credit(
        session, ledger, referral, program.referral_bonus_referrer, program, now
    )
    if transaction is not None:
        referral.referrer_transaction_id = transaction.id
    referee_transaction = (
        None
        if referral.referee_transaction_id is None
        else await session.get(LedgerTransaction, referral.referee_transaction_id)
    )
    emit(
        session,
        "referral.rewarded",
        referrer.id,
        {
            "referral_id": str(referral.id),
            "referee_id": str(referral.referee_id),
            "referrer_points": transaction.points if transaction is not None else 0,
            "referee_points": referee_transaction.points if referee_transaction else 0,
        },
        now,
    )
    await session.flush()
    return ReferralStatus.rewarded


async def list_referrals(
    session: AsyncSession, member_id: UUID, params: PageParams
) -> tuple[Sequence[Referral], str | None]:
    """The referrals a member made as the referrer, newest first (a merged record's are
    those of the member it was merged into)."""
    member = await members.get(session, member_id)
    if member is None:
        raise MemberNotFound(f"No member {member_id}.")
    member = await members.current_member(session, member)
    return await paginate(session, repository.made_by(member.id), Referral, params)
