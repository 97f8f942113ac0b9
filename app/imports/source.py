"""Reading a member file: CSV in UTF-8 (a byte-order mark is fine), the first row the header,
fields separated by commas, semicolons (as spreadsheets in German locales save) or tabs."""

import csv
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.imports import mapping
from app.imports.errors import ImportFileInvalid

if TYPE_CHECKING:
    import _csv

DELIMITERS = (",", ";", "\t")

Line = tuple[int, tuple[str, ...]]  # the line a record starts on, and its fields


@dataclass(frozen=True, slots=True)
class MemberFile:
    header: tuple[str, ...]
    columns: dict[str, int]  # field -> index of its column
    records: Iterator[Line]


def _delimiter(header_line: str) -> str:
    """The separator the header uses most (a header has no quoted separators in practice)."""
    return max(DELIMITERS, key=header_line.count)


def _records(reader: "_csv.Reader") -> Iterator[Line]:
    previous_line = reader.line_num
    try:
        for fields in reader:
            line, previous_line = previous_line + 1, reader.line_num
            if any(field.strip() for field in fields):
                yield line, tuple(fields)
    except csv.Error as error:
        raise ImportFileInvalid(f"Line {reader.line_num + 1} is not valid CSV: {error}.") from None
    except UnicodeDecodeError:
        # Text is decoded a block at a time: the bad byte is somewhere after this line.
        raise ImportFileInvalid(
            f"The file is not UTF-8 text after line {reader.line_num}; save it as UTF-8 CSV."
        ) from None


def open_member_file(lines: Iterable[str], overrides: Mapping[str, str]) -> MemberFile:
    """The file's header and mapping (checked at once), and its records, read as iterated."""
    iterator = iter(lines)
    try:
        first = next(iterator, "")
    except UnicodeDecodeError:
        raise ImportFileInvalid("The file is not UTF-8 text; save it as UTF-8 CSV.") from None
    first = first.removeprefix("\ufeff")
    if not first.strip():
        raise ImportFileInvalid("The file is empty: the first line must name the columns.")
    reader = csv.reader(itertools.chain([first], iterator), delimiter=_delimiter(first))
    try:
        header = tuple(name.strip() for name in next(reader))
    except csv.Error as error:
        raise ImportFileInvalid(f"The header is not valid CSV: {error}.") from None
    columns = mapping.resolve(header, overrides)
    return MemberFile(header, columns, _records(reader))


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileInvalid(
            f"The file is not UTF-8 text (byte {error.start}); save it as UTF-8 CSV."
        ) from None


def chunks(records: Iterator[Line], size: int) -> Iterator[list[Line]]:
    while chunk := list(itertools.islice(records, size)):
        yield chunk
