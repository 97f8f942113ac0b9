"""The Python client generated from openapi/openapi.json runs a till's and a webshop's day."""

import asyncio
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.api_keys.models import Scope
from tests.clients.support import EXPECTED_SUMMARY, PROJECT_ROOT, generate_python_client, run
from tests.conftest import create_key
from tests.factories import assert_ledger_verifies

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
