"""The Python client generated from openapi/openapi.json runs a till's and a webshop's day."""

import asyncio
import importlib
import json
import os
import re
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api_keys.models import Scope
from tests.clients.support import (
    DOCUMENT,
    EXPECTED_SUMMARY,
    PROJECT_ROOT,
    generate_python_client,
    run,
)
from tests.conftest import create_key
from tests.factories import assert_ledger_verifies

PROBLEM = "application/problem+json"
EXAMPLE = PROJECT_ROOT / "examples" / "python" / "pos_integration.py"


@pytest.fixture(scope="session")
def python_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The generated ``stammkunde_client`` package, importable (once per test process)."""
    folder = generate_python_client(tmp_path_factory.mktemp("python-client"))
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))


async def test_a_till_and_a_webshop_work_through_the_generated_client(
    python_client, server, admin_key, app
):
    from tests.clients.python_flow import run_flow  # imports the generated package

    summary = await asyncio.to_thread(run_flow, server.base_url, admin_key)

    assert summary == EXPECTED_SUMMARY
    await assert_ledger_verifies(app)


# The flow above covers both databases; the example needs only to work with the client.
@pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)
async def test_the_pos_example_runs_a_visit(python_client, server, app):
    till_key = await create_key(app, Scope.pos, name="till 1")
    environment = {
        **os.environ,
        "PYTHONPATH": str(python_client),
        "STAMMKUNDE_BASE_URL": server.base_url,
        "STAMMKUNDE_API_KEY": till_key,
        "STAMMKUNDE_VOUCHER_CODE": "NO-SUCH-CODE",
    }
    command = [sys.executable, str(EXAMPLE)]

    output = (await asyncio.to_thread(run, command, EXAMPLE.parent, environment)).stdout

    # 2 x 18.00 + 9.90 at 1 point per 1.00 (the default programme); the mug takes 9 back.
    visit = (
        r"new card (\d+)\ncard \1 belongs to member [0-9a-f-]{36}\n"
        r"voucher refused: voucher_code_invalid\n"
        r"sale R-[0-9a-f]{8}: 45 points, balance 45\n"
        r"mug returned: 9 points back, balance 36\n"
    )
    assert re.fullmatch(visit, output), output
    await assert_ledger_verifies(app)


def documented_examples() -> list[tuple[str, str, str, Any]]:
    """(operation id, status, media type, body) of every example response in the document."""
    document = json.loads(DOCUMENT.read_text())
    found = []
    for path_item in document["paths"].values():
        for operation in path_item.values():
            for status, response in operation["responses"].items():
                for media_type, content in response.get("content", {}).items():
                    bodies = [e["value"] for e in content.get("examples", {}).values()]
                    bodies += [content["example"]] if "example" in content else []
                    found += [(operation["operationId"], status, media_type, b) for b in bodies]
    return found


def same(parsed: Any, documented: Any) -> bool:
    """Equal as JSON, timestamps compared as instants (``Z`` comes back as ``+00:00``)."""
    if isinstance(parsed, dict) and isinstance(documented, dict):
        return parsed.keys() == documented.keys() and all(
            same(parsed[key], documented[key]) for key in parsed
        )
    if isinstance(parsed, list) and isinstance(documented, list):
        return len(parsed) == len(documented) and all(map(same, parsed, documented))
    if isinstance(parsed, str) and isinstance(documented, str) and parsed != documented:
        try:
            return datetime.fromisoformat(parsed) == datetime.fromisoformat(documented)
        except ValueError:
            return False
    return bool(parsed == documented)


def as_json(parsed: Any) -> Any:
    """A parsed answer as JSON again: models by ``to_dict``, lists item by item."""
    if isinstance(parsed, list):
        return [as_json(item) for item in parsed]
    return parsed.to_dict() if hasattr(parsed, "to_dict") else parsed


def test_every_documented_response_parses_in_the_generated_client(python_client):
    from stammkunde_client import Client
    from stammkunde_client.models import Problem

    api = python_client / "stammkunde_client" / "api"
    operations = {
        module.stem: importlib.import_module(
            f"stammkunde_client.api.{module.parent.name}.{module.stem}"
        )
        for module in api.glob("*/*.py")
        if module.stem != "__init__"
    }
    client = Client(base_url="http://127.0.0.1", raise_on_unexpected_status=True)
    examples = documented_examples()
    problems = 0
    for operation_id, status, media_type, body in examples:
        response = httpx.Response(int(status), json=body, headers={"content-type": media_type})

        parsed = operations[operation_id]._parse_response(client=client, response=response)

        where = f"{operation_id} {status} {media_type}"
        assert not isinstance(parsed, Problem) or media_type == PROBLEM, where
        problems += isinstance(parsed, Problem)
        assert parsed is not None, where
        assert same(as_json(parsed), body), (where, parsed, body)
    # The error responses show example problems: they parsed as problems.
    assert problems > 0
