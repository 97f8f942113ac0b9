"""Campaigns: earn rules a merchant switches on for a while (promotions, stamp cards)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from fastapi import APIRouter, Request, Response

from app.analytics.models import AbcClass
from app.campaigns.models import Campaign, CampaignKind
from app.campaigns.schemas import CampaignCreate, CampaignRead, CampaignUpdate
from app.campaigns.service import (
    create_campaign,
    delete_campaign,
    get_campaign,
    list_campaigns,
    update_campaign,
)
from app.console.actions import confirmation, first_submission, is_confirmed
from app.console.forms import Form, Message
from app.console.i18n import N_
from app.console.programme_fields import (
    FormReader,
    Placement,
    decimal_text,
    local_time_text,
    money_text,
)
from app.console.programme_pages import (
    BASE,
    CHANNELS,
    NOT_BEFORE_START,
    SECTION,
    Cursor,
    Done,
    after_change,
    form_reader,
    notice,
    page_params,
    program_of,
    session_of,
)
from app.console.rendering import gettext, locale_of, page
from app.console.routing import ConsoleRoute, CurrentUser
from app.program.schemas import ProgramSettings
from app.tiers.service import list_tiers

router = APIRouter(route_class=ConsoleRoute)

URL = f"{BASE}/campaigns"
NOTICES = {
    "created": N_("Campaign created."),
    "saved": N_("Campaign saved."),
    "activated": N_("Campaign activated."),
    "deactivated": N_("Campaign deactivated."),
    "deleted": N_("Campaign deleted."),
}
KINDS = (
    (CampaignKind.multiplier, N_("Multiplier: points times a factor")),
    (CampaignKind.bonus_points, N_("Bonus points per purchase")),
    (CampaignKind.per_visit, N_("Points per visit (stamp card)")),
    (CampaignKind.category_multiplier, N_("Multiplier for categories")),
    (CampaignKind.sku_bonus, N_("Bonus points per unit of a product (SKU)")),
)
ABC_CLASSES = tuple((abc_class, abc_class.value) for abc_class in AbcClass)
NEEDED = Message(N_("Required for this kind of campaign."))
PLACEMENTS = (
    Placement(r"needs multiplier and categories", ("multiplier", "categories"), NEEDED),
    Placement(r"needs points and skus", ("points", "skus"), NEEDED),
    Placement(r"needs multiplier", ("multiplier",), NEEDED),
    Placement(r"needs points", ("points",), NEEDED),
    Placement(r"needs categories", ("categories",), NEEDED),
    Placement(r"needs skus", ("skus",), NEEDED),
    Placement(r"starts_at must be before ends_at", ("ends_at",), NOT_BEFORE_START),
)
MULTIPLIER_MESSAGE = Message(
    N_("Enter a number from %(minimum)s to %(maximum)s with at most %(places)s decimal places."),
    {"minimum": 1, "maximum": 100, "places": 4},
)
NEW_CAMPAIGN = {"kind": CampaignKind.multiplier.value, "active": "on", "combinable": "on"}


@dataclass(frozen=True, slots=True)
class Row:
    """A campaign as the list shows it; its wall-clock times in the programme's zone."""

    campaign: CampaignRead
    starts_at: datetime | None
    ends_at: datetime | None


def _in_zone(moment: datetime | None, program: ProgramSettings) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=ZoneInfo(program.timezone))


def _row(campaign: Campaign, program: ProgramSettings) -> Row:
    read = CampaignRead.model_validate(campaign)
    return Row(read, _in_zone(read.starts_at, program), _in_zone(read.ends_at, program))


def entered_from(campaign: CampaignRead, program: ProgramSettings, locale: str) -> dict[str, str]:
    def joined(values: list[Any], separator: str = ",") -> str:
        return separator.join(str(value) for value in values)

    return {
        "name": campaign.name,
        "kind": campaign.kind.value,
        "active": "on" if campaign.active else "",
        "multiplier": decimal_text(campaign.multiplier, locale),
        "points": "" if campaign.points is None else str(campaign.points),
        "categories": joined(campaign.categories, ", "),
        "skus": joined(campaign.skus, ", "),
        "starts_at": local_time_text(campaign.starts_at),
        "ends_at": local_time_text(campaign.ends_at),
        "weekdays": joined(campaign.weekdays),
        "channels": joined(campaign.channels),
        "store_ids": joined(campaign.store_ids, ", "),
        "min_total": money_text(campaign.min_total, program.currency, locale),
        "tier_ids": joined(campaign.tier_ids),
        "segment": campaign.segment or "",
        "abc_classes": joined(campaign.abc_classes),
        "combinable": "on" if campaign.combinable else "",
        "max_points_per_purchase": ""
        if campaign.max_points_per_purchase is None
        else str(campaign.max_points_per_purchase),
    }


