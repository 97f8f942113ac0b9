"""Vouchers and gifts: look a code up as a person types it; campaign codes in bulk as CSV.

A look-up is a POST, so that the bearer code travels in the body and never in a URL (where
browser history, proxies and access logs would keep it). Failed look-ups count against
the logged-in admin key's budget, exactly as the API's do.

Campaign codes are stored only as an HMAC: the one answer that creates a batch is the only
time they exist in clear, so that answer is the CSV file itself, streamed as it is written.
"""

import io
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from app.console import forms
from app.console.actions import ACTION_KEY_FIELD, first_submission, new_action_key
from app.console.i18n import N_
from app.console.programme_fields import FormReader
from app.console.programme_rewards import PERCENT, PLACEMENTS
from app.console.rendering import gettext, locale_of, page
from app.console.routing import ConsoleRoute, CurrentUser
from app.db.base import utcnow
from app.earning.schemas import Channel
from app.exports.formats import Format, Writer
from app.gifts import service as gifts
from app.gifts.errors import GiftCodeInvalid, GiftNotFound
from app.gifts.models import Gift
from app.gifts.service import GIFT_CODE_PREFIX
from app.kit import codes
from app.kit.auth import RateLimited
from app.kit.pagination import MAX_LIMIT, PageParams
from app.kit.runtime import get_runtime
from app.members.service import get_member
from app.program import calendar
from app.program.service import get_program
from app.rewards.service import get_reward, list_rewards
from app.vouchers import service as vouchers
from app.vouchers.errors import RewardNotFound, VoucherCodeInvalid, VoucherNotFound
from app.vouchers.lookup import voucher_by_code
from app.vouchers.models import Voucher, VoucherKind
from app.vouchers.schemas import MAX_BATCH, VoucherBatchCreate, VoucherTerms

router = APIRouter(prefix="/codes", route_class=ConsoleRoute)

SECTION = "codes"
HISTORY_PAGE = 50
MAX_CODE_INPUT = 100
CSV_CHUNK_ROWS = 1000
GIFT_CODE_LENGTH = len(GIFT_CODE_PREFIX) + codes.RANDOM_SYMBOLS + 1
CSV_COLUMNS = (
    "code",
    "kind",
    "value",
    "sku",
    "min_order_total",
    "max_discount",
    "channels",
    "categories",
    "currency",
    "valid_from",
    "expires_at",
    "batch_id",
)

NO_CODE = N_("Enter a voucher or gift code.")
UNKNOWN = N_("No voucher or gift has this code.")
MISTYPED = N_("This code is mistyped: check it and enter it again.")
LIMITED = N_("Too many unknown or mistyped codes were looked up: wait a minute and try again.")

VOUCHER_KINDS = {
    VoucherKind.amount: N_("Amount off"),
    VoucherKind.percent: N_("Percent off"),
    VoucherKind.product: N_("Free product"),
}
CHANNELS = {Channel.pos: N_("Till"), Channel.web: N_("Web shop"), Channel.app: N_("App")}
VOUCHER_STATUSES = {
    "active": N_("Active"),
    "redeemed": N_("Redeemed"),
    "expired": N_("Expired"),
    "cancelled": N_("Cancelled"),
    "gifted": N_("Held in a gift"),
}
GIFT_STATUSES = {
    "open": N_("Open"),
    "claimed": N_("Claimed"),
    "cancelled": N_("Cancelled"),
    "expired": N_("Expired"),
}


def percent_of(basis_points: int) -> Decimal:
    """A percent voucher's value (basis points) in percent, exactly: 1250 is 12.5."""
    return Decimal(basis_points) / 100


def _is_gift_code(raw: str) -> bool:
    """Gift codes carry a prefix and so one symbol more than voucher codes."""
    canonical = codes.canonical_symbols(raw)
    return len(canonical) == GIFT_CODE_LENGTH and canonical.startswith(GIFT_CODE_PREFIX)


