"""A member's timeline: the ledger's entries and the record's own milestones, newest first.

The ledger holds every change of points, with its reason. What happens to the record
itself (enrolment, a duplicate merged in, being merged, the erasure) is read from the
member rows, where it is kept for good: the event log is pruned after its retention
period, and a merge or an erasure of a record without points writes no ledger entry.
Both are ordered on ``(time, id)`` like every cursor-paginated list, so one cursor pages
through the two together.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.console.forms import Message
from app.console.i18n import N_
from app.kit.pagination import PageParams, decode_cursor, encode_cursor
from app.ledger import service as ledger
from app.ledger.models import LedgerTransaction, TransactionType
from app.members import service as members
from app.members.models import Member

PAGE_SIZE = 25

TYPE_TITLES: dict[str, str] = {
    TransactionType.purchase: N_("Purchase"),
    TransactionType.purchase_return: N_("Return"),
    TransactionType.receipt_claim: N_("Receipt claimed"),
    TransactionType.pending_release: N_("Pending points became available"),
    TransactionType.redemption: N_("Paid with points"),
    TransactionType.redemption_cancel: N_("Payment with points cancelled"),
    TransactionType.voucher_purchase: N_("Reward bought with points"),
    TransactionType.adjustment: N_("Adjustment"),
    TransactionType.expiry: N_("Points expired"),
    TransactionType.signup_bonus: N_("Sign-up bonus"),
    TransactionType.birthday_bonus: N_("Birthday bonus"),
    TransactionType.profile_bonus: N_("Profile bonus"),
    TransactionType.referral_bonus: N_("Referral bonus"),
    TransactionType.gift_sent: N_("Gift made"),
    TransactionType.gift_received: N_("Gift received"),
    TransactionType.gift_returned: N_("Gift came back unclaimed"),
    TransactionType.merge_out: N_("Points moved to the member this record was merged into"),
    TransactionType.merge_in: N_("Points moved here from a merged duplicate"),
    TransactionType.erasure: N_("Points forfeited at the erasure"),
    TransactionType.import_: N_("Opening balance imported"),
}
# Types whose reference is the shop's order id (a pending release copies its purchase's).
ORDER_TYPES: frozenset[str] = frozenset(
    {
        TransactionType.purchase,
        TransactionType.purchase_return,
        TransactionType.receipt_claim,
        TransactionType.pending_release,
    }
)
REFERENCE_TYPES: frozenset[str] = frozenset(
    {TransactionType.redemption, TransactionType.redemption_cancel}
)
MERGE_TYPES: frozenset[str] = frozenset({TransactionType.merge_in, TransactionType.merge_out})

ENROLLED = N_("Enrolled")
DUPLICATE_MERGED_IN = N_("Duplicate merged into this member")
MERGED_AWAY = N_("Merged into another member")
ERASED = N_("Personal data erased")

# Milestones need an id for the (time, id) order; these are fixed per record.
_MILESTONE_NAMESPACE = uuid.UUID("3b8f0c4e-2a51-4f0e-9d57-6c1e2b7a9f30")


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    id: UUID
    title: str  # English; translated where shown
    points: int | None = None
    available_after: int | None = None
    reason: str | None = None
    detail: Message | None = None
    other_member: Member | None = None  # the other record of a merge

    @property
    def key(self) -> tuple[datetime, UUID]:
        return self.at, self.id


def _milestone_id(member: Member, kind: str) -> UUID:
    return uuid.uuid5(_MILESTONE_NAMESPACE, f"{kind}:{member.id}")


async def _milestones(session: AsyncSession, member: Member) -> list[TimelineEntry]:
    found = [TimelineEntry(member.created_at, member.id, ENROLLED)]
    for duplicate in await members.duplicates_merged_into(session, member.id):
        if duplicate.merged_at is not None:
            found.append(
                TimelineEntry(
                    duplicate.merged_at, duplicate.id, DUPLICATE_MERGED_IN, other_member=duplicate
                )
            )
    if member.merged_into_id is not None and member.merged_at is not None:
        target = await members.get_member(session, member.merged_into_id)
        found.append(
            TimelineEntry(
                member.merged_at, _milestone_id(member, "merged"), MERGED_AWAY, other_member=target
            )
        )
    if member.erased_at is not None:
        found.append(TimelineEntry(member.erased_at, _milestone_id(member, "erased"), ERASED))
    return found


def _detail(entry: LedgerTransaction) -> Message | None:
    if not entry.reference:
        return None
    if entry.type in ORDER_TYPES:
        return Message(N_("Order %(order)s"), {"order": entry.reference})
    if entry.type in REFERENCE_TYPES:
        return Message(N_("Reference %(reference)s"), {"reference": entry.reference})
    return None


async def _ledger_entry(session: AsyncSession, entry: LedgerTransaction) -> TimelineEntry:
    other = None
    if entry.type in MERGE_TYPES and entry.related_id is not None:
        other = await members.get_member(session, entry.related_id)
    return TimelineEntry(
        at=entry.created_at,
        id=entry.id,
        title=TYPE_TITLES.get(entry.type, entry.type),
        points=entry.points,
        available_after=entry.available_after,
        reason=entry.reason,
        detail=_detail(entry),
        other_member=other,
    )


async def timeline(
    session: AsyncSession, member: Member, cursor: str | None, limit: int = PAGE_SIZE
) -> tuple[list[TimelineEntry], str | None]:
    """One page of the member's timeline, newest first, and the cursor of the next."""
    rows, more_rows = await ledger.transactions(session, member.id, PageParams(limit, cursor))
    entries = [await _ledger_entry(session, row) for row in rows]
    milestones = await _milestones(session, member)
    if cursor is not None:
        # Everything on this page comes after the cursor, as the ledger's page does.
        before = decode_cursor(cursor)
        milestones = [milestone for milestone in milestones if milestone.key < before]
    merged = sorted(entries + milestones, key=lambda entry: entry.key, reverse=True)
    page = merged[:limit]
    if more_rows is None and len(merged) <= limit:
        return page, None
    last = page[-1]
    return page, encode_cursor(last.at, last.id)
