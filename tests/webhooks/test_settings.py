"""The webhook and retention settings, from the environment."""

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.webhooks.delivery import WorkerConfig


def test_the_defaults_are_strict_addresses_ten_seconds_and_ninety_days():
    config = Settings()

    assert config.webhook_allow_private is False
    assert config.webhook_timeout_seconds == 10.0
    assert config.event_retention_days == 90


def test_they_are_read_from_stammkunde_variables(monkeypatch):
    monkeypatch.setenv("STAMMKUNDE_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("STAMMKUNDE_WEBHOOK_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("STAMMKUNDE_EVENT_RETENTION_DAYS", "30")

    config = Settings()

    assert (config.webhook_allow_private, config.webhook_timeout_seconds) == (True, 2.5)
    assert config.event_retention_days == 30
    assert WorkerConfig.from_settings(config, b"k" * 32) == WorkerConfig(b"k" * 32, 2.5, True)


@pytest.mark.parametrize(
    ("name", "value"),
    [("webhook_timeout_seconds", 0), ("webhook_timeout_seconds", 61), ("event_retention_days", 0)],
)
def test_nonsense_values_are_refused(name, value):
    with pytest.raises(ValidationError):
        Settings.model_validate({name: value})
