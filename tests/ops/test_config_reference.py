"""The README's configuration reference is generated from the settings and kept current."""

from pathlib import Path

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.config_reference import (
    END_MARKER,
    START_MARKER,
    MarkersMissing,
    render_table,
    update_readme,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_table_is_the_one_the_settings_generate():
    text = README.read_text()

    assert update_readme(text, render_table()) == text, (
        "README.md's configuration table is stale: run `stammkunde config-reference`"
    )


def test_the_table_sits_in_the_configuration_section():
    text = README.read_text()
    section = text[text.index("## Configuration") :]
    section = section[: section.index("\n## ", 1)]

    assert START_MARKER in section
    assert END_MARKER in section


def test_every_setting_has_a_row_with_its_variable_and_a_description():
    table = render_table()

    for name, field in Settings.model_fields.items():
        row = next(line for line in table.splitlines() if f"`STAMMKUNDE_{name.upper()}`" in line)
        assert field.description
        assert row.count(" | ") >= 3


def test_a_row_gives_the_type_and_default_as_they_are_written_in_the_environment():
    rows = {line.split(" | ")[0]: line for line in render_table().splitlines()}

    assert "| boolean | `true` |" in rows["| `STAMMKUNDE_RUN_JOBS`"]
    assert "| integer | `10` |" in rows["| `STAMMKUNDE_SHUTDOWN_GRACE_SECONDS`"]
    assert "| DEBUG \\| INFO \\| WARNING \\| ERROR | `INFO` |" in rows["| `STAMMKUNDE_LOG_LEVEL`"]
    assert '`{"pos": 100.0, ' in rows["| `STAMMKUNDE_RATE_LIMITS`"]
    assert "| string (secret) | unset |" in rows["| `STAMMKUNDE_SECRET_KEY`"]


def test_a_setting_without_a_description_cannot_be_rendered():
    class Undocumented(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="X_")
        documented: int = Field(default=1, description="Has one.")
        bare: int = 2

    with pytest.raises(ValueError, match="bare"):
        render_table(Undocumented)


def test_only_the_text_between_the_markers_is_replaced():
    text = f"# Title\n\nbefore\n{START_MARKER}\nold table\n{END_MARKER}\nafter\n"

    updated = update_readme(text, "| new |\n")

    assert updated == f"# Title\n\nbefore\n{START_MARKER}\n| new |\n{END_MARKER}\nafter\n"
    assert update_readme(updated, "| new |\n") == updated


def test_a_readme_without_markers_is_an_error_not_a_silent_no_op():
    with pytest.raises(MarkersMissing):
        update_readme("# Title\n\nno table here\n", render_table())


def test_the_command_rewrites_a_stale_table(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"## Configuration\n\n{START_MARKER}\n| stale |\n{END_MARKER}\n")

    result = CliRunner().invoke(cli, ["config-reference", "--readme", str(readme)])

    assert result.exit_code == 0, result.output
    assert readme.read_text() == update_readme(readme.read_text(), render_table())
    assert "| stale |" not in readme.read_text()
    assert "`STAMMKUNDE_DATABASE_URL`" in readme.read_text()
