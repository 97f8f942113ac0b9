"""Every error a client sees is RFC 9457 problem+json with a stable code, and carries a request id."""

import re
from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from app.api_keys.models import Scope
from app.config import Settings
from app.kit.errors import PROBLEM_MEDIA_TYPE, Problem
from app.main import create_app
from tests.conftest import bearer, create_key

MAX_BODY = 64 * 1024
CREATE = {"name": "till", "scopes": ["pos"]}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    """Check the problem document shape; return the body for further checks."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, object] = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:stammkunde:problem:{code}"
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    Problem.model_validate(body)
    return body


# --- framework errors -----------------------------------------------------------------------


async def test_unknown_route_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/no-such-thing")
    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == "No resource at this path."


async def test_wrong_method_is_method_not_allowed_with_allow_header(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.put("/v1/api-keys", headers=admin, json=CREATE)
    assert_problem(response, 405, "method_not_allowed")
    # Every method of the resource, not only those of the first route matching the path
    # (found by fuzzing: OPTIONS /v1/members was answered `Allow: POST`).
    allowed = {method.strip() for method in response.headers["allow"].split(",")}
    assert allowed == {"GET", "POST"}


async def test_allow_header_names_every_method_of_a_resource_with_a_path_parameter(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.options(f"/v1/members/{uuid4()}", headers=admin)
    assert_problem(response, 405, "method_not_allowed")
    allowed = {method.strip() for method in response.headers["allow"].split(",")}
    assert allowed == {"DELETE", "GET", "PATCH"}


async def test_domain_error_keeps_its_own_code(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.delete("/v1/api-keys/no-such-key", headers=admin)
    body = assert_problem(response, 404, "api_key_not_found")
    assert body["title"] == "API key not found"


# --- validation -----------------------------------------------------------------------------


async def test_unknown_scope_is_a_validation_error_naming_the_field(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/api-keys",
        json={"name": "till", "scopes": ["nope"]},
        headers={**admin, "Idempotency-Key": "v1"},
    )
    body = assert_problem(response, 422, "validation_error")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert [error["loc"] for error in errors] == [["body", "scopes", 0]]
    assert errors[0]["type"] == "enum"
    assert errors[0]["msg"]
    assert "body.scopes.0" in str(body["detail"])


async def test_extra_field_is_forbidden(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post(
        "/v1/api-keys",
        json={**CREATE, "is_admin": True},
        headers={**admin, "Idempotency-Key": "v2"},
    )
    body = assert_problem(response, 422, "validation_error")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert [(error["loc"], error["type"]) for error in errors] == [
        (["body", "is_admin"], "extra_forbidden")
    ]


async def test_every_offending_field_is_listed(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/api-keys", json={"name": "", "scopes": []}, headers={**admin, "Idempotency-Key": "v3"}
    )
    body = assert_problem(response, 422, "validation_error")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert sorted(tuple(error["loc"]) for error in errors) == [("body", "name"), ("body", "scopes")]


async def test_malformed_json_is_a_validation_error(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/api-keys",
        content=b'{"name": "till", ',
        headers={**admin, "Idempotency-Key": "v4", "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422, "validation_error")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors[0]["type"] == "json_invalid"


async def test_body_that_is_not_utf8_is_a_validation_error(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    # Found by fuzzing: FastAPI answered it with an undocumented 400 bad_request.
    response = await client.patch(
        f"/v1/tiers/{uuid4()}",
        content=b"\xff)",
        headers={**admin, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422, "validation_error")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors[0]["type"] == "json_invalid"


async def test_query_parameter_validation_error_names_the_parameter(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/v1/api-keys", params={"limit": "many"}, headers=admin)
    body = assert_problem(response, 422, "validation_error")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert [error["loc"] for error in errors] == [["query", "limit"]]


# --- authentication -------------------------------------------------------------------------


async def test_missing_authorization_is_unauthenticated_with_challenge(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/api-keys")
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == 'Bearer realm="stammkunde"'


@pytest.mark.parametrize(
    "authorization",
    ["Bearer stk_unknown_secret", "Bearer not-a-key", "Basic dXNlcjpwYXNz"],
)
async def test_bad_credentials_are_unauthenticated(
    client: httpx.AsyncClient, admin: dict[str, str], authorization: str
) -> None:
    response = await client.get("/v1/api-keys", headers={"Authorization": authorization})
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_key_without_the_scope_is_forbidden(app: FastAPI, client: httpx.AsyncClient) -> None:
    pos_key = await create_key(app, Scope.pos)
    response = await client.get("/v1/api-keys", headers=bearer(pos_key))
    body = assert_problem(response, 403, "insufficient_scope")
    assert "admin" in str(body["detail"])


# --- request id -----------------------------------------------------------------------------


async def test_request_id_is_echoed_when_sent(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "till-3.req:42"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "till-3.req:42"


async def test_request_id_is_generated_when_absent(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("sent", ["has spaces", "x" * 129, "semi;colon"])
async def test_unusable_request_id_is_replaced(client: httpx.AsyncClient, sent: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": sent})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_error_responses_carry_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/no-such-thing", headers={"X-Request-ID": "abc-123"})
    assert_problem(response, 404, "not_found")
    assert response.headers["x-request-id"] == "abc-123"


# --- unhandled exceptions -------------------------------------------------------------------


@pytest.fixture
async def crashing_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The real app plus one test-only route that fails with an unexpected exception."""
    application = create_app(settings)

    @application.get("/test/crash")
    async def crash() -> None:
        raise RuntimeError("database password is hunter2")

    async with application.router.lifespan_context(application):
        yield application


