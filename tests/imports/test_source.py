"""Reading a member file: separators, byte-order mark, line endings, the lines rows start on."""

import io

import pytest

from app.imports import source
from app.imports.errors import ImportFileInvalid


def read(text: str) -> source.MemberFile:
    return source.open_member_file(io.StringIO(text, newline=""), {})


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_the_separator_is_the_one_the_header_uses(separator):
    member_file = read(f'email{separator}name\r\nanna@example.com{separator}"Anna, Dr."\r\n')

    assert member_file.header == ("email", "name")
    assert list(member_file.records) == [(2, ("anna@example.com", "Anna, Dr."))]


def test_rows_are_numbered_by_the_line_they_start_on_and_blank_lines_skipped():
    member_file = read(
        "\ufeffemail,name\n"
        'anna@example.com,"Anna\nSchmidt"\n'  # a quoted line break
        "\n"
        ",\n"
        "ben@example.com,Ben\n"
    )

    assert member_file.header == ("email", "name")
    assert [line for line, _ in member_file.records] == [2, 6]


def test_records_come_in_chunks():
    member_file = read("email\n" + "".join(f"m{i}@example.com\n" for i in range(5)))

    chunks = list(source.chunks(member_file.records, 2))

    assert [[line for line, _ in chunk] for chunk in chunks] == [[2, 3], [4, 5], [6]]


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"", "empty"), (b"\n\n", "empty"), (b"email\n\xe4nna@example.com\n", "not UTF-8 text")],
)
def test_a_file_that_is_not_utf8_csv_with_a_header_is_refused(body, message):
    with pytest.raises(ImportFileInvalid, match=message):
        read(source.decode(body))


def test_a_line_that_is_not_utf8_stops_the_reading_where_it_is():
    good = b"".join(b"m%d@example.com\n" % i for i in range(2000))  # more than a block
    lines = io.TextIOWrapper(io.BytesIO(b"email\n" + good + b"\xe4\n"), "utf-8", newline="")
    member_file = source.open_member_file(lines, {})
    first = next(member_file.records)

    with pytest.raises(ImportFileInvalid, match="not UTF-8 text after line"):
        list(member_file.records)

    assert first == (2, ("m0@example.com",))  # rows before the bad block were read
