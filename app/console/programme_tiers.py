"""The tier ladder: list, create, edit and delete tiers (deleting is how a tier ends)."""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

from app.console.actions import confirmation, first_submission, is_confirmed
from app.console.forms import Form, Message
from app.console.i18n import N_
from app.console.programme_fields import FormReader, decimal_text
from app.console.programme_pages import (
    BASE,
    SECTION,
    Done,
    after_change,
    form_reader,
    notice,
    program_of,
    session_of,
)
from app.console.rendering import gettext, locale_of, page
from app.console.routing import ConsoleRoute, CurrentUser
from app.tiers.errors import TierExists, TierInUse, TierThresholdsOutOfOrder
from app.tiers.models import Tier
from app.tiers.schemas import TierCreate, TierUpdate
from app.tiers.service import create_tier, delete_tier, get_tier, list_tiers, update_tier

router = APIRouter(route_class=ConsoleRoute)

URL = f"{BASE}/tiers"
NOTICES = {
    "created": N_("Tier created."),
    "saved": N_("Tier saved."),
    "deleted": N_("Tier deleted."),
}
MULTIPLIER_MESSAGE = Message(
    N_("Enter a number from %(minimum)s to %(maximum)s with at most %(places)s decimal places."),
    {"minimum": 1, "maximum": 100, "places": 4},
)
TAKEN = {
    "name": Message(N_("Another tier has this name.")),
    "rank": Message(N_("Another tier has this rank.")),
}
OUT_OF_ORDER = Message(
    N_(
        "Thresholds must rise with the rank: more points than every lower tier, fewer than every higher one."
    )
)
IN_USE = N_(
    "Members hold this tier, so it cannot be deleted. Change it instead, or delete it once "
    "reviews have moved them to another tier."
)
NEW_TIER = {"multiplier": "1"}


def entered_from(tier: Tier, locale: str) -> dict[str, str]:
    return {
        "name": tier.name,
        "rank": str(tier.rank),
        "threshold": str(tier.threshold),
        "multiplier": decimal_text(tier.multiplier, locale),
        "benefits": "\n".join(tier.benefits),
    }


def read(reader: FormReader) -> Form[TierCreate]:
    """The whole tier as entered; an edit replaces every field with what the form shows."""
    reader.decimal("multiplier", MULTIPLIER_MESSAGE)
    reader.lines("benefits")
    return reader.validate(TierCreate)


async def _form_page(
    request: Request,
    tier: Tier | None,
    form: Form[Any] | None = None,
    *,
    entered: Mapping[str, str] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    return await page(
        request,
        "programme/tier_form.html",
        {
            "section": SECTION,
            "tier": tier,
            "ladder": await list_tiers(session_of(request)),
            "entered": form.entered if form else entered or {},
            "errors": form.errors if form else {},
            "problem": problem,
        },
        status_code=status_code,
    )


def _refusal(reader: FormReader, error: TierExists | TierThresholdsOutOfOrder) -> Form[Any]:
    """The ladder's checks, next to the fields they are about."""
    if isinstance(error, TierExists):
        for field in error.extra.get("fields", ()):
            reader.refuse(field, TAKEN[field])
    else:
        reader.refuse("threshold", OUT_OF_ORDER)
    return reader.result()


@router.get("/tiers")
async def tiers(request: Request, user: CurrentUser, done: Done = None) -> Response:
    return await page(
        request,
        "programme/tiers.html",
        {
            "section": SECTION,
            "tiers": await list_tiers(session_of(request)),
            "notice": notice(done, NOTICES),
        },
    )


@router.get("/tiers/new")
async def new_tier_form(request: Request, user: CurrentUser) -> Response:
    return await _form_page(request, None, entered=NEW_TIER)


@router.post("/tiers/new")
async def new_tier(request: Request, user: CurrentUser) -> Response:
    reader = await form_reader(request, await program_of(request))
    form = read(reader)
    if form.model is not None:
        try:
            await create_tier(session_of(request), form.model)
        except (TierExists, TierThresholdsOutOfOrder) as error:
            form = _refusal(reader, error)
    if form.model is None:
        return await _form_page(request, None, form, status_code=422)
    return after_change(URL, "created")


@router.get("/tiers/{tier_id}")
async def edit_tier_form(request: Request, tier_id: UUID, user: CurrentUser) -> Response:
    tier = await get_tier(session_of(request), tier_id)
    return await _form_page(request, tier, entered=entered_from(tier, locale_of(request)))


@router.post("/tiers/{tier_id}")
async def edit_tier(request: Request, tier_id: UUID, user: CurrentUser) -> Response:
    session = session_of(request)
    tier = await get_tier(session, tier_id)
    reader = await form_reader(request, await program_of(request))
    form = read(reader)
    if form.model is not None:
        try:
            await update_tier(session, tier.id, TierUpdate.model_validate(form.model.model_dump()))
        except (TierExists, TierThresholdsOutOfOrder) as error:
            form = _refusal(reader, error)
    if form.model is None:
        return await _form_page(request, tier, form, status_code=422)
    return after_change(URL, "saved")


@router.post("/tiers/{tier_id}/delete")
async def delete(request: Request, tier_id: UUID, user: CurrentUser) -> Response:
    """Asks first; once confirmed, deletes, unless members hold the tier."""
    session = session_of(request)
    if await is_confirmed(request):
        try:
            # A refusal undoes the record of this confirmation too, so it can be tried again.
            async with session.begin_nested():
                if await first_submission(session, request, user.api_key.id):
                    await delete_tier(session, tier_id)
        except TierInUse:
            tier = await get_tier(session, tier_id)
            entered = entered_from(tier, locale_of(request))
            return await _form_page(request, tier, entered=entered, problem=IN_USE, status_code=409)
        return after_change(URL, "deleted")
    tier = await get_tier(session, tier_id)
    _ = gettext(request)
    return await confirmation(
        request,
        title=_("Delete the tier %(name)s?", name=tier.name),
        summary=[
            _("The tier leaves the ladder: nobody reaches it or earns its multiplier any more."),
            _("A tier that members hold cannot be deleted."),
        ],
        action=f"{URL}/{tier.id}/delete",
        fields={},
        confirm_label=_("Delete tier"),
        back=f"{URL}/{tier.id}",
        danger=True,
        section=SECTION,
    )
