"""One file row checked and normalised into a member to create, or rejected with a reason.

Pure: strings in, a :class:`MemberRow` or a :class:`Reject` out. The rules are the API's
(``app.members.schemas``), so an imported member is one the API could have enrolled.
"""

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

from app.imports.mapping import FIELDS, IDENTITY_FIELDS
from app.members.cards import is_valid_card_number
from app.members.phones import to_e164
from app.members.schemas import Email

T = TypeVar("T")

MAX_OPENING_BALANCE = 1_000_000_000
_EMAIL = TypeAdapter(Email)
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
_CARD_SEPARATORS = re.compile(r"[\s\-]")

# Every reason a row is not imported; stable, as they end up in merchants' scripts.
MALFORMED_ROW = "malformed_row"
MISSING_IDENTITY = "missing_identity"
INVALID = {field: f"invalid_{field}" for field in FIELDS}
DUPLICATE = {field: f"duplicate_{field}" for field in IDENTITY_FIELDS}


@dataclass(frozen=True, slots=True)
class Reject:
    line: int
    reason: str
    detail: str
    values: tuple[str, ...]  # the row as it was in the file
    duplicate_of: str | None = None  # a member id, or "line N" of the file


@dataclass(frozen=True, slots=True)
class MemberRow:
    line: int
    values: tuple[str, ...]
    external_id: str | None
    card_number: str | None
    email: str | None
    phone: str | None
    name: str | None
    birthdate: date | None
    opening_balance: int

    def identities(self) -> list[tuple[str, str]]:
        """The identity fields the row has, as (field, value), in the order of precedence."""
        return [(f, v) for f in IDENTITY_FIELDS if (v := getattr(self, f)) is not None]

    def key(self, secret: bytes) -> str:
        """The row's key: its first identity, HMAC'd so that the key does not reveal it."""
        field, value = self.identities()[0]
        message = f"member\x1f{field}\x1f{value}".encode()
        return hmac.new(secret, message, hashlib.sha256).hexdigest()


class _Invalid(Exception):
    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        self.detail = detail


def _external_id(value: str) -> str:
    if len(value) > 100:
        raise _Invalid("external_id", "external_id is longer than 100 characters")
    return value


def _card_number(value: str) -> str:
    digits = _CARD_SEPARATORS.sub("", value)
    if not is_valid_card_number(digits):
        raise _Invalid(
            "card_number",
            f"card_number {value!r} is not 8 to 19 digits ending in a Luhn check digit",
        )
    return digits


def _email(value: str) -> str:
    try:
        return str(_EMAIL.validate_python(value))
    except ValidationError as error:
        raise _Invalid("email", f"email {value!r}: {error.errors()[0]['msg']}") from None


def _phone(value: str, region: str) -> str:
    try:
        return to_e164(value, region)
    except ValueError as error:
        raise _Invalid("phone", f"phone {value!r}: {error}") from None


def _name(value: str) -> str:
    if len(value) > 200:
        raise _Invalid("name", "name is longer than 200 characters")
    return value


def _birthdate(value: str, today: date) -> date:
    for date_format in _DATE_FORMATS:
        try:
            day = datetime.strptime(value, date_format).date()
        except ValueError:
            continue
        if not date(1900, 1, 1) <= day <= today:
            raise _Invalid("birthdate", f"birthdate {value} is not between 1900 and today")
        return day
    raise _Invalid("birthdate", f"birthdate {value!r} is not YYYY-MM-DD or DD.MM.YYYY")


def _opening_balance(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_OPENING_BALANCE:
        raise _Invalid(
            "opening_balance",
            f"opening_balance {value!r} is not a whole number of points "
            f"from 0 to {MAX_OPENING_BALANCE}",
        )
    return int(value)


def check(
    line: int,
    values: tuple[str, ...],
    header_length: int,
    columns: dict[str, int],
    region: str,
    today: date | None = None,
) -> MemberRow | Reject:
    """The row at ``line`` (its ``values`` in file order) as a member, or why it is not one.

    Every field is checked; the reason is the first problem's, the detail names them all.
    """
    if len(values) > header_length:
        return Reject(
            line,
            MALFORMED_ROW,
            f"the row has {len(values)} fields; the header has {header_length}",
            values,
        )
    today = today or datetime.now(UTC).date()
    raw = {
        field: values[index].strip() if index < len(values) else ""
        for field, index in columns.items()
    }
    given = {field: value for field, value in raw.items() if value}
    problems: list[_Invalid] = []

    def parse(field: str, parser: Callable[[str], T]) -> T | None:
        if field not in given:
            return None
        try:
            return parser(given[field])
        except _Invalid as problem:
            problems.append(problem)
            return None

    row = MemberRow(
        line=line,
        values=values,
        external_id=parse("external_id", _external_id),
        card_number=parse("card_number", _card_number),
        email=parse("email", _email),
        phone=parse("phone", lambda value: _phone(value, region)),
        name=parse("name", _name),
        birthdate=parse("birthdate", lambda value: _birthdate(value, today)),
        opening_balance=parse("opening_balance", _opening_balance) or 0,
    )
    if problems:
        reason = INVALID[problems[0].field]
        return Reject(line, reason, "; ".join(p.detail for p in problems), values)
    if not row.identities():
        return Reject(
            line, MISSING_IDENTITY, f"the row has none of {', '.join(IDENTITY_FIELDS)}", values
        )
    return row
