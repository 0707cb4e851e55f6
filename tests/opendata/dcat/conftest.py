"""The platform app with the DCAT routes over in-memory catalogue and datastore stand-ins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import open_store
from tests.open_hub import open_settings
from tests.opendata.dcat import datasets as D
from tests.opendata.dcat.support import FakeCatalogue, FakeDatastore


@pytest.fixture(scope="module")
def dcat_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    folder: Path = tmp_path_factory.mktemp("dcat")
    store = open_store(f"sqlite:///{folder}/hub.db")
    try:
        app = create_app(
            open_settings(
                database_url="sqlite:///unused.db", opendata_publish=False, public_url="https://data.example.vn"
            ),
            store=store,
        )
        yield app
    finally:
        store.close()


@pytest.fixture
def catalogue(dcat_app: FastAPI) -> FakeCatalogue:
    fake = FakeCatalogue(D.all_datasets())
    dcat_app.state.opendata.catalogue = fake
    dcat_app.state.opendata.datastore = FakeDatastore(set(D.WITH_GEOMETRY))
    return fake


@pytest.fixture
def http(dcat_app: FastAPI, catalogue: FakeCatalogue) -> TestClient:
    """A client without the app's lifespan: no background services (publications) run."""
    return TestClient(dcat_app)
