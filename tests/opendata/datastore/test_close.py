"""The read-only connections of datastore_search_sql are the datastore's own: closed when the app stops."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.store import open_store
from smartcity.opendata.datastore.engines import SqliteEngine
from tests.open_hub import open_settings


def test_the_apps_stop_closes_the_idle_read_only_connections(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'portal.db'}")
    try:
        app = create_app(open_settings(database_url="sqlite:///unused.db", opendata_publish=False), store=store)
        engine = app.state.opendata.datastore.engine
        assert isinstance(engine, SqliteEngine)
        with TestClient(app), engine._readonly_conn() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(sqlite3.ProgrammingError):
            conn.execute("SELECT 1")  # closed by the app's shutdown
    finally:
        store.close()


def test_both_engines_implement_every_abstract_operation() -> None:
    from smartcity.opendata.datastore.engines import Engine, PostgresEngine, SqliteEngine

    assert {"create_table", "many", "match", "run_readonly", "stream"} <= Engine.__abstractmethods__
    assert not SqliteEngine.__abstractmethods__ and not PostgresEngine.__abstractmethods__
