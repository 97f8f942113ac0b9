"""Pages: Jinja2 templates rendered with the reader's language and the programme's formats."""

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app import __version__
from app.console import sessions
from app.console.i18n import LOCALES, Formatter, translate
from app.kit.runtime import get_runtime
from app.program.schemas import ProgramSettings
from app.program.service import get_program

TEMPLATES_DIRECTORY = Path(__file__).parent / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIRECTORY),
    autoescape=select_autoescape(["html", "svg"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


def locale_of(request: Request) -> str:
    locale: str = request.state.locale
    return locale


def gettext(request: Request) -> partial[str]:
    """``_`` for the request's language, for text built in code rather than in a template."""
    return partial(translate, locale_of(request))


def _common(request: Request, program: ProgramSettings) -> dict[str, Any]:
    locale = locale_of(request)
    user: sessions.ConsoleUser | None = getattr(request.state, "console_user", None)
    secret_key = get_runtime(request).secret_key
    return {
        "request": request,
        "locale": locale,
        "locales": LOCALES,
        "_": partial(translate, locale),
        "fmt": Formatter(locale, program.timezone),
        "program": program,
        "user": user,
        "csrf_token": sessions.csrf_token(secret_key, user.token) if user else None,
        "version": __version__,
    }


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    program: ProgramSettings,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    body = environment.get_template(template).render({**_common(request, program), **context})
    return HTMLResponse(body, status_code=status_code)


async def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A whole page, or the fragment an htmx request asked for (the template decides)."""
    program = await get_program(request.state.session)
    return render(request, template, context or {}, program, status_code=status_code)