async def test_unhandled_exception_is_an_opaque_internal_error(crashing_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=crashing_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/test/crash")
    body = assert_problem(response, 500, "internal_error")
    request_id = response.headers["x-request-id"]
    assert request_id
    assert request_id in str(body["detail"])
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    assert "hunter2" not in response.text


async def test_unhandled_exception_echoes_the_sent_request_id(crashing_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=crashing_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/test/crash", headers={"X-Request-ID": "pos-7"})
    body = assert_problem(response, 500, "internal_error")
    assert response.headers["x-request-id"] == "pos-7"
    assert "pos-7" in str(body["detail"])


# --- body size limit ------------------------------------------------------------------------


def _padded_create_body(size: int) -> bytes:
    """A valid create request padded with trailing JSON whitespace to exactly ``size`` bytes."""
    body = b'{"name": "till", "scopes": ["pos"]}'
    return body + b" " * (size - len(body))


async def test_oversized_body_is_payload_too_large(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/api-keys",
        content=_padded_create_body(MAX_BODY + 1),
        headers={
            **admin,
            "Idempotency-Key": "big",
            "Content-Type": "application/json",
            "X-Request-ID": "big-1",
        },
    )
    body = assert_problem(response, 413, "payload_too_large")
    assert str(MAX_BODY) in str(body["detail"])
    assert response.headers["x-request-id"] == "big-1"


async def test_body_of_exactly_the_limit_is_accepted(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/api-keys",
        content=_padded_create_body(MAX_BODY),
        headers={**admin, "Idempotency-Key": "exact", "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


async def test_oversized_body_without_content_length_is_payload_too_large(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        body = _padded_create_body(MAX_BODY + 1)
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    response = await client.post(
        "/v1/api-keys",
        content=chunks(),
        headers={**admin, "Idempotency-Key": "streamed", "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload_too_large")
    assert response.headers["x-request-id"]


async def test_oversized_body_is_refused_on_any_path(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/no-such-thing", content=b"x" * (MAX_BODY + 1))
    assert_problem(response, 413, "payload_too_large")


async def test_oversized_body_does_not_use_up_the_idempotency_key(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    headers = {**admin, "Idempotency-Key": "big-then-small", "Content-Type": "application/json"}
    too_big = await client.post(
        "/v1/api-keys", content=_padded_create_body(MAX_BODY + 1), headers=headers
    )
    assert_problem(too_big, 413, "payload_too_large")
    retry = await client.post("/v1/api-keys", json=CREATE, headers=headers)
    assert retry.status_code == 201, retry.text
    assert "idempotent-replayed" not in retry.headers
