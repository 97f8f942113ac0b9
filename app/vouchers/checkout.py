"""A checkout with a voucher: validate, reserve, redeem, release and roll back.

Every change works on the voucher's row lock (``FOR UPDATE`` on PostgreSQL; SQLite's write
transactions are serialised by ``BEGIN IMMEDIATE``), so of many concurrent redeems exactly
one wins; the unique (voucher, order) redemption is the database's backstop. A reservation
past ``reserved_until`` simply no longer counts; the clean-up job only tidies the rows.
"""

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api_keys.models import ApiKey
from app.db.base import utcnow
from app.kit.errors import NotFound, StammkundeError
from app.kit.runtime import Runtime
from app.vouchers import history
from app.vouchers.discount import Order, Outcome, Reason, Terms, evaluate, usability
from app.vouchers.errors import (
    VoucherAlreadyRedeemed,
    VoucherCancelled,
    VoucherExpired,
    VoucherNotApplicable,
    VoucherReserved,
)
from app.vouchers.lookup import voucher_by_code
from app.vouchers.models import Voucher, VoucherRedemption, VoucherStatus

JOB_BATCH_SIZE = 500


class VoucherReservationNotFound(NotFound):
    code = "voucher_reservation_not_found"
    title = "Voucher reservation not found"


class VoucherRedemptionNotFound(NotFound):
    code = "voucher_redemption_not_found"
    title = "Voucher redemption not found"


class VoucherRedemptionRolledBack(StammkundeError):
    status = 409
    code = "voucher_redemption_rolled_back"
    title = "Voucher redemption already rolled back"


_REFUSALS: dict[Reason, type[StammkundeError]] = {
    Reason.voucher_expired: VoucherExpired,
    Reason.voucher_already_redeemed: VoucherAlreadyRedeemed,
    Reason.voucher_cancelled: VoucherCancelled,
    Reason.voucher_reserved: VoucherReserved,
}

_DETAILS = {
    Reason.voucher_expired: "This voucher has expired.",
    Reason.voucher_already_redeemed: "This voucher has already been redeemed.",
    Reason.voucher_cancelled: "This voucher has been cancelled.",
    Reason.voucher_reserved: "This voucher is reserved by another order.",
    Reason.voucher_gifted: "This voucher is in a gift that has not been claimed yet.",
    Reason.voucher_not_yet_valid: "This voucher is not valid yet.",
    Reason.channel_not_allowed: "This voucher is not valid in this sales channel.",
    Reason.below_min_order_total: "The order total is below this voucher's minimum.",
    Reason.no_applicable_items: "The order has no items this voucher applies to.",
    Reason.currency_mismatch: "This voucher is in another currency.",
}


def refusal(reason: Reason) -> StammkundeError:
    """The error a write answers with when the voucher cannot be used for ``reason``."""
    error = _REFUSALS.get(reason)
    if error is not None:
        return error(_DETAILS[reason])
    return VoucherNotApplicable(_DETAILS[reason], reason=reason.value)


def _clear_reservation(voucher: Voucher) -> None:
    voucher.reservation_id = None
    voucher.reserved_order_id = None
    voucher.reserved_until = None


