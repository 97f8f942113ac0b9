"""What the programme's pages share: reading a form, redirecting with a notice, paging."""

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.console.forms import Message
from app.console.i18n import N_
from app.console.programme_fields import FormReader
from app.console.rendering import locale_of
from app.earning.schemas import Channel
from app.kit.pagination import PageParams
from app.program.schemas import ProgramSettings
from app.program.service import get_program

SECTION = "programme"
BASE = "/admin/programme"

# Where campaigns and reward vouchers apply; none chosen: everywhere.
CHANNELS = (
    (Channel.pos, N_("Till (POS)")),
    (Channel.web, N_("Web shop")),
    (Channel.app, N_("App")),
)
NOT_BEFORE_START = Message(N_("Must be after the start."))

Done = Annotated[str | None, Query(alias="done", max_length=40)]
Cursor = Annotated[str | None, Query(max_length=200)]


def session_of(request: Request) -> AsyncSession:
    session: AsyncSession = request.state.session
    return session


async def program_of(request: Request) -> ProgramSettings:
    return await get_program(session_of(request))


async def form_reader(request: Request, program: ProgramSettings) -> FormReader:
    return FormReader(
        await request.form(),
        locale=locale_of(request),
        currency=program.currency,
        timezone=program.timezone,
    )


def after_change(url: str, what: str) -> RedirectResponse:
    """After a change: back to a page (GET), which shows the notice for ``what``."""
    return RedirectResponse(f"{url}?{urlencode({'done': what})}", status_code=303)


def notice(what: str | None, notices: Mapping[str, str]) -> str | None:
    """The notice for a known ``done`` value; anything else in the address shows nothing."""
    return notices.get(what) if what else None


def page_params(cursor: str | None) -> PageParams:
    return PageParams(cursor=cursor or None)
