"""Multi-tenancy (clause 4.14, 6.3.14): NGSILD-Tenant isolates entities; creation creates the tenant,
anything else on an unknown tenant is 404 NonexistentTenant."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.support import (
    BASE,
    ENTITIES,
    OPS,
    assert_problem,
    create,
    entity_url,
    point,
    prop,
    query_ids,
    tenant,
)

WATER = tenant("sawaco")  # the water utility
POWER = tenant("evn-hcmc")  # the power company
SENSOR = "urn:ngsi-ld:Sensor:shared-id"


def sensor(owner: str, entity_id: str = SENSOR) -> dict[str, Any]:
    return {
        "id": entity_id,
        "type": "Sensor",
        "owner": prop(owner),
        "location": point(106.70, 10.78),
    }


@pytest.fixture
def tenants(client: TestClient) -> TestClient:
    create(client, sensor("sawaco"), headers=WATER)
    create(client, sensor("sawaco", SENSOR + ":2"), headers=WATER)
    create(client, sensor("evn"), headers=POWER)
    create(client, sensor("city", "urn:ngsi-ld:Sensor:city-only"))
    return client


def test_the_same_id_lives_separately_in_each_tenant(tenants: TestClient) -> None:
    water = tenants.get(entity_url(SENSOR), headers=WATER)
    power = tenants.get(entity_url(SENSOR), headers=POWER)
    assert water.json()["owner"] == prop("sawaco")
    assert power.json()["owner"] == prop("evn")


def test_entity_of_one_tenant_is_404_elsewhere(tenants: TestClient) -> None:
    only_water = SENSOR + ":2"
    assert tenants.get(entity_url(only_water), headers=WATER).status_code == 200
    assert_problem(tenants.get(entity_url(only_water), headers=POWER), 404, "ResourceNotFound")
    assert_problem(tenants.get(entity_url(only_water)), 404, "ResourceNotFound")
    assert_problem(tenants.get(entity_url("urn:ngsi-ld:Sensor:city-only"), headers=WATER), 404, "ResourceNotFound")


def test_empty_tenant_header_is_the_default_tenant(tenants: TestClient) -> None:
    response = tenants.get(entity_url("urn:ngsi-ld:Sensor:city-only"), headers={"NGSILD-Tenant": ""})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"type": "Sensor"},
        {"idPattern": ".*"},
        {"q": "owner"},
        {"attrs": "owner"},
        {"id": f"{SENSOR},{SENSOR}:2,urn:ngsi-ld:Sensor:city-only"},
        {"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": json.dumps([106.70, 10.78])},
    ],
)
def test_queries_never_leak(tenants: TestClient, params: dict[str, str]) -> None:
    assert query_ids(tenants, WATER, **params) == [SENSOR, SENSOR + ":2"]
    assert query_ids(tenants, POWER, **params) == [SENSOR]
    assert query_ids(tenants, **params) == ["urn:ngsi-ld:Sensor:city-only"]


def test_post_query_never_leaks(tenants: TestClient) -> None:
    body = {"type": "Query", "entities": [{"type": "Sensor"}]}
    response = tenants.post(f"{OPS}/query", json=body, headers=POWER)
    assert [e["id"] for e in response.json()] == [SENSOR]
    assert response.headers["ngsild-tenant"] == "evn-hcmc"


def test_counts_are_per_tenant(tenants: TestClient) -> None:
    response = tenants.get(ENTITIES, params={"type": "Sensor", "count": "true"}, headers=WATER)
    assert response.headers["ngsild-results-count"] == "2"
    response = tenants.get(ENTITIES, params={"type": "Sensor", "count": "true"}, headers=POWER)
    assert response.headers["ngsild-results-count"] == "1"


def test_writes_only_touch_their_tenant(tenants: TestClient) -> None:
    patch = tenants.patch(entity_url(SENSOR) + "/attrs", json={"owner": prop("changed")}, headers=WATER)
    assert patch.status_code == 204
    assert tenants.get(entity_url(SENSOR), headers=POWER).json()["owner"] == prop("evn")
    assert tenants.delete(entity_url(SENSOR), headers=POWER).status_code == 204
    assert tenants.get(entity_url(SENSOR), headers=WATER).json()["owner"] == prop("changed")
    assert tenants.delete(ENTITIES, params={"type": "Sensor"}, headers=WATER).status_code == 204
    assert query_ids(tenants, WATER, type="Sensor") == []
    assert query_ids(tenants, type="Sensor") == ["urn:ngsi-ld:Sensor:city-only"]


def test_deleting_in_another_tenant_is_404(tenants: TestClient) -> None:
    assert_problem(tenants.delete(entity_url("urn:ngsi-ld:Sensor:city-only"), headers=WATER), 404, "ResourceNotFound")
    assert tenants.get(entity_url("urn:ngsi-ld:Sensor:city-only")).status_code == 200


# -- unknown tenants ----------------------------------------------------------------------------------


GHOST = tenant("ghost-company")


@pytest.mark.parametrize(
    ("method", "url", "params"),
    [
        ("GET", ENTITIES, {"type": "Sensor"}),
        ("GET", entity_url(SENSOR), {}),
        ("DELETE", entity_url(SENSOR), {}),
        ("DELETE", ENTITIES, {"type": "Sensor"}),
        ("GET", f"{BASE}/types", {}),
        ("GET", f"{BASE}/types/Sensor", {}),
        ("GET", f"{BASE}/attributes", {}),
        ("GET", f"{BASE}/attributes/owner", {}),
        ("DELETE", entity_url(SENSOR) + "/attrs/owner", {}),
    ],
)
def test_reads_of_an_unknown_tenant_are_404_nonexistent_tenant(
    tenants: TestClient, method: str, url: str, params: dict[str, str]
) -> None:
    response = tenants.request(method, url, params=params, headers=GHOST)
    assert_problem(response, 404, "NonexistentTenant")


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("PATCH", entity_url(SENSOR) + "/attrs", {"owner": prop("x")}),
        ("POST", entity_url(SENSOR) + "/attrs", {"owner": prop("x")}),
        ("PATCH", entity_url(SENSOR), {"owner": prop("x")}),
        ("PUT", entity_url(SENSOR), {"type": "Sensor"}),
        ("POST", f"{OPS}/update", [{"id": SENSOR, "owner": prop("x")}]),
        ("POST", f"{OPS}/merge", [{"id": SENSOR, "owner": prop("x")}]),
        ("POST", f"{OPS}/delete", [SENSOR]),
        ("POST", f"{OPS}/query", {"type": "Query", "entities": [{"type": "Sensor"}]}),
    ],
)
def test_modifying_an_unknown_tenant_is_404_nonexistent_tenant(
    tenants: TestClient, method: str, url: str, body: Any
) -> None:
    response = tenants.request(method, url, json=body, headers=GHOST)
    assert_problem(response, 404, "NonexistentTenant")
    assert_problem(tenants.get(f"{BASE}/types", headers=GHOST), 404, "NonexistentTenant")


def test_create_makes_the_tenant(client: TestClient) -> None:
    assert_problem(client.get(ENTITIES, params={"type": "Sensor"}, headers=GHOST), 404, "NonexistentTenant")
    response = client.post(ENTITIES, json=sensor("ghost"), headers=GHOST)
    assert response.status_code == 201
    assert response.headers["ngsild-tenant"] == "ghost-company"
    assert query_ids(client, GHOST, type="Sensor") == [SENSOR]
    assert client.get(f"{BASE}/types", headers=GHOST).json()["typeList"] == ["Sensor"]
    assert query_ids(client, type="Sensor") == []


@pytest.mark.parametrize("op", ["create", "upsert"])
def test_batch_create_and_upsert_make_the_tenant(client: TestClient, op: str) -> None:
    response = client.post(f"{OPS}/{op}", json=[sensor("ghost")], headers=GHOST)
    assert response.status_code == 201
    assert query_ids(client, GHOST, type="Sensor") == [SENSOR]


def test_a_rejected_create_does_not_make_the_tenant(client: TestClient) -> None:
    response = client.post(ENTITIES, json={"id": "no uri", "type": "Sensor"}, headers=GHOST)
    assert_problem(response, 400, "BadRequestData")
    assert_problem(client.get(f"{BASE}/types", headers=GHOST), 404, "NonexistentTenant")


def test_tenant_stays_when_its_last_entity_is_deleted(client: TestClient) -> None:
    create(client, sensor("ghost"), headers=GHOST)
    assert client.delete(entity_url(SENSOR), headers=GHOST).status_code == 204
    assert query_ids(client, GHOST, type="Sensor") == []


@pytest.mark.parametrize("name", ["bad tenant", "x" * 200, "tenant/with/slash", "tên"])
def test_invalid_tenant_name_is_400(client: TestClient, name: str) -> None:
    headers: dict[str, Any] = {"NGSILD-Tenant": name.encode()}  # raw UTF-8 bytes on the wire
    assert_problem(client.get(ENTITIES, params={"type": "Sensor"}, headers=headers), 400, "BadRequestData")
    assert_problem(client.post(ENTITIES, json=sensor("x"), headers=headers), 400, "BadRequestData")
