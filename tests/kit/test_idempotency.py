"""Exactly-once writes under retries: the ``Idempotency-Key`` header.

Mostly through POST /v1/api-keys, the smallest write. Its replays hold ``"key": null`` (the
secret is never stored), so byte-for-byte replay is shown on a test-only route as well. A key
is scoped per API key, a key in flight answers 409, and only answers the client should see
again are kept (not validation errors nor crashes).
"""

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys import repository as api_key_repository
from app.api_keys import service as api_key_service
from app.api_keys.models import ApiKey, Scope
from app.db.base import utcnow
from app.kit.errors import Conflict
from app.kit.idempotency import (
    COMPLETED,
    IN_PROGRESS,
    REPLAY_HEADER,
    IdempotencyKey,
    IdempotencyRecord,
    fingerprint,
    purge_expired,
)
from app.kit.uow import Session, UnitOfWorkRoute
from tests.conftest import BACKENDS, bearer, create_key
from tests.conftest import TestDatabase as Database  # not collected as a test class
from tests.kit.test_errors import assert_problem

PATH = "/v1/api-keys"
CREATE = {"name": "till 3", "scopes": ["pos"]}
TIMEOUT = 10.0


def headers(auth: dict[str, str], key: str) -> dict[str, str]:
    return {**auth, "Idempotency-Key": key}


def assert_replay_of(replay: httpx.Response, first: httpx.Response) -> None:
    """A replayed create: the first answer, without the secret that is never stored."""
    assert first.status_code == 201, first.text
    assert REPLAY_HEADER.lower() not in first.headers
    assert replay.status_code == 201, replay.text
    assert replay.headers[REPLAY_HEADER] == "true"
    assert replay.headers["content-type"] == first.headers["content-type"]
    assert replay.json() == {**first.json(), "key": None}
    assert first.json()["key"] not in replay.text


def create_fingerprint(body: dict[str, Any]) -> str:
    return fingerprint("POST", PATH, "", json.dumps(body).encode())


async def api_key_row_id(app: FastAPI, whole_key: str) -> UUID:
    parts = api_key_service.split_key(whole_key)
    assert parts is not None
    async with app.state.runtime.sessionmaker() as session:
        api_key = await api_key_repository.get_by_key_id(session, parts[0])
    assert api_key is not None
    return api_key.id


async def count_api_keys(app: FastAPI) -> int:
    async with app.state.runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(ApiKey)) or 0)


async def listed_names(client: httpx.AsyncClient, auth: dict[str, str]) -> list[str]:
    response = await client.get(PATH, headers=auth, params={"limit": 200})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def records(app: FastAPI) -> list[IdempotencyRecord]:
    async with app.state.runtime.sessionmaker() as session:
        return list((await session.scalars(select(IdempotencyRecord))).all())


async def insert_record(
    app: FastAPI,
    api_key_id: UUID,
    key: str,
    *,
    request_fingerprint: str,
    state: str = IN_PROGRESS,
    locked_until: datetime | None = None,
    expires_at: datetime | None = None,
    response_body: bytes | None = None,
) -> None:
    now = utcnow()
    record = IdempotencyRecord(
        api_key_id=api_key_id,
        key=key,
        fingerprint=request_fingerprint,
        state=state,
        locked_until=locked_until or now + timedelta(seconds=60),
        expires_at=expires_at or now + timedelta(hours=72),
    )
    if state == COMPLETED:
        record.response_status = 201
        record.response_media_type = "application/json"
        record.response_body = response_body
    async with app.state.runtime.sessionmaker() as session:
        session.add(record)
        await session.commit()


