"""Service configuration, read from the environment (prefix ``STAMMKUNDE_``)."""

import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./stammkunde.db"
MIN_SECRET_KEY_LENGTH = 32


class Environment(StrEnum):
    development = "development"
    production = "production"


class ConfigurationError(RuntimeError):
    """The settings cannot run a service as they are."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STAMMKUNDE_", env_file=None, extra="ignore")

    environment: Environment = Environment.development
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: SecretStr | None = None
    secret_key_file: Path = Path(".stammkunde-secret")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)

    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    statement_timeout_ms: int = Field(default=5000, ge=100)
    # SQLite: how long a writer in another process may wait for the write lock.
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=100)
    database_pool_size: int = Field(default=10, ge=1)

    # Sustained requests per second per API key, by scope (a key with several scopes gets
    # the most generous); the bucket holds one second's worth as burst. 0 turns a limit off.
    rate_limits: dict[str, float] = Field(
        default_factory=lambda: {"pos": 100.0, "shop": 100.0, "partner": 20.0, "admin": 50.0}
    )
    # Mistyped or unknown bearer codes (vouchers, gifts, receipts) per API key and minute
    # before look-ups are refused with 429: guessing codes must not pay. 0 turns it off.
    code_lookup_failures_per_minute: int = Field(default=20, ge=0)
    # How long a checkout's voucher reservation holds without ``ttl_seconds``, and the most
    # it may ask for (longer requests are cut to this).
    voucher_reservation_default_seconds: int = Field(default=900, ge=1)
    voucher_reservation_max_seconds: int = Field(default=3600, ge=1)
    idempotency_ttl_hours: int = Field(default=72, ge=1)
    # How long an unfinished request holds its idempotency key before a retry may take over
    # (a process that died mid-request must not block the key for the whole TTL).
    idempotency_lock_seconds: int = Field(default=60, ge=1)

    run_jobs: bool = True
    jobs_interval_seconds: float = Field(default=60.0, gt=0)
    # Webhook URLs may be http:// and resolve to private, loopback or link-local addresses
    # (local development and tests only): otherwise https:// to global addresses only.
    webhook_allow_private: bool = False
    # Each delivery attempt (connect, send, response) ends after this, and counts as failed.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Events older than this are deleted once every webhook delivery of them is finished.
    event_retention_days: int = Field(default=90, ge=1)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def resolve_secret_key(settings: Settings) -> bytes:
    """The server secret that keys the HMACs of API keys and bearer codes.

    Production and PostgreSQL deployments must set it: replicas have to share one secret.
    The embedded SQLite default generates one on first start and keeps it in a 0600 file.
    """
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value()
        if len(value) < MIN_SECRET_KEY_LENGTH:
            raise ConfigurationError(
                f"STAMMKUNDE_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters"
            )
        return value.encode()
    if settings.environment is Environment.production or not settings.is_sqlite:
        raise ConfigurationError(
            "STAMMKUNDE_SECRET_KEY is required in production and with PostgreSQL "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    path = settings.secret_key_file
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    value = path.read_text().strip()
    # An empty file is what a crash between creating and writing it leaves behind; an empty
    # HMAC key would make every stored key hash computable by anyone.
    if len(value) < MIN_SECRET_KEY_LENGTH:
        raise ConfigurationError(
            f"{path} holds no usable secret (under {MIN_SECRET_KEY_LENGTH} characters); "
            "delete it to have a new one generated, or set STAMMKUNDE_SECRET_KEY"
        )
    return value.encode()


@lru_cache
def get_settings() -> Settings:
    return Settings()
