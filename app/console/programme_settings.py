"""The programme's settings: one form for every field of ``ProgramUpdate``."""

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError

from app.console.forms import Message
from app.console.i18n import N_
from app.console.programme_fields import (
    FormReader,
    Placement,
    decimal_text,
    money_text,
)
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
from app.console.rendering import locale_of, page
from app.console.routing import ConsoleRoute, CurrentUser
from app.program.schemas import (
    BirthdayBonusTiming,
    ProgramSettings,
    ProgramUpdate,
    QualifyingWindow,
    ReturnPolicy,
)
from app.program.service import update_program

router = APIRouter(route_class=ConsoleRoute)

URL = f"{BASE}/settings"
NOTICES = {"saved": N_("Settings saved.")}
CURRENCY_CODE = re.compile(r"[A-Z]{3}")


class Kind(StrEnum):
    number = "number"  # a whole number
    decimal = "decimal"  # a rate with up to four decimal places
    money = "money"  # an amount in major units of the currency
    text = "text"
    listing = "listing"  # entries separated by commas
    choice = "choice"


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    label: str
    hint: str | None = None
    kind: Kind = Kind.number
    options: tuple[tuple[str, str], ...] = ()

    @property
    def names_currency(self) -> bool:
        return "%(currency)s" in self.label


@dataclass(frozen=True, slots=True)
class Group:
    legend: str
    settings: tuple[Setting, ...]


GROUPS = (
    Group(
        N_("Points and currency"),
        (
            Setting(
                "currency",
                N_("Currency"),
                N_("Three-letter ISO code, such as EUR. Amounts in the console are in it."),
                Kind.text,
            ),
            Setting(
                "points_per_currency_unit",
                N_("Points per 1.00 %(currency)s"),
                N_("May be fractional: 0.1 is 1 point per 10.00; at most 4 decimal places."),
                Kind.decimal,
            ),
            Setting(
                "point_value_minor",
                N_("Value of one point (%(currency)s)"),
                N_("What one point is worth when it is spent, such as 0.01."),
                Kind.money,
            ),
            Setting(
                "timezone",
                N_("Time zone"),
                N_("IANA name such as Europe/Berlin; all local dates and times follow it."),
                Kind.text,
            ),
        ),
    ),
    Group(
        N_("Returns and expiry"),
        (
            Setting(
                "pending_days",
                N_("Pending days"),
                N_("Days purchase points stay pending (the return window)."),
            ),
            Setting(
                "return_policy",
                N_("Returns of points already spent"),
                N_("What a return does when the member already spent the points it reverses."),
                Kind.choice,
                (
                    (ReturnPolicy.unlimited, N_("Reverse all; the balance may go negative")),
                    (
                        ReturnPolicy.within_balance,
                        N_("Reverse at most the balance; record the shortfall"),
                    ),
                    (
                        ReturnPolicy.only_pending,
                        N_("Reverse only points still pending; record the rest"),
                    ),
                ),
            ),
            Setting(
                "points_expiry_months",
                N_("Points expire after (months)"),
                N_("Months after the purchase, at the end of that local day; 0 = never."),
            ),
            Setting(
                "expiry_notice_days",
                N_("Expiry notice (days before)"),
                N_(
                    "Days before points expire that a notice (points.expiring_soon) is sent; 0 = none."
                ),
            ),
            Setting(
                "receipt_claim_days",
                N_("Receipt claim period (days)"),
                N_("Days a receipt without a member can be claimed."),
            ),
            Setting(
                "excluded_categories",
                N_("Categories that earn nothing"),
                N_("Item categories, separated by commas (gift cards, ...)."),
                Kind.listing,
            ),
            Setting(
                "excluded_skus",
                N_("SKUs that earn nothing"),
                N_("Separated by commas."),
                Kind.listing,
            ),
        ),
    ),
    Group(
        N_("Bonus points"),
        (
            Setting("signup_bonus", N_("Sign-up bonus (points)")),
            Setting("birthday_bonus", N_("Birthday bonus (points)")),
            Setting(
                "birthday_bonus_timing",
                N_("Birthday bonus is given"),
                None,
                Kind.choice,
                (
                    (BirthdayBonusTiming.month, N_("At the start of the birthday month")),
                    (BirthdayBonusTiming.day, N_("On the birthday")),
                ),
            ),
            Setting(
                "profile_completion_bonus",
                N_("Profile completion bonus (points)"),
                N_("Once, when a member has e-mail, name and birthdate."),
            ),
        ),
    ),
    Group(
        N_("Tiers"),
        (
            Setting(
                "tier_qualifying_window",
                N_("Qualifying window"),
                N_("The period whose points count towards a tier."),
                Kind.choice,
                (
                    (QualifyingWindow.calendar_year, N_("Calendar year")),
                    (QualifyingWindow.rolling_12_months, N_("Last 12 months")),
                ),
            ),
            Setting(
                "tier_downgrade_grace_days",
                N_("Downgrade grace period (days)"),
                N_("Days after a tier review date before a downgrade applies."),
            ),
        ),
    ),
    Group(
        N_("Gifts"),
        (
            Setting(
                "gift_expiry_days",
                N_("Gift claim period (days)"),
                N_("Days a gift code can be claimed before it expires."),
            ),
            Setting("gift_min_points", N_("Fewest points per gift")),
            Setting("gift_max_points", N_("Most points per gift")),
            Setting(
                "gift_max_open_per_member",
                N_("Open gifts per member"),
                N_("Unclaimed gifts a member may have at once; 0 = no limit."),
            ),
            Setting(
                "gift_max_points_per_month",
                N_("Points a member may give per month"),
                N_("In a local calendar month (gifts not cancelled or expired); 0 = no limit."),
            ),
        ),
    ),
    Group(
        N_("Referrals"),
        (
            Setting(
                "referral_bonus_referrer",
                N_("Bonus for the referrer (points)"),
                N_("Points for the member who recommended us."),
            ),
            Setting(
                "referral_bonus_referee",
                N_("Bonus for the new member (points)"),
                N_("Points for the new member who came on a recommendation."),
            ),
            Setting(
                "referral_min_purchase_total",
                N_("Minimum first purchase (%(currency)s)"),
                N_("What the new member's first qualifying purchase must reach."),
                Kind.money,
            ),
            Setting(
                "referral_max_per_referrer_per_month",
                N_("Referral bonuses per referrer per month"),
                N_("In a local calendar month; 0 = no limit."),
            ),
        ),
    ),
    Group(
        N_("Customer classes (ABC)"),
        (
            Setting(
                "abc_a_share",
                N_("Class A share of revenue (percent)"),
                N_("Class A is the smallest set of top members whose revenue reaches this share."),
            ),
            Setting(
                "abc_b_share",
                N_("Class B share of revenue (percent)"),
                N_("Class B follows until A and B together reach both shares; the rest is C."),
            ),
        ),
    ),
)
SETTINGS = tuple(setting for group in GROUPS for setting in group.settings)

