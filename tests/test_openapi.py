"""The committed OpenAPI document is the published contract: it must match the app."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.cli import render_openapi
from app.main import create_app
from tests.conftest import make_settings

COMMITTED = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
HTTP_METHODS = {"get", "put", "post", "patch", "delete"}


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
        assert operation["security"] == [{"ApiKey": []}], (path, method)
        for status in ("401", "403", "429"):
            assert status in responses, (path, method, status)
        for status, response in responses.items():
            if int(status) >= 400:
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}
                assert "`" in response["description"], "the description names the codes"


def test_writes_declare_a_required_idempotency_key(document):
    create = document["paths"]["/v1/api-keys"]["post"]
    headers = {p["name"]: p for p in create["parameters"] if p["in"] == "header"}
    assert headers["Idempotency-Key"]["required"] is True
    assert "idempotency_key_missing" in create["responses"]["400"]["description"]


def test_document_is_valid_json_with_problem_schema(document):
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    json.loads(render_openapi(document))
