"""Checking one row and mapping columns: the rules, without a database."""

from datetime import date

import pytest

from app.imports import rows
from app.imports.errors import ImportMappingInvalid
from app.imports.mapping import parse_overrides, resolve
from app.imports.rows import MemberRow, Reject

HEADER = (
    "external_id",
    "card_number",
    "email",
    "phone",
    "name",
    "birthdate",
    "opening_balance",
)
COLUMNS = resolve(HEADER, {})
TODAY = date(2026, 12, 2)


def check(*values: str, region: str = "DE") -> MemberRow | Reject:
    return rows.check(7, tuple(values), len(HEADER), COLUMNS, region, TODAY)


def test_a_row_is_normalised_as_the_api_would_store_it():
    row = check(
        " crm-1 ", "2712 3456 7890 1236", "Anna@Example.COM", "030 1234567", "Anna", "01.02.1980"
    )

    assert row == MemberRow(
        line=7,
        values=row.values,
        external_id="crm-1",
        card_number="2712345678901236",
        email="anna@example.com",
        phone="+49301234567",
        name="Anna",
        birthdate=date(1980, 2, 1),
        opening_balance=0,
    )


@pytest.mark.parametrize(
    "phone",
    ["030 1234567", "+49 30 1234567", "0049 (30) 123-4567", "+49301234567", "(030) 12 34 567"],
)
def test_one_phone_number_in_any_spelling_is_one_e164_number(phone):
    row = check("", "", "", phone)

    assert isinstance(row, MemberRow)
    assert row.phone == "+49301234567"


def test_a_number_without_country_code_is_read_in_the_default_region():
    row = check("", "", "", "01 23 45 67 89", region="FR")

    assert isinstance(row, MemberRow)
    assert row.phone == "+33123456789"


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        (("x" * 101,), "invalid_external_id"),
        (("", "2712345678901235"), "invalid_card_number"),  # check digit wrong
        (("", "27123"), "invalid_card_number"),
        (("", "", "anna@"), "invalid_email"),
        (("", "", "", "12"), "invalid_phone"),
        (("", "", "", "not a phone"), "invalid_phone"),
        (("crm-1", "", "", "", "x" * 201), "invalid_name"),
        (("crm-1", "", "", "", "", "1980-02-30"), "invalid_birthdate"),
        (("crm-1", "", "", "", "", "2027-01-01"), "invalid_birthdate"),  # in the future
        (("crm-1", "", "", "", "", "02/01/1980"), "invalid_birthdate"),
        (("crm-1", "", "", "", "", "", "-5"), "invalid_opening_balance"),
        (("crm-1", "", "", "", "", "", "12.5"), "invalid_opening_balance"),
        (("crm-1", "", "", "", "", "", "1000000001"), "invalid_opening_balance"),
        (("", "", "", "", "Anna"), "missing_identity"),
        (("crm-1", "", "", "", "", "", "", "extra"), "malformed_row"),
    ],
)
def test_every_reason_a_row_is_rejected(values, reason):
    rejected = check(*values)

    assert isinstance(rejected, Reject)
    assert (rejected.line, rejected.reason, rejected.values) == (7, reason, values)


def test_a_row_with_several_problems_names_them_all_and_is_rejected_for_the_first():
    rejected = check("crm-1", "", "anna@", "12", "", "", "-1")

    assert isinstance(rejected, Reject)
    assert rejected.reason == "invalid_email"
    assert "email" in rejected.detail
    assert "phone" in rejected.detail
    assert "opening_balance" in rejected.detail


def test_a_short_row_reads_its_missing_fields_as_empty():
    row = check("crm-1")

    assert isinstance(row, MemberRow)
    assert (row.external_id, row.email, row.opening_balance) == ("crm-1", None, 0)


def test_the_key_is_the_first_identity_hmac_d_and_names_the_field():
    by_external_id = check("crm-1", "", "anna@example.com")
    by_email = check("", "", "ANNA@example.com")
    assert isinstance(by_external_id, MemberRow)
    assert isinstance(by_email, MemberRow)

    assert by_external_id.key(b"secret") == check("crm-1").key(b"secret")
    assert by_external_id.key(b"secret") != by_email.key(b"secret")
    assert by_email.key(b"secret") != by_email.key(b"other secret")
    assert "anna" not in by_email.key(b"secret")


def test_columns_are_found_by_header_names_in_any_case_and_spelling():
    header = ("Kundennummer", "E-Mail", "Mobile", "Full Name", "Geburtsdatum", "Punkte", "Notes")

    assert resolve(header, {}) == {
        "external_id": 0,
        "email": 1,
        "phone": 2,
        "name": 3,
        "birthdate": 4,
        "opening_balance": 5,
    }


def test_a_mapping_names_a_column_or_leaves_a_field_out():
    header = ("Customer", "Adresse", "email", "Bonus")
    overrides = parse_overrides(["external_id=Customer", "email=adresse", "opening_balance="])

    assert resolve(header, overrides) == {"external_id": 0, "email": 1}


@pytest.mark.parametrize(
    ("header", "pairs", "message"),
    [
        (("email",), ["mail=email"], "field=column"),
        (("email",), ["email"], "field=column"),
        (("email",), ["email=E-Mail Adresse"], "no column 'E-Mail Adresse'"),
        (("name", "points"), [], "No column holds one of"),
        (("email",), ["email="], "No column holds one of"),
    ],
)
def test_a_mapping_that_cannot_work_is_refused(header, pairs, message):
    with pytest.raises(ImportMappingInvalid, match=message):
        resolve(header, parse_overrides(pairs))
