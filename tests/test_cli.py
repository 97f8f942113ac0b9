"""The ``stammkunde`` command against a real SQLite file."""

import asyncio
import json
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.api_keys import service
from app.api_keys.models import ApiKey
from app.cli import cli
from app.config import get_settings
from app.db import migrations
from app.db.engine import create_engine
from app.db.session import create_sessionmaker
from app.main import create_app
from tests.conftest import TEST_SECRET_KEY, make_settings

KEY = re.compile(r"^stk_[a-z2-7]+_[a-z2-7]+$")


@pytest.fixture
def database_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh SQLite file configured through the environment, as an operator would."""
    path = tmp_path / "cli.db"
    monkeypatch.setenv("STAMMKUNDE_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("STAMMKUNDE_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("STAMMKUNDE_LOG_FORMAT", "console")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


@pytest.fixture
def migrated(database_file: Path) -> Path:
    result = invoke("migrate")
    assert result.exit_code == 0, result.output
    return database_file


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def authenticate(key: str) -> ApiKey | None:
    async def run() -> ApiKey | None:
        engine = create_engine(get_settings())
        try:
            async with create_sessionmaker(engine)() as session:
                return await service.authenticate(session, TEST_SECRET_KEY.encode(), key)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def create_key(*args: str) -> str:
    result = invoke("apikey", "create", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_migrate_creates_the_schema(database_file):
    result = invoke("migrate")

    assert result.exit_code == 0, result.output
    assert {"api_key", "idempotency_record", "alembic_version"} <= tables(database_file)
    with sqlite3.connect(database_file) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == migrations.head_revision()
    assert result.stdout == ""
    assert migrations.head_revision() in result.stderr


def test_migrate_twice_is_harmless(migrated):
    result = invoke("migrate")

    assert result.exit_code == 0, result.output
    assert "api_key" in tables(migrated)


def test_migrate_to_a_named_revision(database_file):
    revision = migrations.head_revision()
    assert revision is not None

    result = invoke("migrate", revision)

    assert result.exit_code == 0, result.output
    assert "api_key" in tables(database_file)
    assert revision in result.stderr


def test_apikey_create_prints_the_key_alone_on_stdout(migrated):
    result = invoke("apikey", "create", "--name", "Till 3", "--scope", "pos", "--scope", "shop")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert result.stdout == lines[0] + "\n"
    assert KEY.match(lines[0]), lines[0]


def test_a_key_created_on_the_command_line_authenticates(migrated):
    key = create_key("--name", "Till 3", "--scope", "pos", "--scope", "shop")

    api_key = authenticate(key)

    assert api_key is not None
    assert api_key.name == "Till 3"
    assert api_key.scopes == ["pos", "shop"]
    assert api_key.key_id == key.split("_")[1]


def test_apikey_create_refuses_an_unknown_scope(migrated):
    result = invoke("apikey", "create", "--name", "x", "--scope", "root")

    assert result.exit_code != 0
    assert result.stdout == ""
    assert "stk_" not in result.output


def test_apikey_create_needs_a_scope(migrated):
    result = invoke("apikey", "create", "--name", "x")

    assert result.exit_code != 0
    assert result.stdout == ""


def test_apikey_list_shows_key_ids_and_no_secrets(migrated):
    pos_key = create_key("--name", "Till 3", "--scope", "pos", "--scope", "shop")
    admin_key = create_key("--name", "Back office", "--scope", "admin")

    result = invoke("apikey", "list")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    by_key_id = {line.split("\t")[0]: line.split("\t") for line in lines}
    pos_key_id, admin_key_id = pos_key.split("_")[1], admin_key.split("_")[1]
    assert by_key_id[pos_key_id][1:4] == ["pos,shop", "active", "Till 3"]
    assert by_key_id[admin_key_id][1:4] == ["admin", "active", "Back office"]
    assert lines[0].startswith(admin_key_id)  # newest first
    for key in (pos_key, admin_key):
        assert key.split("_")[2] not in result.output


def test_apikey_list_on_an_empty_database_prints_nothing(migrated):
    result = invoke("apikey", "list")

    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_apikey_revoke_by_key_id_stops_the_key(migrated):
    key = create_key("--name", "Till 3", "--scope", "pos")
    kept = create_key("--name", "Till 4", "--scope", "pos")
    key_id = key.split("_")[1]
    assert authenticate(key) is not None

    result = invoke("apikey", "revoke", key_id)

    assert result.exit_code == 0, result.output
    assert key_id in result.stderr
    assert authenticate(key) is None
    assert authenticate(kept) is not None
    listing = invoke("apikey", "list").stdout.splitlines()
    status = {line.split("\t")[0]: line.split("\t")[2] for line in listing}
    assert status == {key_id: "revoked", kept.split("_")[1]: "active"}


def test_apikey_revoke_by_id(migrated):
    key = create_key("--name", "Till 3", "--scope", "pos")
    line = invoke("apikey", "list").stdout.splitlines()[0]
    row_id = line.split("\t")[4]

    result = invoke("apikey", "revoke", row_id)

    assert result.exit_code == 0, result.output
    assert authenticate(key) is None


def test_apikey_revoke_twice_is_harmless(migrated):
    key = create_key("--name", "Till 3", "--scope", "pos")
    key_id = key.split("_")[1]

    first = invoke("apikey", "revoke", key_id)
    second = invoke("apikey", "revoke", key_id)

    assert first.exit_code == second.exit_code == 0
    assert authenticate(key) is None


def test_apikey_revoke_of_an_unknown_key_fails_with_a_message(migrated):
    result = invoke("apikey", "revoke", "nosuchkeyid")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "nosuchkeyid" in result.stderr
    assert "Traceback" not in result.stderr


def test_openapi_writes_the_apps_document(database_file, tmp_path):
    output = tmp_path / "out" / "openapi.json"

    result = invoke("openapi", "--output", str(output))

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    document = json.loads(output.read_text())
    assert document == create_app().openapi()
    assert document == create_app(make_settings("sqlite+aiosqlite:///unused.db")).openapi()
    assert "/v1/api-keys" in document["paths"]


def test_openapi_needs_no_database(tmp_path, monkeypatch):
    monkeypatch.setenv("STAMMKUNDE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/nowhere/x.db")
    monkeypatch.setenv("STAMMKUNDE_SECRET_KEY", TEST_SECRET_KEY)
    get_settings.cache_clear()
    output = tmp_path / "openapi.json"
    try:
        result = invoke("openapi", "--output", str(output))
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    assert json.loads(output.read_text())["info"]["title"] == "Stammkunde"


def test_no_arguments_shows_help():
    result = invoke()

    assert "migrate" in result.output
    assert "apikey" in result.output
