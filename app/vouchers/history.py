"""A voucher's history and its events: every state change is recorded with both."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.events.service import emit
from app.vouchers.models import Voucher, VoucherHistory


def record(
    session: AsyncSession,
    voucher: Voucher,
    action: str,
    now: datetime,
    order_id: str | None = None,
    **data: Any,
) -> None:
    """Keep ``action`` (issued, reserved, released, redeemed, rolled_back, expired, ...)
    in the voucher's history and emit ``voucher.<action>``. The code itself never appears:
    only its last four symbols."""
    session.add(
        VoucherHistory(
            voucher_id=voucher.id, action=action, order_id=order_id, data=data, created_at=now
        )
    )
    emit(
        session,
        f"voucher.{action}",
        voucher.member_id,
        {
            "voucher_id": str(voucher.id),
            "code_last4": voucher.code_last4,
            "order_id": order_id,
            **data,
        },
        now,
    )
