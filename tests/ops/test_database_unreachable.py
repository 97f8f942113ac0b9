"""A database that cannot be connected to answers 503 ``database_unavailable``, quickly.

A refused connect is a bare ``ConnectionRefusedError`` and a connect that gets no answer a
``TimeoutError``, both raised past SQLAlchemy unwrapped; a server that refuses sessions for
a while (shutting down, starting up, out of connections) answers with an error that is not
a lost connection. None of them may be a 500, and none may hold a request longer than the
connect timeout. These need no database: nothing answers on the ports they use.
"""

import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest

from app.main import create_app
from tests.conftest import make_settings
from tests.factories import assert_problem
from tests.live_server import HOST, free_port

# An API key that is well-formed: looking it up is what needs the database.
TILL = {"Authorization": "Bearer stk_abcdefgh_" + "x" * 43}
MEMBER = "/v1/members/00000000-0000-0000-0000-000000000001"
CONNECT_TIMEOUT_SECONDS = 0.5
# What answering may take beyond the connect timeout on a loaded 2-core machine.
SLACK_SECONDS = 1.5


@asynccontextmanager
async def client_for(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        make_settings(database_url, database_connect_timeout_seconds=CONNECT_TIMEOUT_SECONDS)
    )
    async with app.router.lifespan_context(app):
        # A 500 comes back as a response, as a client would see it, not as an exception.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections (the kernel completes the handshake) and never
    says a word, like a database host that hangs; its port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((HOST, 0))
        listener.listen(64)
        yield listener.getsockname()[1]


async def timed(request) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started


async def assert_unavailable_within(http: httpx.AsyncClient, seconds: float) -> None:
    read, read_took = await timed(http.get(MEMBER, headers=TILL))
    write, write_took = await timed(
        http.post(
            "/v1/purchases",
            json={"order_id": "o-1", "channel": "pos", "currency": "EUR", "total": 100},
            headers={**TILL, "Idempotency-Key": "k-1"},
        )
    )
    ready, ready_took = await timed(http.get("/readyz"))

    for response in (read, write):
        assert_problem(response, 503, "database_unavailable")
        assert response.headers["Retry-After"] == "1"
    assert_problem(ready, 503, "database_unreachable")
    assert max(read_took, write_took, ready_took) < seconds, (read_took, write_took, ready_took)


async def test_a_refused_connect_is_503_at_once():
    async with client_for(f"postgresql+asyncpg://postgres@{HOST}:{free_port()}/db") as http:
        await assert_unavailable_within(http, SLACK_SECONDS)


async def test_a_connect_without_answer_is_503_after_the_connect_timeout(silent_server):
    async with client_for(f"postgresql+asyncpg://postgres@{HOST}:{silent_server}/db") as http:
        started = time.monotonic()
        await assert_unavailable_within(http, CONNECT_TIMEOUT_SECONDS + SLACK_SECONDS)

    # Each of the three waited out the timeout: it is the timeout that ended them.
    assert time.monotonic() - started >= 3 * CONNECT_TIMEOUT_SECONDS
