"""What a person does to a member from the console: adjust points, merge a duplicate, erase.

Each action is a form on the member page. Its first submission shows what will happen on
a confirmation page and writes nothing; the confirmed submission checks everything again,
does it through the service the ``/v1`` API uses, once per confirmation page (the action
key), and goes back to the member page with a notice. A refusal shows the member page
again with the message next to the field. Each action runs in a savepoint: when the
service refuses after it began writing (an expiry it did first, say), none of it stays.
"""

from collections.abc import Mapping
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.console import actions, forms
from app.console.forms import Message
from app.console.i18n import N_, Formatter
from app.console.members_view import (
    SECTION,
    ActionForm,
    member_label,
    member_page,
    member_path,
)
from app.console.rendering import gettext, locale_of
from app.console.routing import ConsoleRoute, CurrentUser
from app.kit.errors import StammkundeError
from app.ledger import service as ledger
from app.ledger.errors import InsufficientPoints
from app.members import erasure, merge
from app.members import service as members
from app.members.errors import MemberErased, MemberMerged, MemberNotFound, MergeSameMember
from app.members.models import Member, MemberStatus
from app.program.service import get_program
from app.spending import service as spending
from app.spending.schemas import AdjustmentCreate

router = APIRouter(route_class=ConsoleRoute)

DUPLICATE_FIELD = "duplicate"
DUPLICATE_MAX_LENGTH = 254  # the longest e-mail address; card numbers and ids are shorter

NOT_ZERO = N_("Enter a number of points other than 0.")
NOT_ENOUGH = N_("The member has only %(available)s points available.")
ERASED_MEMBER = N_("This member's personal data was erased; the record takes no changes.")
NO_SUCH_DUPLICATE = N_("No member has this card number, e-mail, external id or member id.")
SAME_MEMBER = N_("This is the member itself: enter the duplicate record.")
DUPLICATE_MERGED = N_("This record was already merged into %(member)s.")
DUPLICATE_ERASED = N_("This record's personal data was erased; it cannot be merged.")
TARGET_NOT_ACTIVE = N_("Nothing can be merged into a record that was merged or erased.")


async def _formatter(request: Request) -> Formatter:
    program = await get_program(request.state.session)
    return Formatter(locale_of(request), program.timezone)


async def _refused(
    request: Request,
    member: Member,
    name: str,
    entered: Mapping[str, str],
    errors: dict[str, Message],
) -> Response:
    return await member_page(
        request,
        member.id,
        form=ActionForm(name, entered, errors),
        status_code=422,
    )


def _done(member: Member, notice: str) -> Response:
    return RedirectResponse(f"{member_path(member)}?done={notice}", status_code=303)


# --- Goodwill adjustment ------------------------------------------------------------------


def _adjustment_errors(form: forms.Form[AdjustmentCreate]) -> dict[str, Message]:
    errors = dict(form.errors)
    if errors.pop(forms.GENERAL, None) is not None:
        # The model's one rule about the whole body: points are not 0.
        errors.setdefault("points", Message(NOT_ZERO))
    return errors


@router.post("/{member_id}/adjust")
async def adjust(request: Request, user: CurrentUser, member_id: UUID) -> Response:
    session: AsyncSession = request.state.session
    # An adjustment of a merged record's id goes to the member it became, as in the API.
    member = await members.find_member(session, member_id=member_id)
    form = forms.read(AdjustmentCreate, await request.form())
    errors = _adjustment_errors(form)
    if member.status == MemberStatus.erased:
        errors[forms.GENERAL] = Message(ERASED_MEMBER)
    if errors or form.model is None:
        return await _refused(request, member, "adjust", form.entered, errors)
    data = form.model
    if not await actions.is_confirmed(request):
        available = (await ledger.balance(session, member.id)).available
        if data.points < 0 and -data.points > available:
            message = Message(NOT_ENOUGH, {"available": max(available, 0)})
            return await _refused(request, member, "adjust", form.entered, {"points": message})
        return await _confirm_adjustment(request, member, data, available)
    try:
        async with session.begin_nested():
            if await actions.first_submission(session, request, user.api_key.id):
                await spending.adjust(session, member.id, data)
    except InsufficientPoints as refusal:
        message = Message(NOT_ENOUGH, {"available": refusal.extra.get("available", 0)})
        return await _refused(request, member, "adjust", form.entered, {"points": message})
    except MemberErased:
        return await _refused(
            request, member, "adjust", form.entered, {forms.GENERAL: Message(ERASED_MEMBER)}
        )
    return _done(member, "adjusted")


async def _confirm_adjustment(
    request: Request, member: Member, data: AdjustmentCreate, available: int
) -> Response:
    _ = gettext(request)
    fmt = await _formatter(request)
    name = member_label(_, member)
    points = fmt.number(abs(data.points))
    change = (
        _("%(points)s points will be credited to %(member)s.", points=points, member=name)
        if data.points > 0
        else _("%(points)s points will be taken from %(member)s.", points=points, member=name)
    )
    return await actions.confirmation(
        request,
        title=_("Adjust the points of %(member)s?", member=name),
        summary=[
            change,
            _("Reason: %(reason)s", reason=data.reason),
            _(
                "Available now: %(available)s points; afterwards: %(after)s points.",
                available=fmt.number(available),
                after=fmt.number(available + data.points),
            ),
        ],
        action=f"{member_path(member)}/adjust",
        fields={"points": str(data.points), "reason": data.reason},
        confirm_label=_("Confirm adjustment"),
        back=member_path(member),
        section=SECTION,
    )


# --- Merging a duplicate ------------------------------------------------------------------


