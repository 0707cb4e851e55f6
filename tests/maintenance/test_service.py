"""The maintenance service runs inside the app, rolls up in the background, survives failures, stops cleanly."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.app import create_app
from smartcity.hub.model import to_micros
from smartcity.hub.store import Store
from smartcity.hub.temporal import maintenance
from smartcity.hub.temporal.maintenance import SERVICE_NAME, HistoryMaintenance
from tests.maintenance.support import DAY, HOUR, MINUTE, TEMP, fetch, insert, row
from tests.open_hub import open_settings

SETTINGS = open_settings(database_url="sqlite:///unused.db", history_raw_days=1, retention_interval=0.05)


def service_of(app: Any) -> HistoryMaintenance:
    maintenance.install(app)  # idempotent: the temporal package installs it already
    found = [s for s in app.state.services if getattr(s, "name", None) == SERVICE_NAME]
    assert len(found) == 1
    assert isinstance(found[0], HistoryMaintenance)
    return found[0]


def wait_for(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_service_rolls_up_old_history_in_the_background(store: Store) -> None:
    now = to_micros(datetime.now(UTC))
    old = (now - 3 * DAY) // HOUR * HOUR
    insert(store, [row("urn:s1", TEMP, old + i * 5 * MINUTE, float(i)) for i in range(24)])  # two hours
    insert(store, [row("urn:s1", TEMP, now - HOUR, 99.0)])  # recent: stays raw
    app = create_app(SETTINGS, store=store)
    service = service_of(app)

    with TestClient(app) as client:
        wait_for(lambda: service.runs >= 2)
        assert client.get("/health").status_code == 200

    assert service.failures == 0
    rows = fetch(store)
    assert [(r["rollup"], r["num"]) for r in rows] == [("PT1H", 5.5), ("PT1H", 17.5), (None, 99.0)]
    runs = service.runs
    time.sleep(0.2)
    assert service.runs == runs  # stopped with the app


def test_a_failing_run_is_logged_and_retried(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[int] = []

    def broken(*args: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(maintenance.retention, "run_retention", broken)
    app = create_app(SETTINGS, store=store)
    service = service_of(app)
    with TestClient(app) as client:
        wait_for(lambda: service.failures >= 2)
        assert client.get("/health").status_code == 200
    assert len(attempts) >= 2


def test_a_period_of_no_fixed_length_turns_retention_off(store: Store) -> None:
    service = HistoryMaintenance(
        store, open_settings(database_url="sqlite:///unused.db", history_raw_days=1, history_rollup="P1M")
    )
    assert service.run_once() is None
    assert service.runs == 1
