"""Fixtures of the publication tests: an app on each backend with the fake catalogue and datastore."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from smartcity.hub.store import Store
from tests.opendata.publish.support import portal


@pytest.fixture
def app(store: Store) -> Iterator[FastAPI]:
    with portal(store) as the_app:
        yield the_app
