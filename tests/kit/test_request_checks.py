"""Checks on a request's raw parts that every /v1 route makes (app/kit/request_checks.py)."""

from typing import Any

import httpx
import pytest

from tests.factories import assert_problem


@pytest.mark.parametrize("query", ["limt=10", "limit=10&curser=abc", "=false"])
async def test_an_unknown_query_parameter_is_refused_by_name(
    client: httpx.AsyncClient, admin: dict[str, str], query: str
) -> None:
    """Found by fuzzing: a misspelt parameter was ignored, so ``?limt=10`` quietly returned
    the default page size. It is a validation error that names the parameter."""
    response = await client.get(f"/v1/api-keys?{query}", headers=admin)

    problem = assert_problem(response, 422, "validation_error")
    unknown = query.split("&")[-1].split("=")[0]
    assert {"loc": ["query", unknown], "msg": "Unknown parameter", "type": "extra_forbidden"} in (
        problem["errors"]
    )
    assert (await client.get("/v1/api-keys?limit=10", headers=admin)).status_code == 200


@pytest.mark.parametrize(
    ("where", "request_kwargs"),
    [
        (["body", "name"], {"json": {"name": "Till\u0000 1", "scopes": ["pos"]}}),
        (["body", "scopes", 0], {"json": {"name": "Till 1", "scopes": ["pos\u0000"]}}),
        (["query", "limit"], {"params": {"limit": "1\u0000"}}),
    ],
)
async def test_text_with_a_nul_character_is_refused_alike_on_both_databases(
    client: httpx.AsyncClient, admin: dict[str, str], where: list[Any], request_kwargs: Any
) -> None:
    """Found by fuzzing: PostgreSQL cannot store U+0000 in text, and an API key's name with
    one was a 500 there (SQLite stored it). It is a validation error on both."""
    method = "POST" if "json" in request_kwargs else "GET"
    response = await client.request(
        method, "/v1/api-keys", headers={**admin, "Idempotency-Key": "nul"}, **request_kwargs
    )

    problem = assert_problem(response, 422, "validation_error")
    assert where in [error["loc"] for error in problem["errors"]]
    listed = await client.get("/v1/api-keys", headers=admin)
    assert [key["name"] for key in listed.json()["items"]] == ["test admin"]