PLACEMENTS = (
    Placement(
        r"gift_min_points must not be more than gift_max_points",
        ("gift_min_points",),
        Message(N_("Must not be more than the most points per gift.")),
    ),
    Placement(
        r"abc_a_share \+ abc_b_share",
        ("abc_a_share", "abc_b_share"),
        Message(N_("Class A and class B together must not be more than 100 percent.")),
    ),
)
EARN_RATE_MESSAGE = Message(
    N_("Enter a number from %(minimum)s to %(maximum)s with at most %(places)s decimal places."),
    {"minimum": 0, "maximum": 10000, "places": 4},
)


def entered_from(program: ProgramSettings, locale: str) -> dict[str, str]:
    """The current settings as the form shows them."""
    entered: dict[str, str] = {}
    for setting in SETTINGS:
        value: Any = getattr(program, setting.name)
        if setting.kind is Kind.money:
            entered[setting.name] = money_text(value, program.currency, locale)
        elif setting.kind is Kind.decimal and isinstance(value, Decimal):
            entered[setting.name] = decimal_text(value, locale)
        elif setting.kind is Kind.listing:
            entered[setting.name] = ", ".join(value)
        else:
            entered[setting.name] = str(value)
    return entered


def read(reader: FormReader) -> None:
    """Names the fields that need converting, and what to say when they are refused."""
    currency = reader.entered.get("currency", "").strip()
    if CURRENCY_CODE.fullmatch(currency):
        reader.currency = currency  # amounts in the same form are in the new currency
    reader.required(s.name for s in SETTINGS if s.kind is not Kind.listing)
    reader.explain("currency", Message(N_("Enter a three-letter code in capitals, such as EUR.")))
    reader.explain(
        "timezone", Message(N_("Unknown time zone: enter a name such as Europe/Berlin."))
    )
    for setting in SETTINGS:
        if setting.kind is Kind.money:
            reader.money(setting.name)
        elif setting.kind is Kind.decimal:
            reader.decimal(setting.name, EARN_RATE_MESSAGE)
        elif setting.kind is Kind.listing:
            reader.listing(setting.name)


async def _settings_page(
    request: Request,
    entered: dict[str, str],
    errors: dict[str, Message],
    notice_text: str | None = None,
    status_code: int = 200,
) -> Response:
    return await page(
        request,
        "programme/settings.html",
        {
            "section": SECTION,
            "groups": GROUPS,
            "entered": entered,
            "errors": errors,
            "notice": notice_text,
        },
        status_code=status_code,
    )


@router.get("/settings")
async def settings_form(request: Request, user: CurrentUser, done: Done = None) -> Response:
    program = await program_of(request)
    entered = entered_from(program, locale_of(request))
    return await _settings_page(request, entered, {}, notice(done, NOTICES))


@router.post("/settings")
async def save_settings(request: Request, user: CurrentUser) -> Response:
    reader = await form_reader(request, await program_of(request))
    read(reader)
    form = reader.validate(ProgramUpdate, PLACEMENTS)
    if form.model is not None:
        try:
            await update_program(session_of(request), form.model)
        except RequestValidationError as error:
            # Rules across fields, checked against the settings as a whole.
            form = reader.add_refusals(error.errors(), PLACEMENTS)
    if form.model is None:
        return await _settings_page(request, form.entered, form.errors, status_code=422)
    return after_change(URL, "saved")
