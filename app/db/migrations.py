"""Running Alembic from the service, the CLI and the tests."""

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


def migrations_dir() -> Path:
    """Where the migration scripts are: next to the package in a checkout, or configured."""
    configured = os.environ.get("STAMMKUNDE_MIGRATIONS_DIR")
    if configured:
        return Path(configured)
    beside_package = Path(__file__).resolve().parents[2] / "migrations"
    if beside_package.is_dir():
        return beside_package
    return Path.cwd() / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option(
        "file_template",
        "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s",
    )
    config.set_main_option("timezone", "UTC")
    # ConfigParser treats % as interpolation; URLs may contain escaped characters.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database; call it where no event loop runs (the env starts its own)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    return ScriptDirectory(str(migrations_dir())).get_current_head()


async def current_revision(connection: AsyncConnection) -> str | None:
    result = await connection.execute(text("SELECT version_num FROM alembic_version"))
    return result.scalar_one_or_none()
