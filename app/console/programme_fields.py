"""What a person types into the programme's forms, turned into what the API's models take.

The API takes money in minor units, rates as decimal strings with a point, reward
percentages in basis points, campaign times as wall-clock text to the second and reward
times with an offset. People type "5,00" or "5.00" in their own notation, percentages in
percent, and browsers send date-times without seconds. A ``FormReader`` converts those
fields first; the rest goes through ``forms.json_values`` and the API's own request model
validates the whole, so the console accepts exactly what the API does. Messages come back
per field, in words about what the person typed (amounts in major units, not minor).
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from babel import numbers
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.datastructures import FormData

from app.console import forms
from app.console.forms import GENERAL, Message
from app.console.i18n import N_
from app.program.currency import minor_unit_exponent, to_major_units

ModelT = TypeVar("ModelT", bound=BaseModel)

# Digits with at most one kind of grouping and a decimal mark: no exponents, no words.
_NUMBER_TEXT = re.compile(r"[+-]?[0-9][0-9.,]*")
_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+([.,][0-9]+)?")
_BOUNDS = ("ge", "le", "gt", "lt")

NOT_A_NUMBER = Message(N_("Enter a number."))
NOT_A_MOMENT = Message(N_("Enter a date and time."))


def parse_number(text: str, locale: str) -> Decimal | None:
    """A number in the reader's notation ("1.234,5" in German), else plainly with either
    mark ("1.5" and "1,5" both mean one and a half); None when it is no number."""
    compact = text.strip().replace(" ", "").replace("\N{NO-BREAK SPACE}", "")
    if not _NUMBER_TEXT.fullmatch(compact):
        return None
    try:
        return numbers.parse_decimal(compact, locale=locale, strict=True)
    except numbers.NumberFormatError:
        pass
    if _PLAIN_DECIMAL.fullmatch(compact):
        try:
            return Decimal(compact.replace(",", "."))
        except InvalidOperation:
            return None
    return None


def decimal_text(value: Decimal | int | None, locale: str, places: int = 4) -> str:
    """A decimal as the reader writes it, without grouping, to show in a form field."""
    if value is None:
        return ""
    pattern = "0." + "#" * places if places else "0"
    return numbers.format_decimal(Decimal(value), format=pattern, locale=locale)


def money_text(amount_minor: int | None, currency: str, locale: str) -> str:
    """Minor units as the major-unit amount a person types: 1999 EUR is "19.99"."""
    if amount_minor is None:
        return ""
    places = minor_unit_exponent(currency)
    pattern = "0." + "0" * places if places else "0"
    return numbers.format_decimal(
        to_major_units(amount_minor, currency), format=pattern, locale=locale
    )


def local_time_text(value: datetime | str | None, timezone: str | None = None) -> str:
    """A time for ``<input type="datetime-local">``: to the minute unless it has seconds.

    Naive times are wall-clock already; aware ones are shown in ``timezone``.
    """
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is not None and timezone:
        moment = moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds" if moment.second else "minutes")


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a message about the whole model belongs: the fields it is about, and what to
    say there. ``pattern`` is searched in the model's (English) reason."""

    pattern: str
    fields: Sequence[str]
    message: Message


