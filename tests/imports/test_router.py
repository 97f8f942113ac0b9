"""POST /v1/imports/members on both databases: members, duplicates, balances, re-runs."""

import uuid

from sqlalchemy import func, select

from app.imports.models import ImportRow
from app.imports.router import MAX_UPLOAD_BYTES
from app.ledger.models import LedgerTransaction
from app.members.models import Member
from tests.factories import (
    assert_ledger_verifies,
    assert_problem,
    balance,
    enrol,
    fetch_member,
    look_up,
    transactions,
)
from tests.imports.conftest import imported, upload


async def count(app, entity) -> int:
    async with app.state.runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(entity)) or 0)


async def test_a_file_becomes_members_with_their_opening_balances(app, client, admin, csv_text):
    report = await imported(client, admin, csv_text)

    assert report == {
        "rows": 3,
        "created": 3,
        "already_imported": 0,
        "duplicates": 0,
        "invalid": 0,
        "points": 250,
        "rejects": [],
    }
    [anna] = await look_up(client, admin, external_id="crm-1")
    assert {k: anna[k] for k in ("card_number", "email", "phone", "name", "birthdate")} == {
        "card_number": "2712345678901236",
        "email": "anna@example.com",
        "phone": "+49301234567",
        "name": "Anna Schmidt",
        "birthdate": "1980-02-01",
    }
    [ben] = await look_up(client, admin, external_id="crm-2")
    assert (ben["phone"], ben["birthdate"]) == ("+49307654321", "1975-03-12")
    assert len(ben["card_number"]) == 16  # generated, as at an enrolment
    assert (await balance(client, admin, anna))["available"] == 250
    [entry] = (await transactions(client, admin, anna))["items"]
    assert (entry["type"], entry["points"], entry["balance_after"]) == ("import", 250, 250)
    assert (await balance(client, admin, ben))["available"] == 0
    assert (await transactions(client, admin, ben))["items"] == []  # no signup bonus
    await assert_ledger_verifies(app)


async def test_uploading_the_same_file_again_creates_and_posts_nothing(
    app, client, admin, csv_text
):
    await imported(client, admin, csv_text)
    entries = await count(app, LedgerTransaction)

    again = await imported(client, admin, csv_text)

    assert (again["created"], again["already_imported"], again["points"]) == (0, 3, 0)
    assert again["rejects"] == []
    assert await count(app, Member) == 3
    assert await count(app, LedgerTransaction) == entries
    [anna] = await look_up(client, admin, external_id="crm-1")
    assert (await balance(client, admin, anna))["available"] == 250
    await assert_ledger_verifies(app)


async def test_a_row_is_recognised_after_the_member_changed(app, client, admin, csv_text):
    await imported(client, admin, csv_text)
    [anna] = await look_up(client, admin, external_id="crm-1")
    changed = await client.patch(
        f"/v1/members/{anna['id']}", json={"external_id": "crm-1-new"}, headers=admin
    )
    assert changed.status_code == 200, changed.text

    again = await imported(client, admin, csv_text)

    assert (again["created"], again["already_imported"], again["points"]) == (0, 3, 0)


async def test_likely_duplicates_within_the_file_are_reported_not_created(client, admin):
    report = await imported(
        client,
        admin,
        "external_id,card_number,email,phone\n"
        "a,2712345678901236,anna@example.com,030 1234567\n"
        "b,,ANNA@Example.COM,\n"  # the e-mail, in other letters
        "c,,,+49 (30) 123-4567\n"  # the phone, spelt otherwise
        "d,2712 3456 7890 1236,,\n"  # the card number, with spaces
        "a,,other@example.com,\n"  # the external id
        "e,,eve@example.com,\n",
    )

    assert (report["created"], report["duplicates"]) == (2, 4)
    assert [(r["line"], r["reason"], r["duplicate_of"]) for r in report["rejects"]] == [
        (3, "duplicate_email", "line 2"),
        (4, "duplicate_phone", "line 2"),
        (5, "duplicate_card_number", "line 2"),
        (6, "duplicate_external_id", "line 2"),
    ]
    assert report["rejects"][0]["values"] == {
        "external_id": "b",
        "card_number": "",
        "email": "ANNA@Example.COM",
        "phone": "",
    }


