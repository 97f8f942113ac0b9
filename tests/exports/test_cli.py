"""`stammkunde export members|transactions` on both databases: what is there comes out."""

import csv
import io
import json
from pathlib import Path

import pytest

from app.exports import service
from tests.factories import adjust, enrol, purchase, set_program, stammkunde


@pytest.fixture
async def members(client, admin, pos):
    await set_program(client, admin, currency="EUR", points_per_currency_unit="1")
    anna = await enrol(client, pos, email="anna@example.com", phone="030 1234567", name="Anna")
    ben = await enrol(client, pos, external_id="crm-2", segments=["vip", "evening"])
    await purchase(client, pos, anna, 2500)
    await adjust(client, admin, ben, 7, "welcome back")
    return anna, ben


async def test_members_as_csv_with_their_balances(database, members, tmp_path: Path):
    anna, ben = members
    output = tmp_path / "members.csv"

    result = await stammkunde(database.url, "export", "members", "--output", str(output))

    assert result.exit_code == 0, result.output
    assert "exported 2 members" in result.stderr
    with output.open(newline="", encoding="utf-8") as exported:
        rows = {row["id"]: row for row in csv.DictReader(exported)}
    assert set(rows) == {anna["id"], ben["id"]}
    assert {k: rows[anna["id"]][k] for k in ("email", "phone", "name", "available", "pending")} == {
        "email": "anna@example.com",
        "phone": "+49301234567",
        "name": "Anna",
        "available": "25",
        "pending": "0",
    }
    assert rows[ben["id"]]["external_id"] == "crm-2"
    assert rows[ben["id"]]["segments"] == "evening;vip"
    assert rows[ben["id"]]["email"] == ""
    assert rows[ben["id"]]["created_at"] == ben["created_at"].replace("Z", "+00:00")


async def test_transactions_as_json_lines_read_a_batch_at_a_time(
    database, members, monkeypatch: pytest.MonkeyPatch
):
    anna, ben = members
    monkeypatch.setattr(service, "BATCH_SIZE", 1)  # every row its own batch

    result = await stammkunde(database.url, "export", "transactions", "--format", "jsonl")

    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["member_id"], e["type"], e["points"]) for e in entries] == [
        (anna["id"], "purchase", 25),
        (ben["id"], "adjustment", 7),
    ]
    assert set(entries[0]) == set(service.columns(service.Dataset.transactions))
    assert entries[0]["seq"] == 1
    assert len(entries[0]["hash"]) == 64


async def test_members_as_json_lines_keep_types(database, members):
    anna, _ = members

    result = await stammkunde(database.url, "export", "members", "--format", "jsonl")

    assert result.exit_code == 0, result.output
    exported = {row["id"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert exported[anna["id"]]["available"] == 25
    assert exported[anna["id"]]["segments"] == []
    assert exported[anna["id"]]["birthdate"] is None


async def test_an_import_comes_back_out_of_an_export(app, database, tmp_path: Path):
    members_file = tmp_path / "members.csv"
    members_file.write_text(
        "external_id,email,phone,points\n"
        "crm-1,anna@example.com,+49 30 1234567,250\n"
        "crm-2,ben@example.com,,\n",
        encoding="utf-8",
    )
    imported = await stammkunde(database.url, "import", "members", str(members_file))
    assert imported.exit_code == 0, imported.output

    exported = await stammkunde(database.url, "export", "members")
    entries = await stammkunde(database.url, "export", "transactions")

    assert exported.exit_code == entries.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert sorted((r["external_id"], r["email"], r["phone"], r["available"]) for r in rows) == [
        ("crm-1", "anna@example.com", "+49301234567", "250"),
        ("crm-2", "ben@example.com", "", "0"),
    ]
    [entry] = csv.DictReader(io.StringIO(entries.stdout))
    assert (entry["type"], entry["points"], entry["reference"]) == ("import", "250", "import")


async def test_an_empty_database_exports_a_header(database, app):
    result = await stammkunde(database.url, "export", "members")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [",".join(service.columns(service.Dataset.members))]
