"""The catalogue on each backend, seeded with the city's departments, themes and licences."""

from __future__ import annotations

import pytest

from smartcity.hub.store import Store
from smartcity.opendata.catalogue.repository import SqlCatalogue


@pytest.fixture
def catalogue(store: Store) -> SqlCatalogue:
    found = SqlCatalogue(store, "")
    found.seed()
    return found
