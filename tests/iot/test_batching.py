"""The batcher: messages that arrive together are written in one batch, and still each one is its own update of
its entity, with its own instances in the history (new entities included), on both engines."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from smartcity.hub.errors import BadRequestData
from smartcity.iot.agent import now_micros
from smartcity.iot.inbound import Address, Inbound, decode
from smartcity.iot.runtime import IotRuntime
from tests.iot.support import (
    count_rows,
    deadletters,
    entity,
    history,
    provision,
    wait_for,
    weather_device,
    weather_group,
)


def _runtime(client: TestClient) -> IotRuntime:
    runtime: IotRuntime = client.app.state.iot  # type: ignore[attr-defined]
    return runtime


def test_many_messages_of_one_device_in_one_batch_are_each_an_instance(
    agent_client: TestClient, publisher: dict[str, str]
) -> None:
    provision(agent_client, [weather_group()], [weather_device("a"), weather_device("b")], publisher)
    runtime = _runtime(agent_client)
    base = now_micros()
    messages = []
    for n in range(60):
        device = "a" if n % 3 else "b"
        stamp = f"2026-11-24T00:{n // 60:02d}:{n % 60:02d}Z"
        address = Address("wkey", device, "json")
        inbound = Inbound(
            "mqtt", address, f"/json/wkey/{device}/attrs", orjson.dumps({"t": n, "TimeInstant": stamp}), base
        )
        decode(inbound, None)
        messages.append(inbound)

    def submit_all() -> None:  # in the event loop's thread, in one go: the batcher takes them as one batch
        for inbound in messages:
            runtime.agent.submit(inbound)

    before = runtime.agent.totals["accepted"]
    batches = runtime.agent.totals["batches"]
    agent_client.portal.call(submit_all)  # type: ignore[union-attr]
    wait_for(lambda: runtime.agent.totals["accepted"] - before == 60, what="60 messages written")
    assert runtime.agent.totals["batches"] == batches + 1
    a = sorted(i["value"] for i in history(agent_client, "urn:ngsi-ld:WeatherObserved:a", "temperature"))
    b = sorted(i["value"] for i in history(agent_client, "urn:ngsi-ld:WeatherObserved:b", "temperature"))
    assert a == [n for n in range(60) if n % 3] and b == [n for n in range(60) if n % 3 == 0]
    # the current value is the latest observation, and the statics were written once
    assert entity(agent_client, "urn:ngsi-ld:WeatherObserved:a")["temperature"]["value"] == 59
    assert len(history(agent_client, "urn:ngsi-ld:WeatherObserved:a", "name")) == 1


def test_static_attributes_come_back_when_the_entity_was_deleted(
    agent_client: TestClient, publisher: dict[str, str]
) -> None:
    provision(agent_client, [weather_group()], [weather_device()], publisher)
    assert agent_client.post("/iot/json", params={"k": "wkey", "i": "ws1"}, json={"t": 1}).status_code == 200
    assert agent_client.delete("/ngsi-ld/v1/entities/urn:ngsi-ld:WeatherObserved:ws1").status_code == 204
    assert agent_client.post("/iot/json", params={"k": "wkey", "i": "ws1"}, json={"t": 2}).status_code == 200
    again = entity(agent_client, "urn:ngsi-ld:WeatherObserved:ws1")
    assert again["temperature"]["value"] == 2 and again["name"]["value"] == "Station ws1"
    changed = agent_client.put(
        "/iot/devices/ws1",
        json={"static_attributes": [{"name": "name", "type": "Text", "value": "Renamed"}]},
        headers=publisher,
    )
    assert changed.status_code == 204
    assert agent_client.post("/iot/json", params={"k": "wkey", "i": "ws1"}, json={"t": 3}).status_code == 200
    assert entity(agent_client, "urn:ngsi-ld:WeatherObserved:ws1")["name"]["value"] == "Renamed"


def test_counters_reach_the_database_within_a_second(agent_client: TestClient, publisher: dict[str, str]) -> None:
    provision(agent_client, [weather_group()], [weather_device()], publisher)
    store = agent_client.app.state.store  # type: ignore[attr-defined]
    assert agent_client.post("/iot/json", params={"k": "wkey", "i": "ws1"}, json={"t": 1}).status_code == 200
    wait_for(lambda: count_rows(store, "iot_device_stats") == 1, timeout=5, what="the counters flushed")


def test_a_message_the_store_refuses_is_kept_and_the_others_of_its_batch_written(
    agent_client: TestClient, publisher: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    provision(agent_client, [weather_group()], [weather_device("good"), weather_device("bad")], publisher)
    runtime = _runtime(agent_client)
    hub = runtime.agent.writer.hub
    real = hub.batch_upsert

    def refusing(tenant: str | None, items: Any, **kwargs: Any) -> Any:
        if any(e.id.endswith(":bad") for e in items):
            raise BadRequestData("refused for the test")
        return real(tenant, items, **kwargs)

    monkeypatch.setattr(hub, "batch_upsert", refusing)
    messages = []
    for device in ("good", "bad", "good"):
        inbound = Inbound("http", Address("wkey", device, "json"), "/iot/json", b'{"t": 21}', now_micros())
        decode(inbound, None)
        messages.append(inbound)

    def submit_all() -> None:
        for inbound in messages:
            runtime.agent.submit(inbound)

    agent_client.portal.call(submit_all)  # type: ignore[union-attr]
    wait_for(lambda: deadletters(agent_client, publisher), what="the refused message kept")
    [letter] = deadletters(agent_client, publisher)
    assert letter["device_id"] == "bad" and letter["reason"] == "store_rejected"
    assert "refused for the test" in letter["detail"]
    wait_for(lambda: len(history(agent_client, "urn:ngsi-ld:WeatherObserved:good", "temperature")) == 2, what="good")
