"""Attribute operations (clause 5.6.2-5.6.5, 6.6-6.7): append, update, partial update, replace, delete."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.support import assert_problem, create, entity_url, fetch, prop, rel

STATION = "urn:ngsi-ld:AirQualityObserved:hcmc-district-1"
ATTRS = entity_url(STATION) + "/attrs"


def station() -> dict[str, Any]:
    return {
        "id": STATION,
        "type": "AirQualityObserved",
        "pm25": prop(35.2, unitCode="GQ", observedAt="2024-05-01T08:00:00+07:00"),
        "aqi": prop(99),
        "operator": rel("urn:ngsi-ld:Organization:hepa"),
        "noise": [
            prop(61.0, datasetId="urn:ngsi-ld:Dataset:day"),
            prop(48.0, datasetId="urn:ngsi-ld:Dataset:night"),
        ],
    }


# -- append (POST /entities/{id}/attrs) -------------------------------------------------------------


def test_append_adds_new_and_overwrites_existing(client: TestClient) -> None:
    create(client, station())
    response = client.post(ATTRS, json={"aqi": prop(120), "no2": prop(40.1, unitCode="GQ")})
    assert response.status_code == 204, response.text
    body = fetch(client, STATION)
    assert body["aqi"] == prop(120)
    assert body["no2"] == prop(40.1, unitCode="GQ")
    assert body["pm25"] == station()["pm25"]


def test_append_with_no_overwrite_reports_207(client: TestClient) -> None:
    create(client, station())
    response = client.post(ATTRS, params={"options": "noOverwrite"}, json={"aqi": prop(1), "o3": prop(20)})
    assert response.status_code == 207, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["updated"] == ["o3"]
    assert [item["attributeName"] for item in body["notUpdated"]] == ["aqi"]
    assert all(isinstance(item["reason"], str) and item["reason"] for item in body["notUpdated"])
    after = fetch(client, STATION)
    assert after["aqi"] == prop(99)
    assert after["o3"] == prop(20)


def test_append_with_no_overwrite_and_nothing_existing_is_204(client: TestClient) -> None:
    create(client, station())
    response = client.post(ATTRS, params={"options": "noOverwrite"}, json={"o3": prop(20)})
    assert response.status_code == 204
    assert fetch(client, STATION)["o3"] == prop(20)


def test_append_a_new_dataset_instance(client: TestClient) -> None:
    create(client, station())
    response = client.post(ATTRS, json={"noise": prop(55.0, datasetId="urn:ngsi-ld:Dataset:evening")})
    assert response.status_code == 204
    noise = fetch(client, STATION)["noise"]
    assert sorted(i["datasetId"] for i in noise) == [
        "urn:ngsi-ld:Dataset:day",
        "urn:ngsi-ld:Dataset:evening",
        "urn:ngsi-ld:Dataset:night",
    ]


def test_append_to_unknown_entity_is_404(client: TestClient) -> None:
    response = client.post(entity_url("urn:ngsi-ld:X:none") + "/attrs", json={"a": prop(1)})
    assert_problem(response, 404, "ResourceNotFound")


def test_append_invalid_attribute_is_400_and_changes_nothing(client: TestClient) -> None:
    create(client, station())
    response = client.post(ATTRS, json={"aqi": prop(1), "bad": {"type": "Relationship", "object": "no uri"}})
    assert_problem(response, 400, "BadRequestData")
    assert fetch(client, STATION) == station()


# -- update (PATCH /entities/{id}/attrs) ------------------------------------------------------------


def test_update_changes_existing_attributes_only(client: TestClient) -> None:
    create(client, station())
    response = client.patch(ATTRS, json={"aqi": prop(150)})
    assert response.status_code == 204, response.text
    assert fetch(client, STATION)["aqi"] == prop(150)


def test_update_of_a_missing_attribute_is_207(client: TestClient) -> None:
    create(client, station())
    response = client.patch(ATTRS, json={"aqi": prop(150), "co": prop(0.4)})
    assert response.status_code == 207
    body = response.json()
    assert body["updated"] == ["aqi"]
    assert [item["attributeName"] for item in body["notUpdated"]] == ["co"]
    after = fetch(client, STATION)
    assert after["aqi"] == prop(150)
    assert "co" not in after


def test_update_one_dataset_instance(client: TestClient) -> None:
    create(client, station())
    response = client.patch(ATTRS, json={"noise": prop(50.0, datasetId="urn:ngsi-ld:Dataset:night")})
    assert response.status_code == 204
    noise = {i["datasetId"]: i["value"] for i in fetch(client, STATION)["noise"]}
    assert noise == {"urn:ngsi-ld:Dataset:day": 61.0, "urn:ngsi-ld:Dataset:night": 50.0}


def test_update_of_unknown_entity_is_404(client: TestClient) -> None:
    assert_problem(client.patch(entity_url("urn:ngsi-ld:X:none") + "/attrs", json={"a": prop(1)}), 404)


def test_update_keeps_created_at_and_moves_modified_at(client: TestClient) -> None:
    create(client, station())
    before = fetch(client, STATION, options="sysAttrs")
    assert client.patch(ATTRS, json={"aqi": prop(101)}).status_code == 204
    after = fetch(client, STATION, options="sysAttrs")
    assert after["aqi"]["createdAt"] == before["aqi"]["createdAt"]
    assert after["aqi"]["modifiedAt"] > before["aqi"]["modifiedAt"]
    assert after["modifiedAt"] > before["modifiedAt"]
    assert after["createdAt"] == before["createdAt"]


# -- partial attribute update (PATCH /entities/{id}/attrs/{attrId}) -----------------------------------


def test_partial_update_keeps_unmentioned_members(client: TestClient) -> None:
    create(client, station())
    response = client.patch(ATTRS + "/pm25", json={"value": 40.0})
    assert response.status_code == 204, response.text
    assert fetch(client, STATION)["pm25"] == prop(40.0, unitCode="GQ", observedAt="2024-05-01T08:00:00+07:00")


def test_partial_update_of_a_relationship(client: TestClient) -> None:
    create(client, station())
    response = client.patch(ATTRS + "/operator", json={"object": "urn:ngsi-ld:Organization:doney"})
    assert response.status_code == 204
    assert fetch(client, STATION)["operator"] == rel("urn:ngsi-ld:Organization:doney")


def test_partial_update_of_a_dataset_instance(client: TestClient) -> None:
    create(client, station())
    response = client.patch(ATTRS + "/noise", json={"value": 70.0, "datasetId": "urn:ngsi-ld:Dataset:day"})
    assert response.status_code == 204
    noise = {i["datasetId"]: i["value"] for i in fetch(client, STATION)["noise"]}
    assert noise == {"urn:ngsi-ld:Dataset:day": 70.0, "urn:ngsi-ld:Dataset:night": 48.0}


def test_partial_update_of_a_missing_attribute_is_404(client: TestClient) -> None:
    create(client, station())
    assert_problem(client.patch(ATTRS + "/co", json={"value": 1}), 404, "ResourceNotFound")
    assert_problem(
        client.patch(ATTRS + "/noise", json={"value": 1, "datasetId": "urn:ngsi-ld:Dataset:none"}),
        404,
        "ResourceNotFound",
    )
    assert_problem(client.patch(entity_url("urn:ngsi-ld:X:none") + "/attrs/a", json={"value": 1}), 404)


def test_partial_update_without_value_is_400(client: TestClient) -> None:
    create(client, station())
    assert_problem(client.patch(ATTRS + "/aqi", json={"unitCode": "C62"}), 400, "BadRequestData")
    assert fetch(client, STATION)["aqi"] == prop(99)


# -- replace attribute (PUT /entities/{id}/attrs/{attrId}) --------------------------------------------


def test_replace_attribute_drops_old_members(client: TestClient) -> None:
    create(client, station())
    response = client.put(ATTRS + "/pm25", json={"type": "Property", "value": 12.0})
    assert response.status_code == 204, response.text
    assert fetch(client, STATION)["pm25"] == prop(12.0)


def test_replace_attribute_can_change_its_kind(client: TestClient) -> None:
    create(client, station())
    response = client.put(ATTRS + "/operator", json={"type": "Property", "value": "HEPA"})
    assert response.status_code == 204
    assert fetch(client, STATION)["operator"] == prop("HEPA")


def test_replace_missing_attribute_is_404(client: TestClient) -> None:
    create(client, station())
    assert_problem(client.put(ATTRS + "/co", json={"type": "Property", "value": 1}), 404, "ResourceNotFound")
    assert "co" not in fetch(client, STATION)


# -- delete attribute (DELETE /entities/{id}/attrs/{attrId}) ------------------------------------------


def test_delete_attribute(client: TestClient) -> None:
    create(client, station())
    response = client.delete(ATTRS + "/aqi")
    assert response.status_code == 204
    assert response.content == b""
    body = fetch(client, STATION)
    assert "aqi" not in body
    assert body["pm25"] == station()["pm25"]


def test_delete_one_dataset_instance_then_all(client: TestClient) -> None:
    create(client, station())
    assert client.delete(ATTRS + "/noise", params={"datasetId": "urn:ngsi-ld:Dataset:day"}).status_code == 204
    assert fetch(client, STATION)["noise"] == prop(48.0, datasetId="urn:ngsi-ld:Dataset:night")
    create(client, {**station(), "id": STATION + ":2"})
    assert client.delete(entity_url(STATION + ":2") + "/attrs/noise", params={"deleteAll": "true"}).status_code == 204
    assert "noise" not in fetch(client, STATION + ":2")


def test_delete_default_instance_leaves_dataset_instances(client: TestClient) -> None:
    create(client, {"id": STATION, "type": "T", "noise": [prop(1), prop(2, datasetId="urn:ngsi-ld:Dataset:a")]})
    assert client.delete(ATTRS + "/noise").status_code == 204
    assert fetch(client, STATION)["noise"] == prop(2, datasetId="urn:ngsi-ld:Dataset:a")


def test_delete_missing_attribute_or_instance_is_404(client: TestClient) -> None:
    create(client, station())
    assert_problem(client.delete(ATTRS + "/co"), 404, "ResourceNotFound")
    assert_problem(client.delete(ATTRS + "/noise", params={"datasetId": "urn:ngsi-ld:Dataset:x"}), 404)
    assert_problem(client.delete(entity_url("urn:ngsi-ld:X:none") + "/attrs/aqi"), 404, "ResourceNotFound")
    assert fetch(client, STATION) == station()


def test_attribute_named_by_full_iri_in_path(client: TestClient) -> None:
    create(client, {"id": STATION, "type": "T", "https://smartdatamodels.org/dataModel.Environment/pm10": prop(5)})
    response = client.patch(
        ATTRS + "/https%3A%2F%2Fsmartdatamodels.org%2FdataModel.Environment%2Fpm10", json={"value": 6}
    )
    assert response.status_code == 204, response.text
    assert fetch(client, STATION)["https://smartdatamodels.org/dataModel.Environment/pm10"] == prop(6)
    response = client.delete(ATTRS + "/https%3A%2F%2Fsmartdatamodels.org%2FdataModel.Environment%2Fpm10")
    assert response.status_code == 204
    assert fetch(client, STATION) == {"id": STATION, "type": "T"}


def test_attribute_operations_accept_short_name_of_a_core_term(client: TestClient) -> None:
    create(client, {"id": STATION, "type": "T", "location": {"type": "Point", "coordinates": [106.7, 10.77]}})
    response = client.patch(ATTRS + "/location", json={"value": {"type": "Point", "coordinates": [106.71, 10.78]}})
    assert response.status_code == 204
    assert fetch(client, STATION)["location"]["value"]["coordinates"] == [106.71, 10.78]


def test_merge_patch_null_removes_a_geoproperty(client: TestClient) -> None:
    entity = {
        "id": "urn:ngsi-ld:Gauge:merge-geo",
        "type": "Gauge",
        "level": {"type": "Property", "value": 0.2},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [106.7, 10.78]}},
    }
    assert client.post("/ngsi-ld/v1/entities", json=entity).status_code == 201
    response = client.patch("/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:merge-geo", json={"location": "urn:ngsi-ld:null"})
    assert response.status_code == 204, response.text
    body = client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:merge-geo").json()
    assert "location" not in body and body["level"]["value"] == 0.2
