"""Finding a voucher by the code someone typed, with brute-force protection per API key."""

import math

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.models import ApiKey
from app.kit import codes
from app.kit.auth import RateLimited
from app.kit.errors import StammkundeError
from app.kit.runtime import Runtime
from app.vouchers.errors import VoucherCodeInvalid, VoucherNotFound
from app.vouchers.models import Voucher

VOUCHER_CODE_PREFIX = ""  # voucher codes carry no prefix; gift codes and receipts do


def _failure_bucket(api_key: ApiKey) -> tuple[str, str]:
    return ("code-lookup-failures", api_key.key_id)


def _guard(runtime: Runtime, api_key: ApiKey, take: bool) -> None:
    """Refuse with 429 once an API key has used up its failed look-ups."""
    per_minute = runtime.settings.code_lookup_failures_per_minute
    if per_minute == 0:
        return
    limiter = runtime.rate_limiter
    rate, burst = per_minute / 60, float(per_minute)
    wait = (limiter.acquire if take else limiter.wait_time)(_failure_bucket(api_key), rate, burst)
    if wait is not None:
        raise RateLimited(
            f"Too many unknown or mistyped codes; at most {per_minute} a minute.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


async def voucher_by_code(
    session: AsyncSession,
    runtime: Runtime,
    api_key: ApiKey,
    raw_code: str,
    *,
    for_update: bool = False,
) -> Voucher:
    """The voucher with this code: 422 when mistyped, 404 when unknown, 429 when guessing."""
    _guard(runtime, api_key, take=False)
    try:
        canonical = codes.normalize_code(raw_code, VOUCHER_CODE_PREFIX, VoucherCodeInvalid)
        statement = select(Voucher).where(
            Voucher.code_hash == codes.hash_code(runtime.secret_key, canonical)
        )
        if for_update:
            statement = statement.with_for_update()
        voucher = (await session.scalars(statement)).one_or_none()
        if voucher is None:
            raise VoucherNotFound("No voucher has this code.")
    except StammkundeError:
        _guard(runtime, api_key, take=True)
        raise
    return voucher
