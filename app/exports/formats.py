"""Writing exported rows as CSV or as JSON lines, one row at a time."""

import csv
import json
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TextIO
from uuid import UUID


class Format(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


def _text(value: Any) -> Any:
    """A value as a CSV cell: dates in ISO 8601, lists joined with ``;``, None empty."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return value


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"cannot export {type(value).__name__}")


class Writer:
    def __init__(self, out: TextIO, format: Format, columns: Sequence[str]) -> None:
        self.out = out
        self.format = format
        self.columns = list(columns)
        self.csv = csv.writer(out)
        if format is Format.csv:
            self.csv.writerow(self.columns)

    def write(self, row: dict[str, Any]) -> None:
        if self.format is Format.csv:
            self.csv.writerow([_text(row[column]) for column in self.columns])
        else:
            self.out.write(json.dumps(row, default=_json, ensure_ascii=False) + "\n")
