"""Discovery of types and attributes (clause 5.7.5-5.7.10, 6.25-6.28)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.support import (
    BASE,
    DEFAULT_VOCAB,
    JSONLD,
    assert_problem,
    create_all,
    entity_url,
    media,
    point,
    prop,
    rel,
    tenant,
)

TYPES = f"{BASE}/types"
ATTRIBUTES = f"{BASE}/attributes"


def transport() -> list[dict[str, Any]]:
    return [
        {
            "id": "urn:ngsi-ld:BusStop:ben-thanh",
            "type": "BusStop",
            "name": prop("Bến Thành"),
            "location": point(106.6981, 10.7725),
            "servedBy": rel("urn:ngsi-ld:BusLine:1"),
        },
        {
            "id": "urn:ngsi-ld:BusStop:cho-lon",
            "type": "BusStop",
            "name": prop("Chợ Lớn"),
            "sign": {"type": "LanguageProperty", "languageMap": {"vi": "Chợ Lớn", "en": "Cho Lon"}},
        },
        {
            "id": "urn:ngsi-ld:BusLine:1",
            "type": ["BusLine", "Route"],
            "name": prop("Tuyến 1"),
            "noise": [prop(60, datasetId="urn:ngsi-ld:Dataset:day"), prop(45, datasetId="urn:ngsi-ld:Dataset:night")],
        },
    ]


@pytest.fixture
def city(client: TestClient) -> TestClient:
    create_all(client, transport())
    return client


def get(client: TestClient, url: str, **params: str) -> Any:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    assert media(response) == "application/json"
    return response.json()


# -- /types -----------------------------------------------------------------------------------------


def test_types_of_an_empty_broker(client: TestClient) -> None:
    body = get(client, TYPES)
    assert body["type"] == "EntityTypeList"
    assert body["id"].startswith("urn:ngsi-ld:EntityTypeList:")
    assert body["typeList"] == []
    assert get(client, TYPES, details="true") == []


def test_types_lists_each_type_once(city: TestClient) -> None:
    body = get(city, TYPES)
    assert body["type"] == "EntityTypeList"
    assert sorted(body["typeList"]) == ["BusLine", "BusStop", "Route"]


def test_types_with_details(city: TestClient) -> None:
    body = {t["typeName"]: t for t in get(city, TYPES, details="true")}
    assert sorted(body) == ["BusLine", "BusStop", "Route"]
    stop = body["BusStop"]
    assert stop["type"] == "EntityType"
    assert stop["id"] == DEFAULT_VOCAB + "BusStop"
    assert sorted(stop["attributeNames"]) == ["location", "name", "servedBy", "sign"]
    assert sorted(body["Route"]["attributeNames"]) == ["name", "noise"]


def test_type_details(city: TestClient) -> None:
    body = get(city, f"{TYPES}/BusStop")
    assert body["id"] == DEFAULT_VOCAB + "BusStop"
    assert body["type"] == "EntityTypeInfo"
    assert body["typeName"] == "BusStop"
    assert body["entityCount"] == 2
    details = {a["attributeName"]: a for a in body["attributeDetails"]}
    assert sorted(details) == ["location", "name", "servedBy", "sign"]
    assert details["location"]["attributeTypes"] == ["GeoProperty"]
    assert details["servedBy"]["attributeTypes"] == ["Relationship"]
    assert details["sign"]["attributeTypes"] == ["LanguageProperty"]
    assert details["name"] == {
        "id": DEFAULT_VOCAB + "name",
        "type": "Attribute",
        "attributeName": "name",
        "attributeTypes": ["Property"],
    }


def test_type_details_by_full_iri(city: TestClient) -> None:
    by_iri = city.get(f"{TYPES}/https%3A%2F%2Furi.etsi.org%2Fngsi-ld%2Fdefault-context%2FRoute")
    assert by_iri.status_code == 200, by_iri.text
    assert by_iri.json()["typeName"] == "Route"
    assert by_iri.json()["entityCount"] == 1


def test_unknown_type_is_404(city: TestClient) -> None:
    assert_problem(city.get(f"{TYPES}/Tram"), 404, "ResourceNotFound")


def test_types_follow_deletes(city: TestClient) -> None:
    assert city.delete(entity_url("urn:ngsi-ld:BusLine:1")).status_code == 204
    assert get(city, TYPES)["typeList"] == ["BusStop"]
    assert_problem(city.get(f"{TYPES}/Route"), 404, "ResourceNotFound")
    assert get(city, f"{TYPES}/BusStop")["entityCount"] == 2


def test_type_attribute_kinds_follow_replacement(city: TestClient) -> None:
    url = entity_url("urn:ngsi-ld:BusStop:ben-thanh") + "/attrs/servedBy"
    assert city.put(url, json={"type": "Property", "value": "line 1"}).status_code == 204
    details = {a["attributeName"]: a for a in get(city, f"{TYPES}/BusStop")["attributeDetails"]}
    assert details["servedBy"]["attributeTypes"] == ["Property"]


# -- /attributes ------------------------------------------------------------------------------------


def test_attributes_list(city: TestClient) -> None:
    body = get(city, ATTRIBUTES)
    assert body["type"] == "AttributeList"
    assert body["id"].startswith("urn:ngsi-ld:AttributeList:")
    assert sorted(body["attributeList"]) == ["location", "name", "noise", "servedBy", "sign"]


def test_attributes_of_an_empty_broker(client: TestClient) -> None:
    assert get(client, ATTRIBUTES)["attributeList"] == []
    assert get(client, ATTRIBUTES, details="true") == []


def test_attributes_with_details(city: TestClient) -> None:
    body = {a["attributeName"]: a for a in get(city, ATTRIBUTES, details="true")}
    assert sorted(body) == ["location", "name", "noise", "servedBy", "sign"]
    assert body["name"]["type"] == "Attribute"
    assert body["name"]["id"] == DEFAULT_VOCAB + "name"
    assert sorted(body["name"]["typeNames"]) == ["BusLine", "BusStop", "Route"]
    assert sorted(body["sign"]["typeNames"]) == ["BusStop"]


def test_attribute_details(city: TestClient) -> None:
    body = get(city, f"{ATTRIBUTES}/name")
    assert body["id"] == DEFAULT_VOCAB + "name"
    assert body["type"] == "Attribute"
    assert body["attributeName"] == "name"
    assert body["attributeCount"] == 3
    assert body["attributeTypes"] == ["Property"]
    assert sorted(body["typeNames"]) == ["BusLine", "BusStop", "Route"]
    noise = get(city, f"{ATTRIBUTES}/noise")
    assert noise["attributeCount"] == 2  # instances: one per datasetId
    assert sorted(noise["typeNames"]) == ["BusLine", "Route"]


def test_attribute_details_by_full_iri(city: TestClient) -> None:
    response = city.get(f"{ATTRIBUTES}/https%3A%2F%2Furi.etsi.org%2Fngsi-ld%2Fdefault-context%2FservedBy")
    assert response.status_code == 200, response.text
    assert response.json()["attributeTypes"] == ["Relationship"]


def test_core_attribute_keeps_its_core_name(city: TestClient) -> None:
    body = get(city, f"{ATTRIBUTES}/location")
    assert body["id"] == "https://uri.etsi.org/ngsi-ld/location"
    assert body["attributeName"] == "location"
    assert body["attributeTypes"] == ["GeoProperty"]


def test_unknown_attribute_is_404(city: TestClient) -> None:
    assert_problem(city.get(f"{ATTRIBUTES}/speed"), 404, "ResourceNotFound")


def test_attributes_follow_attribute_deletes(city: TestClient) -> None:
    assert city.delete(entity_url("urn:ngsi-ld:BusStop:cho-lon") + "/attrs/sign").status_code == 204
    assert "sign" not in get(city, ATTRIBUTES)["attributeList"]
    assert_problem(city.get(f"{ATTRIBUTES}/sign"), 404, "ResourceNotFound")


# -- representation, parameters, tenants ------------------------------------------------------------


def test_discovery_in_ld_json(city: TestClient) -> None:
    response = city.get(TYPES, headers={"Accept": JSONLD})
    assert response.status_code == 200
    assert media(response) == JSONLD
    assert response.json()["@context"] == "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
    assert "link" not in response.headers
    plain = city.get(ATTRIBUTES)
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in plain.headers["link"]


@pytest.mark.parametrize("url", [TYPES, ATTRIBUTES])
def test_details_must_be_a_boolean(city: TestClient, url: str) -> None:
    assert_problem(city.get(url, params={"details": "yes"}), 400, "BadRequestData")


def test_discovery_is_per_tenant(city: TestClient) -> None:
    create_all(city, [{"id": "urn:ngsi-ld:Tram:1", "type": "Tram", "gauge": prop(1435)}], headers=tenant("metro"))
    assert get(city, TYPES)["typeList"] == ["BusLine", "BusStop", "Route"]
    in_metro = city.get(TYPES, headers=tenant("metro"))
    assert in_metro.json()["typeList"] == ["Tram"]
    assert city.get(ATTRIBUTES, headers=tenant("metro")).json()["attributeList"] == ["gauge"]
    assert_problem(city.get(f"{TYPES}/Tram"), 404, "ResourceNotFound")
    assert_problem(city.get(f"{ATTRIBUTES}/gauge"), 404, "ResourceNotFound")
    assert_problem(city.get(TYPES, headers=tenant("nowhere")), 404, "NonexistentTenant")
