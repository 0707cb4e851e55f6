"""GET /temporal/entities and /temporal/entities/{id}: every query parameter and representation."""

from __future__ import annotations

import time
from collections.abc import Mapping

from starlette.testclient import TestClient

from tests.api.support import CONTEXT_REL, ENTITIES, JSONLD, link, point, prop
from tests.temporal.support import (
    TEMPORAL,
    get_temporal,
    instances,
    iso,
    load,
    query_temporal,
    values_of,
)

S1 = "urn:ngsi-ld:Sensor:1"
S2 = "urn:ngsi-ld:Sensor:2"
P1 = "urn:ngsi-ld:Pump:1"
CTX = "https://example.org/ctx.jsonld"


def _three(client: TestClient) -> None:
    """S1: temperature 0..9 every minute, humidity; S2: temperature 100..104; P1: a Pump."""
    load(client, S1, {"temperature": instances(list(range(10)), step=1), "humidity": instances([50, 51], step=5)})
    load(client, S2, {"temperature": instances([100, 101, 102, 103, 104], step=1)})
    load(client, P1, {"flow": instances([7.5])}, type_="Pump")


def test_retrieve_normalized_in_time_order(client: TestClient) -> None:
    load(client, S1, {"temperature": list(reversed(instances([1, 2, 3])))})
    body = get_temporal(client, S1)
    assert [i["observedAt"] for i in body["temperature"]] == [iso(0), iso(60), iso(120)]
    assert values_of(body["temperature"]) == [1, 2, 3]
    assert all(i["type"] == "Property" for i in body["temperature"])


def test_timerel_before_after_between(client: TestClient) -> None:
    _three(client)
    before = get_temporal(client, S1, attrs="temperature", timerel="before", timeAt=iso(3))
    assert values_of(before["temperature"]) == [0, 1, 2]
    after = get_temporal(client, S1, attrs="temperature", timerel="after", timeAt=iso(7))
    assert values_of(after["temperature"]) == [8, 9]
    between = get_temporal(client, S1, attrs="temperature", timerel="between", timeAt=iso(2), endTimeAt=iso(5))
    assert values_of(between["temperature"]) == [2, 3, 4]
    # a window without instances leaves the attribute out
    empty = get_temporal(client, S1, timerel="after", timeAt=iso(1000))
    assert empty == {"id": S1, "type": "Sensor"}


def test_timeproperty_modified_and_created_at(client: TestClient) -> None:
    response = client.post(ENTITIES, json={"id": S1, "type": "Sensor", "level": prop(1, observedAt=iso(0))})
    assert response.status_code == 201
    time.sleep(0.01)
    mark = get_temporal(client, S1, options="sysAttrs")["level"][0]["modifiedAt"]
    response = client.patch(f"{ENTITIES}/{S1}/attrs", json={"level": prop(2, observedAt=iso(1))})
    assert response.status_code == 204
    later = get_temporal(client, S1, timeproperty="modifiedAt", timerel="after", timeAt=mark)
    assert values_of(later["level"]) == [2]
    created = get_temporal(client, S1, timeproperty="createdAt", timerel="before", timeAt="2000-01-01T00:00:00Z")
    assert "level" not in created
    by_observation = get_temporal(client, S1, timerel="before", timeAt=iso(1))
    assert values_of(by_observation["level"]) == [1]
    simplified = get_temporal(client, S1, timeproperty="modifiedAt", options="temporalValues")
    assert simplified["level"]["values"][0][1] == mark


def test_last_n(client: TestClient) -> None:
    _three(client)
    body = get_temporal(client, S1, lastN="3")
    assert values_of(body["temperature"]) == [7, 8, 9]
    assert values_of(body["humidity"]) == [50, 51]
    windowed = get_temporal(client, S1, lastN="2", timerel="before", timeAt=iso(5))
    assert values_of(windowed["temperature"]) == [3, 4]


def test_attrs_selects_attributes_and_entities(client: TestClient) -> None:
    _three(client)
    body = get_temporal(client, S1, attrs="humidity")
    assert set(body) == {"id", "type", "humidity"}
    found = query_temporal(client, attrs="flow")
    assert [e["id"] for e in found] == [P1]
    assert set(found[0]) == {"id", "type", "flow"}


def test_type_id_and_id_pattern(client: TestClient) -> None:
    _three(client)
    assert [e["id"] for e in query_temporal(client, type="Sensor")] == [S1, S2]
    assert [e["id"] for e in query_temporal(client, type="Pump,Sensor")] == [P1, S1, S2]
    assert [e["id"] for e in query_temporal(client, id=f"{S2},{P1}")] == [P1, S2]
    assert [e["id"] for e in query_temporal(client, idPattern=r"Sensor:\d$", type="Sensor")] == [S1, S2]
    assert query_temporal(client, type="Nothing") == []


