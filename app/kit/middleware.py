"""Request context for every HTTP request: request id, access log, metrics, last-resort 500;
and the request body size limit.

Written as plain ASGI (not BaseHTTPMiddleware) because it wraps every request on the hot path.
"""

import logging
import re
import time
import uuid
from collections.abc import Mapping

from fastapi.routing import iter_route_contexts
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.kit.errors import PayloadTooLarge, http_problem, problem_response
from app.kit.logging import request_id_var

logger = logging.getLogger("app.access")

REQUESTS = Counter(
    "stammkunde_http_requests_total",
    "HTTP requests handled, by route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "stammkunde_http_request_duration_seconds",
    "Time to handle an HTTP request, by route template.",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            return candidate if _VALID_REQUEST_ID.match(candidate) else None
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # id() of each route (routes compare by value, so are not hashable) to its template.
        self._templates: dict[int, str] | None = None

    def _route_template(self, scope: Scope) -> str:
        """The matched route's path template, with the prefixes of the routers including it.

        Since FastAPI 0.137 ``scope["route"]`` is the route as its own router declares it,
        without the include prefixes (fastapi#16051), so the full templates are looked up once
        from the app's route contexts. The label must stay a template: path values would make
        one time series per id.
        """
        route = scope.get("route")
        if route is None:
            return "unmatched"
        if self._templates is None:
            self._templates = {}
            for context in iter_route_contexts(scope["app"].routes):
                if context.path_format:
                    self._templates.setdefault(id(context.original_route), context.path_format)
        return self._templates.get(id(route)) or getattr(route, "path", None) or "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            logger.exception("unhandled error", extra={"path": scope["path"]})
            if response_started:
                raise
            response = problem_response(
                500,
                "internal_error",
                f"An unexpected error occurred; quote request id {request_id} when reporting it.",
                "Internal server error",
            )
            await response(scope, receive, send_with_request_id)
        finally:
            elapsed = time.perf_counter() - started
            template = self._route_template(scope)
            method = scope["method"]
            REQUESTS.labels(method, template, str(status)).inc()
            LATENCY.labels(method, template).observe(elapsed)
            logger.info(
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={"status": status, "duration_ms": round(elapsed * 1000, 2)},
            )
            request_id_var.reset(token)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_body_size`` bytes (or the limit ``path_limits``
    gives the path, e.g. a file upload's) with a problem+json 413.

    Not Starlette's limit (FastAPI's ``max_body_size``): when a request announces an oversized
    Content-Length, that one replaces whatever the app answered with a plain-text 413.
    """

    def __init__(
        self, app: ASGIApp, max_body_size: int, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default_max_body_size = max_body_size
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_body_size = self.path_limits.get(scope["path"], self.default_max_body_size)
        announced = _content_length(scope)
        if announced is not None and announced > max_body_size:
            # Refused before any of it is read and before the app runs.
            await http_problem(PayloadTooLarge(max_body_size))(scope, receive, send)
            return
        received = 0

        async def receive_with_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body_size:
                    # A body without Content-Length: raised where the app reads it, so the
                    # exception handlers render it and the unit of work rolls back.
                    raise PayloadTooLarge(max_body_size)
            return message

        await self.app(scope, receive_with_limit, send)
