"""A TypeScript client (openapi-typescript types + openapi-fetch) runs a till's and a webshop's
day from Node.js, type-checked against the committed document first."""

import asyncio
import json
import os

from tests.clients.support import EXPECTED_SUMMARY, TYPESCRIPT_PROJECT, run
from tests.factories import assert_ledger_verifies


async def test_a_till_and_a_webshop_work_through_the_typescript_client(
    node_bin, server, admin_key, app
):
    environment = {
        **os.environ,
        "STAMMKUNDE_BASE_URL": server.base_url,
        "STAMMKUNDE_ADMIN_KEY": admin_key,
        "NO_COLOR": "1",
    }
    command = [str(node_bin / "tsx"), "src/flow.ts"]

    done = await asyncio.to_thread(run, command, TYPESCRIPT_PROJECT, environment)

    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary == EXPECTED_SUMMARY
    await assert_ledger_verifies(app)
