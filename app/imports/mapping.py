"""Which column of a member file holds which field: a default by header name, and overrides.

Pure: header names and ``target=column`` overrides in, a mapping out.
"""

import re
from collections.abc import Mapping, Sequence

from app.imports.errors import ImportMappingInvalid

# Fields that name a person, in the order that picks a row's identity (its key) and the
# order duplicates are looked for. A row needs at least one of them.
IDENTITY_FIELDS = ("external_id", "card_number", "email", "phone")

# Each field and the header names it is found under by default (compared after
# normalising: lower case, spaces and hyphens as underscores).
DEFAULT_HEADERS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "customer_id", "customer_number", "kundennummer"),
    "card_number": ("card_number", "card", "kartennummer"),
    "email": ("email", "e_mail", "mail"),
    "phone": ("phone", "mobile", "telephone", "telefon"),
    "name": ("name", "full_name"),
    "birthdate": ("birthdate", "birthday", "date_of_birth", "geburtsdatum"),
    "opening_balance": ("opening_balance", "points", "balance", "punkte"),
}
FIELDS = tuple(DEFAULT_HEADERS)
# What parse_overrides takes, for the document: a known field, "=", the column (or nothing).
MAPPING_PATTERN = rf"^\s*({'|'.join(FIELDS)})\s*="


def normalise_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``["email=E-Mail Adresse", "phone="]`` -> ``{"email": "E-Mail Adresse", "phone": ""}``;
    an empty column leaves the field out even where a default header would match."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        field, separator, column = pair.partition("=")
        field = field.strip()
        if not separator or field not in DEFAULT_HEADERS:
            raise ImportMappingInvalid(
                f"A mapping is field=column with a field of {', '.join(FIELDS)}; got {pair!r}."
            )
        overrides[field] = column.strip()
    return overrides


def resolve(header: Sequence[str], overrides: Mapping[str, str]) -> dict[str, int]:
    """Field -> index of its column in ``header``."""
    normalised = [normalise_header(name) for name in header]
    found: dict[str, int] = {}
    for field, defaults in DEFAULT_HEADERS.items():
        if field in overrides:
            column = overrides[field]
            if not column:
                continue
            if column in header:
                found[field] = header.index(column)
            elif normalise_header(column) in normalised:
                found[field] = normalised.index(normalise_header(column))
            else:
                raise ImportMappingInvalid(
                    f"The file has no column {column!r} (mapped to {field}); "
                    f"its columns are {', '.join(header)}."
                )
            continue
        for name in defaults:
            if name in normalised:
                found[field] = normalised.index(name)
                break
    if not any(field in found for field in IDENTITY_FIELDS):
        raise ImportMappingInvalid(
            f"No column holds one of {', '.join(IDENTITY_FIELDS)}: name one in the header "
            f"(columns: {', '.join(header) or 'none'}) or map it with field=column."
        )
    return found