def read(reader: FormReader) -> Form[CampaignCreate]:
    """The whole campaign as entered; an edit replaces every field with what the form shows."""
    reader.decimal("multiplier", MULTIPLIER_MESSAGE)
    reader.wall_clock("starts_at")
    reader.wall_clock("ends_at")
    reader.choices("weekdays", whole_numbers=True)
    for name in ("channels", "tier_ids", "abc_classes"):
        reader.choices(name)
    for name in ("categories", "skus", "store_ids"):
        reader.listing(name)
    reader.money("min_total")
    reader.flag("active")
    reader.flag("combinable")
    return reader.validate(CampaignCreate, PLACEMENTS)


async def _form_page(
    request: Request,
    campaign: CampaignRead | None,
    entered: dict[str, str],
    errors: dict[str, Message] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    day_names = get_day_names("wide", locale=locale_of(request))
    return await page(
        request,
        "programme/campaign_form.html",
        {
            "section": SECTION,
            "campaign": campaign,
            "entered": entered,
            "errors": errors or {},
            "kinds": KINDS,
            "channels": CHANNELS,
            "abc_classes": ABC_CLASSES,
            "weekdays": [(day, day_names[day - 1]) for day in range(1, 8)],
            "tiers": await list_tiers(session_of(request)),
        },
        status_code=status_code,
    )


@router.get("/campaigns")
async def campaigns(
    request: Request, user: CurrentUser, done: Done = None, cursor: Cursor = None
) -> Response:
    program = await program_of(request)
    found, next_cursor = await list_campaigns(session_of(request), page_params(cursor))
    return await page(
        request,
        "programme/campaigns.html",
        {
            "section": SECTION,
            "rows": [_row(campaign, program) for campaign in found],
            "next_cursor": next_cursor,
            "kinds": dict(KINDS),
            "channels": dict(CHANNELS),
            "notice": notice(done, NOTICES),
        },
    )


@router.get("/campaigns/new")
async def new_campaign_form(request: Request, user: CurrentUser) -> Response:
    return await _form_page(request, None, dict(NEW_CAMPAIGN))


@router.post("/campaigns/new")
async def new_campaign(request: Request, user: CurrentUser) -> Response:
    form = read(await form_reader(request, await program_of(request)))
    if form.model is None:
        return await _form_page(request, None, form.entered, form.errors, status_code=422)
    await create_campaign(session_of(request), form.model)
    return after_change(URL, "created")


@router.get("/campaigns/{campaign_id}")
async def edit_campaign_form(request: Request, campaign_id: UUID, user: CurrentUser) -> Response:
    campaign = CampaignRead.model_validate(await get_campaign(session_of(request), campaign_id))
    entered = entered_from(campaign, await program_of(request), locale_of(request))
    return await _form_page(request, campaign, entered)


@router.post("/campaigns/{campaign_id}")
async def edit_campaign(request: Request, campaign_id: UUID, user: CurrentUser) -> Response:
    session = session_of(request)
    campaign = CampaignRead.model_validate(await get_campaign(session, campaign_id))
    form = read(await form_reader(request, await program_of(request)))
    if form.model is None:
        return await _form_page(request, campaign, form.entered, form.errors, status_code=422)
    # Every field as the form shows it: a field emptied there is cleared.
    change = CampaignUpdate.model_validate(form.model.model_dump())
    await update_campaign(session, campaign.id, change)
    return after_change(URL, "saved")


@router.post("/campaigns/{campaign_id}/activate")
async def activate(request: Request, campaign_id: UUID, user: CurrentUser) -> Response:
    await update_campaign(session_of(request), campaign_id, CampaignUpdate(active=True))
    return after_change(URL, "activated")


@router.post("/campaigns/{campaign_id}/deactivate")
async def deactivate(request: Request, campaign_id: UUID, user: CurrentUser) -> Response:
    await update_campaign(session_of(request), campaign_id, CampaignUpdate(active=False))
    return after_change(URL, "deactivated")


@router.post("/campaigns/{campaign_id}/delete")
async def delete(request: Request, campaign_id: UUID, user: CurrentUser) -> Response:
    """Asks first; once confirmed, deletes (purchases keep what they earned with it)."""
    session = session_of(request)
    if await is_confirmed(request):
        if await first_submission(session, request, user.api_key.id):
            await delete_campaign(session, campaign_id)
        return after_change(URL, "deleted")
    campaign = await get_campaign(session, campaign_id)
    _ = gettext(request)
    return await confirmation(
        request,
        title=_("Delete the campaign %(name)s?", name=campaign.name),
        summary=[
            _("Purchases from now on earn without it; purchases made keep what they earned."),
            _("To pause a campaign instead, deactivate it."),
        ],
        action=f"{URL}/{campaign.id}/delete",
        fields={},
        confirm_label=_("Delete campaign"),
        back=f"{URL}/{campaign.id}",
        danger=True,
        section=SECTION,
    )