class Gate:
    """Holds requests inside ``create_api_key`` (after their claim was committed) until opened."""

    def __init__(self, create: Callable[..., Awaitable[Any]]) -> None:
        self._create = create
        self.calls = 0
        self.entered = asyncio.Event()
        self.opened = asyncio.Event()

    async def create_api_key(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self.entered.set()
        await self.opened.wait()
        return await self._create(*args, **kwargs)


class TestRoutes:
    """Test-only write routes in the unit of work, next to the real ones.

    Each creates an API key (the work), answers with a fresh nonce (so a re-run would differ
    from a replay), and then: succeeds, refuses (409 after the work), or crashes the first time.
    """

    __test__ = False

    def __init__(self, app: FastAPI) -> None:
        self.calls = 0
        router = APIRouter(prefix="/test", route_class=UnitOfWorkRoute)
        router.add_api_route("/orders", self.order, methods=["POST"], status_code=201)
        router.add_api_route("/refuse", self.refuse, methods=["POST"])
        router.add_api_route("/flaky", self.flaky, methods=["POST"], status_code=201)
        app.include_router(router)

    async def _work(self, session: AsyncSession) -> dict[str, Any]:
        self.calls += 1
        await api_key_service.create_api_key(session, b"secret", "order", [Scope.pos])
        return {"attempt": self.calls, "nonce": uuid.uuid4().hex}

    async def order(self, _: IdempotencyKey, session: Session) -> dict[str, Any]:
        return await self._work(session)

    async def refuse(self, _: IdempotencyKey, session: Session) -> dict[str, Any]:
        await self._work(session)
        raise Conflict("Refused after some work.")

    async def flaky(self, _: IdempotencyKey, session: Session) -> dict[str, Any]:
        answer = await self._work(session)
        if self.calls == 1:
            raise RuntimeError("lost the connection")
        return answer


@pytest.fixture
def test_routes(app: FastAPI) -> TestRoutes:
    return TestRoutes(app)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch, admin_key: str) -> Iterator[Gate]:
    """Installed after the admin key exists: ``create_key`` goes through it too."""
    held = Gate(api_key_service.create_api_key)
    monkeypatch.setattr(api_key_service, "create_api_key", held.create_api_key)
    yield held
    held.opened.set()


# --- the header -----------------------------------------------------------------------------


async def test_missing_header_is_refused(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post(PATH, json=CREATE, headers=admin)
    assert_problem(response, 400, "idempotency_key_missing")
    assert await listed_names(client, admin) == ["test admin"]


async def test_overlong_key_is_refused(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post(PATH, json=CREATE, headers=headers(admin, "k" * 256))
    assert_problem(response, 400, "idempotency_key_invalid")
    longest = await client.post(PATH, json=CREATE, headers=headers(admin, "k" * 255))
    assert longest.status_code == 201, longest.text


@pytest.mark.parametrize("key", ["kasse-\u00e4", "tab\tinside", "\u00a0nbsp"])
async def test_a_key_outside_visible_ascii_is_refused_as_documented(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], key: str
) -> None:
    """The document's pattern for the header is what the service checks."""
    response = await client.post(
        PATH, json=CREATE, headers={**admin, "Idempotency-Key": key.encode("latin-1")}
    )
    assert_problem(response, 400, "idempotency_key_invalid")
    assert await listed_names(client, admin) == ["test admin"]
    operation = app.openapi()["paths"][PATH]["post"]
    header = next(p for p in operation["parameters"] if p["in"] == "header")
    assert not re.fullmatch(header["schema"]["pattern"], key)
    assert re.fullmatch(header["schema"]["pattern"], "till 1, sale 7")


# --- replays --------------------------------------------------------------------------------


async def test_replay_returns_the_stored_response_byte_for_byte(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], test_routes: TestRoutes
) -> None:
    first = await client.post("/test/orders", json={"sku": 1}, headers=headers(admin, "o-1"))
    assert first.status_code == 201, first.text
    assert REPLAY_HEADER.lower() not in first.headers

    replay = await client.post("/test/orders", json={"sku": 1}, headers=headers(admin, "o-1"))
    assert replay.status_code == 201
    assert replay.content == first.content
    assert replay.headers["content-type"] == first.headers["content-type"]
    assert replay.headers[REPLAY_HEADER] == "true"
    assert test_routes.calls == 1
    assert await count_api_keys(app) == 2


