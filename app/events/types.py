"""Event types and the patterns that pick them, for the feed and for webhook endpoints.

A pattern is an event type (``points.earned``) or a prefix ending in a dot (``points.``,
every ``points.*`` event). An empty list of patterns picks every event.
"""

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field
from sqlalchemy import ColumnElement, false, or_
from sqlalchemy.orm import InstrumentedAttribute

TYPE_PATTERN_REGEX = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.?$"
MAX_PATTERNS = 50

TypePattern = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=TYPE_PATTERN_REGEX,
        description="An event type (`points.earned`) or a prefix ending in a dot (`points.`).",
        examples=["points.earned", "points."],
    ),
]


def is_prefix(pattern: str) -> bool:
    return pattern.endswith(".")


def matches(patterns: Sequence[str], event_type: str) -> bool:
    """Whether ``event_type`` is picked by ``patterns`` (all types when there are none)."""
    if not patterns:
        return True
    return any(
        event_type.startswith(pattern) if is_prefix(pattern) else event_type == pattern
        for pattern in patterns
    )


def type_filter(column: InstrumentedAttribute[str], patterns: Sequence[str]) -> ColumnElement[bool]:
    """The SQL form of :func:`matches` for a non-empty list of patterns."""
    if not patterns:
        return ~false()
    return or_(
        *(
            column.startswith(pattern, autoescape=True) if is_prefix(pattern) else column == pattern
            for pattern in patterns
        )
    )
