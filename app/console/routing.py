"""How a console request runs: one transaction, a login, CSRF checks, HTML errors.

``ConsoleRoute`` is the console's ``UnitOfWorkRoute``: it commits after the page was built
and rolls back on any error, but answers errors with a page instead of problem+json, and
sends everyone who is not logged in to the login page. ``CurrentUser`` is the login; for a
request that changes something it also checks the CSRF token and the origin.
"""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from app.console import sessions
from app.console.i18n import LANGUAGE_COOKIE, N_, negotiate
from app.console.rendering import render
from app.kit.errors import StammkundeError
from app.kit.request_checks import NUL, refuse_nul_characters
from app.kit.runtime import get_runtime
from app.program.schemas import ProgramSettings

PREFIX = "/admin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

# No inline script or style anywhere: the console's pages allow only their own files.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class LoginRequired(Exception):
    """No valid console session: the answer is the login page."""


class CsrfRefused(StammkundeError):
    status = 403
    code = "csrf_failed"
    title = N_("The form has expired")


def is_local(request: Request) -> bool:
    return request.url.hostname in LOCAL_HOSTS


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None
) -> None:
    """Cookies of the console: HttpOnly, SameSite=Strict, Secure unless on this machine."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=not is_local(request),
    )


def safe_next(target: str | None) -> str:
    """Where to go after login or a language switch: only somewhere in the console."""
    if target and target.startswith(PREFIX) and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return PREFIX


def _login_redirect(request: Request) -> Response:
    login = f"{PREFIX}/login"
    if request.method in SAFE_METHODS:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login += f"?next={quote(target, safe='')}"
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": login})
    return RedirectResponse(login, status_code=303)


def _same_origin(request: Request) -> bool:
    # Behind a TLS proxy the scheme differs; the host the browser sees must not.
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


async def _presented_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    value = (await request.form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else None


async def current_user(request: Request) -> sessions.ConsoleUser:
    secret_key = get_runtime(request).secret_key
    token = request.cookies.get(sessions.SESSION_COOKIE)
    user = token and await sessions.resume(request.state.session, secret_key, token)
    if not user:
        raise LoginRequired
    if request.method not in SAFE_METHODS:
        expected = sessions.csrf_token(secret_key, user.token)
        if not _same_origin(request) or not sessions.tokens_match(
            expected, await _presented_csrf(request)
        ):
            raise CsrfRefused("Reload the page and try again.")
    request.state.console_user = user
    return user


CurrentUser = Annotated[sessions.ConsoleUser, Depends(current_user)]


def error_page(request: Request, error: StammkundeError | RequestValidationError) -> Response:
    if isinstance(error, StammkundeError):
        status, title, detail = error.status, error.title, error.detail
    else:
        status, title = 422, N_("The request could not be read")
        detail = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
    # The programme's settings may be what failed to load: the defaults format well enough.
    return render(
        request,
        "error.html",
        {"title": title, "detail": detail, "status": status},
        ProgramSettings(),
        status_code=status,
    )


async def _refuse_nul_in_form(request: Request) -> None:
    """U+0000 arrives percent-encoded in a form, where the raw-body check cannot see it."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return
    form = await request.form()
    fields = [
        name
        for name, value in form.multi_items()
        if NUL in name or (isinstance(value, str) and NUL in value)
    ]
    if fields:
        raise RequestValidationError(
            [
                {"type": "string_nul", "loc": ("body", name), "msg": "Text must not contain U+0000"}
                for name in fields
            ]
        )


class ConsoleRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle_console_request(request: Request) -> Response:
            request.state.locale = negotiate(
                request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language")
            )
            async with get_runtime(request).sessionmaker() as session:
                request.state.session = session
                try:
                    await refuse_nul_characters(request)
                    await _refuse_nul_in_form(request)
                    response = await handler(request)
                    await session.commit()
                except LoginRequired:
                    await session.rollback()
                    response = _login_redirect(request)
                except (StammkundeError, RequestValidationError) as error:
                    await session.rollback()
                    response = error_page(request, error)
                except BaseException:
                    await session.rollback()
                    raise
            response.headers.update(SECURITY_HEADERS)
            response.headers.setdefault("Content-Language", request.state.locale)
            response.headers["Vary"] = "Cookie, Accept-Language"
            return response

        return handle_console_request
