"""Fixtures: the platform (open hub, no rate limits) on both backends, with 8 real wards loaded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import Store
from smartcity.settings import Settings
from tests.ioc.open311.support import FakeDesk, load_wards
from tests.open_hub import open_settings

MAX_PHOTO = 100_000


@pytest.fixture
def o311_settings(tmp_path: Path) -> Settings:
    return open_settings(
        database_url="sqlite:///unused.db", media_dir=str(tmp_path / "media"), max_photo_bytes=MAX_PHOTO
    )


@pytest.fixture
def app_client(store: Store, o311_settings: Settings) -> Iterator[TestClient]:
    """The whole platform with the real incident desk."""
    app = create_app(o311_settings, store=store)
    with TestClient(app) as client:
        load_wards(client)
        yield client


@pytest.fixture
def fake_desk() -> FakeDesk:
    return FakeDesk()


@pytest.fixture
def faked(store: Store, o311_settings: Settings, fake_desk: FakeDesk) -> Iterator[TestClient]:
    """The platform with a fake incident desk (what the reports part asks of it is recorded)."""
    app = create_app(o311_settings, store=store)
    app.state.ioc.incidents = fake_desk
    with TestClient(app) as client:
        load_wards(client)
        yield client
