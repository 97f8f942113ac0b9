"""Every console text has its German, and the reader's language is chosen as promised."""

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from app.console import i18n

CONSOLE = Path(i18n.__file__).parent
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
KEYWORDS = {"_": None, "N_": None}


def console_messages() -> set[str]:
    return {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(CONSOLE, METHODS, keywords=KEYWORDS)
    }


def test_every_console_text_has_its_german_translation() -> None:
    messages = console_messages()
    assert len(messages) > 20  # the extraction found the templates at all
    missing = i18n.missing_translations("de", messages)
    entries = "\n\n".join(f'msgid "{m}"\nmsgstr ""' for m in missing)
    assert not missing, f"add these to a catalogue in app/console/locales/de/:\n\n{entries}"


def test_no_translation_is_left_over_from_text_that_is_gone() -> None:
    unused = sorted(set(i18n.catalog("de")) - console_messages())
    assert not unused, f"remove these from app/console/locales/de/: {unused}"


def test_translations_keep_their_placeholders() -> None:
    import re

    placeholder = re.compile(r"%\((\w+)\)s")
    for message, translation in i18n.catalog("de").items():
        assert set(placeholder.findall(message)) == set(placeholder.findall(translation)), message


@pytest.mark.parametrize(
    ("cookie", "accept_language", "expected"),
    [
        (None, "de-DE,de;q=0.9,en;q=0.8", "de"),
        (None, "fr-FR,fr;q=0.9,de;q=0.5", "de"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "fr", "en"),
        (None, None, "en"),
        (None, "de;q=0,en", "en"),
        (None, "garbage;q=x,de", "de"),
        ("en", "de-DE", "en"),
        ("de", "en-US", "de"),
        ("xx", "de", "de"),
    ],
)
def test_language_is_the_chosen_one_else_the_browsers(
    cookie: str | None, accept_language: str | None, expected: str
) -> None:
    assert i18n.negotiate(cookie, accept_language) == expected


def test_numbers_money_and_dates_follow_the_locale() -> None:
    from datetime import UTC, date, datetime
    from decimal import Decimal

    german = i18n.Formatter("de", "Europe/Berlin")
    english = i18n.Formatter("en", "Europe/Berlin")
    assert german.number(1234567) == "1.234.567"
    assert english.number(1234567) == "1,234,567"
    assert german.money(123456, "EUR") == "1.234,56\xa0€"
    assert english.money(123456, "EUR") == "€1,234.56"
    assert english.money(500, "JPY") == "¥500"
    assert german.percent(Decimal("12.50")) == "12,5\xa0%"
    assert english.percent("12.50") == "12.5%"
    # 23:30 UTC on 1 March is 2 March in Berlin.
    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert german.day(late) == "02.03.2026"
    assert english.day(late) == "Mar 2, 2026"
    assert german.moment(late) == "02.03.2026, 00:30:00"
    assert german.month(date(2026, 3, 1)) == "März 2026"
    assert english.number(None) == i18n.NOTHING


def test_each_text_is_translated_in_one_catalogue_only() -> None:
    from babel.messages.pofile import read_po

    catalogues: dict[str, list[str]] = {}
    for path in sorted((i18n.LOCALES_DIRECTORY / "de").glob("*.po")):
        with path.open("rb") as po_file:
            for message in read_po(po_file, locale="de"):
                if message.id:
                    catalogues.setdefault(str(message.id), []).append(path.name)
    twice = {message: files for message, files in catalogues.items() if len(files) > 1}
    assert not twice, f"one translation per text, in one file: {twice}"
