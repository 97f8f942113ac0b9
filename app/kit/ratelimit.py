"""Per-API-key token buckets, kept in process memory.

Each process enforces the limit on its own, so N workers allow up to N times the rate in
total; that is the price of needing no shared store, and still stops a runaway client.
"""

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[Hashable, _Bucket] = {}

    def acquire(
        self, client: Hashable, rate_per_second: float, burst: float | None = None
    ) -> float | None:
        """Take one token; return None when allowed, else the seconds until one is free.

        The bucket holds ``burst`` requests (default: one second's worth, at least one),
        refilled continuously. A rate of 0 means no limit.
        """
        return self._take(client, rate_per_second, burst, take=True)

    def wait_time(
        self, client: Hashable, rate_per_second: float, burst: float | None = None
    ) -> float | None:
        """Like ``acquire`` but takes nothing: None if a token is there, else the wait."""
        return self._take(client, rate_per_second, burst, take=False)

    def _take(
        self, client: Hashable, rate_per_second: float, burst: float | None, take: bool
    ) -> float | None:
        if rate_per_second <= 0:
            return None
        capacity = max(burst if burst is not None else rate_per_second, 1.0)
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = _Bucket(tokens=capacity, updated=now)
        else:
            elapsed = now - bucket.updated
            bucket.tokens = min(capacity, bucket.tokens + elapsed * rate_per_second)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            if take:
                bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / rate_per_second
