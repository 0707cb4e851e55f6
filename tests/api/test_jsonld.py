"""JSON-LD @context handling (clause 5.5.7, 6.3.5-6.3.6) and the @context server (5.13, 6.30-6.31)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.support import (
    BASE,
    CONTEXT_REL,
    CONTEXTS,
    CORE_CONTEXT,
    ENTITIES,
    JSONLD,
    OPS,
    assert_problem,
    entity_url,
    fetch,
    link,
    media,
    parse_links,
    prop,
    query,
    rel,
)

HCM = "https://data.hochiminhcity.gov.vn/ns/"
UNREACHABLE = "http://127.0.0.1:9/ctx.jsonld"

#: the city's own vocabulary
CITY_TERMS: dict[str, Any] = {
    "hcm": HCM,
    "FloodSensor": "hcm:FloodSensor",
    "waterLevel": "hcm:waterLevel",
    "calibratedBy": "hcm:calibratedBy",
    "street": "hcm:street",
}
#: the same IRIs under the short names a partner (the drainage company) uses
PARTNER_TERMS: dict[str, Any] = {
    "drain": HCM,
    "Gauge": "drain:FloodSensor",
    "depth": "drain:waterLevel",
    "checker": "drain:calibratedBy",
}

GAUGE = "urn:ngsi-ld:FloodSensor:nguyen-huu-canh"


def host(client: TestClient, terms: dict[str, Any]) -> str:
    """Host a user @context on the broker; its URL."""
    response = client.post(CONTEXTS, json={"@context": terms})
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.startswith(f"{CONTEXTS}/")
    return f"http://testserver{location}"


def gauge_in_city_terms() -> dict[str, Any]:
    return {
        "id": GAUGE,
        "type": "FloodSensor",
        "waterLevel": prop(0.35, unitCode="MTR", calibratedBy=rel("urn:ngsi-ld:Person:thao")),
        "street": prop("Nguyễn Hữu Cảnh"),
    }


@pytest.fixture
def city_ctx(client: TestClient) -> str:
    return host(client, CITY_TERMS)


@pytest.fixture
def partner_ctx(client: TestClient) -> str:
    return host(client, PARTNER_TERMS)


# -- expansion and compaction ---------------------------------------------------------------------------


def test_terms_are_expanded_with_the_link_context(client: TestClient, city_ctx: str) -> None:
    assert client.post(ENTITIES, json=gauge_in_city_terms(), headers=link(city_ctx)).status_code == 201
    expanded = fetch(client, GAUGE)
    assert expanded == {
        "id": GAUGE,
        "type": HCM + "FloodSensor",
        HCM + "waterLevel": prop(0.35, unitCode="MTR", **{HCM + "calibratedBy": rel("urn:ngsi-ld:Person:thao")}),
        HCM + "street": prop("Nguyễn Hữu Cảnh"),
    }


def test_the_same_entity_reads_with_each_requests_context(client: TestClient, city_ctx: str, partner_ctx: str) -> None:
    assert client.post(ENTITIES, json=gauge_in_city_terms(), headers=link(city_ctx)).status_code == 201
    as_city = client.get(entity_url(GAUGE), headers=link(city_ctx))
    assert as_city.json() == gauge_in_city_terms()
    as_partner = client.get(entity_url(GAUGE), headers=link(partner_ctx))
    assert as_partner.json() == {
        "id": GAUGE,
        "type": "Gauge",
        "depth": prop(0.35, unitCode="MTR", checker=rel("urn:ngsi-ld:Person:thao")),
        "drain:street": prop("Nguyễn Hữu Cảnh"),
    }


def test_json_response_names_the_request_context_in_a_link_header(client: TestClient, city_ctx: str) -> None:
    assert client.post(ENTITIES, json=gauge_in_city_terms(), headers=link(city_ctx)).status_code == 201
    response = client.get(entity_url(GAUGE), headers=link(city_ctx))
    assert media(response) == "application/json"
    assert parse_links(response.headers["link"])[CONTEXT_REL] == city_ctx
    default = client.get(entity_url(GAUGE))
    assert parse_links(default.headers["link"])[CONTEXT_REL] == CORE_CONTEXT
    assert "@context" not in default.json()


def test_query_parameters_are_expanded_with_the_context(client: TestClient, city_ctx: str, partner_ctx: str) -> None:
    assert client.post(ENTITIES, json=gauge_in_city_terms(), headers=link(city_ctx)).status_code == 201
    found = query(client, link(partner_ctx), type="Gauge", q="depth>0.3;depth.checker", attrs="depth")
    assert found == [
        {"id": GAUGE, "type": "Gauge", "depth": prop(0.35, unitCode="MTR", checker=rel("urn:ngsi-ld:Person:thao"))}
    ]
    assert query(client, link(partner_ctx), type="FloodSensor") == []
    assert [e["id"] for e in query(client, type=HCM + "FloodSensor")] == [GAUGE]
    assert [e["id"] for e in query(client, q=f"{HCM}waterLevel<1")] == [GAUGE]


def test_attribute_paths_use_the_context(client: TestClient, city_ctx: str, partner_ctx: str) -> None:
    assert client.post(ENTITIES, json=gauge_in_city_terms(), headers=link(city_ctx)).status_code == 201
    response = client.patch(entity_url(GAUGE) + "/attrs/depth", json={"value": 0.5}, headers=link(partner_ctx))
    assert response.status_code == 204, response.text
    assert client.delete(entity_url(GAUGE) + "/attrs/street", headers=link(city_ctx)).status_code == 204
    body = client.get(entity_url(GAUGE), headers=link(city_ctx)).json()
    assert body["waterLevel"]["value"] == 0.5
    assert "street" not in body


def test_discovery_compacts_with_the_context(client: TestClient, city_ctx: str, partner_ctx: str) -> None:
    assert client.post(ENTITIES, json=gauge_in_city_terms(), headers=link(city_ctx)).status_code == 201
    assert client.get(f"{BASE}/types", headers=link(partner_ctx)).json()["typeList"] == ["Gauge"]
    assert client.get(f"{BASE}/types", headers=link(city_ctx)).json()["typeList"] == ["FloodSensor"]
    info = client.get(f"{BASE}/types/Gauge", headers=link(partner_ctx))
    assert info.status_code == 200
    assert sorted(a["attributeName"] for a in info.json()["attributeDetails"]) == ["depth", "drain:street"]
    attrs = client.get(f"{BASE}/attributes", headers=link(city_ctx)).json()["attributeList"]
    assert sorted(attrs) == ["street", "waterLevel"]


def test_core_terms_cannot_be_redefined(client: TestClient) -> None:
    ctx = host(client, {"location": "https://example.org/my-location", "name": "https://example.org/my-name"})
    entity = {
        "id": "urn:ngsi-ld:Kiosk:1",
        "type": "Kiosk",
        "location": {"type": "Point", "coordinates": [106.7, 10.78]},
    }
    assert client.post(ENTITIES, json=entity, headers=link(ctx)).status_code == 201
    body = fetch(client, "urn:ngsi-ld:Kiosk:1")
    assert body["location"] == {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [106.7, 10.78]}}


# -- application/ld+json bodies ---------------------------------------------------------------------------


def test_ld_json_body_with_inline_context(client: TestClient) -> None:
    body = {**gauge_in_city_terms(), "@context": [CITY_TERMS, CORE_CONTEXT]}
    response = client.post(ENTITIES, json=body, headers={"Content-Type": JSONLD})
    assert response.status_code == 201, response.text
    assert fetch(client, GAUGE)["type"] == HCM + "FloodSensor"


def test_ld_json_body_with_hosted_context_url(client: TestClient, city_ctx: str, partner_ctx: str) -> None:
    body = {**gauge_in_city_terms(), "@context": city_ctx}
    assert client.post(ENTITIES, json=body, headers={"Content-Type": JSONLD}).status_code == 201
    partner_view = client.get(entity_url(GAUGE), headers=link(partner_ctx)).json()
    assert partner_view["depth"]["value"] == 0.35


def test_ld_json_response_echoes_the_context_in_the_body(client: TestClient, city_ctx: str) -> None:
    assert client.post(ENTITIES, json=gauge_in_city_terms(), headers=link(city_ctx)).status_code == 201
    response = client.get(entity_url(GAUGE), headers={**link(city_ctx), "Accept": JSONLD})
    assert response.status_code == 200
    assert media(response) == JSONLD
    assert "link" not in response.headers
    body = response.json()
    assert body.pop("@context") == city_ctx
    assert body == gauge_in_city_terms()


def test_ld_json_query_response_puts_the_context_in_every_entity(client: TestClient, city_ctx: str) -> None:
    assert client.post(ENTITIES, json=gauge_in_city_terms(), headers=link(city_ctx)).status_code == 201
    response = client.get(ENTITIES, params={"type": "FloodSensor"}, headers={**link(city_ctx), "Accept": JSONLD})
    assert media(response) == JSONLD
    assert [e["@context"] for e in response.json()] == [city_ctx]
    core = client.get(ENTITIES, params={"type": HCM + "FloodSensor"}, headers={"Accept": JSONLD})
    assert [e["@context"] for e in core.json()] == [CORE_CONTEXT]


def test_ld_json_body_without_context_is_400(client: TestClient) -> None:
    response = client.post(ENTITIES, json=gauge_in_city_terms(), headers={"Content-Type": JSONLD})
    assert_problem(response, 400, "BadRequestData")
    assert_problem(client.get(entity_url(GAUGE)), 404)


def test_json_body_with_context_is_400(client: TestClient) -> None:
    response = client.post(ENTITIES, json={**gauge_in_city_terms(), "@context": CORE_CONTEXT})
    assert_problem(response, 400, "BadRequestData")


def test_ld_json_body_with_a_link_header_too_is_400(client: TestClient, city_ctx: str) -> None:
    body = {**gauge_in_city_terms(), "@context": city_ctx}
    response = client.post(ENTITIES, json=body, headers={"Content-Type": JSONLD, **link(city_ctx)})
    assert_problem(response, 400, "BadRequestData")


def test_ld_json_attribute_update(client: TestClient, city_ctx: str) -> None:
    assert client.post(ENTITIES, json=gauge_in_city_terms(), headers=link(city_ctx)).status_code == 201
    body = {"waterLevel": prop(0.9), "@context": city_ctx}
    assert client.post(entity_url(GAUGE) + "/attrs", json=body, headers={"Content-Type": JSONLD}).status_code == 204
    assert client.get(entity_url(GAUGE), headers=link(city_ctx)).json()["waterLevel"] == prop(0.9)


def test_batch_with_link_context(client: TestClient, city_ctx: str) -> None:
    second = {**gauge_in_city_terms(), "id": GAUGE + ":2"}
    response = client.post(f"{OPS}/create", json=[gauge_in_city_terms(), second], headers=link(city_ctx))
    assert response.status_code == 201
    assert sorted(e["id"] for e in query(client, type=HCM + "FloodSensor")) == [GAUGE, GAUGE + ":2"]


# -- unavailable and invalid contexts ------------------------------------------------------------------


def test_unreachable_remote_context_is_503(client: TestClient) -> None:
    assert_problem(client.get(ENTITIES, params={"type": "X"}, headers=link(UNREACHABLE)), 503, "LdContextNotAvailable")
    body = {**gauge_in_city_terms(), "@context": UNREACHABLE}
    response = client.post(ENTITIES, json=body, headers={"Content-Type": JSONLD})
    assert_problem(response, 503, "LdContextNotAvailable")
    assert_problem(client.get(entity_url(GAUGE)), 404)


def test_unreachable_context_inside_a_hosted_context_is_503(client: TestClient) -> None:
    ctx = host(client, CITY_TERMS)
    body = {**gauge_in_city_terms(), "@context": [ctx, UNREACHABLE]}
    assert_problem(client.post(ENTITIES, json=body, headers={"Content-Type": JSONLD}), 503, "LdContextNotAvailable")


@pytest.mark.parametrize(
    "context",
    [
        {"bad": {"@id": 5}},
        {"@vocab": 7},
        "not a url",
        [{"@reverse": 3}],
    ],
)
def test_invalid_context_is_400(client: TestClient, context: Any) -> None:
    body = {**gauge_in_city_terms(), "@context": context}
    assert_problem(client.post(ENTITIES, json=body, headers={"Content-Type": JSONLD}), 400, "BadRequestData")


# -- the @context server ------------------------------------------------------------------------------


def test_hosted_context_is_served(client: TestClient, city_ctx: str) -> None:
    response = client.get(city_ctx)
    assert response.status_code == 200
    assert response.json() == {"@context": CITY_TERMS}
    as_ld = client.get(city_ctx, headers={"Accept": JSONLD})
    assert media(as_ld) == JSONLD
    assert as_ld.json() == {"@context": CITY_TERMS}


def test_context_list_and_details(client: TestClient, city_ctx: str, partner_ctx: str) -> None:
    urls = client.get(CONTEXTS)
    assert urls.status_code == 200
    assert sorted(urls.json()) == sorted([city_ctx, partner_ctx])
    details = {d["URL"]: d for d in client.get(CONTEXTS, params={"details": "true"}).json()}
    assert sorted(details) == sorted([city_ctx, partner_ctx])
    entry = details[city_ctx]
    assert entry["kind"] == "Hosted"
    assert entry["localId"] == city_ctx.rsplit("/", 1)[-1]
    assert entry["createdAt"].endswith("Z")
    one = client.get(city_ctx, params={"details": "true"})
    assert one.status_code == 200
    assert one.json()["URL"] == city_ctx
    assert one.json()["kind"] == "Hosted"


def test_context_list_by_kind(client: TestClient, city_ctx: str) -> None:
    assert client.get(CONTEXTS, params={"kind": "Hosted"}).json() == [city_ctx]
    assert client.get(CONTEXTS, params={"kind": "Cached"}).json() == []
    assert client.get(CONTEXTS, params={"kind": "ImplicitlyCreated", "details": "true"}).json() == []
    assert_problem(client.get(CONTEXTS, params={"kind": "Borrowed"}), 400, "BadRequestData")


def test_delete_hosted_context(client: TestClient, city_ctx: str) -> None:
    response = client.delete(city_ctx)
    assert response.status_code == 204
    assert_problem(client.get(city_ctx), 404, "ResourceNotFound")
    assert client.get(CONTEXTS).json() == []
    assert_problem(client.delete(city_ctx), 404, "ResourceNotFound")


def test_unknown_context_is_404(client: TestClient) -> None:
    assert_problem(client.get(f"{CONTEXTS}/no-such-context"), 404, "ResourceNotFound")
    assert_problem(client.delete(f"{CONTEXTS}/no-such-context"), 404, "ResourceNotFound")


@pytest.mark.parametrize(
    "body",
    [
        {"terms": {"a": "https://example.org/a"}},
        [{"@context": {}}],
        {"@context": 42},
        {"@context": {"a": {"@id": 5}}},
    ],
)
def test_adding_an_invalid_context_is_400(client: TestClient, body: Any) -> None:
    assert_problem(client.post(CONTEXTS, json=body), 400, "BadRequestData")
    assert client.get(CONTEXTS).json() == []


def test_adding_a_context_needs_a_json_body(client: TestClient) -> None:
    response = client.post(CONTEXTS, content=b"<ctx/>", headers={"Content-Type": "application/xml"})
    assert_problem(response, 415, "UnsupportedMediaType")
    assert_problem(client.post(CONTEXTS, content=b"{", headers={"Content-Type": "application/json"}), 400)


def test_every_json_answer_with_a_body_links_its_context(client: TestClient, city_ctx: str) -> None:
    assert client.post(ENTITIES, json=gauge_in_city_terms(), headers=link(city_ctx)).status_code == 201
    reads = [
        ("GET", entity_url(GAUGE), None),
        ("GET", f"{ENTITIES}?type=FloodSensor", None),
        ("POST", f"{OPS}/query", {"type": "Query", "entities": [{"type": "FloodSensor"}]}),
        ("GET", f"{BASE}/types", None),
        ("GET", f"{BASE}/types/FloodSensor", None),
        ("GET", f"{BASE}/attributes", None),
        ("GET", f"{BASE}/attributes/waterLevel", None),
    ]
    for method, url, body in reads:
        as_json = client.request(method, url, json=body, headers=link(city_ctx))
        assert as_json.status_code == 200, (url, as_json.text)
        assert media(as_json) == "application/json", url
        assert parse_links(as_json.headers["link"])[CONTEXT_REL] == city_ctx, url
        as_ld = client.request(method, url, json=body, headers={**link(city_ctx), "Accept": JSONLD})
        assert media(as_ld) == JSONLD, url
        assert "link" not in as_ld.headers, url
        data = as_ld.json()
        for item in data if isinstance(data, list) else [data]:
            assert item["@context"] == city_ctx, url
