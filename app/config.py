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
    """Every setting, with the description that the configuration reference in the README
    is generated from (``stammkunde config-reference``)."""

    model_config = SettingsConfigDict(env_prefix="STAMMKUNDE_", env_file=None, extra="ignore")

    environment: Environment = Field(
        default=Environment.development,
        description="`production` refuses to start without `STAMMKUNDE_SECRET_KEY`.",
    )
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="`sqlite+aiosqlite:///path` (embedded) or "
        "`postgresql+asyncpg://user:password@host/database`.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Keys the HMACs of API keys and bearer codes; at least 32 characters. "
        "**Required** in production and with PostgreSQL, and the same on every replica; "
        "unset on SQLite, one is generated into `STAMMKUNDE_SECRET_KEY_FILE`.",
    )
    secret_key_file: Path = Field(
        default=Path(".stammkunde-secret"),
        description="Where the embedded default keeps its generated secret (mode 0600).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level of log records written."
    )
    log_format: Literal["json", "console"] = Field(
        default="json",
        description="`json`: one object per line, with `request_id`; `console`: for people.",
    )
    host: str = Field(default="127.0.0.1", description="Where `stammkunde serve` listens.")
    port: int = Field(default=8000, ge=1, le=65535, description="Where `stammkunde serve` listens.")
    workers: int = Field(default=1, ge=1, description="uvicorn worker processes.")
    shutdown_grace_seconds: int = Field(
        default=10,
        ge=0,
        description="On SIGTERM the service stops accepting connections and gives the "
        "requests in flight this long to finish; those still running then are cancelled "
        "(their transactions roll back). Keep it below the platform's stop timeout "
        "(Docker's default is 10 s, Kubernetes' 30 s).",
    )

    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Larger request bodies are refused with 413 `payload_too_large`.",
    )
    statement_timeout_ms: int = Field(
        default=5000,
        ge=100,
        description="PostgreSQL `statement_timeout` of every statement the service runs.",
    )
    database_connect_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        le=60,
        description="PostgreSQL: how long opening a connection may take. While the "
        "database is unreachable, requests that need a new connection answer 503 "
        "`database_unavailable` after at most this long instead of hanging.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000,
        ge=100,
        description="SQLite: how long a writer waits for the write lock held by another "
        "process on the same file.",
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        description="PostgreSQL connections per process, plus as many again for bursts.",
    )

    rate_limits: dict[str, float] = Field(
        default_factory=lambda: {"pos": 100.0, "shop": 100.0, "partner": 20.0, "admin": 50.0},
        description="Sustained requests per second per API key, by scope (JSON; a key with "
        "several scopes gets the most generous; 0 = unlimited); a second's worth may come "
        "as a burst. Counted per process. Over it: 429 `rate_limited` with `Retry-After`.",
    )
    code_lookup_failures_per_minute: int = Field(
        default=20,
        ge=0,
        description="Unknown or mistyped bearer codes (vouchers, gifts, receipts) an API key "
        "may try a minute before look-ups are refused with 429, so that guessing codes does "
        "not pay (0 = unlimited).",
    )
    voucher_reservation_default_seconds: int = Field(
        default=900,
        ge=1,
        description="How long a checkout's voucher reservation holds without `ttl_seconds`.",
    )
    voucher_reservation_max_seconds: int = Field(
        default=3600,
        ge=1,
        description="The longest reservation a checkout may ask for (longer ones are cut).",
    )
    idempotency_ttl_hours: int = Field(
        default=72,
        ge=1,
        description="How long an `Idempotency-Key` and its response are kept (tills forward late).",
    )
    idempotency_lock_seconds: int = Field(
        default=60,
        ge=1,
        description="How long an unfinished request holds its idempotency key before a "
        "retry may take over, so that a process that died mid-request does not block the "
        "key for the whole TTL.",
    )

    run_jobs: bool = Field(
        default=True,
        description="Run the background jobs inside the service process. Turn it off where "
        "a separate `stammkunde jobs run` process runs them.",
    )
    jobs_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often the jobs run, in the service process and in `stammkunde "
        "jobs run` (unless given `--interval`).",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Allow `http://` webhook URLs and private, loopback and link-local "
        "addresses (local development and tests only); otherwise only `https://` to global "
        "addresses.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="Each webhook delivery attempt (connect, send, response) ends after "
        "this, and counts as failed.",
    )
    event_retention_days: int = Field(
        default=90,
        ge=1,
        description="Events older than this are deleted once every webhook delivery of "
        "them is finished.",
    )
    console_session_hours: int = Field(
        default=12,
        ge=1,
        le=24 * 30,
        description="A login to the admin console at `/admin` lasts this long; logging out "
        "or revoking the admin key ends it earlier.",
    )

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
