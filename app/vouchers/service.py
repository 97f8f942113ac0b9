"""Issuing vouchers: one bought with points from the rewards catalogue, or campaign codes
in bulk; and the reads (a member's vouchers, one voucher by its code).

Codes are generated here and shown once; only their HMAC under the server secret and their
last four symbols are stored.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow, uuid7
from app.events.service import emit
from app.kit import codes
from app.kit.pagination import PageParams, paginate
from app.ledger import service as ledger_service
from app.ledger.models import AccountKind, TransactionType
from app.ledger.service import MemberLedger
from app.members.models import Member
from app.members.service import find_member, get_member, lock_ledger
from app.program import calendar
from app.program.schemas import ProgramSettings
from app.program.service import get_program
from app.rewards.models import Reward
from app.rewards.service import get_reward
from app.tiers.service import earning_tier
from app.vouchers import history
from app.vouchers.errors import RewardNotAvailable, RewardOutOfStock
from app.vouchers.lookup import VOUCHER_CODE_PREFIX
from app.vouchers.models import Voucher, VoucherHistory, VoucherStatus
from app.vouchers.schemas import VoucherBatchCreate, VoucherTerms

# How often a batch is generated anew when a code collides with a stored one (each code
# has 60 random bits: one retry is already beyond any realistic need).
BATCH_ATTEMPTS = 3
# Bulk inserts go to the tables directly: plain executemany, without the ORM's bookkeeping.
_VOUCHER_TABLE = Voucher.metadata.tables[Voucher.__tablename__]
_HISTORY_TABLE = VoucherHistory.metadata.tables[VoucherHistory.__tablename__]


@dataclass(frozen=True, slots=True)
class NewCode:
    code: str
    code_hash: str
    code_last4: str


def new_code(secret_key: bytes) -> NewCode:
    code = codes.generate_code(VOUCHER_CODE_PREFIX)
    canonical = codes.canonical_symbols(code)
    return NewCode(code, codes.hash_code(secret_key, canonical), codes.last_four(canonical))


def expires_at(now: datetime, valid_days: int, program: ProgramSettings) -> datetime:
    """The end of the programme's local day ``valid_days`` after today."""
    day = calendar.local_date(now, program.timezone) + timedelta(days=valid_days)
    return calendar.end_of_local_day(day, program.timezone)


def effective_status(voucher: Voucher, now: datetime) -> VoucherStatus:
    """An active voucher past its expiry is expired, whether or not a job has marked it."""
    if voucher.status == VoucherStatus.active and voucher.expires_at <= now:
        return VoucherStatus.expired
    return VoucherStatus(voucher.status)


def reward_terms(reward: Reward) -> VoucherTerms:
    return VoucherTerms.model_validate(
        {
            "kind": reward.voucher_kind,
            "value": reward.voucher_value,
            "sku": reward.voucher_sku,
            "min_order_total": reward.min_order_total,
            "max_discount": reward.max_discount,
            "valid_days": reward.valid_days,
            "channels": reward.channels,
            "categories": reward.categories,
        }
    )


def _term_columns(terms: VoucherTerms) -> dict[str, Any]:
    return terms.model_dump(mode="json", exclude={"valid_days"})


@dataclass(frozen=True, slots=True)
class Issued:
    voucher: Voucher
    code: str
    ledger: MemberLedger
    points: int


async def _check_available(
    session: AsyncSession, reward: Reward, member_id: UUID, now: datetime
) -> None:
    if not reward.active:
        raise RewardNotAvailable("This reward is withdrawn.")
    if reward.starts_at is not None and now < reward.starts_at:
        raise RewardNotAvailable(f"This reward is available from {reward.starts_at.isoformat()}.")
    if reward.ends_at is not None and now >= reward.ends_at:
        raise RewardNotAvailable(f"This reward was available until {reward.ends_at.isoformat()}.")
    if reward.tier_ids:
        member: Member = await get_member(session, member_id)
        tier = await earning_tier(session, member, now)
        if tier is None or str(tier.id) not in {str(tier_id) for tier_id in reward.tier_ids}:
            raise RewardNotAvailable("This reward is for members of other tiers.")


async def _take_from_stock(session: AsyncSession, reward: Reward) -> None:
    """One off the stock, atomically: never below zero, however many issue at once."""
    if reward.stock is None:
        return
    taken = await session.execute(
        update(Reward)
        .where(Reward.id == reward.id, Reward.stock > 0)
        .values(stock=Reward.stock - 1)
        .execution_options(synchronize_session=False)
    )
    if not getattr(taken, "rowcount", 0):
        raise RewardOutOfStock("This reward is out of stock.", reward_id=str(reward.id))


