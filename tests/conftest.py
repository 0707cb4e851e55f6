"""Shared fixtures: both storage backends, the in-process API client, the PostgreSQL test database."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import Store, open_store
from smartcity.settings import Settings
from tests.open_hub import open_settings

IN_CI = os.environ.get("CI") == "true"
PG_BASE = os.environ.get("SMARTCITY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``), the tests sharing one outside service run in one worker, one at
    a time: every IoT agent on the shared Mosquitto subscribes to every device topic, and the browser tests each
    start a Chromium. Without xdist the marker does nothing."""
    for item in items:
        if item.get_closest_marker("mqtt") is not None:
            item.add_marker(pytest.mark.xdist_group("mosquitto"))
        elif item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("chromium"))


def reachable(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(port: int, name: str) -> None:
    """Skip loudly without the service; under CI=true its absence is a failure, never a skip."""
    if reachable(port):
        return
    if IN_CI:
        pytest.fail(f"{name} on 127.0.0.1:{port} is required under CI=true but is not reachable")
    pytest.skip(f"{name} on 127.0.0.1:{port} is not available")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    require_service(5432, "PostgreSQL")
    from smartcity.hub.store.postgres import drop_database

    url = f"{PG_BASE}/smartcity_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def pg_store(pg_url: str) -> Iterator[Store]:
    store = open_store(pg_url)
    yield store
    store.close()


def _reset_postgres(store: Store) -> None:
    """Empty every table but the migration log (whatever tables later migrations add)."""
    with store.transaction(write=True) as db:
        tables = [
            r[0]
            for r in db.run(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> ? "
                "AND tablename NOT LIKE ?",
                ["schema_migrations", "temporal_instances_%"],
            ).fetchall()
        ]
        db.run("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        db.run("INSERT INTO tenants (name, created_at) VALUES ('', '2025-01-01T00:00:00Z')")
        db.run("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, ?)", ["0" * 64])
    store._tenants.clear()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Store]:
    """A fresh, migrated store on each backend."""
    if request.param == "sqlite":
        sqlite_store = open_store(f"sqlite:///{tmp_path}/hub.db")
        yield sqlite_store
        sqlite_store.close()
    else:
        pg: Store = request.getfixturevalue("pg_store")
        _reset_postgres(pg)
        yield pg


@pytest.fixture
def settings() -> Settings:
    return open_settings(database_url="sqlite:///unused.db")


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, store=store)
    with TestClient(app) as test_client:
        yield test_client