async def test_rows_like_existing_members_are_reported_with_the_member(client, admin):
    anna = await enrol(
        client,
        admin,
        external_id="crm-1",
        card_number="2712345678901236",
        email="anna@example.com",
        phone="+49 30 1234567",
    )

    report = await imported(
        client,
        admin,
        "external_id,card_number,email,phone,points\n"
        "crm-1,,,,10\n"
        "x1,2712345678901236,,,10\n"
        "x2,,Anna@EXAMPLE.com,,10\n"
        "x3,,,0301234567,10\n"
        "x4,,new@example.com,,10\n",
    )

    assert (report["created"], report["duplicates"], report["points"]) == (1, 4, 10)
    assert [(r["reason"], r["duplicate_of"]) for r in report["rejects"]] == [
        ("duplicate_external_id", anna["id"]),
        ("duplicate_card_number", anna["id"]),
        ("duplicate_email", anna["id"]),
        ("duplicate_phone", anna["id"]),
    ]
    assert (await balance(client, admin, anna))["available"] == 0  # nothing posted to her


async def test_invalid_rows_are_reported_and_the_rest_imported(client, admin):
    report = await imported(
        client,
        admin,
        "external_id;email;phone;birthdate;points\n"
        "crm-1;anna@;;;\n"
        "crm-2;;12;;\n"
        "crm-3;;;31.02.1980;\n"
        "crm-4;;;;-3\n"
        ";;;;5\n"
        "crm-6;;;;5;extra\n"
        "\n"
        "crm-7;ok@example.com;;;7\n",
    )

    assert (report["rows"], report["created"], report["invalid"], report["points"]) == (
        7,
        1,
        6,
        7,
    )
    assert [(r["line"], r["reason"]) for r in report["rejects"]] == [
        (2, "invalid_email"),
        (3, "invalid_phone"),
        (4, "invalid_birthdate"),
        (5, "invalid_opening_balance"),
        (6, "missing_identity"),
        (7, "malformed_row"),
    ]


async def test_columns_can_be_mapped_and_phones_read_in_another_region(client, admin):
    report = await imported(
        client,
        admin,
        "Kunde,Adresse,Handy,Guthaben\nk-1,anna@example.com,01 23 45 67 89,40\n",
        map=["external_id=Kunde", "email=Adresse", "phone=Handy", "opening_balance=Guthaben"],
        default_region="FR",
    )

    assert (report["created"], report["points"]) == (1, 40)
    [anna] = await look_up(client, admin, external_id="k-1")
    assert anna["phone"] == "+33123456789"


async def test_erasing_an_imported_member_forgets_the_row(app, client, admin, csv_text):
    await imported(client, admin, csv_text)
    [anna] = await look_up(client, admin, external_id="crm-1")

    erased = await client.delete(f"/v1/members/{anna['id']}", headers=admin)

    assert erased.status_code == 200, erased.text
    assert await count(app, ImportRow) == 2
    assert (await fetch_member(client, admin, anna))["phone"] is None
    await assert_ledger_verifies(app)


async def test_a_file_over_the_upload_limit_is_413(client, admin):
    line = "crm-000000,someone@example.com\n"
    text = "external_id,email\n" + line * (MAX_UPLOAD_BYTES // len(line) + 1)

    response = await upload(client, admin, text)

    body = assert_problem(response, 413, "payload_too_large")
    assert str(MAX_UPLOAD_BYTES) in body["detail"]


async def test_a_file_that_cannot_be_read_is_refused_with_a_stable_code(client, admin):
    cases = [
        ({"Content-Type": "application/json"}, b'{"a": 1}', 415, "unsupported_media_type"),
        ({"Content-Type": "text/csv"}, b"", 422, "import_file_invalid"),
        ({"Content-Type": "text/csv"}, "email\nänna@example.com\n".encode("latin-1"), 422,
         "import_file_invalid"),
        ({"Content-Type": "text/csv"}, b"name,points\nAnna,3\n", 422, "import_mapping_invalid"),
    ]  # fmt: skip
    for headers, body, status, code in cases:
        response = await client.post(
            "/v1/imports/members", content=body, headers={**admin, **headers}
        )
        assert_problem(response, status, code)
    # An unknown field is the document's pattern (validation); a column the file lacks is not.
    mapped = await upload(client, admin, "email\na@example.com\n", map=["mail=email"])
    assert_problem(mapped, 422, "validation_error")
    mapped = await upload(client, admin, "email\na@example.com\n", map=["email=E-Mail"])
    assert_problem(mapped, 422, "import_mapping_invalid")
    region = await upload(client, admin, "email\na@example.com\n", default_region="XX")
    assert_problem(region, 422, "validation_error")


async def test_only_admins_import(client, pos, csv_text):
    response = await upload(client, pos, csv_text)

    assert_problem(response, 403, "insufficient_scope")


async def test_with_an_idempotency_key_a_retry_gets_the_first_answer(client, admin, csv_text):
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await upload(client, {**admin, **key}, csv_text)
    second = await upload(client, {**admin, **key}, csv_text)

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