async def test_api_key_replay_is_the_first_answer_without_the_secret(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await client.post(PATH, json=CREATE, headers=headers(admin, "order-1"))
    replay = await client.post(PATH, json=CREATE, headers=headers(admin, "order-1"))
    assert_replay_of(replay, first)
    again = await client.post(PATH, json=CREATE, headers=headers(admin, "order-1"))
    assert again.content == replay.content
    assert await listed_names(client, admin) == ["till 3", "test admin"]
    [record] = await records(app)
    assert record.response_body is not None
    assert first.json()["key"].encode() not in record.response_body


async def test_json_formatting_and_key_order_do_not_matter(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await client.post(
        PATH,
        content=b'{"name":"till 3","scopes":["pos"]}',
        headers={**headers(admin, "fmt"), "Content-Type": "application/json"},
    )
    assert first.status_code == 201, first.text
    replay = await client.post(
        PATH,
        content=b'{\n  "scopes" : [ "pos" ],\n  "name" : "till 3"\n}\n',
        headers={**headers(admin, "fmt"), "Content-Type": "application/json"},
    )
    assert_replay_of(replay, first)
    assert await listed_names(client, admin) == ["till 3", "test admin"]


async def test_same_key_with_a_different_body_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await client.post(PATH, json=CREATE, headers=headers(admin, "order-2"))
    assert first.status_code == 201, first.text
    other = await client.post(
        PATH, json={**CREATE, "name": "till 4"}, headers=headers(admin, "order-2")
    )
    assert_problem(other, 422, "idempotency_key_reused")
    assert REPLAY_HEADER.lower() not in other.headers
    assert await listed_names(client, admin) == ["till 3", "test admin"]
    # The refusal did not disturb the stored answer.
    replay = await client.post(PATH, json=CREATE, headers=headers(admin, "order-2"))
    assert_replay_of(replay, first)


async def test_keys_are_scoped_per_api_key(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    other_admin = bearer(await create_key(app, Scope.admin, name="second admin"))
    mine = await client.post(PATH, json=CREATE, headers=headers(admin, "shared"))
    theirs = await client.post(PATH, json=CREATE, headers=headers(other_admin, "shared"))
    assert mine.status_code == theirs.status_code == 201
    assert REPLAY_HEADER.lower() not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert mine.json()["key"] != theirs.json()["key"]
    assert await count_api_keys(app) == 4
    # Each key's replay is its own.
    again = await client.post(PATH, json=CREATE, headers=headers(other_admin, "shared"))
    assert_replay_of(again, theirs)


# --- keys in flight -------------------------------------------------------------------------


async def test_key_in_flight_is_refused_with_conflict(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], admin_key: str
) -> None:
    await insert_record(
        app,
        await api_key_row_id(app, admin_key),
        "busy",
        request_fingerprint=create_fingerprint(CREATE),
        locked_until=utcnow() + timedelta(seconds=30),
    )
    response = await client.post(PATH, json=CREATE, headers=headers(admin, "busy"))
    assert_problem(response, 409, "idempotency_in_progress")
    assert response.headers["retry-after"] == "1"
    assert await listed_names(client, admin) == ["test admin"]


async def test_key_in_flight_with_a_different_body_is_reused_not_in_progress(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], admin_key: str
) -> None:
    await insert_record(
        app,
        await api_key_row_id(app, admin_key),
        "busy",
        request_fingerprint=create_fingerprint({**CREATE, "name": "another till"}),
    )
    response = await client.post(PATH, json=CREATE, headers=headers(admin, "busy"))
    assert_problem(response, 422, "idempotency_key_reused")


async def test_abandoned_claim_is_taken_over(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], admin_key: str
) -> None:
    await insert_record(
        app,
        await api_key_row_id(app, admin_key),
        "crashed",
        request_fingerprint=create_fingerprint(CREATE),
        locked_until=utcnow() - timedelta(seconds=1),
    )
    response = await client.post(PATH, json=CREATE, headers=headers(admin, "crashed"))
    assert response.status_code == 201, response.text
    assert REPLAY_HEADER.lower() not in response.headers
    [record] = await records(app)
    assert record.state == COMPLETED
    replay = await client.post(PATH, json=CREATE, headers=headers(admin, "crashed"))
    assert_replay_of(replay, response)
    assert await listed_names(client, admin) == ["till 3", "test admin"]


