"""A webhook endpoint is enabled or disabled with a JSON boolean, as the document says:
`0`, `1` or `"false"` is refused and the endpoint stays as it was."""

import pytest

from tests.factories import assert_problem
from tests.webhooks.support import create_endpoint

PATH = "/v1/webhook-endpoints"
URL = "http://127.0.0.1:9/hooks"  # allowed here: these apps allow private addresses


@pytest.mark.parametrize("enabled", [0, 1, "false"])
async def test_enabled_is_a_json_boolean(client, admin, enabled):
    created = await create_endpoint(client, admin, URL)

    response = await client.patch(
        f"{PATH}/{created['id']}", json={"enabled": enabled}, headers=admin
    )

    problem = assert_problem(response, 422, "validation_error")
    assert [error["loc"] for error in problem["errors"]] == [["body", "enabled"]]
    fetched = (await client.get(f"{PATH}/{created['id']}", headers=admin)).json()
    assert fetched["enabled"] is True
