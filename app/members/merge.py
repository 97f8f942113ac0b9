"""Folding a duplicate customer record into another: one person, one customer file.

``merge(target, source)`` moves everything the source holds to the target and leaves the
source as a ``merged`` record whose look-ups lead to the target:

1. Step local to the source: due lots expire, then one ``merge_out`` transaction moves its
   available (also a negative one, a debt from a return) and pending points to the gift
   escrow account and empties its lots.
2. Step local to the target: one ``merge_in`` transaction takes them out of escrow again
   and recreates each lot with its expiry; a pending lot stays pending until its date.
3. References move: vouchers, purchases (with the lot that now holds their points, so a
   later return takes them from the target), open gifts the source sent, payments with
   points, bonus grants, referrals, and members the source recommended.

Each ledger step touches one member's ledger only (see "Scale-out" in the design), but the
whole merge is one database transaction, the request's: it happens completely or not at
all, and the escrow account holds after it exactly what it held before. The source's
ledger entries, postings and lots stay with the source (each member's chain is
append-only); its ledger shows the ``merge_out``, the target's the ``merge_in``.

The target's tier is left as it is: ``merge_in`` points are not purchase points, so the
target's qualifying points do not change and there is nothing for
``tiers.after_points_change`` to do.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.events.service import emit
from app.ledger import service as ledger_service
from app.ledger.service import MovedOut
from app.members import repository
from app.members.errors import MemberErased, MemberMerged, MemberNotFound, MergeSameMember
from app.members.models import Member, MemberStatus
from app.referrals.models import ReferralStatus

MERGE_REFERENCE = "merge"


@dataclass(frozen=True, slots=True)
class Merged:
    target: Member
    source: Member
    moved: MovedOut


def _refuse(target_id: UUID, source_id: UUID, members: dict[UUID, Member | None]) -> None:
    for role, member_id in (("target", target_id), ("source", source_id)):
        if members[member_id] is None:
            raise MemberNotFound(f"No member {member_id} (the {role} of the merge).")
    for role, member_id in (("source", source_id), ("target", target_id)):
        member = members[member_id]
        assert member is not None
        if member.status == MemberStatus.merged:
            raise MemberMerged(
                f"The {role} member {member_id} was already merged into {member.merged_into_id}.",
                member_id=str(member_id),
                merged_into_id=str(member.merged_into_id),
            )
        if member.status == MemberStatus.erased:
            raise MemberErased(
                f"The {role} member {member_id} was erased.", member_id=str(member_id)
            )


def check(target: Member, source: Member) -> None:
    """Raise what :func:`merge` refuses these two records with, as they are now: for a
    person to see before confirming a merge (``merge`` checks again under its locks)."""
    if source.id == target.id:
        raise MergeSameMember("A member cannot be merged into itself.")
    _refuse(target.id, source.id, {target.id: target, source.id: source})


async def merge(
    session: AsyncSession, target_id: UUID, source_id: UUID, now: datetime | None = None
) -> Merged:
    """Fold ``source_id`` into ``target_id``; see the module's description.

    Refused when both are one record (422 ``merge_same_member``), either is unknown (404
    ``member_not_found``), either was already merged (409 ``member_merged``) or erased (409
    ``member_erased``).
    """
    now = now or utcnow()
    if source_id == target_id:
        raise MergeSameMember("A member cannot be merged into itself.")
    # Refuse what is plainly refused before waiting for any lock.
    _refuse(
        target_id,
        source_id,
        {m: await repository.get(session, m) for m in (target_id, source_id)},
    )
    # Locks in the order the rest of the service takes them: a return locks its purchase
    # before the ledger; ledgers in id order (two merges of one pair never deadlock); the
    # member rows after the ledgers, as a purchase's tier upgrade does.
    await repository.lock_purchases(session, source_id)
    ledgers = {m: await ledger_service.lock(session, m) for m in sorted((source_id, target_id))}
    members = {m: await repository.lock(session, m) for m in sorted((source_id, target_id))}
    # Read again under the locks: a merge of either may have finished while we waited.
    _refuse(target_id, source_id, members)
    source, target = members[source_id], members[target_id]
    assert source is not None
    assert target is not None

    moved = await ledger_service.move_out_for_merge(
        session, ledgers[source_id], now, reference=MERGE_REFERENCE, related_id=target_id
    )
    moved_in = await ledger_service.move_in_for_merge(
        session, ledgers[target_id], moved, now, reference=MERGE_REFERENCE, related_id=source_id
    )
    await session.flush()  # the recreated lots exist before purchases point at them

    await repository.move_purchases(session, source_id, target_id, moved_in.lot_ids)
    await repository.move_vouchers(session, source_id, target_id)
    await repository.move_open_gifts(session, source_id, target_id)
    await repository.move_redemptions(session, source_id, target_id)
    await repository.move_bonus_grants(session, source_id, target_id)
    await _move_referrals(session, source, target)

    source.status = MemberStatus.merged
    source.merged_into_id = target_id
    source.merged_at = now
    emit(
        session,
        "member.merged",
        target_id,
        {
            "source_member_id": str(source_id),
            "points_moved": moved.available,
            "pending_moved": moved.pending,
        },
        now,
    )
    await session.flush()
    return Merged(target, source, moved)


async def _move_referrals(session: AsyncSession, source: Member, target: Member) -> None:
    """One person is recommended once and recommends as one.

    A referral between the two records ends (void). Referrals the source made are the
    target's. The referral that brought the source moves to the target unless the target
    was recommended too (then it ends: void). Nobody is their own referrer.
    """
    await repository.void_referrals_between(session, source.id, target.id)
    await repository.move_referrals_made(session, source.id, target.id)
    if target.referred_by_id == source.id:
        target.referred_by_id = None
    brought_source = await repository.referral_of(session, source.id)
    if brought_source is None or brought_source.referrer_id == target.id:
        return
    if target.referred_by_id is None and await repository.referral_of(session, target.id) is None:
        brought_source.referee_id = target.id
        target.referred_by_id = brought_source.referrer_id
    else:
        brought_source.status = ReferralStatus.void
