import re
import secrets
from collections.abc import Callable, Sequence
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.bonuses import service as bonuses
from app.db.base import uuid7
from app.events.service import emit
from app.kit import codes
from app.kit.pagination import PageParams, paginate
from app.ledger import service as ledger
from app.members import repository
from app.members.cards import generate_card_number
from app.members.errors import MemberErased, MemberExists, MemberNotFound, ReferralCodeUnknown
from app.members.models import Member, MemberStatus
from app.members.schemas import MemberCreate, MemberUpdate
from app.referrals.models import Referral

UNIQUE_FIELDS = ("external_id", "card_number", "email", "phone")
_GENERATION_ATTEMPTS = 8


async def _unused(session: AsyncSession, field: str, generate: Callable[[], str]) -> str:
    for _ in range(_GENERATION_ATTEMPTS):
        candidate = generate()
        if not await repository.exists(session, **{field: candidate}):
            return candidate
    raise RuntimeError(f"could not generate an unused {field}")


def generate_referral_code() -> str:
    return "".join(secrets.choice(codes.ALPHABET) for _ in range(8))


async def _refuse_duplicates(session: AsyncSession, member: Member, fields: dict[str, str]) -> None:
    taken = await repository.taken_fields(session, member, fields)
    if taken:
        raise MemberExists(f"Another member has this {' and '.join(taken)}.", fields=taken)


async def referrer_by_code(session: AsyncSession, raw_code: str) -> Member:
    """The member whose referral code this is (typed loosely), or the one it was merged into."""
    found = await repository.get_by(session, referral_code=codes.canonical_symbols(raw_code))
    if found is not None:
        found = await repository.current_member(session, found)
    if found is None or found.status == MemberStatus.erased:
        raise ReferralCodeUnknown(f"No member has the referral code {raw_code!r}.")
    return found


async def create_member(
    session: AsyncSession, data: MemberCreate, referrer: Member | None = None
) -> Member:
    """Enrol a member; ``referrer`` (a gift's sender) takes the place of a referral code."""
    member = Member(
        id=uuid7(),
        external_id=data.external_id,
        email=data.email,
        phone=data.phone,
        name=data.name,
        birthdate=data.birthdate,
        segments=sorted(set(data.segments)),
    )
    given = {field: getattr(data, field) for field in UNIQUE_FIELDS if getattr(data, field)}
    await _refuse_duplicates(session, member, given)
    if referrer is None and data.referral_code is not None:
        referrer = await referrer_by_code(session, data.referral_code)
    if referrer is not None:
        referrer = await repository.current_member(session, referrer)
        member.referred_by_id = referrer.id
    member.card_number = data.card_number or await _unused(
        session, "card_number", generate_card_number
    )
    member.referral_code = await _unused(session, "referral_code", generate_referral_code)
    session.add(member)
    await _flush_unique(session)
    ledger.open_member_accounts(session, member.id)
    if referrer is not None:
        session.add(Referral(id=uuid7(), referee_id=member.id, referrer_id=referrer.id))
    # Ids only: an event outlives an erasure of the member (see app.members.erasure).
    emit(session, "member.created", member.id, _created_data(member), member.created_at)
    await session.flush()
    await bonuses.after_enrolment(session, member)
    return member


def _created_data(member: Member) -> dict[str, str | None]:
    return {
        "member_id": str(member.id),
        "referred_by_id": str(member.referred_by_id) if member.referred_by_id else None,
    }


async def _flush_unique(session: AsyncSession) -> None:
    """Flush, turning a unique-constraint race with a concurrent enrolment into 409."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise MemberExists(
            "Another member has this external_id, card_number, email or phone."
        ) from error


async def get_member(session: AsyncSession, member_id: UUID) -> Member:
    member = await repository.get(session, member_id)
    if member is None:
        raise MemberNotFound(f"No member {member_id}.")
    return member


async def find_member(
    session: AsyncSession, member_id: UUID | None = None, card_number: str | None = None
) -> Member:
    """A member by id or by card number, as tills identify them.

    A duplicate record merged into another leads to that one (along a chain of merges):
    whatever a till writes for it goes to the member it was merged into.
    """
    if member_id is not None:
        return await repository.current_member(session, await get_member(session, member_id))
    assert card_number is not None
    member = await repository.get_by(session, card_number=card_number)
    if member is None:
        raise MemberNotFound(f"No member with card number {card_number}.")
    return await repository.current_member(session, member)


async def lock_ledger(session: AsyncSession, member: Member) -> tuple[Member, ledger.MemberLedger]:
    """The member's ledger, locked for this transaction, and the member it belongs to.

    ``member`` was read before the lock was granted: when a merge of it finished while
    this waited, its points are with the record it was merged into, and so is the lock
    taken here (after the merge, which held both ledgers, is done).
    """
    while True:
        locked = await ledger.lock(session, member.id)
        await session.refresh(member, ["status", "merged_into_id", "referred_by_id", "tier_id"])
        if member.merged_into_id is None:
            refuse_if_erased(member)
            return member, locked
        member = await repository.current_member(session, member)


def refuse_if_erased(member: Member) -> None:
    """An erased member's record takes no writes: 409 ``member_erased``."""
    if member.status == MemberStatus.erased:
        raise MemberErased(
            f"Member {member.id} was erased; it takes no further writes.",
            member_id=str(member.id),
        )


