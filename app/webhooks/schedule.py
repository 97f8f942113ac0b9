"""When a failed delivery is tried again: exponential backoff with jitter, for about a day.

After the n-th failed attempt the next one follows 1, 2, 4, ... minutes later, at most 8
hours, each delay stretched or shrunk by up to 25 % at random so that many deliveries that
failed together do not come back together. Twelve attempts span about 24.5 hours; after the
twelfth failure the delivery is given up.
"""

from datetime import timedelta

MAX_ATTEMPTS = 12
FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=8)
JITTER = 0.25


def base_delay(failed_attempts: int) -> timedelta:
    """The delay after ``failed_attempts`` failures (1 or more), before jitter."""
    if failed_attempts < 1:
        raise ValueError("a retry follows a failed attempt")
    doubled: timedelta = FIRST_DELAY * 2 ** min(failed_attempts - 1, 30)
    return min(doubled, MAX_DELAY)


def retry_delay(failed_attempts: int, jitter: float) -> timedelta:
    """The delay with jitter; ``jitter`` in [0, 1), 0.5 gives the base delay exactly."""
    return base_delay(failed_attempts) * (1 - JITTER + 2 * JITTER * jitter)


def gives_up(failed_attempts: int) -> bool:
    return failed_attempts >= MAX_ATTEMPTS
