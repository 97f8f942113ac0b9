"""Field types for request bodies that accept exactly what the OpenAPI document says.

FastAPI validates a body in pydantic's Python mode, after decoding the JSON, and there
pydantic is lax: an integer field takes ``false`` or ``"12"``, a boolean takes ``1`` or
``"yes"``, a date-time takes a Unix timestamp, a UUID its ``urn:uuid:`` form. JSON Schema,
and so every client generator and fuzzer reading the document, calls all of these invalid;
a service that takes them anyway keeps mistakes of an integration quiet (``"threshold":
false`` becoming a tier at 0 points). Request models therefore use ``JsonInteger`` for whole
numbers, ``StrictBool`` for flags, and the other types below for the rest. Whole models are
not strict: in Python mode that would refuse the strings dates and UUIDs arrive as.

Response models need none of this: the service builds them itself.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
)
from pydantic.json_schema import JsonSchemaValue, SkipJsonSchema
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

T = TypeVar("T")

# RFC 3339 `date-time` and `full-date` (JSON Schema's formats); pydantic also reads a date
# without a time, a time without seconds, a space for the T and numbers as Unix time.
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DATE_TIME = re.compile(
    _DATE + r"[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_FULL_DATE = re.compile(_DATE)
# RFC 9562's text form, JSON Schema's `uuid`; pydantic also reads it without hyphens, in
# braces and as a URN.
_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def text_in(pattern: re.Pattern[str], parsed: type, what: str) -> Any:
    """Accept only strings matching ``pattern`` (or values of type ``parsed``) for the type
    it annotates, refusing with "give {what}"."""

    def check(value: object) -> object:
        # Values the service builds itself (from its own rows) are already parsed.
        if isinstance(value, parsed):
            return value
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ValueError(f"give {what}")
        return value

    return BeforeValidator(check)


def _json_integer(value: object) -> object:
    # JSON Schema's integer is any number without a fraction, 524.0 too (pydantic's strict
    # int would refuse that); but neither true nor "524".
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def _not_null(value: T | None) -> T:
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


JsonInteger = BeforeValidator(_json_integer)
"""A whole number as JSON Schema's ``integer`` has it: ``12`` or ``12.0``, not ``true`` or
``"12"``. Put it last, after the constraints, as in ``Annotated[int, Field(ge=0),
JsonInteger]``: constraints added outside it reach the document as ``ge``/``le`` instead of
``minimum``/``maximum``."""


def _representable_in_utc(moment: datetime) -> datetime:
    # 0001-01-01T00:00:00+01:00 is a valid RFC 3339 text, but a moment before year 1 in UTC.
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("give a moment from year 1 to 9999 in UTC") from None
    return moment


Instant = Annotated[
    AwareDatetime,
    text_in(
        _DATE_TIME, datetime, "an RFC 3339 date-time with an offset, e.g. 2026-03-01T09:30:00+01:00"
    ),
    AfterValidator(_representable_in_utc),
]
"""A moment: an RFC 3339 date-time with an offset (``Z`` for UTC)."""

Day = Annotated[date, text_in(_FULL_DATE, date, "a date as YYYY-MM-DD")]
"""A calendar date, ``YYYY-MM-DD``."""

Uuid = Annotated[UUID, text_in(_UUID, UUID, "a UUID in its hyphenated form")]
"""A UUID in its hyphenated text form."""

MinorUnits = Annotated[int, Field(ge=0, le=100_000_000_000), JsonInteger]
"""An amount of money in minor units of the currency (1999 = 19.99)."""

Omittable = Annotated[T | SkipJsonSchema[None], AfterValidator(_not_null)]
"""A field of a partial update that may be left out (it keeps its value) but not cleared.

The document shows it as not nullable; an explicit ``null`` is refused with the field's
name. Leaving it out leaves it ``None`` and out of ``model_fields_set``.
"""


@dataclass(frozen=True)
class DecimalRange:
    """A decimal from ``minimum`` to ``maximum``, given as a JSON number or as a string.

    A string is exact and must match ``pattern`` (plain notation, the range, at most
    ``places`` decimal places: it is what the service answers with). A number is rounded
    half away from zero to ``places`` decimal places, since a binary float is rarely
    exactly the decimal meant (``1.1`` is 1.100000000000000088…).

    Use as ``Annotated[Decimal, DecimalRange(...)]``.
    """

    minimum: int
    maximum: int
    pattern: str
    places: int = 4

    def _check(self, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("give a number or a decimal string, not a boolean")
        if isinstance(value, str) and not re.fullmatch(self.pattern, value):
            raise ValueError(
                f"give a decimal from {self.minimum} to {self.maximum} with at most "
                f'{self.places} decimal places, e.g. "1.5"'
            )
        return value

    def _round(self, value: Decimal) -> Decimal:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -self.places:
            return value.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_HALF_UP)
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        decimal = core_schema.decimal_schema(
            ge=Decimal(self.minimum), le=Decimal(self.maximum), allow_inf_nan=False
        )
        return core_schema.no_info_after_validator_function(
            self._round, core_schema.no_info_before_validator_function(self._check, decimal)
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        if handler.mode == "validation":
            json_schema["anyOf"] = [
                {"type": "number", "minimum": self.minimum, "maximum": self.maximum},
                {"type": "string", "pattern": self.pattern},
            ]
        return json_schema
