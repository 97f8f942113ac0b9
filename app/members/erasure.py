"""Erasing a member's personal data on request (GDPR art. 17) while the ledger stays whole.

``erase(member_id)`` erases the person behind the record: the member the record stands
for (a merged duplicate leads to the member it was merged into) and every duplicate
record merged into that member, since they hold the same person's old card numbers and
addresses. For each record:

- name, e-mail, phone, birthdate and external id become NULL; the card number and the referral
  code become random pseudonyms (``erased-`` and random hex): unique, as the columns
  demand, and derived from nothing, so no key and no table leads back to the old values.
- Segments, the earned and the manual tier are cleared: the erased record takes part in
  no campaign and no tier review.
- The status becomes ``erased``, with ``erased_at``; a merged record keeps its link.

The free texts of gifts the person sent or received (message, recipient hint) are cleared,
and so are the keys of the import rows the records came from (``app.imports``): an import
of an old file then sees the person as new.

Points: the membership ends. Nobody can identify the person behind the record any more,
so nobody can spend what it holds, and it must not stay on the books as a liability for
ever. Open gifts the member sent are taken back (``gift.cancelled``, or ``gift.expired``
when past their date); then one ``erasure`` ledger transaction (``points.forfeited``)
moves the available and pending points to the expired account, where they count as
breakage like expired points, and writes a debt left by a return off against the
adjustments account. Vouchers already issued stay valid: bearer codes, paid for, with no
personal data in them.

What stays, because the books and the figures need it and it names nobody: the member id,
the ledger (append-only and hash-chained, ids and numbers only), purchases, redemptions,
vouchers, referrals, and the events, which carry ids only. The free-text ``reason`` of an
adjustment is the merchant's own note and stays in the append-only ledger: keep personal
data out of it. Stored responses to idempotent requests that repeat the personal data (an
enrolment's answer, a gift's message) are replaced by a 409 ``member_erased`` problem: a
replay of such a key answers that, and never runs its request again.

Afterwards look-ups by the old card number, e-mail or external id find nothing; GET by id
shows the erased record; writes naming it are refused with 409 ``member_erased``, except
returns of its purchases (goods come back whoever bought them), which take the purchase's
points back from the expired account and never from the erased record. Erasing again
changes nothing and emits nothing; ``member.erased`` is emitted once, with ids only.

Locks: the person's ledger, then the member rows, the order merges and purchases take.
"""

import secrets
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.events.service import emit
from app.gifts import repository as gifts_repository
from app.gifts import service as gifts
from app.imports import repository as imports_repository
from app.kit import idempotency
from app.ledger import service as ledger_service
from app.members import repository
from app.members.errors import MemberErased
from app.members.models import Member, MemberStatus
from app.members.service import get_member

PSEUDONYM_PREFIX = "erased-"
REFERENCE = "erasure"
CARD_NUMBER_LENGTH = 19  # the columns' lengths: 48 and 36 random bits
REFERRAL_CODE_LENGTH = 16
_ATTEMPTS = 8


def _pseudonym(length: int) -> str:
    """``erased-`` and random hex, ``length`` characters in all: random, not derived."""
    return PSEUDONYM_PREFIX + secrets.token_hex(length)[: length - len(PSEUDONYM_PREFIX)]


async def _unused_pseudonym(session: AsyncSession, field: str, length: int) -> str:
    for _ in range(_ATTEMPTS):
        candidate = _pseudonym(length)
        if not await repository.exists(session, **{field: candidate}):
            return candidate
    raise RuntimeError(f"could not generate an unused {field} pseudonym")


async def _erase_record(session: AsyncSession, member: Member, now: datetime) -> None:
    member.external_id = None
    member.email = None
    member.phone = None
    member.name = None
    member.birthdate = None
    member.card_number = await _unused_pseudonym(session, "card_number", CARD_NUMBER_LENGTH)
    member.referral_code = await _unused_pseudonym(session, "referral_code", REFERRAL_CODE_LENGTH)
    member.segments = []
    member.tier_id = None
    member.tier_secured_until = None
    member.manual_tier_id = None
    member.manual_tier_until = None
    member.status = MemberStatus.erased
    member.erased_at = now


async def erase(session: AsyncSession, member_id: UUID, now: datetime | None = None) -> Member:
    """Erase the person behind ``member_id`` (see the module's description); return the
    record named, as it is now. 404 ``member_not_found`` for an unknown id."""
    now = now or utcnow()
    named = await get_member(session, member_id)
    person = await repository.current_member(session, named)
    while True:
        ledger = await ledger_service.lock(session, person.id)
        locked = await repository.lock(session, person.id)
        assert locked is not None
        person = locked
        if person.merged_into_id is None:
            break
        # Merged while we waited for the lock: the person is the member it became.
        person = await repository.current_member(session, person)
    if person.status != MemberStatus.erased:
        records = [person, *await repository.lock_merged_into(session, person.id)]
        personal = [
            value
            for record in records
            for value in (
                record.name,
                record.email,
                record.phone,
                record.external_id,
                record.card_number,
            )
            if value
        ]
        await gifts.take_back_open_gifts(session, ledger, now)
        await ledger_service.forfeit(
            session, ledger, now, reference=REFERENCE, related_id=person.id
        )
        for record in records:
            await _erase_record(session, record, now)
        # An imported record's row key is an HMAC of its external id or e-mail: it goes too.
        await imports_repository.forget(session, [record.id for record in records])
        await session.flush()
        gift_ids = await gifts_repository.clear_texts_of(session, [r.id for r in records])
        # Stored responses to idempotent requests that repeat the data (an enrolment's
        # answer, a gift's message) answer a replay with "erased" from now on.
        await idempotency.replace_responses_containing(
            session,
            [*personal, *(str(gift_id) for gift_id in gift_ids)],
            MemberErased(f"Member {person.id} was erased.", member_id=str(person.id)).to_response(),
        )
        emit(
            session,
            "member.erased",
            person.id,
            {
                "member_id": str(person.id),
                "erased_member_ids": [str(record.id) for record in records],
            },
            now,
        )
        await session.flush()
    await session.refresh(named)
    return named
