"""`stammkunde import members` on both databases: the summary, the rejects file, re-runs."""

import csv
from pathlib import Path

from sqlalchemy import func, select

from app.ledger.models import LedgerTransaction
from app.members.models import Member
from tests.factories import assert_ledger_verifies, balance, look_up, stammkunde

FILE = (
    "Kundennummer;E-Mail;Telefon;Name;Geburtsdatum;Punkte\n"
    "crm-1;Anna@Example.com;030 1234567;Anna;01.02.1980;250\n"
    "crm-2;ben@example.com;;Ben;;\n"
    "crm-3;ANNA@example.com;;Anna again;;10\n"
    "crm-4;x@;;Bad;;\n"
    "crm-5;carl@example.com;0049 30 1234567;Carl;;5\n"
    "crm-6;dora@example.com;;Dora;;7\n"
)


def summary(output: str) -> dict[str, int]:
    return {name: int(value) for name, value in (line.split("\t") for line in output.splitlines())}


async def count(app, entity) -> int:
    async with app.state.runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(entity)) or 0)


async def test_import_reports_counts_and_writes_rejects_with_reasons(
    app, database, client, admin, tmp_path: Path
):
    members_file = tmp_path / "members.csv"
    members_file.write_text(FILE, encoding="utf-8")

    result = await stammkunde(database.url, "import", "members", str(members_file))

    assert result.exit_code == 0, result.output
    assert summary(result.stdout) == {
        "rows": 6,
        "created": 3,
        "already_imported": 0,
        "duplicates": 2,
        "invalid": 1,
        "points": 257,
    }
    with (tmp_path / "members.rejects.csv").open(newline="", encoding="utf-8") as rejects:
        rows = list(csv.DictReader(rejects))
    assert [(r["line"], r["reason"], r["duplicate_of"], r["Name"]) for r in rows] == [
        ("4", "duplicate_email", "line 2", "Anna again"),
        ("5", "invalid_email", "", "Bad"),
        ("6", "duplicate_phone", "line 2", "Carl"),
    ]
    [anna] = await look_up(client, admin, external_id="crm-1")
    assert (anna["email"], anna["phone"], anna["birthdate"]) == (
        "anna@example.com",
        "+49301234567",
        "1980-02-01",
    )
    assert (await balance(client, admin, anna))["available"] == 250
    assert (await stammkunde(database.url, "verify")).exit_code == 0


async def test_a_second_run_of_the_same_file_changes_nothing(app, database, tmp_path: Path):
    members_file = tmp_path / "members.csv"
    members_file.write_text(FILE, encoding="utf-8")
    rejects = tmp_path / "out" / "rejects.csv"
    rejects.parent.mkdir()
    first = await stammkunde(
        database.url, "import", "members", str(members_file), "--rejects", str(rejects)
    )
    assert first.exit_code == 0, first.output
    entries = await count(app, LedgerTransaction)

    second = await stammkunde(
        database.url, "import", "members", str(members_file), "--rejects", str(rejects)
    )

    assert second.exit_code == 0, second.output
    assert summary(second.stdout) == {
        "rows": 6,
        "created": 0,
        "already_imported": 3,
        "duplicates": 2,
        "invalid": 1,
        "points": 0,
    }
    assert await count(app, Member) == 3
    assert await count(app, LedgerTransaction) == entries
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 4  # header and 3 rows
    await assert_ledger_verifies(app)


async def test_small_chunks_find_duplicates_across_them(app, database, tmp_path: Path):
    members_file = tmp_path / "members.csv"
    members_file.write_text(FILE, encoding="utf-8")

    result = await stammkunde(
        database.url, "import", "members", str(members_file), "--chunk-size", "1"
    )

    assert result.exit_code == 0, result.output
    assert summary(result.stdout)["created"] == 3
    assert summary(result.stdout)["duplicates"] == 2


async def test_a_dry_run_reports_the_same_and_writes_nothing(app, database, tmp_path: Path):
    members_file = tmp_path / "members.csv"
    members_file.write_text(FILE, encoding="utf-8")

    result = await stammkunde(
        database.url, "import", "members", str(members_file), "--dry-run", "--chunk-size", "2"
    )

    assert result.exit_code == 0, result.output
    assert summary(result.stdout)["created"] == 3
    assert summary(result.stdout)["duplicates"] == 2
    assert await count(app, Member) == 0


async def test_mapping_and_region_options(app, database, client, admin, tmp_path: Path):
    members_file = tmp_path / "members.csv"
    members_file.write_text("Kunde,Handy,Guthaben\nk-1,01 23 45 67 89,40\n", encoding="utf-8")

    result = await stammkunde(
        database.url,
        "import",
        "members",
        str(members_file),
        "--map",
        "external_id=Kunde",
        "--map",
        "phone=Handy",
        "--map",
        "opening_balance=Guthaben",
        "--default-region",
        "FR",
    )

    assert result.exit_code == 0, result.output
    [member] = await look_up(client, admin, external_id="k-1")
    assert member["phone"] == "+33123456789"
    assert (await balance(client, admin, member))["available"] == 40


async def test_a_file_or_mapping_that_cannot_work_stops_before_anything_is_written(
    app, database, tmp_path: Path
):
    members_file = tmp_path / "members.csv"
    members_file.write_text("name,points\nAnna,5\n", encoding="utf-8")
    unreadable = tmp_path / "latin1.csv"
    unreadable.write_bytes("email\nänna@example.com\n".encode("latin-1"))

    for args in (
        [str(members_file)],
        [str(members_file), "--map", "mail=name"],
        [str(unreadable)],
    ):
        result = await stammkunde(database.url, "import", "members", *args)
        assert result.exit_code == 2, result.output
        assert "import stopped" in result.stderr
    region = await stammkunde(
        database.url, "import", "members", str(members_file), "--default-region", "XX"
    )
    assert region.exit_code == 2
    assert await count(app, Member) == 0
