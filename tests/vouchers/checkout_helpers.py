"""Vouchers for checkout tests, written straight into the database (no issuing endpoint)."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import FastAPI
from sqlalchemy import func, select

from app.kit import codes
from app.vouchers.models import Voucher, VoucherHistory, VoucherRedemption


async def make_voucher(
    app: FastAPI,
    kind: str = "amount",
    value: int | None = 500,
    *,
    code: str | None = None,
    currency: str = "EUR",
    valid_from: datetime | None = None,
    expires_at: datetime | None = None,
    **fields: Any,
) -> str:
    """A new voucher (active, valid since yesterday for 30 days); return its printed code."""
    runtime = app.state.runtime
    code = code or codes.generate_code()
    canonical = codes.normalize_code(code)
    now = datetime.now(UTC)
    voucher = Voucher(
        code_hash=codes.hash_code(runtime.secret_key, canonical),
        code_last4=codes.last_four(canonical),
        kind=kind,
        value=value,
        currency=currency,
        valid_from=valid_from or now - timedelta(days=1),
        expires_at=expires_at or now + timedelta(days=30),
        channels=fields.pop("channels", []),
        categories=fields.pop("categories", []),
        **fields,
    )
    async with runtime.sessionmaker() as session:
        session.add(voucher)
        await session.commit()
    return code


async def stored_voucher(app: FastAPI, code: str) -> Voucher:
    runtime = app.state.runtime
    code_hash = codes.hash_code(runtime.secret_key, codes.normalize_code(code))
    async with runtime.sessionmaker() as session:
        voucher: Voucher = (
            await session.scalars(select(Voucher).where(Voucher.code_hash == code_hash))
        ).one()
        return voucher


async def voucher_history(app: FastAPI, code: str) -> list[str]:
    """The actions in the voucher's history, oldest first."""
    voucher = await stored_voucher(app, code)
    async with app.state.runtime.sessionmaker() as session:
        actions = await session.scalars(
            select(VoucherHistory.action)
            .where(VoucherHistory.voucher_id == voucher.id)
            .order_by(VoucherHistory.created_at, VoucherHistory.id)
        )
        return list(actions)


async def redemptions(app: FastAPI, code: str) -> list[VoucherRedemption]:
    voucher_id: UUID = (await stored_voucher(app, code)).id
    async with app.state.runtime.sessionmaker() as session:
        return list(
            await session.scalars(
                select(VoucherRedemption)
                .where(VoucherRedemption.voucher_id == voucher_id)
                .order_by(VoucherRedemption.created_at)
            )
        )


async def count_history(app: FastAPI) -> int:
    async with app.state.runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(VoucherHistory)) or 0)
