"""A real HTTP receiver on 127.0.0.1 for webhook tests, on the test's own event loop.

It speaks just enough HTTP/1.1 for one request per connection, records every request, and
answers (after ``delay`` seconds) with what ``respond`` says for it: a status code, or
``HANG`` to keep the connection open without answering (until the worker's timeout cuts it,
or the receiver stops). With ``together=n`` it holds every answer until n requests are open
at the same time: proof that more than one sender is at work.
Everything is bounded: stopping the receiver ends every open connection.
"""

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

HOST = "127.0.0.1"
HANG: Final = -1
READ_TIMEOUT_SECONDS = 5.0
TOGETHER_WAIT_SECONDS = 10.0
MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers["stammkunde-event-id"]


Respond = Callable[[Request], int]


class Receiver:
    def __init__(
        self, respond: Respond | None = None, delay: float = 0.0, together: int = 0
    ) -> None:
        self.respond: Respond = respond or (lambda _request: 204)
        self.delay = delay  # seconds to think before each answer
        # Answer nothing until this many requests are open at once (at most TOGETHER_WAIT).
        self.together = together
        self.open = 0
        self.most_open = 0
        self._together = asyncio.Event()
        self.requests: list[Request] = []
        self.statuses: list[int] = []  # what each request was answered with (HANG: nothing)
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://{HOST}:{port}/hooks"

    def answered(self, status: int) -> list[Request]:
        """The requests that were answered with ``status``, in the order they arrived."""
        return [r for r, s in zip(self.requests, self.statuses, strict=True) if s == status]

    def event_ids(self) -> list[str]:
        return [request.event_id for request in self.requests]

    async def __aenter__(self) -> "Receiver":
        self._server = await asyncio.start_server(self._handle, HOST, 0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._stopping.set()
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        for task in list(self._handlers):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                request = await self._read(reader)
            if request is None:
                return
            status = self.respond(request)
            self.requests.append(request)
            self.statuses.append(status)
            if status == HANG:
                await self._stopping.wait()
                return
            self.open += 1
            self.most_open = max(self.most_open, self.open)
            try:
                if self.open >= self.together:
                    self._together.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._together.wait(), TOGETHER_WAIT_SECONDS)
                await asyncio.sleep(self.delay)
            finally:
                self.open -= 1
            writer.write(
                f"HTTP/1.1 {status} Status\r\nContent-Length: 2\r\n"
                "Content-Type: text/plain\r\nConnection: close\r\n\r\nok".encode()
            )
            await writer.drain()
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Request | None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if length > MAX_BODY_BYTES:
            return None
        body = await reader.readexactly(length)
        return Request(method, path, headers, body)