async def issue_from_reward(
    session: AsyncSession,
    secret_key: bytes,
    member_id: UUID,
    reward_id: UUID,
    now: datetime | None = None,
) -> Issued:
    """Sell the member a reward: debit its points first-expiring-first, issue the voucher."""
    now = now or utcnow()
    # The member's ledger first, then the reward: the same order on every path.
    member, ledger = await lock_ledger(session, await find_member(session, member_id))
    member_id = member.id  # a merged duplicate's id leads to the member it became
    reward = await get_reward(session, reward_id)
    await _check_available(session, reward, member_id, now)
    await _take_from_stock(session, reward)
    voucher_id = uuid7()
    transaction = await ledger_service.spend(
        session,
        ledger,
        TransactionType.voucher_purchase,
        reward.cost_points,
        destination=AccountKind.redeemed,
        now=now,
        reference=f"reward:{reward.id}",
        related_id=voucher_id,
    )
    program = await get_program(session)
    terms = reward_terms(reward)
    code = new_code(secret_key)
    voucher = Voucher(
        id=voucher_id,
        code_hash=code.code_hash,
        code_last4=code.code_last4,
        member_id=member_id,
        reward_id=reward.id,
        **_term_columns(terms),
        currency=program.currency,
        status=VoucherStatus.active,
        valid_from=now,
        expires_at=expires_at(now, terms.valid_days, program),
        transaction_id=transaction.id,
        created_at=now,
    )
    session.add(voucher)
    history.record(
        session, voucher, "issued", now, reward_id=str(reward.id), points=reward.cost_points
    )
    await session.flush()
    return Issued(voucher, code.code, ledger, reward.cost_points)


@dataclass(frozen=True, slots=True)
class Batch:
    batch_id: UUID
    terms: VoucherTerms
    currency: str
    valid_from: datetime
    expires_at: datetime
    codes: list[str]


def _generate(secret_key: bytes, count: int) -> list[NewCode]:
    """``count`` codes with distinct hashes (a repeat within the batch is drawn again)."""
    generated: dict[str, NewCode] = {}
    while len(generated) < count:
        for _ in range(count - len(generated)):
            canonical = codes.new_canonical()
            code_hash = codes.hash_code(secret_key, canonical)
            generated[code_hash] = NewCode(
                codes.format_code(canonical), code_hash, codes.last_four(canonical)
            )
    return list(generated.values())


async def issue_batch(
    session: AsyncSession, secret_key: bytes, data: VoucherBatchCreate, now: datetime | None = None
) -> Batch:
    """Campaign vouchers owned by nobody: ``count`` codes, inserted in one statement each for
    vouchers and their history, with one ``voucher.batch_issued`` event for the batch."""
    now = now or utcnow()
    if data.reward_id is not None:
        reward = await get_reward(session, data.reward_id)
        terms, reward_id = reward_terms(reward), reward.id
    else:
        assert data.template is not None
        terms, reward_id = data.template, None
    program = await get_program(session)
    batch_id = uuid7()
    ends = expires_at(now, terms.valid_days, program)
    columns = {
        **_term_columns(terms),
        "member_id": None,
        "reward_id": reward_id,
        "batch_id": batch_id,
        "currency": program.currency,
        "status": VoucherStatus.active.value,
        "valid_from": now,
        "expires_at": ends,
        "created_at": now,
    }
    for attempt in range(1, BATCH_ATTEMPTS + 1):
        generated = _generate(secret_key, data.count)
        ids = [uuid7() for _ in generated]
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(_VOUCHER_TABLE),
                    [
                        {
                            **columns,
                            "id": voucher_id,
                            "code_hash": c.code_hash,
                            "code_last4": c.code_last4,
                        }
                        for voucher_id, c in zip(ids, generated, strict=True)
                    ],
                )
        except IntegrityError:
            # A code equal to a stored one (2^-60 per pair): draw the whole batch again.
            if attempt == BATCH_ATTEMPTS:
                raise
            continue
        break
    history_data = {"batch_id": str(batch_id)}
    await session.execute(
        insert(_HISTORY_TABLE),
        [
            {
                "id": uuid7(),
                "voucher_id": voucher_id,
                "action": "issued",
                "order_id": None,
                "data": history_data,
                "created_at": now,
            }
            for voucher_id in ids
        ],
    )
    emit(
        session,
        "voucher.batch_issued",
        None,
        {
            "batch_id": str(batch_id),
            "count": data.count,
            "reward_id": str(reward_id) if reward_id else None,
            "kind": terms.kind.value,
            "value": terms.value,
            "expires_at": ends.isoformat(),
        },
        now,
    )
    await session.flush()
    return Batch(batch_id, terms, program.currency, now, ends, [c.code for c in generated])


async def list_member_vouchers(
    session: AsyncSession, member_id: UUID, params: PageParams
) -> tuple[Sequence[Voucher], str | None]:
    await get_member(session, member_id)
    statement = select(Voucher).where(Voucher.member_id == member_id)
    return await paginate(session, statement, Voucher, params)


async def list_history(
    session: AsyncSession, voucher: Voucher, params: PageParams
) -> tuple[Sequence[VoucherHistory], str | None]:
    statement = select(VoucherHistory).where(VoucherHistory.voucher_id == voucher.id)
    return await paginate(session, statement, VoucherHistory, params)
