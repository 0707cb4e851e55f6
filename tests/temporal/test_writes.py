"""The temporal write endpoints: create/add, add attributes, delete entity/attribute, patch/delete an instance."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.support import ENTITIES, assert_problem, prop, tenant
from tests.temporal.support import TEMPORAL, get_temporal, instances, iso, load, temporal_url, values_of

S1 = "urn:ngsi-ld:Sensor:1"
GPS = "urn:ngsi-ld:Dataset:gps"


def test_create_then_add_instances(client: TestClient) -> None:
    response = load(client, S1, {"level": instances([1, 2])})
    assert response.status_code == 201
    assert response.headers["Location"] == f"{TEMPORAL}/{S1}"
    response = load(client, S1, {"level": instances([3], start=120), "other": prop(9)}, type_="Device")
    assert response.status_code == 204
    body = get_temporal(client, S1)
    assert body["type"] == ["Sensor", "Device"]
    assert values_of(body["level"]) == [1, 2, 3]
    assert values_of(body["other"]) == [9]
    # the temporal API writes history only: there is no current entity
    assert client.get(f"{ENTITIES}/{S1}").status_code == 404


def test_create_in_a_new_tenant(client: TestClient) -> None:
    response = client.post(
        TEMPORAL, json={"id": S1, "type": "Sensor", "level": instances([1])}, headers=tenant("district3")
    )
    assert response.status_code == 201, response.text
    assert client.get(temporal_url(S1), headers=tenant("district3")).status_code == 200
    assert client.get(temporal_url(S1)).status_code == 404


def test_add_attributes(client: TestClient) -> None:
    load(client, S1, {"level": instances([1])})
    response = client.post(f"{temporal_url(S1)}/attrs", json={"level": instances([2], start=60), "flow": prop(3)})
    assert response.status_code == 204, response.text
    body = get_temporal(client, S1)
    assert values_of(body["level"]) == [1, 2]
    assert values_of(body["flow"]) == [3]
    response = client.post(f"{temporal_url('urn:ngsi-ld:Sensor:404')}/attrs", json={"level": prop(1)})
    assert_problem(response, 404, "ResourceNotFound")


def test_delete_temporal_entity_removes_the_history(client: TestClient) -> None:
    response = client.post(ENTITIES, json={"id": S1, "type": "Sensor", "level": prop(1)})
    assert response.status_code == 201
    assert client.delete(temporal_url(S1)).status_code == 204
    assert_problem(client.get(temporal_url(S1)), 404, "ResourceNotFound")
    assert_problem(client.delete(temporal_url(S1)), 404, "ResourceNotFound")
    # the current entity is not touched
    assert client.get(f"{ENTITIES}/{S1}").status_code == 200


def test_delete_attribute_history(client: TestClient) -> None:
    load(client, S1, {"level": instances([1, 2]) + instances([5], datasetId=GPS), "flow": instances([3])})
    assert client.delete(f"{temporal_url(S1)}/attrs/level").status_code == 204
    body = get_temporal(client, S1)
    assert [i["datasetId"] for i in body["level"]] == [GPS]
    response = client.delete(f"{temporal_url(S1)}/attrs/level", params={"datasetId": GPS})
    assert response.status_code == 204
    assert "level" not in get_temporal(client, S1)
    assert_problem(client.delete(f"{temporal_url(S1)}/attrs/level"), 404, "ResourceNotFound")
    load(client, S1, {"level": instances([1]) + instances([5], datasetId=GPS)})
    assert client.delete(f"{temporal_url(S1)}/attrs/level", params={"deleteAll": "true"}).status_code == 204
    assert set(get_temporal(client, S1)) == {"id", "type", "flow"}
    assert_problem(client.delete(f"{temporal_url(S1)}/attrs/level", params={"deleteAll": "maybe"}), 400)


def test_attribute_iri_with_slashes(client: TestClient) -> None:
    iri = "https://example.org/ns/level"
    load(client, S1, {iri: instances([1]), "flow": instances([2])})
    assert client.delete(f"{temporal_url(S1)}/attrs/{iri}").status_code == 204
    assert set(get_temporal(client, S1)) == {"id", "type", "flow"}


def test_patch_instance(client: TestClient) -> None:
    load(client, S1, {"level": instances([1, 2])})
    first = get_temporal(client, S1)["level"][0]
    url = f"{temporal_url(S1)}/attrs/level/{first['instanceId']}"
    response = client.patch(url, json={"value": 10, "observedAt": iso(30)})
    assert response.status_code == 204, response.text
    body = get_temporal(client, S1, options="sysAttrs")
    assert values_of(body["level"]) == [10, 2]
    patched = body["level"][0]
    assert patched["instanceId"] == first["instanceId"]
    assert patched["observedAt"] == iso(30)
    assert patched["modifiedAt"] >= patched["createdAt"]
    # the attribute-keyed form of the fragment
    response = client.patch(url, json={"level": {"type": "Property", "value": 11, "unitCode": "CEL"}})
    assert response.status_code == 204, response.text
    patched = get_temporal(client, S1)["level"][0]
    assert patched["value"] == 11 and patched["unitCode"] == "CEL" and patched["observedAt"] == iso(30)
    # the patched value is what aggregations see
    body = get_temporal(client, S1, options="aggregatedValues", aggrMethods="sum")
    assert body["level"]["sum"][0][0] == 13


def test_patch_and_delete_unknown_instances(client: TestClient) -> None:
    load(client, S1, {"level": instances([1]), "flow": instances([2])})
    flow_id = get_temporal(client, S1)["flow"][0]["instanceId"]
    base = f"{temporal_url(S1)}/attrs/level"
    for instance in ("urn:ngsi-ld:Instance:999999", "urn:ngsi-ld:Other:1", flow_id):
        assert_problem(client.patch(f"{base}/{instance}", json={"value": 1}), 404, "ResourceNotFound")
        assert_problem(client.delete(f"{base}/{instance}"), 404, "ResourceNotFound")
    missing = f"{temporal_url('urn:ngsi-ld:Sensor:404')}/attrs/level/{flow_id}"
    assert_problem(client.patch(missing, json={"value": 1}), 404, "ResourceNotFound")
    assert_problem(client.patch(base, json={"value": 1}), 404, "ResourceNotFound")


def test_delete_instance(client: TestClient) -> None:
    load(client, S1, {"level": instances([1, 2, 3])})
    middle = get_temporal(client, S1)["level"][1]["instanceId"]
    assert client.delete(f"{temporal_url(S1)}/attrs/level/{middle}").status_code == 204
    assert values_of(get_temporal(client, S1)["level"]) == [1, 3]
    assert_problem(client.delete(f"{temporal_url(S1)}/attrs/level/{middle}"), 404, "ResourceNotFound")


def test_bad_bodies(client: TestClient) -> None:
    assert_problem(client.post(TEMPORAL, json=[1, 2]), 400, "BadRequestData")
    assert_problem(client.post(TEMPORAL, json={"type": "Sensor"}), 400, "BadRequestData")
    assert_problem(client.post(TEMPORAL, json={"id": "not a uri", "type": "Sensor"}), 400, "BadRequestData")
    assert_problem(client.post(TEMPORAL, json={"id": S1}), 400, "BadRequestData")
    bad_time = {"id": S1, "type": "Sensor", "level": [{"type": "Property", "value": 1, "observedAt": "yesterday"}]}
    assert_problem(client.post(TEMPORAL, json=bad_time), 400, "BadRequestData")
    assert_problem(client.post(TEMPORAL, json={"id": S1, "type": "Sensor", "level": None}), 400, "BadRequestData")
    response = client.post(TEMPORAL, content=b"{", headers={"Content-Type": "application/json"})
    assert_problem(response, 400)
    load(client, S1, {"level": instances([1])})
    instance = get_temporal(client, S1)["level"][0]["instanceId"]
    response = client.patch(f"{temporal_url(S1)}/attrs/level/{instance}", json=[1])
    assert_problem(response, 400, "BadRequestData")
