"""API keys: how they look, how they are stored, and when they authenticate."""

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from app.api_keys import service
from app.api_keys.models import ApiKey, Scope

OTHER_SECRET = b"another-server-secret-that-is-long-enough-9876543210"
KEY_SHAPE = re.compile(r"^stk_(?P<key_id>[a-z2-7]+)_(?P<secret>[a-z2-7]+)$")
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


async def create(app: FastAPI, *scopes: Scope, name: str = "till") -> tuple[ApiKey, str]:
    runtime = app.state.runtime
    async with runtime.sessionmaker() as session:
        api_key, whole_key = await service.create_api_key(
            session, runtime.secret_key, name, list(scopes or (Scope.pos,))
        )
        await session.commit()
    return api_key, whole_key


async def authenticate(
    app: FastAPI, presented: str, *, secret: bytes | None = None, now: datetime | None = None
) -> ApiKey | None:
    runtime = app.state.runtime
    async with runtime.sessionmaker() as session:
        return await service.authenticate(session, secret or runtime.secret_key, presented, now=now)


async def stored(app: FastAPI, api_key: ApiKey) -> ApiKey:
    """The key as it is in the database now, read in a fresh session."""
    async with app.state.runtime.sessionmaker() as session:
        row = await session.scalar(select(ApiKey).where(ApiKey.id == api_key.id))
    assert row is not None
    return row


async def test_a_key_is_stk_key_id_secret_with_256_random_bits(app):
    api_key, whole_key = await create(app)

    match = KEY_SHAPE.match(whole_key)
    assert match is not None, whole_key
    assert match["key_id"] == api_key.key_id
    # Lower-case base32 carries 5 bits per character.
    assert len(match["secret"]) * 5 >= 256
    assert 8 <= len(api_key.key_id) <= 16


async def test_keys_are_random(app):
    keys = [(await create(app))[1] for _ in range(20)]

    assert len(set(keys)) == 20
    assert len({KEY_SHAPE.match(key)["key_id"] for key in keys}) == 20  # type: ignore[index]


async def test_only_an_hmac_of_the_secret_is_stored(app):
    _, whole_key = await create(app, Scope.pos, Scope.shop, name="Till 3")
    secret = KEY_SHAPE.match(whole_key)["secret"]  # type: ignore[index]

    async with app.state.runtime.sessionmaker() as session:
        rows = (await session.execute(text("SELECT * FROM api_key"))).mappings().all()

    assert len(rows) == 1
    row = rows[0]
    for column, value in row.items():
        assert secret not in str(value), column
        assert whole_key not in str(value), column
    expected = hmac.new(app.state.runtime.secret_key, secret.encode(), hashlib.sha256).hexdigest()
    assert row["secret_hash"] == expected
    assert re.fullmatch(r"[0-9a-f]{64}", row["secret_hash"])


async def test_scopes_are_stored_sorted_without_duplicates(app):
    api_key, _ = await create(app, Scope.shop, Scope.pos, Scope.shop)

    assert (await stored(app, api_key)).scopes == ["pos", "shop"]


async def test_the_right_key_authenticates(app):
    api_key, whole_key = await create(app)

    found = await authenticate(app, whole_key)

    assert found is not None
    assert found.id == api_key.id


async def test_a_wrong_secret_is_refused(app):
    api_key, whole_key = await create(app)
    _, other_key = await create(app)
    other_secret = KEY_SHAPE.match(other_key)["secret"]  # type: ignore[index]

    assert await authenticate(app, f"stk_{api_key.key_id}_{other_secret}") is None
    assert await authenticate(app, whole_key[:-1]) is None
    assert await authenticate(app, whole_key + "a") is None
    assert await authenticate(app, whole_key.upper()) is None


