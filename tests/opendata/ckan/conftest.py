"""The platform with its CKAN Action API on each backend, and API keys of a publisher and of an analyst."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import Store
from smartcity.security.credentials import Credentials
from smartcity.security.passwords import Passwords
from smartcity.security.roles import Role
from tests.open_hub import open_settings
from tests.security.support import api_key, security_of


@dataclass
class Portal:
    client: TestClient
    store: Store
    publisher: str  # an API key of role data_publisher
    analyst: str  # an API key of role analyst (reads only)


@pytest.fixture
def portal(store: Store) -> Iterator[Portal]:
    settings = open_settings(database_url="sqlite:///unused.db", opendata_publish=False)  # an empty catalogue
    app = create_app(settings, store=store)
    security_of(app).credentials = Credentials.from_settings(store, settings, passwords=Passwords.fast())
    with TestClient(app) as client:
        yield Portal(client, store, api_key(client, Role.DATA_PUBLISHER), api_key(client, Role.ANALYST))
