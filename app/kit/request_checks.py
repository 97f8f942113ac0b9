"""Checks on a request's raw parts, before its parameters and body are validated.

They apply to every /v1 route (``UnitOfWorkRoute`` runs them) and raise the same
``RequestValidationError`` that FastAPI's own validation raises, so the answer is the usual
422 ``validation_error`` naming the offending part.
"""

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError

NUL = "\x00"


def query_parameter_names(dependant: Dependant) -> set[str]:
    names = {parameter.alias for parameter in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= query_parameter_names(dependency)
    return names


def refuse_unknown_query_parameters(request: Request, known: set[str]) -> None:
    """A misspelt parameter (``?limt=10``) is an error, not silently a different request."""
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        raise RequestValidationError(
            [
                {"type": "extra_forbidden", "loc": ("query", name), "msg": "Unknown parameter"}
                for name in dict.fromkeys(unknown)
            ]
        )


def _nul_locations(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        if NUL in value:
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nul_locations(key, (*loc, key))
            yield from _nul_locations(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_locations(item, (*loc, index))


async def refuse_nul_characters(request: Request) -> None:
    """No text the service keeps may hold U+0000: PostgreSQL cannot store it in text at all
    (SQLite could), so it is refused alike on both, wherever it comes in."""
    locations: list[tuple[str | int, ...]] = []
    if NUL in request.scope["path"]:
        locations.append(("path",))
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            locations.append(("query", name))
    body = await request.body()
    if b"\x00" in body:
        locations.append(("body",))
    elif b"\\u0000" in body:  # JSON's only way to carry it; parse only then
        with contextlib.suppress(ValueError):  # not JSON: FastAPI's validation says so
            locations.extend(_nul_locations(json.loads(body), ("body",)))
    if locations:
        raise RequestValidationError(
            [
                {"type": "string_nul", "loc": loc, "msg": "Text must not contain U+0000"}
                for loc in locations
            ]
        )
