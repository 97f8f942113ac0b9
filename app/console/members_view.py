"""The member page: personal data, balance, tier, vouchers, gifts and the timeline.

Everything is read through the services the ``/v1`` API reads through; the page only
puts it together. The action forms (adjust, merge, erase) post to ``members_actions``,
which shows this page again, with the messages, when what was entered is refused.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from uuid import UUID

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.console.forms import Message
from app.console.i18n import N_
from app.console.members_timeline import timeline
from app.console.rendering import gettext, page
from app.db.base import utcnow
from app.gifts import service as gifts
from app.gifts.models import Gift
from app.kit.pagination import PageParams
from app.ledger import service as ledger
from app.members import service as members
from app.members.models import Member, MemberStatus
from app.tiers import service as tiers
from app.vouchers import service as vouchers
from app.vouchers.models import Voucher, VoucherKind

SECTION = "members"
LIST_SIZE = 20  # vouchers and gifts shown on the page, newest first

NOTICES = {
    "adjusted": N_("The points were adjusted."),
    "merged": N_("The duplicate was merged into this member."),
    "erased": N_("The personal data was erased."),
}

STATUSES = {
    # members
    "active": N_("Active"),
    "merged": N_("Merged"),
    "erased": N_("Erased"),
    # vouchers and gifts
    "redeemed": N_("Redeemed"),
    "expired": N_("Expired"),
    "cancelled": N_("Cancelled"),
    "gifted": N_("Held in a gift"),
    "open": N_("Open"),
    "claimed": N_("Claimed"),
}


def member_path(member: Member | UUID) -> str:
    member_id = member if isinstance(member, UUID) else member.id
    return f"/admin/members/{member_id}"


def member_label(gettext: Callable[[str], str], member: Member) -> str:
    """How a member is named on a page: the name, else the card number."""
    if member.status == MemberStatus.erased:
        return gettext(N_("Erased member"))
    return member.name or member.card_number


def labeller(request: Request) -> Callable[[Member], str]:
    """``member_label`` in the request's language, for templates."""
    return partial(member_label, gettext(request))


@dataclass(frozen=True, slots=True)
class SentGift:
    gift: Gift
    status: str
    recipient: Member | None


@dataclass(frozen=True, slots=True)
class VoucherRow:
    voucher: Voucher
    status: str
    percent: Decimal | None  # a percent voucher's rate (its value is in basis points)


def _voucher_row(voucher: Voucher, now: datetime) -> VoucherRow:
    percent = None
    if voucher.kind == VoucherKind.percent and voucher.value is not None:
        percent = Decimal(voucher.value) / 100
    return VoucherRow(voucher, vouchers.effective_status(voucher, now), percent)


@dataclass(slots=True)
class ActionForm:
    """What was entered into one of the page's action forms, and the messages for it."""

    name: str = ""  # "adjust", "merge" or "erase"
    entered: Mapping[str, str] | None = None
    errors: Mapping[str, Message] | None = None


async def _sent_gifts(session: AsyncSession, member: Member) -> tuple[list[SentGift], bool]:
    found, more = await gifts.list_sent(session, member.id, PageParams(LIST_SIZE))
    now = utcnow()
    sent = []
    for gift in found:
        recipient = None
        if gift.recipient_id is not None:
            recipient = await members.get_member(session, gift.recipient_id)
        sent.append(SentGift(gift, gifts.effective_status(gift, now), recipient))
    return sent, more is not None


async def member_page(
    request: Request,
    member_id: UUID,
    *,
    cursor: str | None = None,
    notice: str | None = None,
    form: ActionForm | None = None,
    status_code: int = 200,
) -> Response:
    session: AsyncSession = request.state.session
    now = utcnow()
    member = await members.get_member(session, member_id)
    becomes = None
    if member.merged_into_id is not None:
        becomes = await members.find_member(session, member_id=member.id)
    found_vouchers, more_vouchers = await vouchers.list_member_vouchers(
        session, member.id, PageParams(LIST_SIZE)
    )
    sent_gifts, more_gifts = await _sent_gifts(session, member)
    entries, next_cursor = await timeline(session, member, cursor)
    form = form or ActionForm()
    return await page(
        request,
        "members/member.html",
        {
            "section": SECTION,
            "label": labeller(request),
            "member": member,
            "becomes": becomes,
            "duplicates": await members.duplicates_merged_into(session, member.id),
            "balance": await ledger.balance(session, member.id, now),
            "tier": await tiers.member_tier(session, member.id, now),
            "vouchers": [_voucher_row(voucher, now) for voucher in found_vouchers],
            "more_vouchers": more_vouchers is not None,
            "gifts": sent_gifts,
            "more_gifts": more_gifts,
            "timeline": entries,
            "next_cursor": next_cursor,
            "first_page": cursor is None,
            "notice": NOTICES.get(notice or ""),
            "statuses": STATUSES,
            "form": form.name,
            "entered": form.entered or {},
            "errors": form.errors or {},
        },
        status_code=status_code,
    )
