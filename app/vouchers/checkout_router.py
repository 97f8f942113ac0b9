from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from app.api_keys.models import ApiKey, Scope
from app.kit.auth import require_scope
from app.kit.errors import error_responses
from app.kit.idempotency import IDEMPOTENCY_ERRORS, IdempotencyKey
from app.kit.runtime import get_runtime
from app.kit.uow import Session, UnitOfWorkRoute
from app.vouchers import checkout
from app.vouchers.checkout_schemas import (
    VoucherCheckoutState,
    VoucherRedeem,
    VoucherRedemptionRead,
    VoucherRedemptionRollback,
    VoucherReservationCreate,
    VoucherReservationRead,
    VoucherReservationRelease,
    VoucherValidate,
    VoucherValidation,
)
from app.vouchers.errors import (
    VoucherAlreadyRedeemed,
    VoucherCancelled,
    VoucherCodeInvalid,
    VoucherExpired,
    VoucherNotApplicable,
    VoucherNotFound,
    VoucherReserved,
)
from app.vouchers.models import Voucher

router = APIRouter(prefix="/vouchers", tags=["voucher checkout"], route_class=UnitOfWorkRoute)

Till = Annotated[ApiKey, Depends(require_scope(Scope.pos, Scope.shop))]

LOOKUP_ERRORS = (VoucherCodeInvalid, VoucherNotFound)
USE_ERRORS = (
    VoucherAlreadyRedeemed,
    VoucherCancelled,
    VoucherExpired,
    VoucherReserved,
    VoucherNotApplicable,
)


def _state(voucher: Voucher) -> VoucherCheckoutState:
    return VoucherCheckoutState(
        status=voucher.status,
        expires_at=voucher.expires_at,
        reserved_until=voucher.reserved_until,
    )


@router.post(
    "/{code}/validate",
    summary="Validate a voucher for an order",
    description="What the voucher would take off this order, or the reason it would not "
    "(`valid: false` with a `reason`); changes nothing. Scopes `pos`, `shop`.",
    responses=error_responses(*LOOKUP_ERRORS),
)
async def validate_voucher(
    code: str, body: VoucherValidate, api_key: Till, request: Request, session: Session
) -> VoucherValidation:
    outcome = await checkout.validate(
        session, get_runtime(request), api_key, code, body.order(), body.order_id
    )
    return VoucherValidation(valid=outcome.valid, discount=outcome.discount, reason=outcome.reason)


@router.post(
    "/{code}/reservations",
    status_code=status.HTTP_201_CREATED,
    summary="Reserve a voucher for a checkout",
    description="Holds the voucher for one order until `expires_at`; the same order "
    "reserving again extends the hold, another order gets 409 `voucher_reserved`. A lapsed "
    "reservation frees the voucher by itself. Scopes `pos`, `shop`.",
    responses=error_responses(*LOOKUP_ERRORS, *USE_ERRORS, *IDEMPOTENCY_ERRORS),
)
async def reserve_voucher(
    code: str,
    body: VoucherReservationCreate,
    api_key: Till,
    _: IdempotencyKey,
    request: Request,
    session: Session,
) -> VoucherReservationRead:
    voucher = await checkout.reserve(
        session, get_runtime(request), api_key, code, body.order_id, body.ttl_seconds
    )
    assert voucher.reservation_id is not None
    assert voucher.reserved_until is not None
    return VoucherReservationRead(
        reservation_id=voucher.reservation_id,
        order_id=body.order_id,
        expires_at=voucher.reserved_until,
    )


@router.post(
    "/{code}/redeem",
    status_code=status.HTTP_201_CREATED,
    summary="Redeem a voucher on an order",
    description="Uses the voucher on the order, exactly once; returns the discount in minor "
    "units. A voucher limited to channels or categories, or a free product, needs `channel` "
    "and `items`. Scopes `pos`, `shop`.",
    responses=error_responses(
        *LOOKUP_ERRORS,
        *USE_ERRORS,
        checkout.VoucherReservationNotFound,
        *IDEMPOTENCY_ERRORS,
    ),
)
async def redeem_voucher(
    code: str,
    body: VoucherRedeem,
    api_key: Till,
    _: IdempotencyKey,
    request: Request,
    session: Session,
) -> VoucherRedemptionRead:
    redemption = await checkout.redeem(
        session,
        get_runtime(request),
        api_key,
        code,
        body.order_id,
        body.order(),
        body.reservation_id,
    )
    return VoucherRedemptionRead(
        redemption_id=redemption.id,
        order_id=redemption.order_id,
        discount=redemption.discount,
        total=redemption.total,
        currency=redemption.currency,
        created_at=redemption.created_at,
    )


@router.post(
    "/{code}/release",
    summary="Release a voucher reservation",
    description="Ends a checkout's reservation; the voucher is free again. Scopes `pos`, `shop`.",
    responses=error_responses(
        *LOOKUP_ERRORS, checkout.VoucherReservationNotFound, *IDEMPOTENCY_ERRORS
    ),
)
async def release_voucher(
    code: str,
    body: VoucherReservationRelease,
    api_key: Till,
    _: IdempotencyKey,
    request: Request,
    session: Session,
) -> VoucherCheckoutState:
    voucher = await checkout.release(
        session, get_runtime(request), api_key, code, body.reservation_id
    )
    return _state(voucher)


@router.post(
    "/{code}/rollback",
    summary="Roll back a voucher redemption",
    description="Undoes a redemption on refund: the voucher is active again, or expired "
    "when past its date. Scopes `pos`, `shop`.",
    responses=error_responses(
        *LOOKUP_ERRORS,
        checkout.VoucherRedemptionNotFound,
        checkout.VoucherRedemptionRolledBack,
        *IDEMPOTENCY_ERRORS,
    ),
)
async def rollback_voucher(
    code: str,
    body: VoucherRedemptionRollback,
    api_key: Till,
    _: IdempotencyKey,
    request: Request,
    session: Session,
) -> VoucherCheckoutState:
    voucher = await checkout.rollback(
        session, get_runtime(request), api_key, code, body.redemption_id
    )
    return _state(voucher)
