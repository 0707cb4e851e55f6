"""Subscription tests run without the notification deliverer, so the queued rows stay for the tests to read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import Store
from smartcity.settings import Settings


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    """The API over ``store`` with every background service but the deliverer (smartcity.hub.notify)."""
    app = create_app(settings, store=store)
    app.state.services = [s for s in app.state.services if not type(s).__module__.startswith("smartcity.hub.notify")]
    with TestClient(app) as test_client:
        yield test_client
