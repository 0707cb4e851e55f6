"""History recording: every attribute change made through the ordinary API becomes a temporal instance."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.support import ENTITIES, OPS, assert_problem, prop, tenant
from tests.temporal.support import entity_url, get_temporal, parse, query_temporal, temporal_url, values_of

E1 = "urn:ngsi-ld:Sensor:1"
E2 = "urn:ngsi-ld:Sensor:2"
NULL = "urn:ngsi-ld:null"


def _create(client: TestClient, entity_id: str = E1, **attrs: Any) -> None:
    body = {"id": entity_id, "type": "Sensor", **attrs}
    response = client.post(ENTITIES, json=body)
    assert response.status_code == 201, response.text


def test_create_records_every_attribute_with_instance_ids(client: TestClient) -> None:
    _create(client, temperature=prop(21.5, observedAt="2025-01-01T00:00:00Z"), name=prop("kiosk"))
    body = get_temporal(client, E1, options="sysAttrs")
    assert body["id"] == E1 and body["type"] == "Sensor"
    (temp,) = body["temperature"]
    assert temp["value"] == 21.5
    assert temp["observedAt"] == "2025-01-01T00:00:00Z"
    (name,) = body["name"]
    assert name["value"] == "kiosk" and "observedAt" not in name
    ids = {temp["instanceId"], name["instanceId"]}
    assert len(ids) == 2 and all(i.startswith("urn:ngsi-ld:Instance:") for i in ids)
    # without observedAt the instance is stamped with its modification time
    assert name["createdAt"] == name["modifiedAt"]
    assert body["createdAt"] <= name["modifiedAt"]


def test_update_records_only_changed_attributes(client: TestClient) -> None:
    _create(client, temperature=prop(20, observedAt="2025-01-01T00:00:00Z"), name=prop("kiosk"))
    response = client.patch(
        f"{entity_url(E1)}/attrs", json={"temperature": prop(22, observedAt="2025-01-01T01:00:00Z")}
    )
    assert response.status_code == 204, response.text
    response = client.post(f"{entity_url(E1)}/attrs", json={"humidity": prop(70)})
    assert response.status_code == 204, response.text
    body = get_temporal(client, E1)
    assert values_of(body["temperature"]) == [20, 22]
    assert values_of(body["name"]) == ["kiosk"]
    assert values_of(body["humidity"]) == [70]


def test_same_value_again_is_recorded_as_a_new_observation(client: TestClient) -> None:
    _create(client, temperature=prop(20, observedAt="2025-01-01T00:00:00Z"))
    for hour in (1, 2):
        response = client.patch(
            f"{entity_url(E1)}/attrs/temperature", json={"value": 20, "observedAt": f"2025-01-01T0{hour}:00:00Z"}
        )
        assert response.status_code == 204, response.text
    body = get_temporal(client, E1)
    assert [i["observedAt"] for i in body["temperature"]] == [
        "2025-01-01T00:00:00Z",
        "2025-01-01T01:00:00Z",
        "2025-01-01T02:00:00Z",
    ]


def test_merge_and_replace_are_recorded(client: TestClient) -> None:
    _create(client, temperature=prop(20), name=prop("kiosk"))
    response = client.patch(entity_url(E1), json={"temperature": prop(25)})
    assert response.status_code == 204, response.text
    response = client.put(entity_url(E1), json={"type": "Sensor", "temperature": prop(30), "status": prop("ok")})
    assert response.status_code == 204, response.text
    response = client.put(f"{entity_url(E1)}/attrs/temperature", json=prop(31))
    assert response.status_code == 204, response.text
    body = get_temporal(client, E1)
    assert values_of(body["temperature"]) == [20, 25, 30, 31]
    assert values_of(body["status"]) == ["ok"]
    # the replace removed "name": its history ends with a deletion instance
    assert values_of(body["name"]) == ["kiosk", NULL]
    assert "deletedAt" in body["name"][-1]


def test_merge_null_and_attribute_delete_record_deletions(client: TestClient) -> None:
    _create(client, a=prop(1), b=prop(2), owner={"type": "Relationship", "object": "urn:ngsi-ld:Org:1"})
    response = client.patch(entity_url(E1), json={"a": NULL})
    assert response.status_code == 204, response.text
    response = client.delete(f"{entity_url(E1)}/attrs/owner")
    assert response.status_code == 204, response.text
    body = get_temporal(client, E1)
    assert values_of(body["a"]) == [1, NULL]
    assert body["owner"][-1]["object"] == NULL
    assert body["owner"][-1]["type"] == "Relationship"
    assert values_of(body["b"]) == [2]
    deleted = body["a"][-1]
    assert parse(deleted["deletedAt"]) >= parse(get_temporal(client, E1, options="sysAttrs")["createdAt"])


def test_datasets_are_recorded_separately(client: TestClient) -> None:
    _create(
        client,
        speed=[prop(10, datasetId="urn:ngsi-ld:Dataset:gps"), prop(11, datasetId="urn:ngsi-ld:Dataset:radar")],
    )
    response = client.post(f"{entity_url(E1)}/attrs", json={"speed": prop(12, datasetId="urn:ngsi-ld:Dataset:gps")})
    assert response.status_code == 204, response.text
    body = get_temporal(client, E1)
    by_dataset: dict[str, list[Any]] = {}
    for inst in body["speed"]:
        by_dataset.setdefault(inst["datasetId"], []).append(inst["value"])
    assert by_dataset == {"urn:ngsi-ld:Dataset:gps": [10, 12], "urn:ngsi-ld:Dataset:radar": [11]}


def test_batch_operations_are_recorded(client: TestClient) -> None:
    batch = [{"id": f"urn:ngsi-ld:Sensor:{i}", "type": "Sensor", "level": prop(i)} for i in range(1, 4)]
    assert client.post(f"{OPS}/create", json=batch).status_code == 201
    upsert = [{"id": E1, "type": "Sensor", "level": prop(10)}, {"id": "urn:ngsi-ld:Sensor:9", "type": "Sensor"}]
    assert client.post(f"{OPS}/upsert", params={"options": "update"}, json=upsert).status_code == 201
    assert client.post(f"{OPS}/update", json=[{"id": E2, "level": prop(20)}]).status_code == 204
    assert client.post(f"{OPS}/merge", json=[{"id": E2, "level": prop(21)}]).status_code == 204
    assert client.post(f"{OPS}/delete", json=["urn:ngsi-ld:Sensor:3"]).status_code == 204
    found = {e["id"]: e for e in query_temporal(client, type="Sensor", attrs="level")}
    assert sorted(found) == [E1, E2, "urn:ngsi-ld:Sensor:3"]
    assert values_of(found[E1]["level"]) == [1, 10]
    assert values_of(found[E2]["level"]) == [2, 20, 21]
    assert values_of(found["urn:ngsi-ld:Sensor:3"]["level"]) == [3, NULL]
    assert "deletedAt" in found["urn:ngsi-ld:Sensor:3"]


def test_deleting_an_entity_keeps_its_history(client: TestClient) -> None:
    _create(client, temperature=prop(20, observedAt="2025-01-01T00:00:00Z"))
    assert client.delete(entity_url(E1)).status_code == 204
    assert client.get(entity_url(E1)).status_code == 404
    body = get_temporal(client, E1)
    assert "deletedAt" in body
    assert values_of(body["temperature"]) == [20, NULL]
    # re-creating the entity continues the same history
    _create(client, temperature=prop(23, observedAt="2025-01-02T00:00:00Z"))
    body = get_temporal(client, E1)
    assert "deletedAt" not in body
    # in time order: the deletion (now) comes after both observations (2025)
    assert values_of(body["temperature"]) == [20, 23, NULL]


def test_failed_write_records_nothing(client: TestClient) -> None:
    _create(client, temperature=prop(20))
    response = client.post(ENTITIES, json={"id": E1, "type": "Sensor", "temperature": prop(99)})
    assert_problem(response, 409, "AlreadyExists")
    assert values_of(get_temporal(client, E1)["temperature"]) == [20]


def test_history_is_per_tenant(client: TestClient) -> None:
    response = client.post(ENTITIES, json={"id": E1, "type": "Sensor", "v": prop(1)}, headers=tenant("district1"))
    assert response.status_code == 201, response.text
    response = client.get(temporal_url(E1), headers=tenant("district1"))
    assert response.status_code == 200, response.text
    assert values_of(response.json()["v"]) == [1]
    assert response.headers["NGSILD-Tenant"] == "district1"
    assert_problem(client.get(temporal_url(E1)), 404, "ResourceNotFound")
    assert_problem(client.get(temporal_url(E1), headers=tenant("nowhere")), 404, "NonexistentTenant")