class FormReader:
    """Reads one submitted form: fields that need converting are named, then ``validate``."""

    def __init__(self, form: FormData, *, locale: str, currency: str, timezone: str) -> None:
        self._form = form
        self.locale = locale
        self.currency = currency
        self.timezone = timezone
        self.entered: dict[str, str] = {
            name: value for name, value in form.items() if isinstance(value, str)
        }
        self._text: dict[str, str] = dict(self.entered)  # what ``forms.json_values`` reads
        self._values: dict[str, Any] = {}  # converted already
        self._errors: dict[str, Message] = {}  # what could not be converted
        self._overrides: dict[str, Message] = {}  # the message for any refusal of a field
        self._money: set[str] = set()

    def _take(self, name: str) -> str | None:
        """The field's text for a converter: no longer for ``json_values``; None if blank."""
        text = self._text.pop(name, "").strip()
        return text or None

    def _refuse(self, name: str, message: Message) -> None:
        self._errors.setdefault(name, message)

    def money(self, name: str) -> None:
        """An amount in major units of the programme's currency; the API takes minor units."""
        self._money.add(name)
        text = self._take(name)
        if text is None:
            return
        amount = parse_number(text, self.locale)
        places = minor_unit_exponent(self.currency)
        if amount is None:
            example = money_text(5 * 10**places, self.currency, self.locale)
            not_an_amount = N_("Enter an amount, e.g. %(example)s.")
            self._refuse(name, Message(not_an_amount, {"example": example}))
            return
        minor = amount.scaleb(places)
        if minor != minor.to_integral_value():
            if places:
                too_precise = N_("Enter at most %(places)s decimal places.")
                self._refuse(name, Message(too_precise, {"places": places}))
            else:
                self._refuse(name, Message(N_("Enter a whole amount.")))
            return
        self._values[name] = int(minor)

    def percent(self, name: str, message: Message) -> None:
        """Percent with up to two decimals; the API takes basis points (12.5 % is 1250).
        ``message`` replaces whatever the model says about the field."""
        self._overrides[name] = message
        text = self._take(name)
        if text is None:
            return
        amount = parse_number(text, self.locale)
        basis_points = None if amount is None else amount.scaleb(2)
        if basis_points is None or basis_points != basis_points.to_integral_value():
            self._refuse(name, message)
            return
        self._values[name] = int(basis_points)

    def decimal(self, name: str, message: Message = NOT_A_NUMBER) -> None:
        """A decimal in the reader's notation; the API takes it as a string with a point."""
        self._overrides[name] = message
        text = self._take(name)
        if text is None:
            return
        amount = parse_number(text, self.locale)
        if amount is None:
            self._refuse(name, message)
            return
        self._text[name] = format(amount, "f")

    def _moment(self, name: str) -> datetime | None:
        self._overrides[name] = NOT_A_MOMENT
        text = self._take(name)
        if text is None:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self._refuse(name, NOT_A_MOMENT)
            return None
        if moment.tzinfo is not None:
            self._refuse(name, NOT_A_MOMENT)
            return None
        return moment

    def wall_clock(self, name: str) -> None:
        """A local date and time as ``datetime-local`` sends it; the API takes it to the
        second, without an offset (campaigns follow the shop's clock)."""
        moment = self._moment(name)
        if moment is not None:
            self._text[name] = moment.isoformat(timespec="seconds")

    def moment(self, name: str) -> None:
        """A local date and time in the programme's time zone; the API takes an offset."""
        moment = self._moment(name)
        if moment is None:
            return
        try:
            # Sent in UTC: the first and last days of the calendar have no UTC moment for
            # every local time, and old dates have offsets in seconds.
            utc = moment.replace(tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)
        except OverflowError:
            self._refuse(name, NOT_A_MOMENT)
            return
        self._text[name] = utc.isoformat(timespec="seconds")

    def choices(self, name: str, *, whole_numbers: bool = False) -> None:
        """Ticked checkboxes sharing one name: a list (empty when none is ticked)."""
        chosen = [value.strip() for value in self._form.getlist(name) if isinstance(value, str)]
        chosen = [value for value in chosen if value]
        self.entered[name] = ",".join(chosen)
        self._text.pop(name, None)
        self._values[name] = [
            int(value) if whole_numbers and value.isdigit() else value for value in chosen
        ]

    def listing(self, name: str) -> None:
        """Entries separated by commas or lines: a list (empty when blank)."""
        text = self._take(name) or ""
        self._values[name] = [
            item.strip() for item in forms.LIST_SEPARATORS.split(text) if item.strip()
        ]

    def lines(self, name: str) -> None:
        """One entry per line (entries may contain commas): a list."""
        text = self._take(name) or ""
        self._values[name] = [line.strip() for line in text.splitlines() if line.strip()]

    def flag(self, name: str) -> None:
        """A checkbox: a browser sends nothing for one not ticked, which means off."""
        on = self.entered.get(name, "").strip().lower() in forms.CHECKED
        self.entered[name] = "on" if on else ""
        self._text.pop(name, None)
        self._values[name] = on

    def required(self, names: Iterable[str]) -> None:
        """Fields the form shows filled in: blank is a mistake, not "leave unchanged"."""
        for name in names:
            if not self.entered.get(name, "").strip():
                self._refuse(name, Message(N_("Required.")))

    def explain(self, name: str, message: Message) -> None:
        """What to say, whatever the model refuses about ``name``."""
        self._overrides[name] = message

    def refuse(self, name: str, message: Message) -> None:
        """A message found outside the model (a service's check), next to ``name``."""
        self._errors[name] = message

    def result(self) -> forms.Form[Any]:
        """The form with the messages found so far (after a service refused it)."""
        return forms.Form(self.entered, None, dict(self._errors))

    def validate(
        self, model: type[ModelT], placements: Sequence[Placement] = ()
    ) -> forms.Form[ModelT]:
        values = {**forms.json_values(model, self._text), **self._values}
        try:
            parsed: ModelT | None = model.model_validate(values)
            refusals: list[ErrorDetails] = []
        except ValidationError as error:
            parsed, refusals = None, error.errors()
        self.add_refusals(refusals, placements)
        if self._errors:
            return forms.Form(self.entered, None, dict(self._errors))
        return forms.Form(self.entered, parsed, {})

    def add_refusals(
        self, refusals: Iterable[ErrorDetails | Mapping[str, Any]], placements: Sequence[Placement]
    ) -> forms.Form[Any]:
        """A model's or service's refusals as messages next to the fields they are about."""
        for details in refusals:
            location = details.get("loc") or ()
            name = str(location[0]) if location else GENERAL
            if name == GENERAL:
                self._place(str(details.get("msg", "")), placements)
            elif name in self._overrides:
                self._refuse(name, self._overrides[name])
            else:
                message = forms.describe(cast(ErrorDetails, details))
                self._refuse(name, self._in_major_units(name, message))
        return self.result()

    def _place(self, reason: str, placements: Sequence[Placement]) -> None:
        for placement in placements:
            if re.search(placement.pattern, reason):
                for name in placement.fields:
                    self._refuse(name, placement.message)
                return
        reason = reason.removeprefix("Value error, ")
        self._refuse(GENERAL, Message(N_("Not valid: %(reason)s"), {"reason": reason}))

    def _in_major_units(self, name: str, message: Message) -> Message:
        """A money field's limits as the amounts the person types, not minor units."""
        if name not in self._money:
            return message
        values = {
            key: money_text(int(value), self.currency, self.locale)
            if key in _BOUNDS and isinstance(value, int)
            else value
            for key, value in message.values.items()
        }
        return Message(message.text, values)