async def update_member(session: AsyncSession, member_id: UUID, data: MemberUpdate) -> Member:
    """Change the fields given; emits ``member.updated`` naming the fields (not their values).

    Under the record's ledger lock and row lock, taken in the order an erasure takes them,
    so that a change never writes personal data back into a record erased meanwhile.
    """
    await get_member(session, member_id)
    await ledger.lock(session, member_id)
    member = await repository.lock(session, member_id)
    assert member is not None
    refuse_if_erased(member)
    changes = data.model_dump(exclude_unset=True)
    await _refuse_duplicates(
        session, member, {f: v for f, v in changes.items() if f in UNIQUE_FIELDS and v}
    )
    if "segments" in changes:
        changes["segments"] = sorted(set(changes["segments"] or []))
    was_complete = bonuses.profile_complete(member)
    changed = sorted(field for field, value in changes.items() if getattr(member, field) != value)
    for field, value in changes.items():
        setattr(member, field, value)
    await _flush_unique(session)
    if changed:
        emit(session, "member.updated", member.id, {"member_id": str(member.id), "fields": changed})
    await bonuses.after_profile_change(session, member, was_complete=was_complete)
    return member


async def list_members(
    session: AsyncSession,
    params: PageParams,
    card_number: str | None = None,
    external_id: str | None = None,
    email: str | None = None,
) -> tuple[Sequence[Member], str | None]:
    """Members newest first; a look-up by card number, external id or email that finds a
    merged record answers with the member it was merged into."""
    statement = repository.list_statement(card_number, external_id, email)
    members, next_cursor = await paginate(session, statement, Member, params)
    if card_number is None and external_id is None and email is None:
        return members, next_cursor
    found: dict[UUID, Member] = {}
    for member in members:
        current = await repository.current_member(session, member)
        found.setdefault(current.id, current)
    return list(found.values()), next_cursor


# Spaces and dashes people type into a card number as printed ("2712 3456 7890 1236").
_CARD_SEPARATORS = re.compile(r"[\s-]+")


def card_number_typed(text: str) -> str | None:
    """``text`` as a card number, without the separators a person may type; None when it
    cannot be one (card numbers are ASCII digits)."""
    digits = _CARD_SEPARATORS.sub("", text)
    return digits if digits and digits.isascii() and digits.isdigit() else None


def _as_uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _exact_look_ups(text: str) -> dict[str, object]:
    """What a typed text can be exactly: a member id, a card number, an e-mail address
    (stored in lower case) or an external id (as stored)."""
    look_ups: dict[str, object] = {"external_id": text}
    card_number = card_number_typed(text)
    if card_number is not None:
        look_ups["card_number"] = card_number
    if "@" in text:
        look_ups["email"] = text.lower()
    member_id = _as_uuid(text)
    if member_id is not None:
        look_ups["id"] = member_id
    return look_ups


def _spellings(text: str) -> list[str]:
    """The text in the cases a name is written in. SQLite's lower() (and PostgreSQL's under
    the C locale) folds ASCII letters only, so "özdemir" finds "Özdemir" only when asked
    for in its capitalised spelling too."""
    return sorted({text, text.lower(), text.upper(), text.capitalize(), text.title()})


async def search_members(
    session: AsyncSession, text: str, params: PageParams
) -> tuple[Sequence[Member], str | None]:
    """Members newest first whose card number, e-mail, external id or id is ``text`` (card
    numbers without separators, e-mail in any case), or whose name contains it, in any
    case. Every member, without a text. Merged and erased records are found as they are."""
    text = text.strip()
    if not text:
        return await list_members(session, params)
    statement = repository.search_statement(_exact_look_ups(text), _spellings(text))
    return await paginate(session, statement, Member, params)


async def identify(session: AsyncSession, text: str) -> Member | None:
    """The record a person means by a member id, card number, e-mail or external id: the
    record itself, also when it was merged or erased (whoever asks decides what that means)."""
    text = text.strip()
    if not text:
        return None
    look_ups = _exact_look_ups(text)
    member_id = look_ups.pop("id", None)
    if isinstance(member_id, UUID):
        found = await repository.get(session, member_id)
        if found is not None:
            return found
    for column in ("card_number", "email", "external_id"):
        value = look_ups.get(column)
        if isinstance(value, str):
            found = await repository.get_by(session, **{column: value})
            if found is not None:
                return found
    return None


async def duplicates_merged_into(session: AsyncSession, member_id: UUID) -> Sequence[Member]:
    """The records merged directly into the member, in the order they were merged."""
    return await repository.merged_into(session, member_id)
