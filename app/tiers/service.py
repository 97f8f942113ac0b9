"""Tiers: reached at once by qualifying points, lowered only at a review, or given by hand.

The rulebook (tested in tests/tiers):
- Qualifying points are purchase and receipt-claim points (campaign and tier extras
  included) minus returns, in the qualifying window: the local calendar year, or the last
  12 months of whole local days. Event bonuses, goodwill and gifts do not qualify.
- Upgrade at once, any number of tiers, when the points reach a threshold; the purchase
  that crosses it earns at the old tier, the next one at the new. The tier is then secured
  until the end of the next calendar year (or 12 months on): its review date.
- Review (job): after the review date plus ``tier_downgrade_grace_days``, the tier is kept
  when the period that closed at the review date, or the current window (purchases in the
  grace period count), reaches its threshold; else the member goes down one tier. Only
  downgrades and manual tiers ending happen there; nothing lowers a tier between reviews.
- A manual tier (VIP invitation) overrides the earned one, higher or lower, until its end;
  the earned tier keeps being reviewed underneath. After its end the earned tier applies
  at once; the job then records ``manual_ended``.
- Every change is a ``TierChange`` row (the member's tier history); ``tier.changed`` is
  emitted when the tier differs (a review that keeps it is history only).
- A tier members hold, earned or by hand, cannot be deleted (``tier_in_use``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import uuid7
from app.db.config_cache import forget_version
from app.db.locks import queue_for
from app.events.service import emit
from app.kit.pagination import PageParams, paginate
from app.members import repository as members_repository
from app.members.errors import MemberNotFound
from app.members.models import Member
from app.program.schemas import ProgramSettings
from app.program.service import get_program
from app.tiers import repository, rules
from app.tiers.errors import (
    ManualTierNotFound,
    ManualTierUntilPast,
    TierExists,
    TierInUse,
    TierNotFound,
    TierThresholdsOutOfOrder,
)
from app.tiers.models import Tier, TierChange
from app.tiers.schemas import ManualTierAssign, TierCreate, TierSource, TierUpdate


class ChangeReason(StrEnum):
    upgrade = "upgrade"
    downgrade = "downgrade"
    review_kept = "review_kept"
    manual = "manual"
    manual_ended = "manual_ended"


def manual_in_force(member: Member, now: datetime) -> bool:
    return (
        member.manual_tier_id is not None
        and member.manual_tier_until is not None
        and member.manual_tier_until > now
    )


async def earning_tier(session: AsyncSession, member: Member, now: datetime) -> Tier | None:
    """The tier whose multiplier a purchase earns with: a manual tier while it is in force,
    else the tier reached by qualifying points."""
    tier_id = member.manual_tier_id if manual_in_force(member, now) else member.tier_id
    if tier_id is None:
        return None
    return next((tier for tier in await repository.ladder(session) if tier.id == tier_id), None)


async def qualifying_points(
    session: AsyncSession, member: Member, program: ProgramSettings, now: datetime
) -> int:
    window = rules.qualifying_window(now, program)
    return await repository.qualifying_points(session, member.id, window.since, window.until)


def record_change(
    session: AsyncSession,
    member: Member,
    before: Tier | None,
    after: Tier | None,
    reason: ChangeReason,
    points: int,
    now: datetime,
    note: str | None = None,
) -> None:
    """Keep the change in the member's tier history and emit ``tier.changed`` when the tier
    differs (a review that keeps the tier is history only)."""
    from_id, to_id = (before.id if before else None), (after.id if after else None)
    session.add(
        TierChange(
            id=uuid7(),
            member_id=member.id,
            from_tier_id=from_id,
            to_tier_id=to_id,
            reason=reason,
            qualifying_points=points,
            note=note,
            created_at=now,
        )
    )
    if from_id == to_id:
        return
    emit(
        session,
        "tier.changed",
        member.id,
        {
            "from_tier": before.name if before else None,
            "to_tier": after.name if after else None,
            "from_tier_id": str(from_id) if from_id else None,
            "to_tier_id": str(to_id) if to_id else None,
            "reason": reason.value,
            "qualifying_points": points,
        },
        now,
    )


async def after_points_change(
    session: AsyncSession, member: Member, program: ProgramSettings, now: datetime
) -> None:
    """Upgrade at once when qualifying points reach a higher tier; never downgrade here.

    Called after the purchase's points are recorded, so the purchase that crosses a
    threshold earned at the tier the member had when it began; the next one earns at the
    new tier.
    """
    tiers = await repository.ladder(session)
    if not tiers:
        return
    points = await qualifying_points(session, member, program, now)
    target = rules.reached(tiers, points)
    if target is None or _holds_at_least(tiers, member, target):
        return  # ``member`` was read under the ledger lock: most sales stop here
    # About to upgrade: lock the row and look again, a review may have changed the tier.
    # NO KEY UPDATE: a sale waiting for this member's ledger already holds a key-share lock
    # on the row (its purchase refers to it); a plain FOR UPDATE would wait on it: deadlock.
    await session.refresh(member, with_for_update={"key_share": True})
    if _holds_at_least(tiers, member, target):
        return
    current = next((tier for tier in tiers if tier.id == member.tier_id), None)
    member.tier_id = target.id
    member.tier_secured_until = rules.secured_until(now, program)
    record_change(session, member, current, target, ChangeReason.upgrade, points, now)


def _holds_at_least(tiers: Sequence[Tier], member: Member, target: Tier) -> bool:
    current = next((tier for tier in tiers if tier.id == member.tier_id), None)
    return current is not None and target.rank <= current.rank


# --- The tier ladder (admin) -------------------------------------------------------------

# Changes to the ladder queue on one key, so that two admins cannot together break the
# order of thresholds that each checked alone.
_LADDER_LOCK = UUID("00000000-0000-7000-8000-00000000713e")


async def list_tiers(session: AsyncSession) -> Sequence[Tier]:
    return await repository.tiers_by_rank(session)


async def get_tier(session: AsyncSession, tier_id: UUID) -> Tier:
    tier = await repository.get(session, tier_id)
    if tier is None:
        raise TierNotFound(f"No tier {tier_id}.")
    return tier


async def _check_ladder(
    session: AsyncSession, tier_id: UUID | None, name: str, rank: int, threshold: int
) -> None:
    """Names and ranks are unique; a higher rank needs more qualifying points."""
    others = [tier for tier in await repository.tiers_by_rank(session) if tier.id != tier_id]
    taken = [
        field
        for field, clash in (
            ("name", any(tier.name == name for tier in others)),
            ("rank", any(tier.rank == rank for tier in others)),
        )
        if clash
    ]
    if taken:
        raise TierExists(f"Another tier has this {' and '.join(taken)}.", fields=taken)
    for tier in others:
        if (tier.rank < rank and tier.threshold >= threshold) or (
            tier.rank > rank and tier.threshold <= threshold
        ):
            raise TierThresholdsOutOfOrder(
                f"Thresholds must rise with the rank: {tier.name!r} (rank {tier.rank}) needs "
                f"{tier.threshold} points, this tier (rank {rank}) {threshold}."
            )


async def create_tier(session: AsyncSession, data: TierCreate) -> Tier:
    await queue_for(session, _LADDER_LOCK)
    await _check_ladder(session, None, data.name, data.rank, data.threshold)
    tier = Tier(id=uuid7(), **data.model_dump())
    session.add(tier)
    await session.flush()
    forget_version(session)
    return tier


async def update_tier(session: AsyncSession, tier_id: UUID, data: TierUpdate) -> Tier:
    """Changes apply from now on: members move up at their next purchase and down only at
    their review."""
    await queue_for(session, _LADDER_LOCK)
    tier = await get_tier(session, tier_id)
    changes = data.model_dump(exclude_unset=True)
    await _check_ladder(
        session,
        tier.id,
        changes.get("name", tier.name),
        changes.get("rank", tier.rank),
        changes.get("threshold", tier.threshold),
    )
    for field, value in changes.items():
        setattr(tier, field, value)
    await session.flush()
    forget_version(session)
    return tier


async def delete_tier(session: AsyncSession, tier_id: UUID) -> None:
    """Refused while a member holds the tier (earned or by hand): deleting it would drop
    them to no tier at once, outside any review. History rows keep the change, without
    the tier (the ``tier.changed`` events keep its name)."""
    await queue_for(session, _LADDER_LOCK)
    tier = await get_tier(session, tier_id)
    if await repository.held_by_members(session, tier.id):
        raise TierInUse(
            f"Members hold the tier {tier.name!r}; change it instead, or delete it once "
            "reviews have moved them."
        )
    await session.delete(tier)
    await session.flush()
    forget_version(session)


# --- A member's tier ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberTier:
    member: Member
    tier: Tier | None
    source: TierSource | None
    qualifying_points: int
    window: rules.Window
    next_tier: Tier | None
    points_to_next_tier: int | None
    expires_at: datetime | None
    manual_tier: Tier | None


async def _member(session: AsyncSession, member_id: UUID, *, lock: bool = False) -> Member:
    member = await (
        repository.lock_member(session, member_id)
        if lock
        else members_repository.get(session, member_id)
    )
    if member is None:
        raise MemberNotFound(f"No member {member_id}.")
    return member


async def member_tier(session: AsyncSession, member_id: UUID, now: datetime) -> MemberTier:
    member = await _member(session, member_id)
    program = await get_program(session)
    tiers = await repository.tiers_by_rank(session)
    by_id = {tier.id: tier for tier in tiers}
    window = rules.qualifying_window(now, program)
    points = await repository.qualifying_points(session, member.id, window.since, window.until)
    manual_id = member.manual_tier_id if manual_in_force(member, now) else None
    manual = by_id.get(manual_id) if manual_id else None
    earned = by_id.get(member.tier_id) if member.tier_id else None
    tier = manual or earned
    next_tier = rules.next_above(tiers, tier)
    return MemberTier(
        member=member,
        tier=tier,
        source=TierSource.manual if manual else TierSource.earned if earned else None,
        qualifying_points=points,
        window=window,
        next_tier=next_tier,
        points_to_next_tier=max(0, next_tier.threshold - points) if next_tier else None,
        expires_at=member.manual_tier_until
        if manual
        else (member.tier_secured_until if earned else None),
        manual_tier=manual,
    )


async def effective_tier_names(
    session: AsyncSession, members: Sequence[Member], now: datetime
) -> dict[UUID, str]:
    """The name of each member's tier in force (manual while it lasts, else earned); members
    without a tier are left out. One query, none when no member has a tier."""
    tier_ids = {
        member.id: member.manual_tier_id if manual_in_force(member, now) else member.tier_id
        for member in members
    }
    names = await repository.names(session, tier_ids.values())
    return {
        member_id: names[tier_id]
        for member_id, tier_id in tier_ids.items()
        if tier_id is not None and tier_id in names
    }


async def assign_manual_tier(
    session: AsyncSession, member_id: UUID, data: ManualTierAssign, now: datetime
) -> Member:
    """Give a member a tier by hand (VIP invitation) until ``data.until``; it overrides the
    earned tier, higher or lower, and replaces an earlier manual tier."""
    if data.until <= now:
        raise ManualTierUntilPast("A manual tier must end in the future.")
    member = await _member(session, member_id, lock=True)
    tier = await get_tier(session, data.tier_id)
    if manual_in_force(member, now) and (member.manual_tier_id, member.manual_tier_until) == (
        tier.id,
        data.until,
    ):
        return member  # the same assignment again: nothing changes
    before = await earning_tier(session, member, now)
    program = await get_program(session)
    member.manual_tier_id = tier.id
    member.manual_tier_until = data.until
    points = await qualifying_points(session, member, program, now)
    record_change(session, member, before, tier, ChangeReason.manual, points, now, data.reason)
    await session.flush()
    return member


async def _end_manual_tier(
    session: AsyncSession, member: Member, program: ProgramSettings, now: datetime
) -> None:
    manual = await repository.get(session, member.manual_tier_id)
    earned = await repository.get(session, member.tier_id)
    member.manual_tier_id = None
    member.manual_tier_until = None
    points = await qualifying_points(session, member, program, now)
    record_change(session, member, manual, earned, ChangeReason.manual_ended, points, now)


async def end_manual_tier(session: AsyncSession, member_id: UUID, now: datetime) -> Member:
    """End a manual tier early; the member falls back to the earned tier."""
    member = await _member(session, member_id, lock=True)
    if member.manual_tier_id is None:
        raise ManualTierNotFound(f"Member {member_id} has no manual tier.")
    await _end_manual_tier(session, member, await get_program(session), now)
    await session.flush()
    return member


async def history(
    session: AsyncSession, member_id: UUID, params: PageParams
) -> tuple[Sequence[TierChange], dict[UUID, str], str | None]:
    """One page of the member's tier changes, newest first, and the names of their tiers."""
    await _member(session, member_id)
    changes, next_cursor = await paginate(
        session, repository.history_statement(member_id), TierChange, params
    )
    names = await repository.names(
        session, [tier_id for c in changes for tier_id in (c.from_tier_id, c.to_tier_id)]
    )
    return changes, names, next_cursor


