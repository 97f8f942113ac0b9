"""Webhook tests talk to receivers on 127.0.0.1: the apps here allow private addresses.

Tests of the address rules override ``settings`` with the strict default.
"""

import pytest

from app.config import Settings
from tests.conftest import TestDatabase, make_settings

TIMEOUT_SECONDS = 1.0


@pytest.fixture
def settings(database: TestDatabase) -> Settings:
    return make_settings(
        database.url, webhook_allow_private=True, webhook_timeout_seconds=TIMEOUT_SECONDS
    )
