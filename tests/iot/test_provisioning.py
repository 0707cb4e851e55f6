"""Provisioning (FIWARE IoT Agent API): config groups and devices on both engines, services as hub tenants."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from smartcity.hub.store import Store
from smartcity.security.roles import Role
from tests.iot.support import provision, weather_device, weather_group
from tests.security.support import api_key

ACME = {"Fiware-Service": "acme", "Fiware-ServicePath": "/district1"}


def _error(answer: Any, status: int, name: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["name"] == name
    assert body["message"] == body["detail"]  # FIWARE's members and the platform's envelope
    assert {"type", "title", "detail"} <= set(body)
    return body


def test_groups_and_devices_round_trip_as_fiware_documents_them(
    agent_client: TestClient, publisher: dict[str, str]
) -> None:
    provision(agent_client, [weather_group()], [weather_device()], publisher)
    listed = agent_client.get("/iot/services", headers=publisher).json()
    assert listed["count"] == 1
    group = listed["services"][0]
    assert group["apikey"] == "wkey" and group["entity_type"] == "WeatherObserved"
    assert group["service"] == "" and group["subservice"] == "/"
    assert group["attributes"][0] == {
        "object_id": "t",
        "name": "temperature",
        "type": "Number",
        "metadata": {"unitCode": {"type": "Text", "value": "CEL"}},
    }
    assert group["cbroker"] == "http://orion:1026" and group["lazy"] == [{"name": "status", "type": "Boolean"}]
    devices = agent_client.get("/iot/devices", headers=publisher).json()
    assert devices["count"] == 1
    device = devices["devices"][0]
    assert device["device_id"] == "ws1" and device["entity_name"] == "urn:ngsi-ld:WeatherObserved:ws1"
    assert device["service_path"] == "/" and device["timezone"] == "Asia/Ho_Chi_Minh"
    one = agent_client.get("/iot/devices/ws1", headers=publisher).json()
    assert one["static_attributes"][1] == {"name": "name", "type": "Text", "value": "Station ws1"}
    assert one["stats"]["received"] == 0


def test_updates_and_removals(agent_client: TestClient, publisher: dict[str, str]) -> None:
    provision(agent_client, [weather_group()], [weather_device(), weather_device("ws2")], publisher)
    changed = agent_client.put(
        "/iot/services",
        params={"apikey": "wkey", "resource": "/iot/json"},
        json={"explicitAttrs": True},
        headers=publisher,
    )
    assert changed.status_code == 204, changed.text
    assert agent_client.get("/iot/services", headers=publisher).json()["services"][0]["explicitAttrs"] is True
    _error(
        agent_client.put("/iot/services", params={"apikey": "wkey"}, json={"apikey": "other"}, headers=publisher),
        400,
        "WRONG_SYNTAX",
    )
    answer = agent_client.put("/iot/devices/ws1", json={"static_attributes": []}, headers=publisher)
    assert answer.status_code == 204, answer.text
    assert agent_client.get("/iot/devices/ws1", headers=publisher).json()["static_attributes"] == []
    _error(agent_client.put("/iot/devices/ws1", json={"entity_type": "Other"}, headers=publisher), 400, "WRONG_SYNTAX")
    assert agent_client.delete("/iot/devices/ws1", headers=publisher).status_code == 204
    _error(agent_client.get("/iot/devices/ws1", headers=publisher), 404, "DEVICE_NOT_FOUND")
    _error(agent_client.delete("/iot/devices/ws1", headers=publisher), 404, "DEVICE_NOT_FOUND")
    removed = agent_client.delete(
        "/iot/services", params={"apikey": "wkey", "resource": "/iot/json", "device": "true"}, headers=publisher
    )
    assert removed.status_code == 204
    assert agent_client.get("/iot/services", headers=publisher).json() == {"count": 0, "services": []}
    assert agent_client.get("/iot/devices", headers=publisher).json()["count"] == 0  # ws2 went with its group
    _error(
        agent_client.delete("/iot/services", params={"apikey": "wkey"}, headers=publisher),
        404,
        "DEVICE_GROUP_NOT_FOUND",
    )


def test_paging_and_service_paths(agent_client: TestClient, publisher: dict[str, str]) -> None:
    provision(agent_client, [weather_group()], [weather_device(f"d{i}") for i in range(5)], publisher)
    other = {**publisher, "Fiware-ServicePath": "/district7"}
    provision(agent_client, [], [weather_device("far")], other)
    page = agent_client.get("/iot/devices", params={"limit": "2", "offset": "1"}, headers=publisher).json()
    assert page["count"] == 5 and [d["device_id"] for d in page["devices"]] == ["d1", "d2"]
    assert [d["device_id"] for d in agent_client.get("/iot/devices", headers=other).json()["devices"]] == ["far"]
    everything = agent_client.get("/iot/devices", headers={**publisher, "Fiware-ServicePath": "/*"}).json()
    assert everything["count"] == 6
    _error(agent_client.get("/iot/devices/far", headers=publisher), 404, "DEVICE_NOT_FOUND")
    assert agent_client.get("/iot/devices/far", headers=other).json()["service_path"] == "/district7"
    bad = agent_client.get("/iot/devices", params={"limit": "0"}, headers=publisher)
    _error(bad, 400, "BAD_REQUEST")
    _error(
        agent_client.post(
            "/iot/devices", json={"devices": [weather_device("x")]}, headers={**publisher, "Fiware-ServicePath": "/*"}
        ),
        400,
        "BAD_REQUEST",
    )
    _error(
        agent_client.get("/iot/devices", headers={**publisher, "Fiware-ServicePath": "no-slash"}), 400, "BAD_REQUEST"
    )


def test_a_fiware_service_is_a_hub_tenant(agent_client: TestClient, publisher: dict[str, str], store: Store) -> None:
    provision(agent_client, [weather_group()], [weather_device()], {**publisher, **ACME})
    assert "acme" in store.tenant_names()
    assert agent_client.get("/iot/services", headers=publisher).json()["count"] == 0
    assert agent_client.get("/iot/devices", headers=publisher).json()["count"] == 0
    found = agent_client.get("/iot/devices/ws1", headers={**publisher, **ACME}).json()
    assert found["service"] == "acme" and found["service_path"] == "/district1"
    admin = {"X-API-Key": api_key(agent_client, Role.ADMINISTRATOR), "Fiware-Service": "nowhere"}
    assert agent_client.get("/iot/devices", headers=admin).json() == {"count": 0, "devices": []}


def test_a_foreign_service_looks_like_a_missing_one(agent_client: TestClient, publisher: dict[str, str]) -> None:
    admin = {"X-API-Key": api_key(agent_client, Role.ADMINISTRATOR), "Fiware-Service": "secret"}
    provision(agent_client, [weather_group()], [weather_device()], admin)
    # 'secret' is not among the publisher's tenants: the answer is the one a missing service gets
    body = _error(
        agent_client.get("/iot/devices", headers={**publisher, "Fiware-Service": "secret"}), 404, "SERVICE_NOT_FOUND"
    )
    assert "secret" in body["message"]


def test_duplicates_and_bad_bodies_are_refused_whole(agent_client: TestClient, publisher: dict[str, str]) -> None:
    provision(agent_client, [weather_group()], [weather_device()], publisher)
    _error(
        agent_client.post("/iot/services", json={"services": [weather_group()]}, headers=publisher),
        409,
        "DUPLICATE_GROUP",
    )
    twice = {"devices": [weather_device("new"), weather_device("ws1")]}
    _error(agent_client.post("/iot/devices", json=twice, headers=publisher), 409, "DUPLICATE_DEVICE_ID")
    assert agent_client.get("/iot/devices", headers=publisher).json()["count"] == 1  # 'new' was not kept either
    _error(agent_client.post("/iot/services", json={"groups": []}, headers=publisher), 400, "WRONG_SYNTAX")
    _error(
        agent_client.post("/iot/services", json={"services": [{"apikey": "a"}]}, headers=publisher), 400, "WRONG_SYNTAX"
    )
    slash = {"services": [weather_group("a/b")]}
    _error(agent_client.post("/iot/services", json=slash, headers=publisher), 400, "WRONG_SYNTAX")
    multi = weather_group("e")
    multi["attributes"][0]["entity_name"] = "urn:ngsi-ld:Other:1"  # multi-entity attributes: not supported
    _error(
        agent_client.post("/iot/services", json={"services": [multi]}, headers=publisher),
        400,
        "UNSUPPORTED_FEATURE",
    )
    bad_static = weather_device("s", static_attributes=[{"name": "location", "type": "geo:point", "value": "north"}])
    _error(agent_client.post("/iot/devices", json={"devices": [bad_static]}, headers=publisher), 400, "WRONG_SYNTAX")
    bad_zone = weather_device("z", timezone="Mars/Olympus")
    _error(agent_client.post("/iot/devices", json={"devices": [bad_zone]}, headers=publisher), 400, "WRONG_SYNTAX")
    _error(agent_client.post("/iot/devices", content=b"{", headers=publisher), 400, "BAD_REQUEST")


def test_a_device_without_apikey_takes_its_groups_and_names_become_urns(
    agent_client: TestClient, publisher: dict[str, str]
) -> None:
    provision(agent_client, [weather_group()], [], publisher)
    device = {"device_id": "plain", "entity_type": "WeatherObserved", "entity_name": "Room1"}
    provision(agent_client, [], [device, {"device_id": "bare", "entity_type": "WeatherObserved"}], publisher)
    plain = agent_client.get("/iot/devices/plain", headers=publisher).json()
    assert plain["apikey"] == "wkey" and plain["entity_name"] == "urn:ngsi-ld:WeatherObserved:Room1"
    assert agent_client.get("/iot/devices/bare", headers=publisher).json()["entity_name"] == (
        "urn:ngsi-ld:WeatherObserved:bare"
    )
    orphan = {"devices": [{"device_id": "o", "entity_type": "Vehicle"}]}
    _error(agent_client.post("/iot/devices", json=orphan, headers=publisher), 400, "WRONG_SYNTAX")


def test_the_groups_route_is_the_newer_name_of_services(agent_client: TestClient, publisher: dict[str, str]) -> None:
    answer = agent_client.post("/iot/groups", json={"groups": [weather_group("g1")]}, headers=publisher)
    assert answer.status_code == 201, answer.text
    listed = agent_client.get("/iot/groups", headers=publisher).json()
    assert listed["count"] == 1 and listed["groups"][0]["apikey"] == "g1"
    assert agent_client.get("/iot/services", headers=publisher).json()["services"][0]["apikey"] == "g1"
    assert agent_client.delete("/iot/groups", params={"apikey": "g1"}, headers=publisher).status_code == 204


def test_only_provisioners_may_provision(agent_client: TestClient) -> None:
    body = {"services": [weather_group()]}
    for role in (Role.ADMINISTRATOR, Role.IOC_OPERATOR, Role.DATA_PUBLISHER):
        key = {"X-API-Key": api_key(agent_client, role)}
        assert agent_client.get("/iot/services", headers=key).status_code == 200, role
    for role in (Role.ANALYST, Role.DEVICE, Role.CITIZEN, Role.DEPARTMENT_OFFICER):
        key = {"X-API-Key": api_key(agent_client, role)}
        _error(agent_client.post("/iot/services", json=body, headers=key), 403, "ACCESS_FORBIDDEN")
        _error(agent_client.get("/iot/deadletters", headers=key), 403, "ACCESS_FORBIDDEN")
    _error(agent_client.get("/iot/devices"), 401, "UNAUTHORIZED")


def test_op_delete_removes_several_devices_all_or_nothing_and_about_answers(
    agent_client: TestClient, publisher: dict[str, str]
) -> None:
    provision(agent_client, [weather_group()], [weather_device("d1"), weather_device("d2")], publisher)
    missing = agent_client.post(
        "/iot/op/delete", json={"devices": [{"deviceId": "d1"}, {"deviceId": "nope"}]}, headers=publisher
    )
    assert missing.status_code == 404 and missing.json()["name"] == "DEVICE_NOT_FOUND"
    assert agent_client.get("/iot/devices", headers=publisher).json()["count"] == 2  # nothing removed
    bad = agent_client.post("/iot/op/delete", json={"devices": [{"apikey": "wkey"}]}, headers=publisher)
    assert bad.status_code == 400 and bad.json()["name"] == "WRONG_SYNTAX"
    body = {"devices": [{"deviceId": "d1", "apikey": "wkey"}, {"deviceId": "d2"}]}
    assert agent_client.post("/iot/op/delete", json=body, headers=publisher).status_code == 204
    assert agent_client.get("/iot/devices", headers=publisher).json()["count"] == 0
    assert agent_client.post("/iot/op/delete", json=body).status_code == 401  # a credential is needed
    about = agent_client.get("/iot/about", headers=publisher)
    assert about.status_code == 200 and about.json()["protocols"] == ["IoTA-JSON", "IoTA-UL"]
