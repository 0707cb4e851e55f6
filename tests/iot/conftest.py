"""Fixtures of the IoT agent's tests: the platform with the hub open (NGSI-LD reads without a credential) and an
API key of a data publisher for the agent's own API, which always needs one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from smartcity.hub.store import Store
from smartcity.security.roles import Role
from tests.open_hub import open_settings
from tests.security.support import api_key, running


@pytest.fixture
def agent_client(store: Store) -> Iterator[TestClient]:
    with running(store, open_settings(database_url="sqlite:///unused.db")) as client:
        yield client


@pytest.fixture
def publisher(agent_client: TestClient) -> dict[str, str]:
    """Headers of a data publisher allowed on the default tenant and on 'acme'."""
    return {"X-API-Key": api_key(agent_client, Role.DATA_PUBLISHER, tenants=("", "acme"))}
