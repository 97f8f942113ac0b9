"""API keys: `stk_<key id>_<secret>`, 256 random bits, stored only as an HMAC of the secret."""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.api_keys import repository
from app.api_keys.errors import ApiKeyNotFound
from app.api_keys.models import ApiKey, Scope
from app.db.base import utcnow
from app.kit.pagination import PageParams, paginate

KEY_PREFIX = "stk"


def _random_token(num_bytes: int) -> str:
    # Lower-case base32: no characters that URLs, shells or the key's own "_" separator mangle.
    return base64.b32encode(secrets.token_bytes(num_bytes)).decode().rstrip("=").lower()


def hash_secret(server_secret: bytes, secret: str) -> str:
    return hmac.new(server_secret, secret.encode(), hashlib.sha256).hexdigest()


def split_key(presented: str) -> tuple[str, str] | None:
    """The (key id, secret) of a key in the published shape, or None."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not key_id or not secret or len(presented) > 200:
        return None
    return key_id, secret


async def create_api_key(
    session: AsyncSession, server_secret: bytes, name: str, scopes: Sequence[Scope]
) -> tuple[ApiKey, str]:
    """Create a key; return it with the whole key string, which is never available again."""
    key_id = _random_token(10)[:12]
    secret = _random_token(32)
    api_key = ApiKey(
        name=name,
        key_id=key_id,
        secret_hash=hash_secret(server_secret, secret),
        scopes=sorted({Scope(scope).value for scope in scopes}),
    )
    session.add(api_key)
    await session.flush()
    return api_key, f"{KEY_PREFIX}_{key_id}_{secret}"


async def authenticate(
    session: AsyncSession, server_secret: bytes, presented: str, now: datetime | None = None
) -> ApiKey | None:
    """The active key matching the presented string, or None.

    The secret is compared in constant time. A miss on the key id also computes an HMAC, so
    that the response time does not tell whether a key id exists.
    """
    parts = split_key(presented)
    if parts is None:
        return None
    key_id, secret = parts
    api_key = await repository.get_by_key_id(session, key_id)
    expected = api_key.secret_hash if api_key is not None else "0" * 64
    matches = hmac.compare_digest(hash_secret(server_secret, secret), expected)
    if api_key is None or not matches or api_key.revoked_at is not None:
        return None
    now = now or utcnow()
    recently_used = (
        api_key.last_used_at is not None
        and api_key.last_used_at >= now - repository.LAST_USED_RESOLUTION
    )
    # Most requests come within the minute: they write nothing, not even a no-op UPDATE.
    if not recently_used and await repository.touch_last_used(session, api_key.id, now):
        set_committed_value(api_key, "last_used_at", now)  # written already
        # Committed on its own so that a request that later fails still counts as use.
        await session.commit()
    return api_key


async def list_api_keys(
    session: AsyncSession, params: PageParams
) -> tuple[Sequence[ApiKey], str | None]:
    return await paginate(session, repository.list_statement(), ApiKey, params)


async def revoke_api_key(session: AsyncSession, api_key_id: str) -> ApiKey:
    """Revoke by id or key id; revoking a revoked key changes nothing."""
    api_key = await find_api_key(session, api_key_id)
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        await session.flush()
    return api_key


async def find_api_key(session: AsyncSession, reference: str) -> ApiKey:
    """A key by its UUID or by its public key id."""
    try:
        api_key = await repository.get(session, UUID(reference))
    except ValueError:
        api_key = await repository.get_by_key_id(session, reference)
    if api_key is None:
        raise ApiKeyNotFound(f"No API key {reference!r}.")
    return api_key
