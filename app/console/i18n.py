"""German and English console text, and numbers, money and dates in the reader's locale.

Text is written in English in the templates and the console's code (``_("Members")``);
German comes from the gettext catalogues in ``locales/de/*.po`` (one per page, merged),
which translators edit with the usual tools. A test extracts every message and fails when
one has no German. Formatting is Babel's, from the CLDR data.
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, numbers
from babel import dates as babel_dates
from babel.messages.pofile import read_po

from app.program.currency import to_major_units

DEFAULT_LOCALE = "en"
LOCALES = ("en", "de")
LANGUAGE_COOKIE = "stammkunde_lang"
LOCALES_DIRECTORY = Path(__file__).parent / "locales"


def N_(message: str) -> str:
    """Marks text in code for translation; it is translated where it is shown."""
    return message


@cache
def catalog(locale: str) -> Mapping[str, str]:
    translations: dict[str, str] = {}
    for path in sorted((LOCALES_DIRECTORY / locale).glob("*.po")):
        with path.open("rb") as po_file:
            for message in read_po(po_file, locale=locale):
                if message.id and message.string and not message.fuzzy:
                    translations[str(message.id)] = str(message.string)
    return translations


def translate(locale: str, message: str, **values: object) -> str:
    text = catalog(locale).get(message, message) if locale != DEFAULT_LOCALE else message
    return text % values if values else text


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The language chosen in the console, else the browser's first one we have."""
    if cookie in LOCALES:
        return cookie
    preferred = []
    for part in (accept_language or "").split(","):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        if tag and weight > 0:
            preferred.append((weight, tag.replace("-", "_")))
    ordered = [tag for _, tag in sorted(preferred, key=lambda item: -item[0])]
    chosen = Locale.negotiate(ordered, LOCALES, sep="_")
    return str(chosen) if chosen else DEFAULT_LOCALE


NOTHING = "\N{EN DASH}"  # shown for a figure that has no value


class Formatter:
    """Numbers, money, percentages and dates for one locale and the programme's time zone."""

    def __init__(self, locale: str, timezone: str) -> None:
        self.locale = locale
        self.timezone = ZoneInfo(timezone)

    def number(self, value: int | Decimal | None) -> str:
        return NOTHING if value is None else numbers.format_decimal(value, locale=self.locale)

    def money(self, amount_minor: int | None, currency: str) -> str:
        if amount_minor is None:
            return NOTHING
        return numbers.format_currency(
            to_major_units(amount_minor, currency), currency, locale=self.locale
        )

    def percent(self, value: Decimal | str | None) -> str:
        """A rate in percent (``"12.50"`` is 12.5 %)."""
        if value is None:
            return NOTHING
        # Rates come with two decimals; all of them are shown.
        return numbers.format_percent(
            Decimal(value) / 100, locale=self.locale, decimal_quantization=False
        )

    def moment(self, moment: datetime | None) -> str:
        if moment is None:
            return NOTHING
        return babel_dates.format_datetime(
            moment, format="medium", tzinfo=self.timezone, locale=self.locale
        )

    def day(self, day: date | datetime | None) -> str:
        if day is None:
            return NOTHING
        if isinstance(day, datetime):
            day = day.astimezone(self.timezone).date()
        return babel_dates.format_date(day, format="medium", locale=self.locale)

    def month(self, day: date) -> str:
        return babel_dates.format_skeleton("yMMM", day, locale=self.locale)


def missing_translations(locale: str, messages: Iterable[str]) -> list[str]:
    known = catalog(locale)
    return sorted({message for message in messages if message not in known})
