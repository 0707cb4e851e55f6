"""The platform with the in-memory catalogue and datastore of :mod:`.fakes` set on ``app.state.opendata``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import open_store
from tests.opendata.site.fakes import FakeCatalogue, FakeDatastore
from tests.security.support import production

HTML = {"Accept": "text/html"}


@dataclass
class Portal:
    app: FastAPI
    client: TestClient
    catalogue: FakeCatalogue
    datastore: FakeDatastore


def with_fakes(app: FastAPI) -> tuple[FakeCatalogue, FakeDatastore]:
    catalogue, datastore = FakeCatalogue(), FakeDatastore()
    app.state.opendata.catalogue = catalogue
    app.state.opendata.datastore = datastore
    return catalogue, datastore


@pytest.fixture
def portal(tmp_path: object) -> Iterator[Portal]:
    """Production security (the site must work for anonymous visitors), SQLite, the fakes in place."""
    store = open_store(f"sqlite:///{tmp_path}/hub.db")
    try:
        app = create_app(production(public_url="http://portal.test"), store=store)
        catalogue, datastore = with_fakes(app)
        with TestClient(app, headers=HTML) as client:
            yield Portal(app, client, catalogue, datastore)
    finally:
        store.close()
