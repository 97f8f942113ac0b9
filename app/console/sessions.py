"""Console logins: a random token in an HttpOnly cookie, its HMAC in ``console_session``.

CSRF tokens are derived from the session token (HMAC under the server secret), so a page
can carry one without anything more being stored; before login, the login form's token is
derived the same way from a random nonce in a short-lived cookie of its own.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.models import ApiKey, Scope
from app.console.models import ConsoleSession
from app.db.base import utcnow

SESSION_COOKIE = "stammkunde_console"
LOGIN_COOKIE = "stammkunde_console_login"
TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """Who is logged in: the admin key they logged in with, and their session token."""

    api_key: ApiKey
    token: str
    # Kept apart from the row: an error page is drawn after the rollback expired it.
    key_name: str


def _digest(secret_key: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_token(secret_key: bytes, session_token: str) -> str:
    return _digest(secret_key, "console-csrf", session_token)


def login_csrf_token(secret_key: bytes, nonce: str) -> str:
    return _digest(secret_key, "console-login", nonce)


def tokens_match(expected: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(expected, presented)


def new_nonce() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


async def start(
    session: AsyncSession, secret_key: bytes, api_key: ApiKey, lifetime: timedelta
) -> str:
    """A new session for an admin key; returns the token for the cookie."""
    token = new_nonce()
    now = utcnow()
    session.add(
        ConsoleSession(
            token_hash=_digest(secret_key, "console-session", token),
            api_key_id=api_key.id,
            expires_at=now + lifetime,
        )
    )
    # Expired sessions are cleared as new ones start: there are few, and no job is needed.
    await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
    await session.flush()
    return token


async def resume(
    session: AsyncSession, secret_key: bytes, token: str, now: datetime | None = None
) -> ConsoleUser | None:
    """The user of an unexpired session whose key is still an active admin key, or None."""
    row = await session.execute(
        select(ApiKey)
        .join(ConsoleSession, ConsoleSession.api_key_id == ApiKey.id)
        .where(
            ConsoleSession.token_hash == _digest(secret_key, "console-session", token),
            ConsoleSession.expires_at > (now or utcnow()),
        )
    )
    api_key = row.scalar_one_or_none()
    if api_key is None or api_key.revoked_at is not None or Scope.admin not in api_key.scopes:
        return None
    return ConsoleUser(api_key=api_key, token=token, key_name=api_key.name)


async def end(session: AsyncSession, secret_key: bytes, token: str) -> None:
    await session.execute(
        delete(ConsoleSession).where(
            ConsoleSession.token_hash == _digest(secret_key, "console-session", token)
        )
    )
