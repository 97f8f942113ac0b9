"""The rewards catalogue: what members buy with points, and the voucher each issues."""

from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

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
from app.rewards.schemas import RewardCreate, RewardRead, RewardUpdate
from app.rewards.service import (
    create_reward,
    delete_reward,
    get_reward,
    list_rewards,
    to_read,
    update_reward,
)
from app.tiers.service import list_tiers
from app.vouchers.models import VoucherKind

router = APIRouter(route_class=ConsoleRoute)

URL = f"{BASE}/rewards"
NOTICES = {
    "created": N_("Reward created."),
    "saved": N_("Reward saved."),
    "activated": N_("Reward activated."),
    "deactivated": N_("Reward deactivated."),
    "deleted": N_("Reward deleted."),
}
KINDS = (
    (VoucherKind.amount, N_("Amount off")),
    (VoucherKind.percent, N_("Percent off")),
    (VoucherKind.product, N_("Free product")),
)
PERCENT = Message(N_("Enter a percentage from 0.01 to 100, with at most 2 decimal places."))
PLACEMENTS = (
    Placement(r"an amount voucher needs value", ("value",), Message(N_("Enter the amount off."))),
    Placement(r"a percent voucher needs value", ("value",), PERCENT),
    Placement(
        r"a product voucher needs sku", ("sku",), Message(N_("Enter the SKU of the free product."))
    ),
    Placement(
        r"only a product voucher takes sku",
        ("sku",),
        Message(N_("Only for a free product; leave it empty.")),
    ),
    Placement(
        r"a product voucher takes no value",
        ("value",),
        Message(N_("Leave it empty for a free product.")),
    ),
    Placement(
        r"only a percent voucher takes max_discount",
        ("max_discount",),
        Message(N_("Only for percent off; leave it empty.")),
    ),
    Placement(r"starts_at must be before ends_at", ("ends_at",), NOT_BEFORE_START),
)
NEW_REWARD = {"kind": VoucherKind.amount.value, "active": "on"}


def _percent(reward: RewardRead) -> Decimal | None:
    """A percent voucher's discount in percent (its value is in basis points)."""
    if reward.kind != VoucherKind.percent or reward.value is None:
        return None
    return Decimal(reward.value) / 100


def value_text(reward: RewardRead, program: ProgramSettings, locale: str) -> str:
    """The discount as typed: an amount in major units, or percent (basis points / 100)."""
    if reward.value is None:
        return ""
    if reward.kind == VoucherKind.percent:
        return decimal_text(_percent(reward), locale, places=2)
    return money_text(reward.value, program.currency, locale)


def entered_from(reward: RewardRead, program: ProgramSettings, locale: str) -> dict[str, str]:
    def joined(values: list[Any], separator: str = ",") -> str:
        return separator.join(str(value) for value in values)

    return {
        "name": reward.name,
        "description": reward.description or "",
        "cost_points": str(reward.cost_points),
        "active": "on" if reward.active else "",
        "kind": reward.kind.value,
        "value": value_text(reward, program, locale),
        "sku": reward.sku or "",
        "min_order_total": money_text(reward.min_order_total, program.currency, locale),
        "max_discount": money_text(reward.max_discount, program.currency, locale),
        "valid_days": str(reward.valid_days),
        "channels": joined(reward.channels),
        "categories": joined(reward.categories, ", "),
        "starts_at": local_time_text(reward.starts_at, program.timezone),
        "ends_at": local_time_text(reward.ends_at, program.timezone),
        "stock": "" if reward.stock is None else str(reward.stock),
        "tier_ids": joined(reward.tier_ids),
    }


def read(reader: FormReader) -> Form[RewardCreate]:
    """The whole reward as entered; an edit replaces every field with what the form shows."""
    if reader.entered.get("kind") == VoucherKind.percent:
        reader.percent("value", PERCENT)
    else:
        reader.money("value")
    reader.money("min_order_total")
    reader.money("max_discount")
    reader.moment("starts_at")
    reader.moment("ends_at")
    reader.choices("channels")
    reader.choices("tier_ids")
    reader.listing("categories")
    reader.flag("active")
    return reader.validate(RewardCreate, PLACEMENTS)