async def _merge_refusal(
    request: Request, target: Member, source: Member, refusal: StammkundeError
) -> Message:
    """The message for a refusal of ``merge``, said about the record the person entered."""
    if isinstance(refusal, MergeSameMember):
        return Message(SAME_MEMBER)
    if isinstance(refusal, MemberNotFound):
        return Message(NO_SUCH_DUPLICATE)
    if target.status != MemberStatus.active:
        return Message(TARGET_NOT_ACTIVE)
    if isinstance(refusal, MemberMerged):
        became = await members.find_member(request.state.session, member_id=source.id)
        return Message(DUPLICATE_MERGED, {"member": member_label(gettext(request), became)})
    return Message(DUPLICATE_ERASED)


MERGE_REFUSALS = (MergeSameMember, MemberMerged, MemberErased, MemberNotFound)


@router.post("/{member_id}/merge")
async def merge_duplicate(request: Request, user: CurrentUser, member_id: UUID) -> Response:
    session: AsyncSession = request.state.session
    target = await members.get_member(session, member_id)
    submitted = (await request.form()).get(DUPLICATE_FIELD)
    text = submitted.strip() if isinstance(submitted, str) else ""

    async def refused(message: Message) -> Response:
        return await _refused(
            request, target, "merge", {DUPLICATE_FIELD: text}, {DUPLICATE_FIELD: message}
        )

    if not text:
        return await refused(Message(N_("Required.")))
    if len(text) > DUPLICATE_MAX_LENGTH:
        limit = {"max_length": DUPLICATE_MAX_LENGTH}
        return await refused(Message(N_("Enter at most %(max_length)s characters."), limit))
    source = await members.identify(session, text)
    if source is None:
        return await refused(Message(NO_SUCH_DUPLICATE))
    try:
        if not await actions.is_confirmed(request):
            merge.check(target, source)
            return await _confirm_merge(request, target, source, text)
        # The confirmation's key first: a second click finds the merge done, not refused.
        async with session.begin_nested():
            if await actions.first_submission(session, request, user.api_key.id):
                await merge.merge(session, target.id, source.id)
    except MERGE_REFUSALS as refusal:
        # On a confirmed form: merged or erased meanwhile, since the page was shown.
        await session.refresh(target)
        await session.refresh(source)
        return await refused(await _merge_refusal(request, target, source, refusal))
    return _done(target, "merged")


async def _confirm_merge(request: Request, target: Member, source: Member, text: str) -> Response:
    _ = gettext(request)
    fmt = await _formatter(request)
    moving = await ledger.balance(request.state.session, source.id)
    into, duplicate = member_label(_, target), member_label(_, source)
    return await actions.confirmation(
        request,
        title=_("Merge a duplicate into %(member)s?", member=into),
        summary=[
            _("You entered: %(entered)s", entered=text),
            _(
                "%(duplicate)s (card number %(duplicate_card)s, enrolled %(duplicate_since)s) "
                "will be merged into %(member)s (card number %(member_card)s, enrolled "
                "%(member_since)s).",
                duplicate=duplicate,
                duplicate_card=source.card_number,
                duplicate_since=fmt.day(source.created_at),
                member=into,
                member_card=target.card_number,
                member_since=fmt.day(target.created_at),
            ),
            _(
                "Moving to %(member)s: %(available)s available and %(pending)s pending points, "
                "and the duplicate's vouchers, open gifts, purchases, payments with points and "
                "referrals.",
                member=into,
                available=fmt.number(moving.available),
                pending=fmt.number(moving.pending),
            ),
            _(
                "Afterwards the duplicate's card number, e-mail and external id lead to "
                "%(member)s. A merge cannot be undone.",
                member=into,
            ),
        ],
        action=f"{member_path(target)}/merge",
        fields={DUPLICATE_FIELD: str(source.id)},
        confirm_label=_("Confirm merge"),
        back=member_path(target),
        section=SECTION,
    )


# --- Erasing personal data ----------------------------------------------------------------


@router.post("/{member_id}/erase")
async def erase(request: Request, user: CurrentUser, member_id: UUID) -> Response:
    session: AsyncSession = request.state.session
    member = await members.get_member(session, member_id)
    if not await actions.is_confirmed(request):
        return await _confirm_erasure(request, member)
    async with session.begin_nested():
        if await actions.first_submission(session, request, user.api_key.id):
            await erasure.erase(session, member.id)
    return _done(member, "erased")


async def _confirm_erasure(request: Request, member: Member) -> Response:
    _ = gettext(request)
    fmt = await _formatter(request)
    person = await members.find_member(request.state.session, member_id=member.id)
    held = await ledger.balance(request.state.session, person.id)
    name = member_label(_, member)
    return await actions.confirmation(
        request,
        title=_("Erase the personal data of %(member)s?", member=name),
        summary=[
            _(
                "Warning: the name, e-mail, phone, birthdate and external id of %(member)s are "
                "removed for good, and the card number and the referral code are replaced by "
                "pseudonyms. Duplicate records merged into this member are erased too.",
                member=name,
            ),
            _(
                "The membership ends: %(available)s available and %(pending)s pending points are "
                "forfeited, and open gifts the member made are taken back. Vouchers already "
                "issued stay valid.",
                available=fmt.number(held.available),
                pending=fmt.number(held.pending),
            ),
            _("The ledger and the figures keep their numbers. An erasure cannot be undone."),
        ],
        action=f"{member_path(member)}/erase",
        fields={},
        confirm_label=_("Erase personal data"),
        back=member_path(member),
        danger=True,
        section=SECTION,
    )
