"""Domain errors and their one rendering: RFC 9457 ``application/problem+json``.

Every error a client can see has a stable machine-readable ``code``. Services raise
subclasses of :class:`StammkundeError`; the handlers below turn them, and framework errors
(unknown route, wrong method, validation, oversized body), into problem responses.
"""

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document with a stable ``code``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:stammkunde:problem:insufficient_points",
                    "title": "Insufficient points",
                    "status": 409,
                    "detail": "The member has 40 points available; 100 were asked for.",
                    "code": "insufficient_points",
                }
            ]
        }
    )

    type: str = Field(description="A URN naming the problem type: urn:stammkunde:problem:<code>.")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable error code.")
    errors: list[FieldError] | None = Field(
        default=None, description="The offending fields, for validation errors."
    )


def problem_body(
    status: int, code: str, detail: str, title: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:stammkunde:problem:{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra)
    return body


def problem_response(
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    return ProblemResponse(
        problem_body(status, code, detail, title, **extra), status_code=status, headers=headers
    )


class StammkundeError(Exception):
    """Base of every error a client may see; subclasses fix ``status``, ``code`` and ``title``."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    def to_response(self) -> ProblemResponse:
        return problem_response(
            self.status, self.code, self.detail, self.title, self.headers, **self.extra
        )


class NotFound(StammkundeError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(StammkundeError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Unprocessable(StammkundeError):
    status = 422
    code = "unprocessable"
    title = "Unprocessable request"


class DatabaseUnavailable(StammkundeError):
    status = 503
    code = "database_unavailable"
    title = "Database unavailable"


class ShuttingDown(StammkundeError):
    status = 503
    code = "shutting_down"
    title = "Shutting down"


def error_responses(
    *errors: type[StammkundeError], extra: Mapping[int, Sequence[str]] | None = None
) -> dict[int | str, Any]:
    """OpenAPI ``responses`` for a route: each status with the problem schema, its codes in
    the description and one example problem per code."""
    titles: dict[int, dict[str, str]] = {}
    for error in errors:
        titles.setdefault(error.status, {})[error.code] = error.title
    for status, more in (extra or {}).items():
        for code in more:
            titles.setdefault(status, {}).setdefault(code, HTTPStatus(status).phrase)
    return {
        status: {
            "model": Problem,
            "description": f"{HTTPStatus(status).phrase}: code "
            + " | ".join(f"`{code}`" for code in sorted(found)),
            "content": {PROBLEM_MEDIA_TYPE: {"examples": problem_examples(status, found)}},
        }
        for status, found in sorted(titles.items())
    }


def problem_examples(status: int, titles: Mapping[str, str]) -> dict[str, Any]:
    """OpenAPI ``examples`` of a problem response, one per code, keyed by the code."""
    return {
        code: {"summary": title, "value": problem_body(status, code, f"{title}.", title)}
        for code, title in sorted(titles.items())
    }


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {"loc": list(error.get("loc", ())), "msg": str(error.get("msg", "")), "type": error["type"]}
        for error in errors
    ]


async def _handle_domain_error(_request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StammkundeError)
    return exc.to_response()


class PayloadTooLarge(StarletteHTTPException):
    """A request body over ``max_body_bytes``; raised while the body is read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


def http_problem(exc: StarletteHTTPException) -> ProblemResponse:
    """The problem response for a framework HTTP error (unknown route, wrong method, ...)."""
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
    if status == 404 and detail == "Not Found":
        detail = "No resource at this path."
    return problem_response(
        status,
        _HTTP_CODES.get(status, f"http_{status}"),
        detail,
        headers=exc.headers,
    )


def _allowed_methods(request: Request) -> str:
    """Every method the path takes. Each method is a route of its own, and Starlette's 405
    names only the first route that matches the path, so ``Allow`` would miss the others."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        path_regex = getattr(route, "path_regex", None)
        if path_regex is not None and path_regex.match(request.scope["path"]):
            methods.update(route.methods or ())
    return ", ".join(sorted(methods))


# FastAPI's answer to a JSON body it cannot decode as text (not UTF-8). To a client that is
# malformed JSON like any other, so it gets the same answer: 422 validation_error.
_UNDECODABLE_BODY = "There was an error parsing the body"


async def _handle_http_exception(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _UNDECODABLE_BODY:
        return problem_response(
            422,
            "validation_error",
            "The request is not valid: body is not UTF-8 encoded JSON.",
            "Validation error",
            errors=[{"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}],
        )
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        exc = StarletteHTTPException(
            405, exc.detail, headers={**(exc.headers or {}), "Allow": allowed}
        )
    return http_problem(exc)


async def _handle_validation_error(_request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc.errors())
    fields = ", ".join(".".join(str(part) for part in e["loc"]) for e in errors)
    return problem_response(
        422,
        "validation_error",
        f"The request is not valid: {fields}." if fields else "The request is not valid.",
        "Validation error",
        errors=errors,
    )


async def _handle_database_error(_request: Request, exc: Exception) -> ProblemResponse:
    """A lost database connection is the database's outage, not our bug: 503, retry soon.
    The request's transaction is gone with the connection, so nothing of it was written."""
    if isinstance(exc, DBAPIError) and not exc.connection_invalidated:
        raise exc
    return DatabaseUnavailable(
        "The database cannot be reached just now; retry the request.",
        headers={"Retry-After": "1"},
    ).to_response()


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DBAPIError, _handle_database_error)
    app.add_exception_handler(ConnectionError, _handle_database_error)
    app.add_exception_handler(StammkundeError, _handle_domain_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
