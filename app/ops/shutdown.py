"""A request still running when the shutdown grace period ends gets a problem it can retry.

uvicorn cancels such requests and, for one that has not started its response, answers a
bare ``500 Internal Server Error`` in plain text: to a till that reads as a bug, and it
says nothing about retrying. This answers 503 ``shutting_down`` instead. Whether the
request's transaction committed cannot be known once it is cancelled (the COMMIT may have
reached the database), so the answer asks for a retry with the same Idempotency-Key, which
either runs the request or replays its stored response.
"""

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.kit.errors import ShuttingDown


class CancelledRequestMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def send_watched(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_watched)
        except asyncio.CancelledError:
            if not response_started:
                response = ShuttingDown(
                    "The service stopped before the request finished; retry it with the "
                    "same Idempotency-Key.",
                    headers={"Retry-After": "1", "Connection": "close"},
                ).to_response()
                await response(scope, receive, send)
            raise
