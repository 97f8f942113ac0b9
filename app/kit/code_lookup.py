"""Brute-force protection for bearer codes: failed look-ups are limited per API key.

Vouchers, gifts and every other bearer code share one budget per key, so guessing is not
made cheaper by spreading it over several kinds of code.
"""

import math
from collections.abc import Iterator
from contextlib import contextmanager

from app.api_keys.models import ApiKey
from app.kit.auth import RateLimited
from app.kit.errors import StammkundeError
from app.kit.runtime import Runtime


def _guard(runtime: Runtime, api_key: ApiKey, take: bool) -> None:
    """Refuse with 429 once an API key has used up its failed look-ups."""
    per_minute = runtime.settings.code_lookup_failures_per_minute
    if per_minute == 0:
        return
    limiter = runtime.rate_limiter
    rate, burst = per_minute / 60, float(per_minute)
    bucket = ("code-lookup-failures", api_key.key_id)
    wait = (limiter.acquire if take else limiter.wait_time)(bucket, rate, burst)
    if wait is not None:
        raise RateLimited(
            f"Too many unknown or mistyped codes; at most {per_minute} a minute.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


@contextmanager
def limited_lookup(runtime: Runtime, api_key: ApiKey) -> Iterator[None]:
    """Refuse a key that used up its failures; count a mistyped or unknown code as one."""
    _guard(runtime, api_key, take=False)
    try:
        yield
    except StammkundeError:
        _guard(runtime, api_key, take=True)
        raise
