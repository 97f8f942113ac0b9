"""Finding a voucher by the code someone typed, with brute-force protection per API key."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.models import ApiKey
from app.kit import codes
from app.kit.code_lookup import limited_lookup
from app.kit.runtime import Runtime
from app.vouchers.errors import VoucherCodeInvalid, VoucherNotFound
from app.vouchers.models import Voucher

VOUCHER_CODE_PREFIX = ""  # voucher codes carry no prefix; gift codes and receipts do


async def voucher_by_code(
    session: AsyncSession,
    runtime: Runtime,
    api_key: ApiKey,
    raw_code: str,
    *,
    for_update: bool = False,
) -> Voucher:
    """The voucher with this code: 422 when mistyped, 404 when unknown, 429 when guessing."""
    with limited_lookup(runtime, api_key):
        canonical = codes.normalize_code(raw_code, VOUCHER_CODE_PREFIX, VoucherCodeInvalid)
        statement = select(Voucher).where(
            Voucher.code_hash == codes.hash_code(runtime.secret_key, canonical)
        )
        if for_update:
            statement = statement.with_for_update()
        voucher = (await session.scalars(statement)).one_or_none()
        if voucher is None:
            raise VoucherNotFound("No voucher has this code.")
    return voucher
