"""Logging in to the console, staying logged in, CSRF, cookies and the language choice."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.api_keys.models import Scope
from app.console.models import ConsoleSession
from tests.conftest import bearer, create_key
from tests.console.conftest import ConsoleClient, csrf_of


async def sessions_in_database(app: FastAPI) -> int:
    async with app.state.runtime.sessionmaker() as session:
        count: int = await session.scalar(select(func.count()).select_from(ConsoleSession))
        return count


async def test_pages_send_a_visitor_without_a_login_to_the_login_page(
    anonymous_console: ConsoleClient,
) -> None:
    response = await anonymous_console.get("/admin/dashboard?from=2026-01-01")
    assert response.status_code == 303
    assert (
        response.headers["location"] == "/admin/login?next=%2Fadmin%2Fdashboard%3Ffrom%3D2026-01-01"
    )
    login = await anonymous_console.get(response.headers["location"])
    assert login.status_code == 200
    assert 'name="api_key"' in login.text
    assert 'value="/admin/dashboard?from=2026-01-01"' in login.text


async def test_htmx_requests_are_told_to_load_the_login_page(
    anonymous_console: ConsoleClient,
) -> None:
    response = await anonymous_console.get("/admin/dashboard", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/admin/login")


async def test_an_admin_key_logs_in_into_a_session_cookie(
    app: FastAPI, anonymous_console: ConsoleClient, admin_key: str
) -> None:
    login = await anonymous_console.get("/admin/login")
    response = await anonymous_console.post(
        "/admin/login",
        data={
            "api_key": f"  {admin_key} ",
            "csrf_token": csrf_of(login.text),
            "next": "/admin/codes",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/codes"
    cookie = next(
        header
        for header in response.headers.get_list("set-cookie")
        if header.startswith("stammkunde_console=")
    )
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/admin"} <= attributes
    assert "secure" not in attributes  # 127.0.0.1: plain http is how it is reached here
    assert admin_key not in cookie
    assert await sessions_in_database(app) == 1
    assert (await anonymous_console.get("/admin/dashboard")).status_code == 200


async def test_the_cookie_is_secure_when_the_console_is_reached_by_name(
    app: FastAPI, admin_key: str
) -> None:
    async with ConsoleClient(
        transport=httpx.ASGITransport(app=app), base_url="https://loyalty.example"
    ) as browser:
        await browser.log_in(admin_key)
        response = await browser.post(
            "/admin/login",
            data={
                "api_key": admin_key,
                "csrf_token": csrf_of((await browser.get("/admin/login")).text),
            },
        )
    assert "secure" in response.headers["set-cookie"].lower()


@pytest.mark.parametrize("scopes", [(Scope.pos,), (Scope.shop, Scope.partner)])
async def test_keys_without_the_admin_scope_cannot_log_in(
    app: FastAPI, anonymous_console: ConsoleClient, scopes: tuple[Scope, ...]
) -> None:
    key = await create_key(app, *scopes)
    login = await anonymous_console.get("/admin/login")
    response = await anonymous_console.post(
        "/admin/login", data={"api_key": key, "csrf_token": csrf_of(login.text)}
    )
    assert response.status_code == 401
    assert "not an admin key" in response.text
    assert await sessions_in_database(app) == 0


@pytest.mark.parametrize("presented", ["stk_nonsense", "", "x" * 200])
async def test_unknown_keys_cannot_log_in(
    app: FastAPI, anonymous_console: ConsoleClient, presented: str
) -> None:
    login = await anonymous_console.get("/admin/login")
    response = await anonymous_console.post(
        "/admin/login", data={"api_key": presented, "csrf_token": csrf_of(login.text)}
    )
    assert response.status_code in {401, 422}
    assert "stammkunde_console=" not in response.headers.get("set-cookie", "")
    assert await sessions_in_database(app) == 0


async def test_the_login_form_is_protected_against_cross_site_submission(
    app: FastAPI, anonymous_console: ConsoleClient, admin_key: str
) -> None:
    # A page elsewhere cannot read the token, nor set the nonce cookie it belongs to.
    response = await anonymous_console.post(
        "/admin/login", data={"api_key": admin_key, "csrf_token": "guessed"}
    )
    assert response.status_code == 403
    assert await sessions_in_database(app) == 0


async def test_logging_out_ends_the_session_in_the_database(
    app: FastAPI, console: ConsoleClient
) -> None:
    stolen = console.cookies.get("stammkunde_console")
    response = await console.post_form("/admin/logout")
    assert response.status_code == 303
    assert await sessions_in_database(app) == 0
    # The cookie, kept by someone, leads nowhere any more.
    console.cookies.set("stammkunde_console", stolen or "", domain="127.0.0.1", path="/admin")
    assert (await console.get("/admin/dashboard")).status_code == 303


async def test_revoking_the_admin_key_ends_its_console_sessions(
    client: httpx.AsyncClient, console: ConsoleClient, admin: dict[str, str], app: FastAPI
) -> None:
    other_admin = await create_key(app, Scope.admin, name="other admin")
    keys = (await client.get("/v1/api-keys", headers=bearer(other_admin))).json()["items"]
    logged_in = next(key for key in keys if key["name"] == "test admin")
    revoked = await client.delete(f"/v1/api-keys/{logged_in['id']}", headers=bearer(other_admin))
    assert revoked.status_code == 204
    assert (await console.get("/admin/dashboard")).status_code == 303


async def test_a_change_without_the_csrf_token_is_refused(
    app: FastAPI, console: ConsoleClient
) -> None:
    response = await console.post("/admin/logout", data={})
    assert response.status_code == 403
    assert "The form has expired" in response.text
    assert await sessions_in_database(app) == 1
    wrong = await console.post("/admin/logout", data={"csrf_token": "0" * 64})
    assert wrong.status_code == 403


async def test_a_change_from_another_origin_is_refused_even_with_the_token(
    app: FastAPI, console: ConsoleClient
) -> None:
    response = await console.post(
        "/admin/logout",
        data={"csrf_token": console.csrf_token},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert await sessions_in_database(app) == 1


async def test_htmx_sends_the_csrf_token_as_a_header(console: ConsoleClient) -> None:
    response = await console.post(
        "/admin/logout", headers={"X-CSRF-Token": console.csrf_token, "Origin": "http://127.0.0.1"}
    )
    assert response.status_code == 303


async def test_pages_carry_security_headers(console: ConsoleClient) -> None:
    response = await console.get("/admin/dashboard")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert '<script src="/admin/static/htmx' in response.text
    assert (await console.get("/admin/static/htmx-2.0.11.min.js")).status_code == 200


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/admin/members", "/admin/members"),
        ("https://evil.example/admin", "/admin"),
        ("//evil.example/admin", "/admin"),
        ("/elsewhere", "/admin"),
    ],
)
async def test_the_language_switch_stays_in_the_console(
    anonymous_console: ConsoleClient, target: str, expected: str
) -> None:
    response = await anonymous_console.get("/admin/language/de", params={"next": target})
    assert response.status_code == 303
    assert response.headers["location"] == expected
    login = await anonymous_console.get("/admin/login", headers={"Accept-Language": "en"})
    assert '<html lang="de">' in login.text
    assert "Anmelden" in login.text


async def test_the_browser_language_is_used_until_one_is_chosen(
    anonymous_console: ConsoleClient,
) -> None:
    german = await anonymous_console.get("/admin/login", headers={"Accept-Language": "de-AT"})
    assert "Bei der Konsole anmelden" in german.text
    assert german.headers["content-language"] == "de"
    await anonymous_console.get("/admin/language/en")
    chosen = await anonymous_console.get("/admin/login", headers={"Accept-Language": "de-AT"})
    assert "Log in to the console" in chosen.text


async def test_a_nul_character_in_a_form_is_an_error_page_not_a_crash(
    console: ConsoleClient,
) -> None:
    response = await console.post("/admin/login", data={"api_key": "stk_\x00", "csrf_token": "x"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
