"""The published OpenAPI document, with the house conventions applied to every operation.

- error responses are ``application/problem+json`` with the ``Problem`` schema, and every
  authenticated operation lists 401, 403 and 429, every operation 500;
- the ``Idempotency-Key`` header is marked required where an operation requires it.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.kit.auth import AUTH_ERRORS
from app.kit.errors import PROBLEM_MEDIA_TYPE, Problem, error_responses
from app.kit.idempotency import HEADER as IDEMPOTENCY_HEADER

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def operation_id(route: APIRoute) -> str:
    """Operation ids are the endpoint functions' names: snake_case verbs."""
    return route.name


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}


def _common_error_responses(authenticated: bool) -> dict[str, Any]:
    responses = error_responses(*AUTH_ERRORS) if authenticated else {}
    responses[500] = {"description": "Internal Server Error: code `internal_error`"}
    return {str(status): {"description": r["description"]} for status, r in responses.items()}


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
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            _apply_conventions(operation)
    app.openapi_schema = document
    return document


def _describe_422(description: str) -> str:
    """FastAPI's own 422 says "Validation Error"; a route's own 422 lacks validation_error."""
    if description == "Validation Error":
        return "Unprocessable Content: code `validation_error`"
    if "`validation_error`" in description:
        return description
    return f"{description} | `validation_error`"


def _apply_conventions(operation: dict[str, Any]) -> None:
    authenticated = bool(operation.get("security"))
    responses = operation.setdefault("responses", {})
    for status, response in _common_error_responses(authenticated).items():
        responses.setdefault(status, response)
    if "422" in responses:
        responses["422"]["description"] = _describe_422(responses["422"]["description"])
    for status, response in responses.items():
        if int(status) >= 400:
            response["content"] = _problem_content()
    operation["responses"] = dict(sorted(responses.items()))
    # Routes that require the key document `idempotency_key_missing`; others take it optionally.
    required = "idempotency_key_missing" in responses.get("400", {}).get("description", "")
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name") == IDEMPOTENCY_HEADER:
            parameter["required"] = required
            parameter["schema"] = {"type": "string", "minLength": 1, "maxLength": 255}