async def _lookup_page(
    request: Request,
    entered: str = "",
    error: str | None = None,
    status_code: int = 200,
    **found: Any,
) -> Response:
    context = {
        "section": SECTION,
        "entered": {"code": entered},
        "errors": {"code": forms.Message(error)} if error else {},
        "voucher": None,
        "gift": None,
        "kinds": VOUCHER_KINDS,
        "channels": CHANNELS,
        "voucher_statuses": VOUCHER_STATUSES,
        "gift_statuses": GIFT_STATUSES,
        "percent_of": percent_of,
        **found,
    }
    return await page(request, "codes/lookup.html", context, status_code=status_code)


@router.get("")
async def lookup_form(request: Request, user: CurrentUser) -> Response:
    return await _lookup_page(request)


def _text_field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@router.post("")
async def look_up(request: Request, user: CurrentUser) -> Response:
    form = await request.form()
    code = _text_field(form, "code")
    history_cursor = _text_field(form, "history_cursor") or None
    if not code.strip():
        return await _lookup_page(request, code, NO_CODE, 422)
    if len(code) > MAX_CODE_INPUT:  # no code of ours is near this long
        return await _lookup_page(request, code[:MAX_CODE_INPUT], MISTYPED, 422)
    session = request.state.session
    runtime = get_runtime(request)
    try:
        if _is_gift_code(code):
            gift = await gifts.gift_by_code(session, runtime, user.api_key, code)
            return await _lookup_page(request, code, gift=await _gift_details(session, gift))
        voucher = await voucher_by_code(session, runtime, user.api_key, code)
    except (VoucherNotFound, GiftNotFound):
        return await _lookup_page(request, code, UNKNOWN, 404)
    except (VoucherCodeInvalid, GiftCodeInvalid):
        return await _lookup_page(request, code, MISTYPED, 422)
    except RateLimited as limited:
        response = await _lookup_page(request, code, LIMITED, 429)
        response.headers.update(limited.headers)
        return response
    details = await _voucher_details(session, voucher, PageParams(HISTORY_PAGE, history_cursor))
    return await _lookup_page(request, code, voucher=details)


async def _voucher_details(
    session: AsyncSession, voucher: Voucher, params: PageParams
) -> dict[str, Any]:
    changes, next_cursor = await vouchers.list_history(session, voucher, params)
    return {
        "voucher": voucher,
        "status": vouchers.effective_status(voucher, utcnow()),
        "member": await get_member(session, voucher.member_id) if voucher.member_id else None,
        "reward": await _reward_name(session, voucher.reward_id),
        "history": changes,
        "history_cursor": params.cursor,
        "next_history_cursor": next_cursor,
    }


async def _reward_name(session: AsyncSession, reward_id: UUID | None) -> str | None:
    if reward_id is None:
        return None
    try:
        return (await get_reward(session, reward_id)).name
    except RewardNotFound:
        return None


async def _gift_details(session: AsyncSession, gift: Gift) -> dict[str, Any]:
    return {
        "gift": gift,
        "status": gifts.effective_status(gift, utcnow()),
        "voucher": await gifts.voucher_of(session, gift),
        "sender": await get_member(session, gift.sender_id),
        "recipient": await get_member(session, gift.recipient_id) if gift.recipient_id else None,
    }


# --- campaign codes in bulk -----------------------------------------------------------------


TERM_FIELDS = tuple(VoucherTerms.model_fields)


def read_batch(
    form: FormData, *, locale: str, currency: str, timezone: str
) -> forms.Form[VoucherBatchCreate]:
    """The body ``POST /v1/vouchers`` would get from this form, checked by its models.

    Amounts are typed in major units and percentages in percent, as on the reward form.
    The terms become ``template`` when any of them is filled in, so that choosing a reward
    and filling in terms as well is refused just as the API refuses it.
    """
    reader = FormReader(form, locale=locale, currency=currency, timezone=timezone)
    body = forms.json_values(VoucherBatchCreate, form)
    errors: dict[str, forms.Message] = {}
    terms_refused = False
    entered = reader.entered
    if any(str(form.get(name) or "").strip() for name in TERM_FIELDS):
        if reader.entered.get("kind") == VoucherKind.percent:
            reader.percent("value", PERCENT)
        else:
            reader.money("value")
        reader.money("min_order_total")
        reader.money("max_discount")
        reader.choices("channels")
        reader.listing("categories")
        terms = reader.validate(VoucherTerms, PLACEMENTS)
        entered, errors = terms.entered, dict(terms.errors)
        if terms.model is None:
            terms_refused = True
        else:
            body["template"] = terms.model.model_dump(mode="json")
    try:
        batch = VoucherBatchCreate.model_validate(body)
    except ValidationError as error:
        for details in error.errors():
            location = details["loc"]
            if not location and terms_refused:
                continue  # "template or reward_id": the terms were there, but refused
            name = str(location[0]) if location else forms.GENERAL
            errors.setdefault(name, forms.describe(details))
        return forms.Form(entered, None, errors)
    if errors:
        return forms.Form(entered, None, errors)
    return forms.Form(entered, batch, {})