async def _form_page(
    request: Request,
    reward: RewardRead | None,
    entered: dict[str, str],
    errors: dict[str, Message] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    return await page(
        request,
        "programme/reward_form.html",
        {
            "section": SECTION,
            "reward": reward,
            "entered": entered,
            "errors": errors or {},
            "kinds": KINDS,
            "channels": CHANNELS,
            "tiers": await list_tiers(session_of(request)),
        },
        status_code=status_code,
    )


@router.get("/rewards")
async def rewards(
    request: Request, user: CurrentUser, done: Done = None, cursor: Cursor = None
) -> Response:
    found, next_cursor = await list_rewards(session_of(request), page_params(cursor))
    return await page(
        request,
        "programme/rewards.html",
        {
            "section": SECTION,
            "rewards": [(read, _percent(read)) for read in map(to_read, found)],
            "next_cursor": next_cursor,
            "notice": notice(done, NOTICES),
        },
    )


@router.get("/rewards/new")
async def new_reward_form(request: Request, user: CurrentUser) -> Response:
    return await _form_page(request, None, dict(NEW_REWARD))


@router.post("/rewards/new")
async def new_reward(request: Request, user: CurrentUser) -> Response:
    form = read(await form_reader(request, await program_of(request)))
    if form.model is None:
        return await _form_page(request, None, form.entered, form.errors, status_code=422)
    await create_reward(session_of(request), form.model)
    return after_change(URL, "created")


@router.get("/rewards/{reward_id}")
async def edit_reward_form(request: Request, reward_id: UUID, user: CurrentUser) -> Response:
    reward = to_read(await get_reward(session_of(request), reward_id))
    entered = entered_from(reward, await program_of(request), locale_of(request))
    return await _form_page(request, reward, entered)


@router.post("/rewards/{reward_id}")
async def edit_reward(request: Request, reward_id: UUID, user: CurrentUser) -> Response:
    session = session_of(request)
    reward = to_read(await get_reward(session, reward_id))
    form = read(await form_reader(request, await program_of(request)))
    if form.model is None:
        return await _form_page(request, reward, form.entered, form.errors, status_code=422)
    # Every field as the form shows it: a field emptied there is cleared.
    await update_reward(session, reward.id, RewardUpdate.model_validate(form.model.model_dump()))
    return after_change(URL, "saved")


@router.post("/rewards/{reward_id}/activate")
async def activate(request: Request, reward_id: UUID, user: CurrentUser) -> Response:
    await update_reward(session_of(request), reward_id, RewardUpdate(active=True))
    return after_change(URL, "activated")


@router.post("/rewards/{reward_id}/deactivate")
async def deactivate(request: Request, reward_id: UUID, user: CurrentUser) -> Response:
    await update_reward(session_of(request), reward_id, RewardUpdate(active=False))
    return after_change(URL, "deactivated")


@router.post("/rewards/{reward_id}/delete")
async def delete(request: Request, reward_id: UUID, user: CurrentUser) -> Response:
    """Asks first; once confirmed, deletes (issued vouchers keep their terms)."""
    session = session_of(request)
    if await is_confirmed(request):
        if await first_submission(session, request, user.api_key.id):
            await delete_reward(session, reward_id)
        return after_change(URL, "deleted")
    reward = await get_reward(session, reward_id)
    _ = gettext(request)
    return await confirmation(
        request,
        title=_("Delete the reward %(name)s?", name=reward.name),
        summary=[
            _("Members can no longer buy it; vouchers already issued stay valid."),
            _("To withdraw it for a while instead, deactivate it."),
        ],
        action=f"{URL}/{reward.id}/delete",
        fields={},
        confirm_label=_("Delete reward"),
        back=f"{URL}/{reward.id}",
        danger=True,
        section=SECTION,
    )
