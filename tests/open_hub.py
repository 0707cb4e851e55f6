"""Settings for tests of the hub itself: the hub open to anonymous callers and no rate limits.

The security pillar's own tests (tests/security) run the production mode, where every hub call needs a
credential.
"""

from __future__ import annotations

from typing import Any

from smartcity.settings import Settings


def open_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"auth": "open", "rate_limit": 0.0, "rate_limit_address": 0.0}
    values.update(overrides)
    return Settings(**values)
