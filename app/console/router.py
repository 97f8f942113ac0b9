"""The console's own routes (login, logout, language) and every page's router."""

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.api_keys import service as api_keys
from app.api_keys.models import Scope
from app.console import codes, dashboard, members, programme, sessions, webhooks
from app.console.i18n import LANGUAGE_COOKIE, LOCALES, N_
from app.console.rendering import page
from app.console.routing import PREFIX, ConsoleRoute, CurrentUser, safe_next, set_cookie
from app.kit.runtime import get_runtime

STATIC_DIRECTORY = Path(__file__).parent / "static"
STATIC_PATH = f"{PREFIX}/static"

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)

LOGIN_COOKIE_SECONDS = 3600
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
NextPage = Annotated[str | None, Query(alias="next", max_length=2000)]


async def _login_page(
    request: Request, next_page: str | None, error: str | None = None, status_code: int = 200
) -> Response:
    nonce = sessions.new_nonce()
    response = await page(
        request,
        "login.html",
        {
            "login_csrf": sessions.login_csrf_token(get_runtime(request).secret_key, nonce),
            "next_page": safe_next(next_page),
            "error": error,
        },
        status_code=status_code,
    )
    set_cookie(response, request, sessions.LOGIN_COOKIE, nonce, LOGIN_COOKIE_SECONDS)
    return response


@router.get("")
async def home() -> Response:
    return RedirectResponse(f"{PREFIX}/dashboard", status_code=303)


@router.get("/login")
async def login_form(request: Request, next_page: NextPage = None) -> Response:
    return await _login_page(request, next_page)


@router.post("/login")
async def log_in(
    request: Request,
    api_key: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=200)],
    next_page: Annotated[str | None, Form(alias="next", max_length=2000)] = None,
) -> Response:
    runtime = get_runtime(request)
    nonce = request.cookies.get(sessions.LOGIN_COOKIE)
    if nonce is None or not sessions.tokens_match(
        sessions.login_csrf_token(runtime.secret_key, nonce), csrf_token
    ):
        return await _login_page(
            request, next_page, N_("The form has expired. Please try again."), 403
        )
    session = request.state.session
    key = await api_keys.authenticate(session, runtime.secret_key, api_key.strip())
    if key is None or Scope.admin not in key.scopes:
        return await _login_page(
            request, next_page, N_("This key is unknown, revoked or not an admin key."), 401
        )
    lifetime = timedelta(hours=runtime.settings.console_session_hours)
    token = await sessions.start(session, runtime.secret_key, key, lifetime)
    response = RedirectResponse(safe_next(next_page), status_code=303)
    set_cookie(response, request, sessions.SESSION_COOKIE, token, int(lifetime.total_seconds()))
    response.delete_cookie(sessions.LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
async def log_out(request: Request, user: CurrentUser) -> Response:
    await sessions.end(request.state.session, get_runtime(request).secret_key, user.token)
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(sessions.SESSION_COOKIE, path=PREFIX)
    return response


@router.get("/language/{locale}")
async def choose_language(request: Request, locale: str, next_page: NextPage = None) -> Response:
    """A link, not a form: choosing the language changes nothing but this browser's cookie."""
    response = RedirectResponse(safe_next(next_page), status_code=303)
    if locale in LOCALES:
        set_cookie(response, request, LANGUAGE_COOKIE, locale, LANGUAGE_COOKIE_SECONDS)
    return response


for section in (dashboard, members, programme, codes, webhooks):
    router.include_router(section.router)
