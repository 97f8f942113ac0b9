"""The migrations build exactly the schema the models describe, up and down, on both databases."""

import asyncio
import re
from datetime import datetime
from itertools import pairwise
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import migrations
from app.db.models import Base

FILE_NAME = re.compile(
    r"^(?P<stamp>\d{4}-\d{2}-\d{2}-\d{4})_(?P<slug>[a-z0-9]+(?:_[a-z0-9]+)*)\.py$"
)


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def schema_diff(url: str) -> list[Any]:
    """What autogenerate would write to bring the database to the models (empty: nothing)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_schema_diff)
    finally:
        await engine.dispose()


async def tables_and_revision(url: str) -> tuple[set[str], str | None]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
            revision = None
            if "alembic_version" in tables:
                revision = await migrations.current_revision(connection)
            return tables, revision
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    # The migration environment runs its own event loop, so it cannot run on this one.
    await asyncio.to_thread(migrations.upgrade, url, revision)


async def downgrade(url: str, revision: str) -> None:
    await asyncio.to_thread(migrations.downgrade, url, revision)


MODEL_TABLES = set(Base.metadata.tables)


async def test_upgrade_builds_the_schema_of_the_models(empty_database):
    assert await tables_and_revision(empty_database.url) == (set(), None)

    await upgrade(empty_database.url)

    tables, revision = await tables_and_revision(empty_database.url)
    assert tables == MODEL_TABLES | {"alembic_version"}
    assert revision == migrations.head_revision()
    assert await schema_diff(empty_database.url) == []


async def test_upgrade_downgrade_upgrade_round_trips(empty_database):
    url = empty_database.url

    await upgrade(url)
    await downgrade(url, "base")

    assert await tables_and_revision(url) == ({"alembic_version"}, None)
    # Against an empty database every model table shows up as missing.
    added = {diff[1].name for diff in await schema_diff(url) if diff[0] == "add_table"}
    assert added == MODEL_TABLES

    await upgrade(url)

    assert await tables_and_revision(url) == (
        MODEL_TABLES | {"alembic_version"},
        migrations.head_revision(),
    )
    assert await schema_diff(url) == []


async def test_every_revision_steps_down_and_up_one_at_a_time(empty_database):
    url = empty_database.url
    await upgrade(url)
    revisions = [script.revision for script in script_directory().walk_revisions()]

    for _ in revisions:
        await downgrade(url, "-1")
    assert (await tables_and_revision(url))[1] is None
    for _ in revisions:
        await upgrade(url, "+1")

    assert (await tables_and_revision(url))[1] == migrations.head_revision()
    assert await schema_diff(url) == []


async def test_upgrading_twice_changes_nothing(empty_database):
    await upgrade(empty_database.url)

    await upgrade(empty_database.url)

    assert await schema_diff(empty_database.url) == []


async def test_the_migrated_test_database_matches_the_models(database):
    assert await schema_diff(database.url) == []


def script_directory() -> ScriptDirectory:
    return ScriptDirectory(str(migrations.migrations_dir()))


def test_migration_files_are_named_by_date_and_slug():
    files = sorted(path.name for path in (migrations.migrations_dir() / "versions").glob("*.py"))

    assert files
    for name in files:
        match = FILE_NAME.match(name)
        assert match is not None, name
        datetime.strptime(match["stamp"], "%Y-%m-%d-%H%M")  # a real date and time


def test_every_migration_file_is_a_revision_in_one_linear_history():
    scripts = list(script_directory().walk_revisions())
    files = {path.name for path in (migrations.migrations_dir() / "versions").glob("*.py")}

    assert {script.path.rsplit("/", 1)[1] for script in scripts} == files
    assert script_directory().get_heads() == [migrations.head_revision()]
    assert [script.down_revision for script in scripts][-1] is None
    for newer, older in pairwise(scripts):
        assert newer.down_revision == older.revision


def test_migration_files_sort_in_the_order_they_apply():
    scripts = list(reversed(list(script_directory().walk_revisions())))

    names = [script.path.rsplit("/", 1)[1] for script in scripts]

    assert names == sorted(names)


def test_new_migrations_get_the_date_and_slug_name():
    config = migrations.alembic_config("sqlite+aiosqlite:///unused.db")

    template = config.get_main_option("file_template")

    assert template is not None
    name = template % {"year": 2026, "month": 2, "day": 3, "hour": 4, "minute": 5, "slug": "add_x"}
    assert FILE_NAME.match(f"{name}.py")
    assert name == "2026-02-03-0405_add_x"
