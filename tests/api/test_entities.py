"""Entity lifecycle (ETSI GS CIM 009 v1.8 clauses 5.6.1-5.6.6, 5.7.1, 6.4-6.5): create, retrieve, merge,
replace, delete, purge, on both storage backends."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.support import (
    ENTITIES,
    JSONLD,
    assert_problem,
    create,
    entity_url,
    fetch,
    media,
    point,
    prop,
    query_ids,
    rel,
    tenant,
    without_system,
)

MARKET = "urn:ngsi-ld:Market:ben-thanh"


def ben_thanh() -> dict[str, Any]:
    return {
        "id": MARKET,
        "type": "Market",
        "name": prop("Chợ Bến Thành"),
        "stalls": prop(1500, observedAt="2024-05-01T08:00:00Z", unitCode="C62"),
        "district": rel("urn:ngsi-ld:District:1"),
        "location": point(106.6981, 10.7725),
        "label": {"type": "LanguageProperty", "languageMap": {"vi": "Chợ Bến Thành", "en": "Ben Thanh Market"}},
    }


# -- create -----------------------------------------------------------------------------------------


def test_create_answers_201_with_location_of_the_new_entity(client: TestClient) -> None:
    response = create(client, ben_thanh())
    assert response.content == b""
    location = response.headers["location"]
    assert location.startswith(ENTITIES + "/")
    followed = client.get(location)
    assert followed.status_code == 200
    assert followed.json()["id"] == MARKET


def test_created_entity_reads_back_as_posted(client: TestClient) -> None:
    create(client, ben_thanh())
    body = fetch(client, MARKET)
    assert body == ben_thanh()


def test_create_same_id_twice_is_409_already_exists(client: TestClient) -> None:
    create(client, ben_thanh())
    again = client.post(ENTITIES, json={"id": MARKET, "type": "Other"})
    assert_problem(again, 409, "AlreadyExists")
    assert fetch(client, MARKET)["type"] == "Market"


def test_create_without_id_or_type_is_400(client: TestClient) -> None:
    assert_problem(client.post(ENTITIES, json={"type": "Market"}), 400, "BadRequestData")
    assert_problem(client.post(ENTITIES, json={"id": MARKET}), 400, "BadRequestData")
    assert client.get(entity_url(MARKET)).status_code == 404


def test_concise_input_is_stored_in_normalized_form(client: TestClient) -> None:
    create(
        client,
        {
            "id": "urn:ngsi-ld:Bus:53",
            "type": "Bus",
            "route": "53",
            "speed": {"value": 35.5, "unitCode": "KMH"},
            "depot": {"object": "urn:ngsi-ld:Depot:1"},
            "location": {"type": "Point", "coordinates": [106.70, 10.78]},
            "sign": {"languageMap": {"vi": "Bến xe", "en": "Bus station"}},
        },
    )
    body = fetch(client, "urn:ngsi-ld:Bus:53")
    assert body["route"] == prop("53")
    assert body["speed"] == prop(35.5, unitCode="KMH")
    assert body["depot"] == rel("urn:ngsi-ld:Depot:1")
    assert body["location"] == point(106.70, 10.78)
    assert body["sign"] == {"type": "LanguageProperty", "languageMap": {"vi": "Bến xe", "en": "Bus station"}}


def test_entity_with_several_types(client: TestClient) -> None:
    create(client, {"id": "urn:ngsi-ld:Place:1", "type": ["Market", "TouristSpot"]})
    assert sorted(fetch(client, "urn:ngsi-ld:Place:1")["type"]) == ["Market", "TouristSpot"]
    assert query_ids(client, type="TouristSpot") == ["urn:ngsi-ld:Place:1"]


def test_system_attributes_sent_by_the_client_are_ignored(client: TestClient) -> None:
    entity = {**ben_thanh(), "createdAt": "1999-01-01T00:00:00Z"}
    entity["name"] = {**entity["name"], "modifiedAt": "1999-01-01T00:00:00Z"}
    create(client, entity)
    body = fetch(client, MARKET, options="sysAttrs")
    assert body["createdAt"] != "1999-01-01T00:00:00Z"
    assert body["name"]["modifiedAt"] != "1999-01-01T00:00:00Z"


def test_entity_id_that_is_an_http_iri_is_reachable(client: TestClient) -> None:
    entity_id = "https://data.hochiminhcity.gov.vn/entity/park/tao-dan"
    response = create(client, {"id": entity_id, "type": "Park", "area": prop(10.0)})
    followed = client.get(response.headers["location"])
    assert followed.status_code == 200, followed.text
    assert followed.json()["id"] == entity_id
    assert client.patch(response.headers["location"] + "/attrs", json={"area": prop(11.0)}).status_code == 204
    assert fetch(client, entity_id)["area"] == prop(11.0)
    assert client.delete(response.headers["location"] + "/attrs/area").status_code == 204
    assert client.delete(response.headers["location"]).status_code == 204
    assert_problem(client.get(response.headers["location"]), 404, "ResourceNotFound")


# -- retrieve ---------------------------------------------------------------------------------------


def test_retrieve_unknown_entity_is_404(client: TestClient) -> None:
    assert_problem(client.get(entity_url("urn:ngsi-ld:Market:none")), 404, "ResourceNotFound")


def test_retrieve_non_uri_id_is_400(client: TestClient) -> None:
    assert_problem(client.get(entity_url("not-a-uri")), 400, "BadRequestData")


def test_retrieve_with_attrs_projects_the_entity(client: TestClient) -> None:
    create(client, ben_thanh())
    body = fetch(client, MARKET, attrs="name,district")
    assert body == {
        "id": MARKET,
        "type": "Market",
        "name": prop("Chợ Bến Thành"),
        "district": rel("urn:ngsi-ld:District:1"),
    }


def test_retrieve_key_values(client: TestClient) -> None:
    create(client, ben_thanh())
    for params in ({"options": "keyValues"}, {"format": "simplified"}, {"format": "keyValues"}):
        body = fetch(client, MARKET, **params)
        assert body == {
            "id": MARKET,
            "type": "Market",
            "name": "Chợ Bến Thành",
            "stalls": 1500,
            "district": "urn:ngsi-ld:District:1",
            "location": {"type": "Point", "coordinates": [106.6981, 10.7725]},
            "label": {"languageMap": {"vi": "Chợ Bến Thành", "en": "Ben Thanh Market"}},
        }, params


def test_retrieve_sys_attrs_shows_timestamps_everywhere(client: TestClient) -> None:
    create(client, ben_thanh())
    body = fetch(client, MARKET, options="sysAttrs")
    assert body["createdAt"] == body["modifiedAt"]
    for name in ("name", "stalls", "district", "location", "label"):
        assert body[name]["createdAt"] == body["createdAt"], name
        assert body[name]["modifiedAt"] == body["createdAt"], name
    assert "createdAt" not in fetch(client, MARKET)


def test_retrieve_with_accept_ld_json_puts_context_in_body(client: TestClient) -> None:
    create(client, ben_thanh())
    response = client.get(entity_url(MARKET), headers={"Accept": JSONLD})
    assert response.status_code == 200
    assert media(response) == JSONLD
    assert "link" not in response.headers
    body = response.json()
    assert body.pop("@context") == "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
    assert body == ben_thanh()


def test_retrieve_with_accept_wildcard_is_json(client: TestClient) -> None:
    create(client, ben_thanh())
    for accept in ("*/*", "application/*", "application/json;q=0.9, text/html;q=1.0"):
        response = client.get(entity_url(MARKET), headers={"Accept": accept})
        assert response.status_code == 200, accept
        assert media(response) == "application/json", accept


# -- delete -----------------------------------------------------------------------------------------


def test_delete_entity_then_it_is_gone(client: TestClient) -> None:
    create(client, ben_thanh())
    response = client.delete(entity_url(MARKET))
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(client.get(entity_url(MARKET)), 404, "ResourceNotFound")
    assert query_ids(client, type="Market") == []
    assert_problem(client.delete(entity_url(MARKET)), 404, "ResourceNotFound")


def test_deleted_id_can_be_created_again(client: TestClient) -> None:
    create(client, ben_thanh())
    assert client.delete(entity_url(MARKET)).status_code == 204
    create(client, {"id": MARKET, "type": "Ruin"})
    assert fetch(client, MARKET) == {"id": MARKET, "type": "Ruin"}


# -- merge (PATCH /entities/{id}) -------------------------------------------------------------------


def test_merge_entity_adds_changes_and_deletes_attributes(client: TestClient) -> None:
    create(client, ben_thanh())
    response = client.patch(
        entity_url(MARKET),
        json={
            "stalls": prop(1600),
            "openingHours": prop("06:00-18:00"),
            "district": "urn:ngsi-ld:null",
            "name": {"value": "Chợ Bến Thành (Quận 1)"},
        },
    )
    assert response.status_code == 204, response.text
    body = fetch(client, MARKET)
    assert "district" not in body
    assert body["openingHours"] == prop("06:00-18:00")
    # merge keeps what the patch does not mention: observedAt and unitCode of stalls stay
    assert body["stalls"] == prop(1600, observedAt="2024-05-01T08:00:00Z", unitCode="C62")
    assert body["name"] == prop("Chợ Bến Thành (Quận 1)")
    assert body["location"] == ben_thanh()["location"]


def test_merge_entity_merges_sub_attributes(client: TestClient) -> None:
    create(client, {"id": MARKET, "type": "Market", "stalls": prop(10, source=prop("census"), note=prop("x"))})
    patch = {"stalls": {"type": "Property", "value": 11, "note": {"type": "Property", "value": "urn:ngsi-ld:null"}}}
    assert client.patch(entity_url(MARKET), json=patch).status_code == 204
    assert fetch(client, MARKET)["stalls"] == prop(11, source=prop("census"))


def test_merge_entity_accepts_merge_patch_content_type(client: TestClient) -> None:
    create(client, ben_thanh())
    response = client.patch(
        entity_url(MARKET),
        content=b'{"stalls": {"type": "Property", "value": 1}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 204, response.text
    assert fetch(client, MARKET)["stalls"]["value"] == 1


def test_merge_unknown_entity_is_404(client: TestClient) -> None:
    assert_problem(client.patch(entity_url(MARKET), json={"stalls": prop(1)}), 404, "ResourceNotFound")


def test_merge_with_a_different_id_in_the_body_is_400(client: TestClient) -> None:
    create(client, ben_thanh())
    response = client.patch(entity_url(MARKET), json={"id": "urn:ngsi-ld:Market:other", "stalls": prop(1)})
    assert_problem(response, 400, "BadRequestData")
    assert fetch(client, MARKET)["stalls"]["value"] == 1500


def test_merge_updates_modified_at_but_not_created_at(client: TestClient) -> None:
    create(client, ben_thanh())
    before = fetch(client, MARKET, options="sysAttrs")
    assert client.patch(entity_url(MARKET), json={"stalls": prop(1)}).status_code == 204
    after = fetch(client, MARKET, options="sysAttrs")
    assert after["createdAt"] == before["createdAt"]
    assert after["modifiedAt"] > before["modifiedAt"]
    assert after["stalls"]["createdAt"] == before["stalls"]["createdAt"]
    assert after["stalls"]["modifiedAt"] > before["stalls"]["modifiedAt"]
    assert after["name"] == before["name"]


# -- replace (PUT /entities/{id}) -------------------------------------------------------------------


def test_replace_entity_drops_every_attribute_not_given(client: TestClient) -> None:
    create(client, ben_thanh())
    response = client.put(entity_url(MARKET), json={"type": "Market", "stalls": prop(42)})
    assert response.status_code == 204, response.text
    assert fetch(client, MARKET) == {"id": MARKET, "type": "Market", "stalls": prop(42)}


def test_replace_entity_can_change_the_type(client: TestClient) -> None:
    create(client, ben_thanh())
    assert client.put(entity_url(MARKET), json={"type": "ShoppingMall", "floors": prop(3)}).status_code == 204
    assert query_ids(client, type="Market") == []
    assert query_ids(client, type="ShoppingMall") == [MARKET]


def test_replace_unknown_entity_is_404(client: TestClient) -> None:
    assert_problem(client.put(entity_url(MARKET), json={"type": "Market"}), 404, "ResourceNotFound")


# -- purge (DELETE /entities) -----------------------------------------------------------------------


def test_purge_by_type_deletes_only_matching_entities(client: TestClient) -> None:
    for i in range(3):
        create(client, {"id": f"urn:ngsi-ld:Bus:{i}", "type": "Bus", "line": prop(i)})
    create(client, ben_thanh())
    assert client.delete(ENTITIES, params={"type": "Bus", "q": "line>=1"}).status_code == 204
    assert query_ids(client, type="Bus") == ["urn:ngsi-ld:Bus:0"]
    assert client.delete(ENTITIES, params={"idPattern": "^urn:ngsi-ld:Bus:"}).status_code == 204
    assert query_ids(client, type="Bus") == []
    assert fetch(client, MARKET)["id"] == MARKET


def test_purge_without_a_filter_is_400(client: TestClient) -> None:
    create(client, ben_thanh())
    assert_problem(client.delete(ENTITIES), 400, "BadRequestData")
    assert fetch(client, MARKET)["id"] == MARKET


# -- tenant header echo -------------------------------------------------------------------------------


def test_responses_echo_the_tenant(client: TestClient) -> None:
    response = client.post(ENTITIES, json=ben_thanh(), headers=tenant("district1"))
    assert response.status_code == 201
    assert response.headers["ngsild-tenant"] == "district1"
    read = client.get(entity_url(MARKET), headers=tenant("district1"))
    assert read.headers["ngsild-tenant"] == "district1"
    assert without_system(read.json()) == ben_thanh()


def test_replace_entity_keeps_the_entity_created_at(client: TestClient) -> None:
    create(client, ben_thanh())
    before = fetch(client, MARKET, options="sysAttrs")
    assert client.put(entity_url(MARKET), json={"type": "Market", "stalls": prop(1)}).status_code == 204
    after = fetch(client, MARKET, options="sysAttrs")
    assert after["createdAt"] == before["createdAt"]
    assert after["modifiedAt"] > before["modifiedAt"]
