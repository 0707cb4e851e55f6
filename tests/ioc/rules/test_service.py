"""The live rules service: hub writes in, signals to the alert sink out; rule files; restarts."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from smartcity.hub.store import Store
from smartcity.ioc.contracts import Signal
from smartcity.ioc.rules.files import demo_directory
from smartcity.security.roles import Role
from tests.ioc.rules.support import Recorder
from tests.open_hub import open_settings
from tests.security.support import api_key, as_key, running

HUB = {"Content-Type": "application/json"}
GAUGE = "urn:ngsi-ld:FloodMonitoring:HCMC:test"
RULE_FILE = """
- id: flood-now
  name: {vi: "Ngập", en: "Flooding"}
  severity: major
  labels: {domain: flood}
  kind: threshold
  target: {type: FloodMonitoring, attribute: currentLevel}
  when: {op: ">", value: 0.3, clear: 0.25}
  message: {vi: "Ngập {value} m", en: "Flooding {value} m"}
"""


def _wait(recorder: Recorder, n: int) -> list[Signal]:
    for _ in range(200):
        if len(recorder.signals) >= n:
            break
        time.sleep(0.05)
    return recorder.signals


def _level(client: TestClient, level: float, create: bool = False) -> None:
    attr = {"type": "Property", "value": level}
    if create:
        body = {"id": GAUGE, "type": "FloodMonitoring", "currentLevel": attr}
        assert client.post("/ngsi-ld/v1/entities", json=body, headers=HUB).status_code == 201
    else:
        r = client.patch(f"/ngsi-ld/v1/entities/{GAUGE}/attrs", json={"currentLevel": attr}, headers=HUB)
        assert r.status_code == 204


def _ready(client: TestClient) -> None:
    service = client.app.state.ioc.rules  # type: ignore[attr-defined]
    for _ in range(200):
        if service.ready is not None and service.ready.is_set():
            return
        time.sleep(0.05)
    raise AssertionError("the rules service did not get ready")


def test_files_feed_and_restart(store: Store, tmp_path: Path) -> None:
    (tmp_path / "flood.yaml").write_text(RULE_FILE, encoding="utf-8")
    settings = open_settings(database_url="sqlite:///unused.db", ioc_rules=str(tmp_path))
    recorder = Recorder()
    with running(store, settings) as client:
        client.app.state.ioc.alerts = recorder  # type: ignore[attr-defined]
        _ready(client)
        operator = as_key(api_key(client, Role.IOC_OPERATOR))
        stored = client.get("/ioc/rules/flood-now", headers=operator).json()
        assert stored["updatedBy"] == "file:flood.yaml"
        _level(client, 0.2, create=True)
        _level(client, 0.5)
        signals = _wait(recorder, 1)
        assert [(s.rule_id, s.subject, s.firing, s.value) for s in signals] == [("flood-now", GAUGE, True, 0.5)]
        assert signals[0].summary_en == "Flooding 0.5 m"
        # an operator changes the rule through the API: the file no longer overrides it at start
        changed = dict(stored, when={"op": ">", "value": 0.35, "clear": 0.25})
        assert client.put("/ioc/rules/flood-now", json=changed, headers=operator).status_code == 200
    # restarted: the subject that was firing is taken up, and its end is noticed
    recorder = Recorder()
    with running(store, settings) as client:
        client.app.state.ioc.alerts = recorder  # type: ignore[attr-defined]
        _ready(client)
        operator = as_key(api_key(client, Role.IOC_OPERATOR))
        current = client.get("/ioc/rules/flood-now", headers=operator).json()
        assert (current["version"], current["when"]["value"]) == (2, 0.35)
        assert current["stats"]["firing"] == 1
        _level(client, 0.1)
        for _ in range(200):
            if any(not s.firing for s in recorder.signals):
                break
            time.sleep(0.05)
        # seeded with the gauge as it is (0.5, still above 0.35): at most a refresh, then the end
        assert [(s.rule_id, s.firing) for s in recorder.signals][-1] == ("flood-now", False)
        assert all(s.firing for s in recorder.signals[:-1]) and len(recorder.signals) <= 2


def test_the_demo_rules_load_and_the_service_survives_without_an_alert_manager(store: Store) -> None:
    settings = open_settings(database_url="sqlite:///unused.db", ioc_rules=str(demo_directory()))
    with running(store, settings) as client:
        client.app.state.ioc.alerts = None  # type: ignore[attr-defined]
        _ready(client)
        operator = as_key(api_key(client, Role.IOC_OPERATOR))
        listed = client.get("/ioc/rules", headers=operator).json()
        assert listed["count"] == 12
        assert {r["kind"] for r in listed["rules"]} == {
            "threshold",
            "rate",
            "absence",
            "aggregate",
            "composite",
            "proximity",
        }
        _level(client, 0.9, create=True)
        time.sleep(0.3)
        assert client.get("/health").status_code == 200
        stats = client.get("/ioc/rules/flood-water-rising-fast", headers=operator).json()["stats"]
        assert stats["active"] is True and stats["errors"] == 0