async def test_request_arriving_while_the_first_is_in_flight_gets_conflict(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], gate: Gate
) -> None:
    first = asyncio.create_task(client.post(PATH, json=CREATE, headers=headers(admin, "fly")))
    await asyncio.wait_for(gate.entered.wait(), TIMEOUT)

    second = await asyncio.wait_for(
        client.post(PATH, json=CREATE, headers=headers(admin, "fly")), TIMEOUT
    )
    assert_problem(second, 409, "idempotency_in_progress")
    assert not first.done()

    gate.opened.set()
    done = await asyncio.wait_for(first, TIMEOUT)
    assert done.status_code == 201, done.text
    third = await client.post(PATH, json=CREATE, headers=headers(admin, "fly"))
    assert_replay_of(third, done)
    assert gate.calls == 1
    assert await count_api_keys(app) == 2


async def test_ten_concurrent_duplicates_create_one_key(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    responses = await asyncio.wait_for(
        asyncio.gather(
            *(client.post(PATH, json=CREATE, headers=headers(admin, "burst")) for _ in range(10))
        ),
        TIMEOUT,
    )
    created = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    # Those that came after the first had finished replay it; those during it get 409.
    [original] = [r for r in created if REPLAY_HEADER.lower() not in r.headers]
    for replay in created:
        if replay is not original:
            assert_replay_of(replay, original)
    for response in refused:
        assert_problem(response, 409, "idempotency_in_progress")
    assert await count_api_keys(app) == 2


async def test_ten_concurrent_duplicates_while_the_first_is_held(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], gate: Gate
) -> None:
    tasks = [
        asyncio.create_task(client.post(PATH, json=CREATE, headers=headers(admin, "held")))
        for _ in range(10)
    ]
    await asyncio.wait_for(gate.entered.wait(), TIMEOUT)
    pending = set(tasks)
    async with asyncio.timeout(TIMEOUT):
        while len(pending) > 1:
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    gate.opened.set()
    responses = await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "idempotency_in_progress")
    [created] = [r for r in responses if r.status_code == 201]
    assert REPLAY_HEADER.lower() not in created.headers
    assert gate.calls == 1
    replay = await client.post(PATH, json=CREATE, headers=headers(admin, "held"))
    assert_replay_of(replay, created)
    assert await count_api_keys(app) == 2


POSTGRESQL = [backend for backend in BACKENDS if backend == "postgresql"]


@pytest.fixture
async def postgres_connection(database: Database) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own, outside the app's pool, to hold locks with."""
    url = make_url(database.url)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        yield conn
    finally:
        await conn.close()


async def _inserts_waiting(conn: asyncpg.Connection) -> int:
    """Sessions waiting for a lock on the record table (pg_locks, not pg_stat_activity:
    that one is a snapshot for the whole transaction the polling connection is in)."""
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM pg_locks "
            "WHERE NOT granted AND relation = 'idempotency_record'::regclass"
        )
    )


