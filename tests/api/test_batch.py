"""Batch entity operations (clause 5.6.7-5.6.10, 6.14-6.17, 6.31): 201/204 when everything succeeds,
207 with a BatchOperationResult (success + errors) otherwise."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.support import (
    CORE_CONTEXT,
    ERROR_BASE,
    JSONLD,
    OPS,
    assert_problem,
    create_all,
    entity_url,
    fetch,
    media,
    prop,
    query_ids,
    rel,
    tenant,
)


def bus(n: int, **attrs: Any) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:Bus:{n}", "type": "Bus", "line": prop(n), **attrs}


def bus_id(n: int) -> str:
    return f"urn:ngsi-ld:Bus:{n}"


def assert_batch_result(response: Any, success: list[str], failed: dict[str, str]) -> None:
    """A 207 BatchOperationResult: these ids succeeded, these failed with these NGSI-LD error types."""
    assert response.status_code == 207, response.text
    assert media(response) == "application/json"
    body = response.json()
    assert sorted(body["success"]) == sorted(success)
    errors = {e["entityId"]: e["error"] for e in body["errors"]}
    assert sorted(errors) == sorted(failed)
    for entity_id, error_type in failed.items():
        problem = errors[entity_id]
        assert problem["type"] == ERROR_BASE + error_type, problem
        assert problem["title"] and problem["detail"], problem


# -- create -----------------------------------------------------------------------------------------


def test_create_all_new_is_201_with_the_ids(client: TestClient) -> None:
    response = client.post(f"{OPS}/create", json=[bus(1), bus(2), bus(3)])
    assert response.status_code == 201
    assert sorted(response.json()) == [bus_id(1), bus_id(2), bus_id(3)]
    assert fetch(client, bus_id(2)) == bus(2)


def test_create_with_existing_is_207(client: TestClient) -> None:
    create_all(client, [bus(1)])
    response = client.post(f"{OPS}/create", json=[bus(1, line=prop(99)), bus(2)])
    assert_batch_result(response, [bus_id(2)], {bus_id(1): "AlreadyExists"})
    assert fetch(client, bus_id(1))["line"] == prop(1)
    assert fetch(client, bus_id(2)) == bus(2)


def test_create_with_the_same_id_twice_creates_it_once(client: TestClient) -> None:
    response = client.post(f"{OPS}/create", json=[bus(1), bus(1, line=prop(99))])
    assert_batch_result(response, [bus_id(1)], {bus_id(1): "AlreadyExists"})
    assert fetch(client, bus_id(1))["line"] == prop(1)


def test_create_with_an_invalid_entity_is_207_and_creates_the_others(client: TestClient) -> None:
    bad_attr = {"id": bus_id(3), "type": "Bus", "line": {"type": "Property"}}
    no_type = {"id": bus_id(4)}
    response = client.post(f"{OPS}/create", json=[bus(1), bad_attr, no_type, bus(2)])
    assert_batch_result(response, [bus_id(1), bus_id(2)], {bus_id(3): "BadRequestData", bus_id(4): "BadRequestData"})
    assert query_ids(client, type="Bus") == [bus_id(1), bus_id(2)]


def test_create_where_nothing_succeeds_is_207(client: TestClient) -> None:
    create_all(client, [bus(1)])
    response = client.post(f"{OPS}/create", json=[bus(1)])
    assert_batch_result(response, [], {bus_id(1): "AlreadyExists"})


def test_batch_body_must_be_an_array(client: TestClient) -> None:
    for op in ("create", "upsert", "update", "delete", "merge"):
        assert_problem(client.post(f"{OPS}/{op}", json=bus(1)), 400, "BadRequestData")
    assert query_ids(client, type="Bus") == []


def test_create_with_ld_json_entities(client: TestClient) -> None:
    body = [{**bus(1), "@context": CORE_CONTEXT}, {**bus(2), "@context": CORE_CONTEXT}]
    response = client.post(f"{OPS}/create", json=body, headers={"Content-Type": JSONLD})
    assert response.status_code == 201, response.text
    assert fetch(client, bus_id(1)) == bus(1)
    missing = [{**bus(3), "@context": CORE_CONTEXT}, bus(4)]
    assert_problem(client.post(f"{OPS}/create", json=missing, headers={"Content-Type": JSONLD}), 400, "BadRequestData")


# -- upsert -----------------------------------------------------------------------------------------


def test_upsert_creating_some_is_201_with_the_created_ids(client: TestClient) -> None:
    create_all(client, [bus(1, driver=rel("urn:ngsi-ld:Person:an"))])
    response = client.post(f"{OPS}/upsert", json=[bus(1, line=prop(10)), bus(2)])
    assert response.status_code == 201, response.text
    assert response.json() == [bus_id(2)]
    # the default upsert replaces the existing entity: driver is gone
    assert fetch(client, bus_id(1)) == bus(1, line=prop(10))
    assert fetch(client, bus_id(2)) == bus(2)


def test_upsert_all_existing_is_204(client: TestClient) -> None:
    create_all(client, [bus(1), bus(2)])
    response = client.post(f"{OPS}/upsert", json=[bus(1, line=prop(5)), bus(2, line=prop(6))])
    assert response.status_code == 204
    assert response.content == b""
    assert fetch(client, bus_id(1))["line"] == prop(5)
    assert fetch(client, bus_id(2))["line"] == prop(6)


def test_upsert_replace_option_replaces(client: TestClient) -> None:
    create_all(client, [bus(1, driver=rel("urn:ngsi-ld:Person:an"))])
    response = client.post(
        f"{OPS}/upsert", params={"options": "replace"}, json=[{"id": bus_id(1), "type": "Bus", "speed": prop(30)}]
    )
    assert response.status_code == 204
    assert fetch(client, bus_id(1)) == {"id": bus_id(1), "type": "Bus", "speed": prop(30)}


def test_upsert_update_option_merges_attributes(client: TestClient) -> None:
    create_all(client, [bus(1, driver=rel("urn:ngsi-ld:Person:an"))])
    response = client.post(
        f"{OPS}/upsert",
        params={"options": "update"},
        json=[{"id": bus_id(1), "type": "Bus", "speed": prop(30)}, bus(2)],
    )
    assert response.status_code == 201
    assert response.json() == [bus_id(2)]
    assert fetch(client, bus_id(1)) == bus(1, driver=rel("urn:ngsi-ld:Person:an"), speed=prop(30))


def test_upsert_with_an_invalid_entity_is_207(client: TestClient) -> None:
    create_all(client, [bus(1)])
    bad = {"id": "not a uri", "type": "Bus"}
    response = client.post(f"{OPS}/upsert", json=[bus(1, line=prop(7)), bus(2), bad])
    assert response.status_code == 207
    body = response.json()
    assert sorted(body["success"]) == [bus_id(1), bus_id(2)]
    assert len(body["errors"]) == 1
    assert body["errors"][0]["error"]["type"] == ERROR_BASE + "BadRequestData"
    assert fetch(client, bus_id(1))["line"] == prop(7)


# -- update -----------------------------------------------------------------------------------------


def test_update_all_existing_is_204(client: TestClient) -> None:
    create_all(client, [bus(1), bus(2)])
    response = client.post(
        f"{OPS}/update", json=[{"id": bus_id(1), "speed": prop(20)}, {"id": bus_id(2), "line": prop(22)}]
    )
    assert response.status_code == 204, response.text
    assert fetch(client, bus_id(1)) == bus(1, speed=prop(20))
    assert fetch(client, bus_id(2)) == bus(2, line=prop(22))


def test_update_missing_entity_is_207(client: TestClient) -> None:
    create_all(client, [bus(1)])
    response = client.post(
        f"{OPS}/update", json=[{"id": bus_id(1), "speed": prop(20)}, {"id": bus_id(9), "speed": prop(1)}]
    )
    assert_batch_result(response, [bus_id(1)], {bus_id(9): "ResourceNotFound"})
    assert fetch(client, bus_id(1))["speed"] == prop(20)
    assert query_ids(client, type="Bus") == [bus_id(1)]


def test_update_no_overwrite_keeps_existing_attributes(client: TestClient) -> None:
    create_all(client, [bus(1)])
    response = client.post(
        f"{OPS}/update",
        params={"options": "noOverwrite"},
        json=[{"id": bus_id(1), "line": prop(50), "speed": prop(20)}],
    )
    assert response.status_code == 204, response.text
    assert fetch(client, bus_id(1)) == bus(1, speed=prop(20))


# -- merge ------------------------------------------------------------------------------------------


def test_merge_all_existing_is_204(client: TestClient) -> None:
    create_all(client, [bus(1, speed=prop(10, unitCode="KMH"), driver=rel("urn:ngsi-ld:Person:an"))])
    response = client.post(
        f"{OPS}/merge",
        json=[{"id": bus_id(1), "speed": {"type": "Property", "value": 12}, "driver": "urn:ngsi-ld:null"}],
    )
    assert response.status_code == 204, response.text
    assert fetch(client, bus_id(1)) == bus(1, speed=prop(12, unitCode="KMH"))


def test_merge_missing_entity_is_207(client: TestClient) -> None:
    create_all(client, [bus(1)])
    response = client.post(
        f"{OPS}/merge", json=[{"id": bus_id(1), "speed": prop(3)}, {"id": bus_id(5), "speed": prop(3)}]
    )
    assert_batch_result(response, [bus_id(1)], {bus_id(5): "ResourceNotFound"})
    assert fetch(client, bus_id(1))["speed"] == prop(3)


# -- delete -----------------------------------------------------------------------------------------


def test_delete_all_existing_is_204(client: TestClient) -> None:
    create_all(client, [bus(1), bus(2), bus(3)])
    response = client.post(f"{OPS}/delete", json=[bus_id(1), bus_id(3)])
    assert response.status_code == 204
    assert query_ids(client, type="Bus") == [bus_id(2)]


def test_delete_missing_is_207(client: TestClient) -> None:
    create_all(client, [bus(1)])
    response = client.post(f"{OPS}/delete", json=[bus_id(1), bus_id(2)])
    assert_batch_result(response, [bus_id(1)], {bus_id(2): "ResourceNotFound"})
    assert_problem(client.get(entity_url(bus_id(1))), 404, "ResourceNotFound")


def test_delete_with_an_invalid_id_is_207(client: TestClient) -> None:
    create_all(client, [bus(1)])
    response = client.post(f"{OPS}/delete", json=[bus_id(1), "no uri at all"])
    assert response.status_code == 207
    body = response.json()
    assert body["success"] == [bus_id(1)]
    assert [e["error"]["type"] for e in body["errors"]] == [ERROR_BASE + "BadRequestData"]


# -- tenants ----------------------------------------------------------------------------------------


def test_batch_operations_stay_in_their_tenant(client: TestClient) -> None:
    response = client.post(f"{OPS}/create", json=[bus(1)], headers=tenant("saigon-bus"))
    assert response.status_code == 201
    assert query_ids(client, tenant("saigon-bus"), type="Bus") == [bus_id(1)]
    assert query_ids(client, type="Bus") == []
    delete_elsewhere = client.post(f"{OPS}/delete", json=[bus_id(1)])
    assert_batch_result(delete_elsewhere, [], {bus_id(1): "ResourceNotFound"})
    assert query_ids(client, tenant("saigon-bus"), type="Bus") == [bus_id(1)]
