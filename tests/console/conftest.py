"""A browser's view of the console without a browser: an httpx client that keeps cookies.

``console`` is logged in with an admin key; ``console.post_form(url, data)`` adds the CSRF
token that the console's pages carry, as a browser submitting their forms would.
"""

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleClient(httpx.AsyncClient):
    csrf_token: str = ""

    async def log_in(self, api_key: str, locale: str = "en") -> httpx.Response:
        # Like a browser, every later request asks for the same language.
        self.headers["Accept-Language"] = locale
        login = await self.get("/admin/login")
        response = await self.post(
            "/admin/login", data={"api_key": api_key, "csrf_token": csrf_of(login.text)}
        )
        assert response.status_code == 303, response.text
        # Any page carries the token; the code look-up is the one that reads nothing.
        page = await self.get("/admin/codes")
        assert page.status_code == 200, page.text
        self.csrf_token = csrf_of(page.text)
        return page

    async def post_form(self, url: str, data: dict[str, Any] | None = None) -> httpx.Response:
        return await self.post(url, data={**(data or {}), "csrf_token": self.csrf_token})


def csrf_of(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match is not None, "the page carries no CSRF token"
    return match.group(1)


@pytest.fixture
async def anonymous_console(app: FastAPI) -> AsyncIterator[ConsoleClient]:
    # 127.0.0.1: the console's cookies are Secure everywhere else, and httpx keeps to that.
    async with ConsoleClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as http:
        yield http


@pytest.fixture
async def console(anonymous_console: ConsoleClient, admin_key: str) -> ConsoleClient:
    """Logged in with an admin key, English."""
    await anonymous_console.log_in(admin_key)
    return anonymous_console
