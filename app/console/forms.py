"""HTML forms in, the API's own request models out, with messages next to the fields.

A form sends text. It is turned into the JSON values the model's schema asks for (whole
numbers, lists, flags), then validated by the same model that validates ``/v1`` bodies, so
the console accepts exactly what the API does. What pydantic refuses comes back as one
message per field, in words a person reads (translated where shown).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.datastructures import FormData

from app.console.i18n import N_

ModelT = TypeVar("ModelT", bound=BaseModel)

WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
LIST_SEPARATORS = re.compile(r"[\n,]")
CHECKED = frozenset({"on", "true", "1", "yes"})
GENERAL = "__all__"


@dataclass(frozen=True, slots=True)
class Message:
    """A message in English with its values; ``_(message.text, **message.values)`` shows it."""

    text: str
    values: Mapping[str, object] = field(default_factory=dict)


_MESSAGES = {
    "missing": N_("Required."),
    "greater_than_equal": N_("Must be at least %(ge)s."),
    "less_than_equal": N_("Must be at most %(le)s."),
    "greater_than": N_("Must be more than %(gt)s."),
    "less_than": N_("Must be less than %(lt)s."),
    "int_type": N_("Enter a whole number."),
    "int_parsing": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "decimal_parsing": N_("Enter a number."),
    "decimal_type": N_("Enter a number."),
    "string_too_short": N_("Enter at least %(min_length)s characters."),
    "string_too_long": N_("Enter at most %(max_length)s characters."),
    "too_long": N_("Enter at most %(max_length)s entries."),
    "too_short": N_("Enter at least %(min_length)s entries."),
    "string_pattern_mismatch": N_("Not in the expected format."),
    "enum": N_("Choose one of: %(expected)s."),
    "literal_error": N_("Choose one of: %(expected)s."),
    "bool_type": N_("Choose yes or no."),
    "date_type": N_("Enter a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("Enter a date (YYYY-MM-DD)."),
    "datetime_type": N_("Enter a date and time."),
    "datetime_from_date_parsing": N_("Enter a date and time."),
    "uuid_type": N_("Enter an id as shown in the console."),
    "uuid_parsing": N_("Enter an id as shown in the console."),
    "url_parsing": N_("Enter a web address."),
    "value_error": N_("Not valid: %(reason)s"),
}
_NOT_VALID = N_("Not valid: %(reason)s")


def describe(error: ErrorDetails) -> Message:
    text = _MESSAGES.get(error["type"])
    values: dict[str, object] = dict(error.get("ctx") or {})
    if text is None or text == _NOT_VALID:
        reason = error["msg"].removeprefix("Value error, ")
        return Message(_NOT_VALID, {"reason": reason})
    return Message(text, values)


def field_errors(error: ValidationError) -> dict[str, Message]:
    """The first message per top-level field; errors of the whole model under ``__all__``."""
    messages: dict[str, Message] = {}
    for details in error.errors():
        name = str(details["loc"][0]) if details["loc"] else GENERAL
        messages.setdefault(name, describe(details))
    return messages


def _property_types(model: type[BaseModel]) -> dict[str, set[str]]:
    """Each field's JSON types ("integer", "array", "boolean", ...), by its alias."""
    schema = model.model_json_schema()

    def types_of(node: Mapping[str, Any]) -> set[str]:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return types_of(schema.get("$defs", {}).get(name, {}))
        found = {node["type"]} if isinstance(node.get("type"), str) else set()
        for key in ("anyOf", "oneOf", "allOf"):
            for option in node.get(key, []):
                found |= types_of(option)
        return found

    return {name: types_of(node) for name, node in schema.get("properties", {}).items()}


def json_values(
    model: type[BaseModel],
    form: FormData | Mapping[str, str],
    *,
    keep_blank: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The form's text as the JSON body the API would receive.

    A blank field is left out (the model's default applies), unless it is in
    ``keep_blank``; a checkbox is a flag that a missing field turns off.
    """
    values: dict[str, Any] = {}
    for name, types in _property_types(model).items():
        if "boolean" in types:
            # An unticked checkbox sends nothing at all.
            values[name] = str(form.get(name, "")).lower() in CHECKED
            continue
        raw = form.get(name)
        if not isinstance(raw, str):
            continue
        text = raw.strip()
        if not text and name not in keep_blank:
            continue
        if "array" in types:
            values[name] = [item.strip() for item in LIST_SEPARATORS.split(text) if item.strip()]
        elif "integer" in types and WHOLE_NUMBER.fullmatch(text):
            values[name] = int(text)
        elif "number" in types and "string" not in types:
            try:
                values[name] = float(text) if "." in text else int(text)
            except ValueError:
                values[name] = text
        else:
            values[name] = text
    return values


@dataclass(slots=True)
class Form(Generic[ModelT]):
    """What was entered (to show again) and either the valid model or the messages."""

    entered: dict[str, str]
    model: ModelT | None
    errors: dict[str, Message]

    @property
    def valid(self) -> bool:
        return self.model is not None


def read(
    model: type[ModelT],
    form: FormData | Mapping[str, str],
    *,
    keep_blank: frozenset[str] = frozenset(),
) -> Form[ModelT]:
    entered = {name: str(value) for name, value in form.items() if isinstance(value, str)}
    try:
        parsed = model.model_validate(json_values(model, form, keep_blank=keep_blank))
    except ValidationError as error:
        return Form(entered, None, field_errors(error))
    return Form(entered, parsed, {})