async def validate(
    session: AsyncSession,
    runtime: Runtime,
    api_key: ApiKey,
    code: str,
    order: Order,
    order_id: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """What the voucher would take off ``order``, or why it would not; changes nothing."""
    voucher = await voucher_by_code(session, runtime, api_key, code)
    return evaluate(Terms.of(voucher), order, now or utcnow(), order_id)


async def reserve(
    session: AsyncSession,
    runtime: Runtime,
    api_key: ApiKey,
    code: str,
    order_id: str,
    ttl_seconds: int | None = None,
    now: datetime | None = None,
) -> Voucher:
    """Hold the voucher for ``order_id``; the same order reserving again extends its hold."""
    now = now or utcnow()
    settings = runtime.settings
    ttl = min(
        ttl_seconds or settings.voucher_reservation_default_seconds,
        settings.voucher_reservation_max_seconds,
    )
    voucher = await voucher_by_code(session, runtime, api_key, code, for_update=True)
    reason = usability(Terms.of(voucher), now, order_id)
    if reason is not None:
        raise refusal(reason)
    until = now + timedelta(seconds=ttl)
    live_own = (
        voucher.reservation_id is not None
        and voucher.reserved_order_id == order_id
        and voucher.reserved_until is not None
        and voucher.reserved_until > now
    )
    if live_own:
        voucher.reserved_until = until
        history.record(
            session,
            voucher,
            "reservation_extended",
            now,
            order_id,
            reservation_id=str(voucher.reservation_id),
            reserved_until=until.isoformat(),
        )
    else:
        voucher.reservation_id = uuid4()
        voucher.reserved_order_id = order_id
        voucher.reserved_until = until
        history.record(
            session,
            voucher,
            "reserved",
            now,
            order_id,
            reservation_id=str(voucher.reservation_id),
            reserved_until=until.isoformat(),
        )
    await session.flush()
    return voucher


async def redeem(
    session: AsyncSession,
    runtime: Runtime,
    api_key: ApiKey,
    code: str,
    order_id: str,
    order: Order,
    reservation_id: UUID | None = None,
    now: datetime | None = None,
) -> VoucherRedemption:
    """Use the voucher on ``order_id``, once: the discount is taken from ``order``."""
    now = now or utcnow()
    voucher = await voucher_by_code(session, runtime, api_key, code, for_update=True)
    terms = Terms.of(voucher)
    reason = usability(terms, now, order_id)
    if reason is not None:
        raise refusal(reason)
    if reservation_id is not None and (
        voucher.reservation_id != reservation_id or voucher.reserved_order_id != order_id
    ):
        raise VoucherReservationNotFound(
            "This voucher holds no reservation with this id for this order."
        )
    outcome = evaluate(terms, order, now, order_id)
    if outcome.reason is not None:
        raise refusal(outcome.reason)
    redemption = VoucherRedemption(
        voucher_id=voucher.id,
        order_id=order_id,
        total=order.total,
        currency=order.currency,
        discount=outcome.discount,
        created_at=now,
    )
    session.add(redemption)
    voucher.status = VoucherStatus.redeemed
    _clear_reservation(voucher)
    await session.flush()
    history.record(
        session,
        voucher,
        "redeemed",
        now,
        order_id,
        redemption_id=str(redemption.id),
        discount=outcome.discount,
        total=order.total,
        currency=order.currency,
    )
    await session.flush()
    return redemption


async def release(
    session: AsyncSession,
    runtime: Runtime,
    api_key: ApiKey,
    code: str,
    reservation_id: UUID,
    now: datetime | None = None,
) -> Voucher:
    """Give up a reservation (an abandoned checkout): the voucher is free again."""
    now = now or utcnow()
    voucher = await voucher_by_code(session, runtime, api_key, code, for_update=True)
    if voucher.reservation_id != reservation_id:
        raise VoucherReservationNotFound("This voucher holds no reservation with this id.")
    order_id = voucher.reserved_order_id
    _clear_reservation(voucher)
    history.record(session, voucher, "released", now, order_id, reservation_id=str(reservation_id))
    await session.flush()
    return voucher


async def rollback(
    session: AsyncSession,
    runtime: Runtime,
    api_key: ApiKey,
    code: str,
    redemption_id: UUID,
    now: datetime | None = None,
) -> Voucher:
    """Undo a redemption on refund: the voucher is active again, or expired past its date."""
    now = now or utcnow()
    voucher = await voucher_by_code(session, runtime, api_key, code, for_update=True)
    redemption = (
        await session.scalars(
            select(VoucherRedemption)
            .where(
                VoucherRedemption.id == redemption_id,
                VoucherRedemption.voucher_id == voucher.id,
            )
            .with_for_update()
        )
    ).one_or_none()
    if redemption is None:
        raise VoucherRedemptionNotFound("This voucher has no redemption with this id.")
    if redemption.rolled_back_at is not None:
        raise VoucherRedemptionRolledBack("This redemption has already been rolled back.")
    redemption.rolled_back_at = now
    history.record(
        session,
        voucher,
        "rolled_back",
        now,
        redemption.order_id,
        redemption_id=str(redemption.id),
    )
    if voucher.status == VoucherStatus.redeemed:
        if now >= voucher.expires_at:
            voucher.status = VoucherStatus.expired
            history.record(session, voucher, "expired", now)
        else:
            voucher.status = VoucherStatus.active
    await session.flush()
    return voucher


# --- the clean-up job ----------------------------------------------------------------------


async def _clean_batch(session: AsyncSession, now: datetime) -> int:
    """Expire active vouchers past their date and clear lapsed reservations; one batch."""
    due = (
        await session.scalars(
            select(Voucher)
            .where(
                (Voucher.reserved_until <= now)
                | ((Voucher.status == VoucherStatus.active) & (Voucher.expires_at <= now))
            )
            .order_by(Voucher.id)
            .limit(JOB_BATCH_SIZE)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for voucher in due:
        if voucher.reserved_until is not None and voucher.reserved_until <= now:
            order_id = voucher.reserved_order_id
            reservation_id = str(voucher.reservation_id)
            _clear_reservation(voucher)
            history.record(
                session,
                voucher,
                "reservation_expired",
                now,
                order_id,
                reservation_id=reservation_id,
            )
        if voucher.status == VoucherStatus.active and voucher.expires_at <= now:
            voucher.status = VoucherStatus.expired
            _clear_reservation(voucher)
            history.record(session, voucher, "expired", now)
    await session.flush()
    return len(due)


async def clean_up_vouchers(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime | None = None
) -> int:
    """Clear reservations past their time and expire vouchers past their date; return how
    many vouchers changed. Idempotent (a second run finds nothing); rows another runner or
    a checkout holds are skipped and are due again on the next run."""
    now = now or utcnow()
    done = 0
    while True:
        async with sessionmaker() as session, session.begin():
            changed = await _clean_batch(session, now)
        done += changed
        if changed < JOB_BATCH_SIZE:
            return done