@pytest.mark.parametrize("migrated_database", POSTGRESQL, indirect=True)
async def test_postgresql_duplicates_racing_on_the_claim_insert(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    postgres_connection: asyncpg.Connection,
    gate: Gate,
) -> None:
    """Two duplicates both find no record and both insert one; the unique constraint decides.

    A lock on the record table holds both inserts until both are waiting. The loser's insert
    fails on the unique constraint; it must then see the winner's claim and answer 409 at once,
    while the winner is still held (in ``create_api_key``, after its claim was committed).
    """
    await client.get(PATH, headers=admin)  # the key's last use is recorded before the race
    lock = postgres_connection.transaction()
    await lock.start()
    await postgres_connection.execute("LOCK TABLE idempotency_record IN SHARE MODE")
    try:
        tasks = [
            asyncio.create_task(client.post(PATH, json=CREATE, headers=headers(admin, "race")))
            for _ in range(2)
        ]
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while await _inserts_waiting(postgres_connection) < 2:
            # Polled: nothing announces that a session waits for a lock.
            assert asyncio.get_running_loop().time() < deadline, "the inserts never queued"
            await asyncio.sleep(0.01)
    finally:
        await lock.rollback()

    done, pending = await asyncio.wait(tasks, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    [loser] = done
    assert_problem(loser.result(), 409, "idempotency_in_progress")
    await asyncio.wait_for(gate.entered.wait(), TIMEOUT)
    assert gate.calls == 1

    gate.opened.set()
    [winner] = pending
    created = await asyncio.wait_for(winner, TIMEOUT)
    assert created.status_code == 201, created.text
    third = await client.post(PATH, json=CREATE, headers=headers(admin, "race"))
    assert_replay_of(third, created)
    assert await count_api_keys(app) == 2


# --- what is kept and what is not ----------------------------------------------------------


async def test_validation_error_does_not_keep_the_key(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    invalid = await client.post(
        PATH, json={"name": "till 3", "scopes": ["nope"]}, headers=headers(admin, "fix-me")
    )
    assert_problem(invalid, 422, "validation_error")
    assert await records(app) == []

    corrected = await client.post(PATH, json=CREATE, headers=headers(admin, "fix-me"))
    assert corrected.status_code == 201, corrected.text
    assert REPLAY_HEADER.lower() not in corrected.headers
    assert await listed_names(client, admin) == ["till 3", "test admin"]


async def test_expired_record_is_treated_as_new(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], admin_key: str
) -> None:
    past = utcnow() - timedelta(seconds=1)
    api_key_id = await api_key_row_id(app, admin_key)
    await insert_record(
        app,
        api_key_id,
        "old-same",
        request_fingerprint=create_fingerprint(CREATE),
        state=COMPLETED,
        locked_until=past - timedelta(hours=72),
        expires_at=past,
        response_body=b'{"stale": true}',
    )
    await insert_record(
        app,
        api_key_id,
        "old-other",
        request_fingerprint=create_fingerprint({**CREATE, "name": "long gone"}),
        state=COMPLETED,
        locked_until=past - timedelta(hours=72),
        expires_at=past,
        response_body=b'{"stale": true}',
    )

    same = await client.post(PATH, json=CREATE, headers=headers(admin, "old-same"))
    assert same.status_code == 201, same.text
    assert REPLAY_HEADER.lower() not in same.headers
    assert "stale" not in same.json()
    other = await client.post(PATH, json=CREATE, headers=headers(admin, "old-other"))
    assert other.status_code == 201, other.text
    assert REPLAY_HEADER.lower() not in other.headers

    assert await count_api_keys(app) == 3
    now = utcnow()
    assert all(record.expires_at > now for record in await records(app))


async def test_business_refusal_is_kept_and_replayed_and_its_work_undone(
    client: httpx.AsyncClient, admin: dict[str, str], test_routes: TestRoutes
) -> None:
    first = await client.post("/test/refuse", json={}, headers=headers(admin, "no"))
    assert_problem(first, 409, "conflict")
    replay = await client.post("/test/refuse", json={}, headers=headers(admin, "no"))
    assert replay.status_code == 409
    assert replay.content == first.content
    assert replay.headers["content-type"] == "application/problem+json"
    assert replay.headers[REPLAY_HEADER] == "true"
    assert test_routes.calls == 1
    assert await listed_names(client, admin) == ["test admin"]


async def test_crash_releases_the_key(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], test_routes: TestRoutes
) -> None:
    crashed = await client.post("/test/flaky", json={}, headers=headers(admin, "retry-me"))
    assert_problem(crashed, 500, "internal_error")
    assert await records(app) == []

    retried = await client.post("/test/flaky", json={}, headers=headers(admin, "retry-me"))
    assert retried.status_code == 201, retried.text
    assert retried.json()["attempt"] == 2
    replay = await client.post("/test/flaky", json={}, headers=headers(admin, "retry-me"))
    assert replay.content == retried.content
    assert test_routes.calls == 2
    assert await listed_names(client, admin) == ["order", "test admin"]


