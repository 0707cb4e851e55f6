"""Device messages over HTTP (``/iot/json``, ``/iot/d``), end to end through the in-process app: every message
reaches the entity and its history, bad input is refused, kept as a dead letter with its reason and counted per
device, and a message with good and bad measures keeps the good ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.hub.store import Store
from smartcity.security.roles import Role
from tests.iot.support import (
    deadletters,
    device_stats,
    entity,
    history,
    provision,
    unit,
    weather_device,
    weather_group,
)
from tests.security.support import api_key, production, running

WS1 = "urn:ngsi-ld:WeatherObserved:ws1"


@pytest.fixture
def weather(agent_client: TestClient, publisher: dict[str, str]) -> TestClient:
    # autoprovision off: a device that is not provisioned is refused (tests/iot/test_autoprovision.py: on)
    provision(agent_client, [weather_group(autoprovision=False)], [weather_device()], publisher)
    return agent_client


def _post(client: TestClient, body: Any, *, path: str = "/iot/json", k: str = "wkey", i: str = "ws1") -> Any:
    if isinstance(body, bytes):
        return client.post(path, params={"k": k, "i": i}, content=body)
    return client.post(path, params={"k": k, "i": i}, json=body)


def test_json_and_ultralight_messages_reach_the_entity_and_its_history(weather: TestClient) -> None:
    assert _post(weather, {"t": 25.3, "h": 70}).status_code == 200
    assert _post(weather, [{"t": 26.0, "TimeInstant": "2026-11-24T01:00:00Z"}, {"t": 27.0}]).status_code == 200
    assert _post(weather, b"t|28.5|h|71#2026-11-24T02:00:00Z|t|24.5", path="/iot/d").status_code == 200
    assert weather.get("/iot/d", params={"k": "wkey", "i": "ws1", "d": "h|72"}).status_code == 200
    single = weather.post("/iot/json/attrs/t", params={"k": "wkey", "i": "ws1"}, content=b"29.5")
    assert single.status_code == 200, single.text
    text = weather.post(
        "/iot/json/attrs/p", params={"k": "wkey", "i": "ws1"}, content=b"1.5", headers={"Content-Type": "text/plain"}
    )
    assert text.status_code == 200, text.text
    current = entity(weather, WS1)
    assert current["temperature"]["value"] == 29.5 and current["temperature"]["unitCode"] == "CEL"
    assert current["relativeHumidity"]["value"] == 0.72
    assert current["precipitation"] == {
        "type": "Property",
        "value": 1.5,
        "observedAt": current["precipitation"]["observedAt"],
        "unitCode": "MMT",
    }
    assert current["name"]["value"] == "Station ws1" and current["location"]["type"] == "GeoProperty"
    temperatures = sorted(i["value"] for i in history(weather, WS1, "temperature"))
    assert temperatures == [24.5, 25.3, 26.0, 27.0, 28.5, 29.5]  # every group of every message
    observed = {i["value"]: i["observedAt"] for i in history(weather, WS1, "temperature")}
    assert observed[26.0] == "2026-11-24T01:00:00.000000Z" and observed[24.5] == "2026-11-24T02:00:00.000000Z"


def test_timestamps_local_time_and_the_t_parameter(weather: TestClient) -> None:
    # a time without offset is the device's timezone (Asia/Ho_Chi_Minh, UTC+7)
    assert _post(weather, {"t": 20, "TimeInstant": "2026-11-24T09:00:00"}).status_code == 200
    assert entity(weather, WS1)["temperature"]["observedAt"] == "2026-11-24T02:00:00.000000Z"
    answer = weather.post("/iot/json", params={"k": "wkey", "i": "ws1", "t": "2026-11-24T03:00:00Z"}, json={"t": 21})
    assert answer.status_code == 200
    assert entity(weather, WS1)["temperature"]["observedAt"] == "2026-11-24T03:00:00.000000Z"
    assert entity(weather, WS1)["dateObserved"]["value"] == "2026-11-24T03:00:00.000000Z"


def _rejected(answer: Any, reason: str, status: int = 400) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["reason"] == reason
    return body


def test_each_kind_of_bad_input_is_refused_kept_and_counted(
    weather: TestClient, publisher: dict[str, str], store: Store
) -> None:
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _rejected(_post(weather, b"{not json"), "malformed_payload")["name"] == "MEASURE_REJECTED"
    _rejected(_post(weather, b"t|1|h", path="/iot/d"), "malformed_payload")
    _rejected(_post(weather, {"t": "hot"}), "wrong_type")
    _rejected(_post(weather, {"t": 25, "TimeInstant": future}), "future_timestamp")
    _rejected(_post(weather, {"t": 25, "TimeInstant": "yesterday"}), "bad_timestamp")
    _rejected(_post(weather, {"TimeInstant": "2026-11-24T00:00:00Z"}), "empty_message")
    _rejected(_post(weather, {"h": 120}), "implausible_value")  # 120 % relative humidity
    _rejected(_post(weather, {"ws": -3}), "implausible_value")
    assert _rejected(_post(weather, {"t": 1}, i="ghost"), "unknown_device", 404)["name"] == "DEVICE_NOT_FOUND"
    assert _rejected(_post(weather, {"t": 1}, k="nokey"), "unknown_apikey", 404)["name"] == "DEVICE_GROUP_NOT_FOUND"
    assert "ws1" not in str(history(weather, WS1, "temperature"))  # nothing of it was written
    stats = device_stats(weather, "ws1", publisher)
    assert stats["received"] == 8 and stats["rejected"] == 8 and stats["accepted"] == 0
    assert stats["rejectedBy"] == {
        "bad_timestamp": 1,
        "empty_message": 1,
        "future_timestamp": 1,
        "implausible_value": 2,
        "malformed_payload": 2,
        "wrong_type": 1,
    }
    assert stats["lastError"].startswith("ws: implausible_value")
    kept = deadletters(weather, publisher)
    assert len(kept) == 10
    assert {d["reason"] for d in kept} == {
        "malformed_payload",
        "wrong_type",
        "future_timestamp",
        "bad_timestamp",
        "empty_message",
        "implausible_value",
        "unknown_device",
        "unknown_apikey",
    }
    newest = kept[0]
    assert newest["apikey"] == "nokey" and newest["payload"] == '{"t":1}' and newest["transport"] == "http"
    assert [d["device_id"] for d in deadletters(weather, publisher, reason="unknown_device")] == ["ghost"]
    malformed = deadletters(weather, publisher, device_id="ws1", reason="malformed_payload")
    assert [d["payload"] for d in malformed] == ["t|1|h", "{not json"]
    assert all(not d["partial"] for d in kept)
    with store.transaction(write=False) as db:
        anonymous = db.run(
            "SELECT received, rejected FROM iot_device_stats WHERE apikey = ? AND device_id = ?", ["", ""]
        )
        assert anonymous.fetchone() in (None, (1, 1))  # flushed within a second; counted under "" either way


def test_a_message_with_good_and_bad_measures_keeps_the_good_ones(
    weather: TestClient, publisher: dict[str, str]
) -> None:
    answer = _post(weather, {"t": 31.0, "h": 250, "ws": "fast", "p": 0.5})
    assert answer.status_code == 200
    dropped = answer.json()["dropped"]
    assert {(d["measure"], d["reason"]) for d in dropped} == {("h", "implausible_value"), ("ws", "wrong_type")}
    current = entity(weather, WS1)
    assert current["temperature"]["value"] == 31.0 and current["precipitation"]["value"] == 0.5
    assert "relativeHumidity" not in current and "windSpeed" not in current
    [letter] = deadletters(weather, publisher)
    assert letter["partial"] is True and letter["reason"] == "implausible_value"
    assert "h: implausible_value" in letter["detail"] and "ws: wrong_type" in letter["detail"]
    stats = device_stats(weather, "ws1", publisher)
    assert (stats["received"], stats["accepted"], stats["partial"], stats["rejected"]) == (1, 1, 1, 0)
    assert stats["lastMeasureAt"] is not None


def test_explicit_attrs_drop_unprovisioned_measures_silently(
    agent_client: TestClient, publisher: dict[str, str]
) -> None:
    provision(agent_client, [weather_group(explicitAttrs=True)], [weather_device()], publisher)
    assert _post(agent_client, {"t": 20, "battery": 80, "id": "x"}).status_code == 200
    assert "battery" not in entity(agent_client, WS1)
    assert deadletters(agent_client, publisher) == []


def test_unprovisioned_measures_keep_their_name_and_native_type(
    agent_client: TestClient, publisher: dict[str, str]
) -> None:
    provision(agent_client, [weather_group()], [weather_device()], publisher)
    assert _post(agent_client, b"t|20|batteryLevel|88|door|true|label|north", path="/iot/d").status_code == 200
    current = entity(agent_client, WS1)
    assert current["batteryLevel"]["value"] == 88 and current["door"]["value"] is True
    assert current["label"]["value"] == "north"


def test_bad_requests_are_answered_before_the_agent(weather: TestClient, publisher: dict[str, str]) -> None:
    missing = weather.post("/iot/json", json={"t": 1})
    assert missing.status_code == 400 and missing.json()["name"] == "MISSING_PARAMETERS"
    assert weather.get("/iot/d", params={"k": "wkey", "i": "ws1"}).json()["name"] == "MISSING_PARAMETERS"
    assert weather.post("/iot/json", params={"k": "a b", "i": "ws1"}, json={}).status_code == 400
    huge = weather.post("/iot/json", params={"k": "wkey", "i": "ws1"}, content=b"x" * (1024 * 1024 + 1))
    assert huge.status_code == 413
    assert deadletters(weather, publisher) == []


def test_device_messages_need_no_credential_in_production_and_tenants_hold(store: Store) -> None:
    with running(store, production()) as client:
        acme = {"X-API-Key": api_key(client, Role.DATA_PUBLISHER, tenants=("acme",)), "Fiware-Service": "acme"}
        group = weather_group(autoprovision=False)
        group["attributes"].append(
            {"object_id": "rain", "name": "precipitation", "type": "Number", "metadata": unit("CMT")}
        )
        provision(client, [group], [weather_device()], acme)
        assert _post(client, {"t": 22.5, "rain": 0.3}).status_code == 200  # no credential: the apikey says who
        reader = {"X-API-Key": api_key(client, Role.ANALYST, tenants=("acme",)), "NGSILD-Tenant": "acme"}
        current = entity(client, WS1, reader)
        assert current["temperature"]["value"] == 22.5 and current["precipitation"]["value"] == 3.0
        default = {"X-API-Key": api_key(client, Role.ANALYST)}
        assert client.get(f"/ngsi-ld/v1/entities/{WS1}", headers=default).status_code == 404
        assert _post(client, {"t": 1}, i="ghost").status_code == 404
        assert [d["device_id"] for d in deadletters(client, acme)] == ["ghost"]  # kept in the group's service
        other = {"X-API-Key": api_key(client, Role.DATA_PUBLISHER, tenants=("",))}
        assert deadletters(client, other) == []
