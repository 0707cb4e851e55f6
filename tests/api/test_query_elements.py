"""q looks inside values that hold several strings or numbers: arrays, multi-object relationships and
LanguageProperty maps (a term matches when any element matches, clause 4.9)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

ENTITIES = "/ngsi-ld/v1/entities"


@pytest.fixture
def city(client: TestClient) -> TestClient:
    entities = [
        {
            "id": "urn:ngsi-ld:Route:19",
            "type": "BusRoute",
            "stopsPerHour": {"type": "Property", "value": [4, 6, 12]},
            "tags": {"type": "Property", "value": ["airport", "university"]},
            "serves": {"type": "Relationship", "object": ["urn:ngsi-ld:Ward:BenThanh", "urn:ngsi-ld:Ward:SaiGon"]},
            "name": {
                "type": "LanguageProperty",
                "languageMap": {"vi": "Bến Thành - Đại học Quốc gia", "en": "Ben Thanh - VNU"},
            },
        },
        {
            "id": "urn:ngsi-ld:Route:152",
            "type": "BusRoute",
            "stopsPerHour": {"type": "Property", "value": 3},
            "tags": {"type": "Property", "value": "airport"},
            "serves": {"type": "Relationship", "object": "urn:ngsi-ld:Ward:TanSonNhat"},
            "name": {
                "type": "LanguageProperty",
                "languageMap": {"vi": "Sân bay Tân Sơn Nhất", "en": "Tan Son Nhat Airport"},
            },
        },
    ]
    for entity in entities:
        assert client.post(ENTITIES, json=entity).status_code == 201
    return client


def ids(client: TestClient, q: str) -> list[str]:
    response = client.get(ENTITIES, params={"type": "BusRoute", "q": q})
    assert response.status_code == 200, response.text
    return sorted(e["id"] for e in response.json())


R19, R152 = "urn:ngsi-ld:Route:19", "urn:ngsi-ld:Route:152"


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("stopsPerHour==6", [R19]),
        ("stopsPerHour>10", [R19]),
        ("stopsPerHour<4", [R152]),
        ("stopsPerHour==5..7", [R19]),
        ("stopsPerHour==7..11", []),
        ("stopsPerHour==3,12", [R152, R19]),
        ('tags=="airport"', [R152, R19]),
        ('tags=="university"', [R19]),
        ("tags~=^univ", [R19]),
        ("serves==urn:ngsi-ld:Ward:SaiGon", [R19]),
        ("serves==urn:ngsi-ld:Ward:TanSonNhat", [R152]),
        ('name=="Ben Thanh - VNU"', [R19]),
        ('name=="Sân bay Tân Sơn Nhất"', [R152]),
        ("name~=(?i)airport", [R152]),
        ('tags!="university"', [R152]),
    ],
)
def test_any_element_matches(city: TestClient, q: str, expected: list[str]) -> None:
    assert ids(city, q) == sorted(expected)


def test_selective_driver_keeps_entities_with_array_values(city: TestClient) -> None:
    # a selective range on a plain attribute drives the query from the value index; array rows must stay
    assert ids(city, "stopsPerHour>11;stopsPerHour<13") == [R19]


def test_terms_on_one_attribute_may_match_different_instances(client: TestClient) -> None:
    entity = {
        "id": "urn:ngsi-ld:AirQualityObserved:dual",
        "type": "AirQualityObserved",
        "pm25": [
            {"type": "Property", "value": 10, "datasetId": "urn:ngsi-ld:Dataset:sensorA"},
            {"type": "Property", "value": 200, "datasetId": "urn:ngsi-ld:Dataset:sensorB"},
        ],
    }
    assert client.post(ENTITIES, json=entity).status_code == 201
    response = client.get(ENTITIES, params={"type": "AirQualityObserved", "q": "pm25>100;pm25<20"})
    assert [e["id"] for e in response.json()] == ["urn:ngsi-ld:AirQualityObserved:dual"]
