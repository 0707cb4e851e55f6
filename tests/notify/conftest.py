"""Notification tests run with short timeouts and backoffs, so that retries happen within a test."""

from __future__ import annotations

import pytest

from smartcity.settings import Settings
from tests.open_hub import open_settings


@pytest.fixture
def settings() -> Settings:
    return open_settings(database_url="sqlite:///unused.db", notify_timeout=5.0, notify_max_backoff=2.0)