def test_q_and_geo_run_on_the_current_state(client: TestClient) -> None:
    for i, (lon, level) in enumerate([(106.70, 5), (106.71, 50), (107.50, 80)], start=1):
        body = {"id": f"urn:ngsi-ld:Sensor:{i}", "type": "Sensor", "level": prop(level), "location": point(lon, 10.77)}
        assert client.post(ENTITIES, json=body).status_code == 201
    assert [e["id"] for e in query_temporal(client, type="Sensor", q="level>10")] == [
        "urn:ngsi-ld:Sensor:2",
        "urn:ngsi-ld:Sensor:3",
    ]
    near = query_temporal(
        client,
        type="Sensor",
        georel="near;maxDistance==5000",
        geometry="Point",
        coordinates="[106.70,10.77]",
        attrs="level",
    )
    assert [e["id"] for e in near] == ["urn:ngsi-ld:Sensor:1", "urn:ngsi-ld:Sensor:2"]
    assert query_temporal(client, type="Sensor", q="level>1000") == []


def test_temporal_values_representation(client: TestClient) -> None:
    load(
        client,
        S1,
        {
            "temperature": instances([1.5, 2.5]),
            "owner": [{"type": "Relationship", "object": "urn:ngsi-ld:Org:1", "observedAt": iso(0)}],
            "speed": instances([3], datasetId="urn:ngsi-ld:Dataset:a")
            + instances([4], datasetId="urn:ngsi-ld:Dataset:b"),
        },
    )
    body = get_temporal(client, S1, options="temporalValues")
    assert body["temperature"] == {"type": "Property", "values": [[1.5, iso(0)], [2.5, iso(60)]]}
    assert body["owner"] == {"type": "Relationship", "objects": [["urn:ngsi-ld:Org:1", iso(0)]]}
    assert sorted(body["speed"], key=lambda s: s["datasetId"]) == [
        {"type": "Property", "values": [[3, iso(0)]], "datasetId": "urn:ngsi-ld:Dataset:a"},
        {"type": "Property", "values": [[4, iso(0)]], "datasetId": "urn:ngsi-ld:Dataset:b"},
    ]
    assert get_temporal(client, S1, format="temporalValues") == body


def test_sys_attrs(client: TestClient) -> None:
    load(client, S1, {"temperature": instances([1])})
    plain = get_temporal(client, S1)
    assert "createdAt" not in plain and "createdAt" not in plain["temperature"][0]
    full = get_temporal(client, S1, options="sysAttrs")
    assert full["createdAt"] <= full["modifiedAt"]
    assert set(full["temperature"][0]) >= {"createdAt", "modifiedAt", "instanceId", "observedAt"}


def test_entity_paging_and_count(client: TestClient) -> None:
    _three(client)
    response = client.get(TEMPORAL, params={"type": "Sensor,Pump", "limit": "2", "count": "true"})
    assert response.status_code == 200
    assert response.headers["NGSILD-Results-Count"] == "3"
    assert [e["id"] for e in response.json()] == [P1, S1]
    rest = query_temporal(client, type="Sensor,Pump", limit="2", offset="2")
    assert [e["id"] for e in rest] == [S2]


def test_terms_are_compacted_with_the_request_context(client: TestClient) -> None:
    context = {"@context": {"temp": "https://example.org/ns/temperature", "Sensor": "https://example.org/ns/Sensor"}}
    response = client.post(
        TEMPORAL,
        json={"@context": context["@context"], "id": S1, "type": "Sensor", "temp": instances([1])},
        headers={"Content-Type": JSONLD},
    )
    assert response.status_code == 201, response.text
    expanded = get_temporal(client, S1)
    assert expanded["type"] == "https://example.org/ns/Sensor"
    assert "https://example.org/ns/temperature" in expanded
    response = client.get(
        f"{TEMPORAL}/{S1}", params={"attrs": "temp"}, headers={"Accept": JSONLD, **_inline(client, context)}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "Sensor" and "temp" in body and "@context" in body


def _inline(client: TestClient, context: Mapping[str, object]) -> dict[str, str]:
    """A Link header naming a context hosted by the broker itself."""
    response = client.post("/ngsi-ld/v1/jsonldContexts", json=context)
    assert response.status_code == 201, response.text
    url = "http://testserver" + response.headers["Location"]
    return link(url)


def test_link_header_on_json_answers(client: TestClient) -> None:
    load(client, S1, {"temperature": instances([1])})
    response = client.get(f"{TEMPORAL}/{S1}")
    assert CONTEXT_REL in response.headers["Link"]
    assert CTX not in response.headers["Link"]