# --- purging --------------------------------------------------------------------------------


async def test_purge_expired_deletes_only_expired_records(app: FastAPI, admin_key: str) -> None:
    api_key_id = await api_key_row_id(app, admin_key)
    now = utcnow()
    for key, expires_at in [
        ("expired-long-ago", now - timedelta(days=3)),
        ("expired-just-now", now - timedelta(seconds=1)),
        ("alive", now + timedelta(hours=1)),
        ("alive-longer", now + timedelta(hours=72)),
    ]:
        await insert_record(
            app,
            api_key_id,
            key,
            request_fingerprint=create_fingerprint(CREATE),
            state=COMPLETED,
            expires_at=expires_at,
            response_body=b"{}",
        )

    async with app.state.runtime.sessionmaker() as session:
        assert await purge_expired(session) == 2
        await session.commit()
    assert sorted(record.key for record in await records(app)) == ["alive", "alive-longer"]

    async with app.state.runtime.sessionmaker() as session:
        assert await purge_expired(session, now=now + timedelta(hours=2)) == 1
        await session.commit()
    assert [record.key for record in await records(app)] == ["alive-longer"]

    async with app.state.runtime.sessionmaker() as session:
        assert await purge_expired(session) == 0


async def test_purged_key_is_usable_again(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await client.post(PATH, json=CREATE, headers=headers(admin, "reuse"))
    assert first.status_code == 201
    async with app.state.runtime.sessionmaker() as session:
        assert await purge_expired(session, now=utcnow() + timedelta(hours=73)) == 1
        await session.commit()
    again = await client.post(PATH, json=CREATE, headers=headers(admin, "reuse"))
    assert again.status_code == 201
    assert REPLAY_HEADER.lower() not in again.headers
    assert again.json()["id"] != first.json()["id"]


# --- the fingerprint ------------------------------------------------------------------------


def test_fingerprint_ignores_json_formatting_and_key_order() -> None:
    assert fingerprint("POST", PATH, "", b'{"a": 1, "b": [1, 2]}') == fingerprint(
        "POST", PATH, "", b'{ "b":[1,2],\n"a":1 }'
    )


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("PUT", PATH, "", b'{"a": 1}'),
        ("POST", "/v1/other", "", b'{"a": 1}'),
        ("POST", PATH, "dry_run=1", b'{"a": 1}'),
        ("POST", PATH, "", b'{"a": 2}'),
        ("POST", PATH, "", b'{"a": "1"}'),
        ("POST", PATH, "", b'{"a": 1, "b": null}'),
        ("POST", PATH, "", b""),
    ],
)
def test_fingerprint_tells_different_requests_apart(
    method: str, path: str, query: str, body: bytes
) -> None:
    assert fingerprint(method, path, query, body) != fingerprint("POST", PATH, "", b'{"a": 1}')


def test_fingerprint_of_a_body_that_is_not_json_is_of_its_bytes() -> None:
    assert fingerprint("POST", PATH, "", b"a=1") == fingerprint("POST", PATH, "", b"a=1")
    assert fingerprint("POST", PATH, "", b"a=1") != fingerprint("POST", PATH, "", b"a=1 ")
    assert len(fingerprint("POST", PATH, "", b"")) == 64