async def test_an_unknown_key_id_is_refused(app):
    _, whole_key = await create(app)
    secret = KEY_SHAPE.match(whole_key)["secret"]  # type: ignore[index]

    assert await authenticate(app, f"stk_unknownkeyid_{secret}") is None


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "stk",
        "stk_",
        "stk__",
        "stk_onlykeyid",
        "stk_onlykeyid_",
        "stk__secretwithoutkeyid",
        "xyz_{key_id}_{secret}",
        "STK_{key_id}_{secret}",
        "{key_id}_{secret}",
        "stk-{key_id}-{secret}",
        "Bearer stk_{key_id}_{secret}",
        "stk_{key_id}_{secret}" + "a" * 200,
    ],
)
async def test_a_malformed_key_is_refused(app, presented):
    api_key, whole_key = await create(app)
    secret = KEY_SHAPE.match(whole_key)["secret"]  # type: ignore[index]

    assert await authenticate(app, presented.format(key_id=api_key.key_id, secret=secret)) is None


async def test_a_revoked_key_is_refused(app):
    api_key, whole_key = await create(app)
    async with app.state.runtime.sessionmaker() as session:
        await service.revoke_api_key(session, str(api_key.id))
        await session.commit()

    assert await authenticate(app, whole_key) is None


async def test_revoking_does_not_touch_other_keys(app):
    revoked, revoked_key = await create(app)
    _, kept_key = await create(app)
    async with app.state.runtime.sessionmaker() as session:
        await service.revoke_api_key(session, revoked.key_id)
        await session.commit()

    assert await authenticate(app, revoked_key) is None
    assert await authenticate(app, kept_key) is not None


async def test_revoking_twice_keeps_the_first_revocation_time(app):
    api_key, _ = await create(app)
    async with app.state.runtime.sessionmaker() as session:
        await service.revoke_api_key(session, api_key.key_id)
        await session.commit()
    first = (await stored(app, api_key)).revoked_at
    async with app.state.runtime.sessionmaker() as session:
        await service.revoke_api_key(session, str(api_key.id))
        await session.commit()

    assert first is not None
    assert (await stored(app, api_key)).revoked_at == first


async def test_a_key_hashed_under_one_server_secret_fails_under_another(app):
    _, whole_key = await create(app)

    assert await authenticate(app, whole_key, secret=OTHER_SECRET) is None
    assert await authenticate(app, whole_key) is not None


async def test_a_failed_authentication_does_not_record_use(app):
    api_key, whole_key = await create(app)

    assert await authenticate(app, whole_key, secret=OTHER_SECRET, now=T0) is None
    assert (await stored(app, api_key)).last_used_at is None


async def test_last_used_at_is_written_on_first_use(app):
    api_key, whole_key = await create(app)
    assert (await stored(app, api_key)).last_used_at is None

    found = await authenticate(app, whole_key, now=T0)

    assert found is not None
    assert found.last_used_at == T0
    assert (await stored(app, api_key)).last_used_at == T0


async def test_last_used_at_is_not_rewritten_within_a_minute(app):
    api_key, whole_key = await create(app)
    await authenticate(app, whole_key, now=T0)

    for later in (timedelta(seconds=1), timedelta(seconds=30), timedelta(seconds=59)):
        found = await authenticate(app, whole_key, now=T0 + later)
        assert found is not None
        assert (await stored(app, api_key)).last_used_at == T0


async def test_last_used_at_is_rewritten_after_a_minute(app):
    api_key, whole_key = await create(app)
    await authenticate(app, whole_key, now=T0)

    found = await authenticate(app, whole_key, now=T0 + timedelta(seconds=61))

    assert found is not None
    assert found.last_used_at == T0 + timedelta(seconds=61)
    assert (await stored(app, api_key)).last_used_at == T0 + timedelta(seconds=61)


async def test_last_used_at_is_kept_in_utc_whatever_the_offset_given(app):
    api_key, whole_key = await create(app)
    berlin_summer = timezone(timedelta(hours=2))

    await authenticate(app, whole_key, now=T0.astimezone(berlin_summer))

    last_used_at = (await stored(app, api_key)).last_used_at
    assert last_used_at == T0
    assert last_used_at is not None
    assert last_used_at.utcoffset() == timedelta(0)
