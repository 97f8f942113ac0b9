"""The committed OpenAPI document is the published contract: it must match the app."""

import json
import re
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from app.api_keys.models import Scope
from app.cli import render_openapi
from app.main import create_app
from tests.conftest import bearer, create_key, make_settings

COMMITTED = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
HTTP_METHODS = {"get", "put", "post", "patch", "delete"}
# Health, readiness and metrics are not JSON of the API; their schemas say all there is.
UNRECORDED_PATHS = {"/healthz", "/readyz", "/metrics"}
NON_ADMIN_SCOPES = [scope for scope in Scope if scope is not Scope.admin]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(make_settings("sqlite+aiosqlite:///unused.db")).openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_committed_document_matches_the_app(document):
    assert COMMITTED.read_text() == render_openapi(document), (
        "openapi/openapi.json is stale: run `make openapi` and commit it"
    )


def test_every_operation_has_a_snake_case_id_and_a_summary(document):
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    for path, method, operation in operations(document):
        assert re.fullmatch(r"[a-z]+(_[a-z0-9]+)*", operation["operationId"]), (path, method)
        assert operation.get("summary"), (path, method)


def test_every_v1_operation_is_secured_and_documents_its_errors(document):
    for path, method, operation in operations(document):
        responses = operation["responses"]
        assert "500" in responses, (path, method)
        if not path.startswith("/v1/"):
            continue
        scopes = operation["x-required-scopes"]
        assert operation["security"] == [{"ApiKey": scopes}], (path, method)
        assert "admin" in scopes, (path, method)
        for status in ("401", "403", "429", "503"):
            assert status in responses, (path, method, status)
        if "requestBody" in operation:
            assert "payload_too_large" in responses["413"]["x-problem-codes"], (path, method)
        for status, response in responses.items():
            if int(status) >= 400:
                content = response["content"]["application/problem+json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
                codes = response["x-problem-codes"]
                assert codes == sorted(re.findall(r"`([a-z_]+)`", response["description"]))
                assert sorted(content["examples"]) == codes, (path, method, status)
                for code, example in content["examples"].items():
                    assert example["value"]["code"] == code
                    assert example["value"]["status"] == int(status)


def test_every_tag_is_declared_with_a_description(document):
    declared = {tag["name"]: tag.get("description") for tag in document["tags"]}
    assert all(declared.values())
    used = {tag for _, _, operation in operations(document) for tag in operation["tags"]}
    assert used <= set(declared), used - set(declared)


def _fill_path(path: str, operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        schema = parameter["schema"]
        if "$ref" in schema:
            value = "A"  # the only enum in a path: an A/B/C class
        elif schema.get("format") == "uuid":
            value = str(uuid.uuid4())
        else:
            value = "X"
        path = path.replace("{" + parameter["name"] + "}", value)
    return path


async def test_required_scopes_are_what_the_service_enforces(app, client, document):
    """A key with a scope outside x-required-scopes is refused before anything else is
    looked at; a key with one of them gets past the scope check (to a 404, 422, ...)."""
    keys = {scope: bearer(await create_key(app, scope)) for scope in NON_ADMIN_SCOPES}
    for path, method, operation in operations(document):
        if not path.startswith("/v1/"):
            continue
        url = _fill_path(path, operation)
        for scope, headers in keys.items():
            response = await client.request(
                method, url, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
            )
            refused = response.status_code == 403
            assert refused != (scope.value in operation["x-required-scopes"]), (
                method,
                path,
                scope,
                response.text,
            )
            if refused:
                assert response.json()["code"] == "insufficient_scope"


def test_writes_declare_a_required_idempotency_key(document):
    create = document["paths"]["/v1/api-keys"]["post"]
    headers = {p["name"]: p for p in create["parameters"] if p["in"] == "header"}
    assert headers["Idempotency-Key"]["required"] is True
    assert "idempotency_key_missing" in create["responses"]["400"]["description"]


def test_document_is_valid_json_with_problem_schema(document):
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    json.loads(render_openapi(document))


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({**schema, "components": document["components"]})


def test_every_operation_has_examples_that_fit_its_schemas(document):
    """Request bodies and successful JSON responses carry a real example (recorded from the
    suite by `make openapi-examples`), and each fits its schema."""
    for path, method, operation in operations(document):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            assert "example" in body, (method, path, "run `make openapi-examples`")
            _validator(document, body["schema"]).validate(body["example"])
        for status, response in operation["responses"].items():
            content = response.get("content", {}).get("application/json")
            if not status.startswith("2") or content is None or path in UNRECORDED_PATHS:
                continue
            assert "example" in content, (method, path, status, "run `make openapi-examples`")
            _validator(document, content["schema"]).validate(content["example"])