async def _batch_page(
    request: Request,
    entered: dict[str, str] | None = None,
    errors: dict[str, forms.Message] | None = None,
    channels: Sequence[str] = (),
    status_code: int = 200,
) -> Response:
    rewards, _ = await list_rewards(request.state.session, PageParams(limit=MAX_LIMIT))
    translate = gettext(request)
    context = {
        "section": SECTION,
        "entered": entered or {},
        "errors": errors or {},
        "chosen_channels": list(channels),
        "reward_options": [(str(reward.id), reward.name) for reward in rewards],
        "kind_options": [(kind.value, translate(label)) for kind, label in VOUCHER_KINDS.items()],
        "channels": CHANNELS,
        "max_batch": MAX_BATCH,
        "action_key_field": ACTION_KEY_FIELD,
        "action_key": new_action_key(),
    }
    return await page(request, "codes/batch.html", context, status_code=status_code)


@router.get("/batches")
async def batch_form(request: Request, user: CurrentUser) -> Response:
    return await _batch_page(request)


@router.post("/batches")
async def create_batch(request: Request, user: CurrentUser) -> Response:
    form = await request.form()
    program = await get_program(request.state.session)
    read = read_batch(
        form, locale=locale_of(request), currency=program.currency, timezone=program.timezone
    )
    channels = [value for value in form.getlist("channels") if isinstance(value, str)]
    if read.model is None:
        return await _batch_page(request, read.entered, read.errors, channels, 422)
    session = request.state.session
    if read.model.reward_id is not None:
        # Before the submission is recorded: a mistake here leaves the form usable.
        try:
            await get_reward(session, read.model.reward_id)
        except RewardNotFound:
            errors = {"reward_id": forms.Message(N_("This reward no longer exists."))}
            return await _batch_page(request, read.entered, errors, channels, 422)
    if not await first_submission(session, request, user.api_key.id):
        return await page(
            request, "codes/batch_repeated.html", {"section": SECTION}, status_code=409
        )
    batch = await vouchers.issue_batch(session, get_runtime(request).secret_key, read.model)
    day = calendar.local_date(batch.valid_from, program.timezone)
    return StreamingResponse(
        _csv_lines(batch),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="voucher-codes-{day}.csv"'},
    )


def _csv_lines(batch: vouchers.Batch) -> Iterator[str]:
    """The batch as CSV, a thousand rows at a time: 100 000 codes are never one string."""
    buffer = io.StringIO()
    writer = Writer(buffer, Format.csv, CSV_COLUMNS)
    terms = batch.terms
    shared: dict[str, Any] = {
        "kind": terms.kind.value,
        "value": terms.value,
        "sku": terms.sku,
        "min_order_total": terms.min_order_total,
        "max_discount": terms.max_discount,
        "channels": [channel.value for channel in terms.channels],
        "categories": list(terms.categories),
        "currency": batch.currency,
        "valid_from": _utc(batch.valid_from),
        "expires_at": _utc(batch.expires_at),
        "batch_id": str(batch.batch_id),
    }
    for start in range(0, len(batch.codes), CSV_CHUNK_ROWS):
        for code in batch.codes[start : start + CSV_CHUNK_ROWS]:
            writer.write({**shared, "code": code})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _utc(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
