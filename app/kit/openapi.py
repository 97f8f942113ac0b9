"""The published OpenAPI document, with the house conventions applied to every operation.

- error responses are ``application/problem+json`` with the ``Problem`` schema, one example
  per possible ``code`` (also listed in ``x-problem-codes``); every authenticated operation
  lists 401, 403, 429 and 503, every operation 500;
- the ``Idempotency-Key`` header is marked required where an operation requires it;
- ``x-required-scopes`` lists the API key scopes that may call an operation (any one of them).
"""

import json
from functools import cache
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.kit.auth import AUTH_ERRORS
from app.kit.errors import (
    PROBLEM_MEDIA_TYPE,
    DatabaseUnavailable,
    Problem,
    ShuttingDown,
    error_responses,
    problem_examples,
)
from app.kit.idempotency import HEADER as IDEMPOTENCY_HEADER
from app.kit.idempotency import KEY_PATTERN as IDEMPOTENCY_KEY_PATTERN
from app.kit.idempotency import MAX_KEY_LENGTH as IDEMPOTENCY_KEY_MAX_LENGTH
from app.kit.openapi_links import add_links

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def operation_id(route: APIRoute) -> str:
    """Operation ids are the endpoint functions' names: snake_case verbs."""
    return route.name


def _common_error_responses(authenticated: bool) -> dict[str, Any]:
    responses = (
        error_responses(*AUTH_ERRORS, DatabaseUnavailable, ShuttingDown) if authenticated else {}
    )
    responses[500] = {
        "description": "Internal Server Error: code `internal_error`",
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "examples": problem_examples(500, {"internal_error": "Internal server error"})
            }
        },
    }
    return {
        str(status): {"description": r["description"], "content": r["content"]}
        for status, r in responses.items()
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schemas["Problem"].pop("$defs", {}))
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    # Not in problems: they may quote the refused input.
    _forbid_nul(document["paths"])
    _forbid_nul([schema for name, schema in schemas.items() if name not in ECHOING_SCHEMAS])
    examples = recorded_examples()
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            _apply_conventions(operation)
            _add_examples(operation, examples.get(operation["operationId"]))
    add_links(document)
    app.openapi_schema = document
    return document


# The service refuses U+0000 in any text (app/kit/request_checks.py): strings say so.
NO_NUL_PATTERN = "^[^\\x00]*$"
_STRING_ALREADY_BOUND = ("pattern", "format", "enum", "const")
ECHOING_SCHEMAS = {"Problem", "FieldError"}


def _forbid_nul(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _forbid_nul(item)
    elif isinstance(node, dict):
        if node.get("type") == "string" and not any(k in node for k in _STRING_ALREADY_BOUND):
            node["pattern"] = NO_NUL_PATTERN
        for key, item in node.items():
            if key not in ("example", "examples"):
                _forbid_nul(item)


@cache
def recorded_examples() -> dict[str, dict[str, Any]]:
    """Per operation id, a real request and response of the service (tests record them)."""
    examples: dict[str, dict[str, Any]] = json.loads(
        files("app").joinpath("openapi_examples.json").read_text()
    )
    return examples


def _add_examples(operation: dict[str, Any], exchange: dict[str, Any] | None) -> None:
    if exchange is None:
        return
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None and exchange["request"] is not None:
        body["example"] = exchange["request"]
    response = operation["responses"].get(exchange["status"], {})
    content = response.get("content", {}).get("application/json")
    if content is not None and exchange["response"] is not None:
        content["example"] = exchange["response"]


def _describe_422(description: str) -> str:
    """FastAPI's own 422 says "Validation Error"; a route's own 422 lacks validation_error."""
    if description == "Validation Error":
        return "Unprocessable Content: code `validation_error`"
    if "`validation_error`" in description:
        return description
    return f"{description} | `validation_error`"


def _too_large() -> dict[str, Any]:
    """Every body passes the size limit (``max_body_bytes``) before anything else."""
    return {
        "description": "Content Too Large: code `payload_too_large`",
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "examples": problem_examples(413, {"payload_too_large": "Content Too Large"})
            }
        },
    }


VALIDATION_EXAMPLE = {
    "summary": "Validation error",
    "value": {
        "type": "urn:stammkunde:problem:validation_error",
        "title": "Validation error",
        "status": 422,
        "detail": "The request is not valid: body.amount_minor.",
        "code": "validation_error",
        "errors": [
            {
                "loc": ["body", "amount_minor"],
                "msg": "Input should be greater than 0",
                "type": "greater_than",
            }
        ],
    },
}


def _problem_response(status: str, response: dict[str, Any]) -> dict[str, Any]:
    """One problem+json content with the examples that any media type of it carried."""
    examples: dict[str, Any] = {}
    for media in response.get("content", {}).values():
        examples.update(media.get("examples", {}))
    if status == "422":
        response["description"] = _describe_422(response["description"])
        examples.setdefault("validation_error", VALIDATION_EXAMPLE)
    response["content"] = {
        PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF, "examples": dict(sorted(examples.items()))}
    }
    response["x-problem-codes"] = sorted(examples)
    return response


def _apply_conventions(operation: dict[str, Any]) -> None:
    authenticated = bool(operation.get("security"))
    scopes = [
        scope
        for requirement in operation.get("security", [])
        for scope in requirement.get("ApiKey", [])
    ]
    if scopes:
        operation["x-required-scopes"] = scopes
    responses = operation.setdefault("responses", {})
    for status, response in _common_error_responses(authenticated).items():
        responses.setdefault(status, response)
    if "requestBody" in operation:
        responses.setdefault("413", _too_large())
    for status, response in responses.items():
        if int(status) >= 400:
            responses[status] = _problem_response(status, response)
    operation["responses"] = dict(sorted(responses.items()))
    # Routes that require the key document `idempotency_key_missing`; others take it optionally.
    required = "idempotency_key_missing" in responses.get("400", {}).get("x-problem-codes", [])
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name") == IDEMPOTENCY_HEADER:
            parameter["required"] = required
            parameter["schema"] = {
                "type": "string",
                "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
                "pattern": IDEMPOTENCY_KEY_PATTERN,
            }