# --- The review (job) --------------------------------------------------------------------


async def review(
    session: AsyncSession, member: Member, program: ProgramSettings, now: datetime
) -> int:
    """The tier job's work for one member (locked by the caller); how many changes it made.

    - A manual tier whose end has passed is ended (``manual_ended``), once.
    - The earned tier is reviewed when its review date (``tier_secured_until``) plus the
      grace period has passed. It is kept when the qualifying points of the period that
      closed at the review date reach its threshold, or when those of the current window
      do (purchases in the grace period count: the member qualified again, secured as by
      an upgrade now). Otherwise the member goes down one tier, or to no tier from the
      lowest. Either way the review date moves on, so a second run finds nothing to do.
    """
    changes = 0
    if member.manual_tier_id is not None and (
        member.manual_tier_until is None or member.manual_tier_until <= now
    ):
        await _end_manual_tier(session, member, program, now)
        changes += 1
    review_at = member.tier_secured_until
    grace = timedelta(days=program.tier_downgrade_grace_days)
    if review_at is None or review_at + grace > now:
        return changes
    tiers = await repository.tiers_by_rank(session)
    current = next((tier for tier in tiers if tier.id == member.tier_id), None)
    if current is None:
        member.tier_secured_until = None
        return changes
    closed = rules.window_ending(review_at, program)
    points = await repository.qualifying_points(session, member.id, closed.since, closed.until)
    if points >= current.threshold:
        member.tier_secured_until = rules.next_review(review_at, program)
        record_change(session, member, current, current, ChangeReason.review_kept, points, now)
        return changes + 1
    points_now = await qualifying_points(session, member, program, now)
    if points_now >= current.threshold:
        member.tier_secured_until = rules.secured_until(now, program)
        record_change(session, member, current, current, ChangeReason.review_kept, points_now, now)
        return changes + 1
    lower = rules.one_below(tiers, current)
    member.tier_id = lower.id if lower else None
    member.tier_secured_until = rules.next_review(review_at, program) if lower else None
    record_change(session, member, current, lower, ChangeReason.downgrade, points, now)
    return changes + 1
