from typing import Any

import httpx
import pytest

from tests.factories import Headers


async def upload(
    client: httpx.AsyncClient, admin: Headers, text: str, **params: Any
) -> httpx.Response:
    """POST a member file as a merchant's script would."""
    return await client.post(
        "/v1/imports/members",
        content=text.encode(),
        params=params,
        headers={**admin, "Content-Type": "text/csv"},
    )


async def imported(
    client: httpx.AsyncClient, admin: Headers, text: str, **params: Any
) -> dict[str, Any]:
    response = await upload(client, admin, text, **params)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


@pytest.fixture
def csv_text() -> str:
    return (
        "external_id,card_number,email,phone,name,birthdate,points\n"
        "crm-1,2712345678901236,Anna@Example.com,030 1234567,Anna Schmidt,1980-02-01,250\n"
        "crm-2,,ben@example.com,+49 30 7654321,Ben Meyer,12.03.1975,0\n"
        "crm-3,,,,Carla,,\n"
    )
