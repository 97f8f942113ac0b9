"""Settings from the environment, and the server secret that keys every stored HMAC."""

import os
import stat

import pytest
from pydantic import ValidationError

from app.config import (
    ConfigurationError,
    Environment,
    Settings,
    get_settings,
    resolve_secret_key,
)

SQLITE_URL = "sqlite+aiosqlite:///./stammkunde.db"
POSTGRES_URL = "postgresql+asyncpg://stammkunde@db.internal/stammkunde"
GOOD_SECRET = "s" * 32


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No STAMMKUNDE_ variable of the machine running the tests leaks into them."""
    for name in list(os.environ):
        if name.startswith("STAMMKUNDE_"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def settings(**values: object) -> Settings:
    return Settings.model_validate(values)


# The embedded secret


def test_an_unset_secret_on_sqlite_is_generated_into_a_private_file(tmp_path):
    path = tmp_path / "secret"

    secret = resolve_secret_key(settings(database_url=SQLITE_URL, secret_key_file=path))

    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip().encode() == secret
    assert len(secret) >= 32


def test_the_generated_secret_is_reused_on_the_next_start(tmp_path):
    path = tmp_path / "secret"
    config = settings(database_url=SQLITE_URL, secret_key_file=path)

    first = resolve_secret_key(config)
    second = resolve_secret_key(config)

    assert first == second
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_each_installation_generates_its_own_secret(tmp_path):
    one = resolve_secret_key(settings(database_url=SQLITE_URL, secret_key_file=tmp_path / "a"))
    other = resolve_secret_key(settings(database_url=SQLITE_URL, secret_key_file=tmp_path / "b"))

    assert one != other


def test_an_existing_secret_file_is_read_as_it_is(tmp_path):
    path = tmp_path / "secret"
    path.write_text("kept-from-an-earlier-installation-0123456789\n")
    path.chmod(0o600)

    secret = resolve_secret_key(settings(database_url=SQLITE_URL, secret_key_file=path))

    assert secret == b"kept-from-an-earlier-installation-0123456789"


@pytest.mark.parametrize("contents", ["", "\n", "too-short"])
def test_an_empty_or_short_secret_file_is_refused(tmp_path, contents):
    # An empty file is what a crash (or a second process starting at the same moment) can
    # leave behind; an empty HMAC key would make every stored key hash computable by anyone.
    path = tmp_path / "secret"
    path.write_text(contents)

    with pytest.raises(ConfigurationError):
        resolve_secret_key(settings(database_url=SQLITE_URL, secret_key_file=path))


def test_a_set_secret_wins_over_the_file(tmp_path):
    path = tmp_path / "secret"

    secret = resolve_secret_key(
        settings(database_url=SQLITE_URL, secret_key=GOOD_SECRET, secret_key_file=path)
    )

    assert secret == GOOD_SECRET.encode()
    assert not path.exists()


# Refusals


def test_production_without_a_secret_refuses_to_start(tmp_path):
    path = tmp_path / "secret"

    with pytest.raises(ConfigurationError, match="STAMMKUNDE_SECRET_KEY"):
        resolve_secret_key(
            settings(
                environment=Environment.production, database_url=SQLITE_URL, secret_key_file=path
            )
        )
    assert not path.exists()


def test_postgresql_without_a_secret_refuses_to_start(tmp_path):
    # Replicas share the database, so they must share the secret: none may make its own.
    path = tmp_path / "secret"

    with pytest.raises(ConfigurationError, match="STAMMKUNDE_SECRET_KEY"):
        resolve_secret_key(settings(database_url=POSTGRES_URL, secret_key_file=path))
    assert not path.exists()


def test_production_and_postgresql_start_with_a_secret():
    config = settings(
        environment=Environment.production, database_url=POSTGRES_URL, secret_key=GOOD_SECRET
    )

    assert resolve_secret_key(config) == GOOD_SECRET.encode()


@pytest.mark.parametrize("database_url", [SQLITE_URL, POSTGRES_URL], ids=["embedded", "server"])
def test_a_short_secret_is_refused(database_url):
    with pytest.raises(ConfigurationError, match="at least 32 characters"):
        resolve_secret_key(settings(database_url=database_url, secret_key="s" * 31))


def test_a_secret_of_32_characters_is_enough():
    assert resolve_secret_key(settings(secret_key=GOOD_SECRET)) == GOOD_SECRET.encode()


# The environment


def test_settings_are_read_from_stammkunde_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("STAMMKUNDE_ENVIRONMENT", "production")
    monkeypatch.setenv("STAMMKUNDE_DATABASE_URL", POSTGRES_URL)
    monkeypatch.setenv("STAMMKUNDE_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("STAMMKUNDE_SECRET_KEY_FILE", str(tmp_path / "secret"))
    monkeypatch.setenv("STAMMKUNDE_STATEMENT_TIMEOUT_MS", "1500")
    monkeypatch.setenv("STAMMKUNDE_SQLITE_BUSY_TIMEOUT_MS", "2500")
    monkeypatch.setenv("STAMMKUNDE_PORT", "9000")
    monkeypatch.setenv("STAMMKUNDE_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("STAMMKUNDE_RUN_JOBS", "false")
    monkeypatch.setenv("STAMMKUNDE_RATE_LIMITS", '{"pos": 5, "admin": 0}')

    config = Settings()

    assert config.environment is Environment.production
    assert config.database_url == POSTGRES_URL
    assert not config.is_sqlite
    assert config.secret_key is not None
    assert config.secret_key.get_secret_value() == GOOD_SECRET
    assert config.secret_key_file == tmp_path / "secret"
    assert config.statement_timeout_ms == 1500
    assert config.sqlite_busy_timeout_ms == 2500
    assert config.port == 9000
    assert config.log_level == "DEBUG"
    assert config.run_jobs is False
    assert config.rate_limits == {"pos": 5.0, "admin": 0.0}
    assert resolve_secret_key(config) == GOOD_SECRET.encode()


def test_variables_without_the_prefix_are_ignored(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", POSTGRES_URL)
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)

    config = Settings()

    assert config.database_url == SQLITE_URL
    assert config.is_sqlite
    assert config.secret_key is None


def test_the_defaults_are_a_local_development_setup():
    config = Settings()

    assert config.environment is Environment.development
    assert config.is_sqlite
    assert config.host == "127.0.0.1"
    assert config.statement_timeout_ms == 5000


def test_the_secret_does_not_show_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("STAMMKUNDE_SECRET_KEY", GOOD_SECRET)

    config = Settings()

    assert GOOD_SECRET not in repr(config)
    assert GOOD_SECRET not in str(config.model_dump())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STAMMKUNDE_PORT", "0"),
        ("STAMMKUNDE_PORT", "70000"),
        ("STAMMKUNDE_ENVIRONMENT", "staging"),
        ("STAMMKUNDE_LOG_LEVEL", "TRACE"),
        ("STAMMKUNDE_STATEMENT_TIMEOUT_MS", "10"),
        ("STAMMKUNDE_MAX_BODY_BYTES", "100"),
        ("STAMMKUNDE_WORKERS", "0"),
    ],
)
def test_invalid_values_are_refused_at_start(monkeypatch, name, value):
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError):
        Settings()


def test_get_settings_reads_the_environment_once(monkeypatch):
    monkeypatch.setenv("STAMMKUNDE_PORT", "9001")
    first = get_settings()
    monkeypatch.setenv("STAMMKUNDE_PORT", "9002")

    assert get_settings() is first
    assert get_settings().port == 9001
    get_settings.cache_clear()
    assert get_settings().port == 9002
