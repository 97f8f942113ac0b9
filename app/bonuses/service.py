"""Event bonuses: for enrolling, for completing the profile, and for the birthday.

Each bonus is a ledger transaction of its own type that credits a lot expiring like purchase
points, plus a :class:`BonusGrant` row, unique per member, kind and period ("" for the
once-ever bonuses, the local year for birthdays). The grant is claimed first, under the
member's ledger lock and in a savepoint: when it collides with the unique constraint the
bonus was given before and nothing is credited. So a bonus is given once, however often
and by however many processes it is asked for.

Bonus points are not purchase points: they do not count towards tiers.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.bonuses import repository, rules
from app.bonuses.models import BonusGrant, BonusKind
from app.db.base import utcnow, uuid7
from app.ledger import service as ledger_service
from app.ledger.models import AccountKind, LedgerTransaction, TransactionType
from app.ledger.service import MemberLedger
from app.members.models import Member, MemberStatus
from app.program import calendar
from app.program.schemas import ProgramSettings
from app.program.service import get_program

TRANSACTION_TYPES: dict[BonusKind, TransactionType] = {
    BonusKind.signup: TransactionType.signup_bonus,
    BonusKind.profile: TransactionType.profile_bonus,
    BonusKind.birthday: TransactionType.birthday_bonus,
}

ONCE = ""  # the period of the once-ever bonuses


async def grant(
    session: AsyncSession,
    ledger: MemberLedger,
    kind: BonusKind,
    points: int,
    program: ProgramSettings,
    now: datetime,
    period: str = ONCE,
) -> LedgerTransaction | None:
    """Credit the bonus unless the member already had it for ``period``; None if not given."""
    if points <= 0:
        return None
    bonus = BonusGrant(
        id=uuid7(),
        member_id=ledger.member_id,
        kind=kind,
        period=period,
        points=points,
        created_at=now,
    )
    if not await repository.claim(session, bonus):
        return None
    transaction_type = TRANSACTION_TYPES[kind]
    earned = ledger_service.earn(
        session,
        ledger,
        transaction_type,
        points,
        expires_at=calendar.expires_at(now, program),
        source=AccountKind.issued,
        now=now,
        related_id=bonus.id,
    )
    await session.flush()  # the transaction exists before the grant refers to it
    bonus.transaction_id = earned.transaction.id  # its points.earned event came with it
    await session.flush()
    return earned.transaction


def profile_complete(member: Member) -> bool:
    return rules.profile_complete(member.email, member.name, member.birthdate)


async def after_enrolment(
    session: AsyncSession, member: Member, now: datetime | None = None
) -> None:
    """The signup bonus, and the profile bonus when the member enrolled with a full profile,
    in the enrolment's own transaction."""
    now = now or utcnow()
    program = await get_program(session)
    profile = program.profile_completion_bonus if profile_complete(member) else 0
    if program.signup_bonus == 0 and profile == 0:
        return
    ledger = await ledger_service.lock(session, member.id)
    await grant(session, ledger, BonusKind.signup, program.signup_bonus, program, now)
    await grant(session, ledger, BonusKind.profile, profile, program, now)


async def after_profile_change(
    session: AsyncSession, member: Member, *, was_complete: bool, now: datetime | None = None
) -> None:
    """The profile bonus when this change completed the profile, once ever: a profile
    cleared and completed again, or complete before the bonus was offered, earns nothing."""
    if was_complete or not profile_complete(member):
        return
    program = await get_program(session)
    if program.profile_completion_bonus == 0:
        return
    if await repository.is_granted(session, member.id, BonusKind.profile, ONCE):
        return
    ledger = await ledger_service.lock(session, member.id)
    await grant(
        session,
        ledger,
        BonusKind.profile,
        program.profile_completion_bonus,
        program,
        now or utcnow(),
    )


async def grant_birthday(
    session: AsyncSession, member_id: UUID, program: ProgramSettings, now: datetime
) -> bool:
    """This year's birthday bonus if it is due on ``now``'s local date; True if given.

    The member is read again under the ledger lock, so a birthdate changed since the
    candidates were chosen is the one that counts.
    """
    ledger = await ledger_service.lock(session, member_id)
    member = await session.get(Member, member_id, populate_existing=True)
    today = calendar.local_date(now, program.timezone)
    if (
        member is None
        or member.status != MemberStatus.active
        or not rules.birthday_bonus_due(member.birthdate, today, program.birthday_bonus_timing)
    ):
        return False
    given = await grant(
        session,
        ledger,
        BonusKind.birthday,
        program.birthday_bonus,
        program,
        now,
        period=str(today.year),
    )
    return given is not None
