from collections.abc import Mapping, Sequence
from uuid import UUID

from sqlalchemy import Select, and_, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.bonuses.models import BonusGrant
from app.earning.models import Purchase
from app.gifts.models import Gift, GiftStatus
from app.members.models import Member
from app.referrals.models import Referral, ReferralStatus
from app.spending.models import Redemption
from app.vouchers.models import Voucher


async def get(session: AsyncSession, member_id: UUID) -> Member | None:
    return await session.get(Member, member_id)


async def current_member(session: AsyncSession, member: Member) -> Member:
    """The member a record stands for: itself, or (along a chain of merges) the record it
    was merged into."""
    seen = {member.id}
    while member.merged_into_id is not None:
        if member.merged_into_id in seen:
            raise RuntimeError(f"member {member.id} is merged in a circle")
        seen.add(member.merged_into_id)
        target = await get(session, member.merged_into_id)
        if target is None:
            raise RuntimeError(f"member {member.id} is merged into a missing member")
        member = target
    return member


async def get_by(session: AsyncSession, **unique_field: str) -> Member | None:
    """A member by one unique field: card_number, external_id, email or referral_code."""
    [(field, value)] = unique_field.items()
    result = await session.scalars(select(Member).where(getattr(Member, field) == value))
    return result.one_or_none()


def list_statement(
    card_number: str | None = None, external_id: str | None = None, email: str | None = None
) -> Select[Member]:
    statement = select(Member)
    if card_number is not None:
        statement = statement.where(Member.card_number == card_number)
    if external_id is not None:
        statement = statement.where(Member.external_id == external_id)
    if email is not None:
        statement = statement.where(Member.email == email)
    return statement


def search_statement(exact: Mapping[str, object], name_texts: Sequence[str]) -> Select[Member]:
    """Members with one of the ``exact`` values (a column name each: id, card_number, email,
    external_id) or whose name contains one of ``name_texts``, ignoring case; LIKE's
    wildcards in the texts match themselves."""
    conditions = [getattr(Member, column) == value for column, value in exact.items()]
    conditions += [Member.name.icontains(text, autoescape=True) for text in name_texts]
    return select(Member).where(or_(*conditions))


async def merged_into(session: AsyncSession, member_id: UUID) -> Sequence[Member]:
    """The records merged directly into the member, in the order they were merged."""
    statement = (
        select(Member)
        .where(Member.merged_into_id == member_id)
        .order_by(Member.merged_at, Member.id)
    )
    return (await session.scalars(statement)).all()


async def taken_fields(session: AsyncSession, member: Member, fields: dict[str, str]) -> list[str]:
    """Which of the given unique fields another member already has."""
    taken = []
    for field, value in fields.items():
        other = await get_by(session, **{field: value})
        if other is not None and other.id != member.id:
            taken.append(field)
    return taken


async def exists(session: AsyncSession, **unique_field: str) -> bool:
    return await get_by(session, **unique_field) is not None


# --- Merging a duplicate record into another ----------------------------------------------

_LOT_BATCH = 500


async def lock(session: AsyncSession, member_id: UUID) -> Member | None:
    """The member as stored now, locked for this transaction.

    ``FOR NO KEY UPDATE`` on PostgreSQL: a sale being recorded for the member holds a key
    share on the row (its purchase refers to it) while it waits for the member's ledger,
    and must not be waited for by whoever holds that ledger.
    """
    statement = (
        select(Member)
        .where(Member.id == member_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def lock_purchases(session: AsyncSession, member_id: UUID) -> None:
    """Lock the member's purchases, as a return does before it waits for the ledger."""
    await session.execute(
        select(Purchase.id).where(Purchase.member_id == member_id).with_for_update(key_share=True)
    )


async def move_purchases(
    session: AsyncSession, source_id: UUID, target_id: UUID, lot_ids: dict[UUID, UUID]
) -> None:
    """The source's purchases become the target's, each pointing at the lot that now holds
    its points (so that a return takes them from there)."""
    moved = list(lot_ids.items())
    for start in range(0, len(moved), _LOT_BATCH):
        batch = dict(moved[start : start + _LOT_BATCH])
        await session.execute(
            update(Purchase)
            .where(Purchase.member_id == source_id, Purchase.lot_id.in_(list(batch)))
            .values(lot_id=case(batch, value=Purchase.lot_id, else_=Purchase.lot_id))
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(Purchase)
        .where(Purchase.member_id == source_id)
        .values(member_id=target_id)
        .execution_options(synchronize_session=False)
    )


async def move_vouchers(session: AsyncSession, source_id: UUID, target_id: UUID) -> None:
    await session.execute(
        update(Voucher)
        .where(Voucher.member_id == source_id)
        .values(member_id=target_id)
        .execution_options(synchronize_session=False)
    )


async def move_open_gifts(session: AsyncSession, source_id: UUID, target_id: UUID) -> None:
    """Open gifts the source sent: a cancel or an expiry returns them to the target."""
    await session.execute(
        update(Gift)
        .where(Gift.sender_id == source_id, Gift.status == GiftStatus.open)
        .values(sender_id=target_id)
        .execution_options(synchronize_session=False)
    )


async def move_redemptions(session: AsyncSession, source_id: UUID, target_id: UUID) -> None:
    """The source's payments with points become the target's (a cancel gives the points to
    the target), except one for an order the target paid for too (one per member and order)."""
    target_has = aliased(Redemption)
    await session.execute(
        update(Redemption)
        .where(
            Redemption.member_id == source_id,
            or_(
                Redemption.order_id.is_(None),
                ~select(target_has.id)
                .where(
                    target_has.member_id == target_id,
                    target_has.order_id == Redemption.order_id,
                )
                .exists(),
            ),
        )
        .values(member_id=target_id)
        .execution_options(synchronize_session=False)
    )


async def move_bonus_grants(session: AsyncSession, source_id: UUID, target_id: UUID) -> None:
    """Bonuses the source got count as the target's (so the person does not get them twice),
    except those the target got too: they stay with the source (one per member and period)."""
    target_has = aliased(BonusGrant)
    await session.execute(
        update(BonusGrant)
        .where(
            BonusGrant.member_id == source_id,
            ~select(target_has.id)
            .where(
                target_has.member_id == target_id,
                target_has.kind == BonusGrant.kind,
                target_has.period == BonusGrant.period,
            )
            .exists(),
        )
        .values(member_id=target_id)
        .execution_options(synchronize_session=False)
    )


async def void_referrals_between(session: AsyncSession, one_id: UUID, other_id: UUID) -> None:
    """A referral between two records of one person ends."""
    await session.execute(
        update(Referral)
        .where(
            or_(
                and_(Referral.referee_id == one_id, Referral.referrer_id == other_id),
                and_(Referral.referee_id == other_id, Referral.referrer_id == one_id),
            )
        )
        .values(status=ReferralStatus.void)
        .execution_options(synchronize_session=False)
    )


async def move_referrals_made(session: AsyncSession, source_id: UUID, target_id: UUID) -> None:
    """Members the source recommended count as recommended by the target."""
    await session.execute(
        update(Referral)
        .where(Referral.referrer_id == source_id, Referral.referee_id != target_id)
        .values(referrer_id=target_id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Member)
        .where(Member.referred_by_id == source_id, Member.id != target_id)
        .values(referred_by_id=target_id)
        .execution_options(synchronize_session=False)
    )


async def referral_of(session: AsyncSession, referee_id: UUID) -> Referral | None:
    """The referral that brought the member, as stored now."""
    statement = (
        select(Referral)
        .where(Referral.referee_id == referee_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


# --- Erasing personal data ----------------------------------------------------------------


async def lock_merged_into(session: AsyncSession, member_id: UUID) -> list[Member]:
    """Every record merged into the member, directly or along a chain of merges, locked."""
    found: list[Member] = []
    frontier = [member_id]
    while frontier:
        statement = (
            select(Member)
            .where(Member.merged_into_id.in_(frontier))
            .order_by(Member.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        batch = list((await session.scalars(statement)).all())
        found += batch
        frontier = [member.id for member in batch]
    return found
