"""Subscription management: create, retrieve, query with paging, update, delete, and the errors of each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.support import BASE, CONTEXT_REL, JSONLD, assert_problem, link, tenant
from tests.subscriptions.support import ENDPOINT, SUBSCRIPTIONS, subscribe, subscription

USER_CONTEXT = {"@context": {"temp": "https://example.org/ns/temperature", "Room": "https://example.org/ns/Room"}}


def future(seconds: float = 3600) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def test_create_and_retrieve(client: TestClient) -> None:
    body = subscription(
        id="urn:ngsi-ld:Subscription:s1",
        subscriptionName="rooms",
        description="warm rooms",
        entities=[{"type": "Room", "idPattern": "^urn:room:"}, {"id": "urn:room:9", "type": "Room"}],
        watchedAttributes=["temperature"],
        q="temperature>20",
        geoQ={"geometry": "Point", "coordinates": [106.7, 10.78], "georel": "near;maxDistance==2000"},
        throttling=5,
        expiresAt=future(),
        notification={
            "attributes": ["temperature"],
            "format": "keyValues",
            "endpoint": {
                "uri": ENDPOINT,
                "accept": JSONLD,
                "receiverInfo": [{"key": "X-Auth", "value": "secret"}],
            },
        },
    )
    response = client.post(SUBSCRIPTIONS, json=body)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{SUBSCRIPTIONS}/urn:ngsi-ld:Subscription:s1"
    got = client.get(f"{SUBSCRIPTIONS}/urn:ngsi-ld:Subscription:s1")
    assert got.status_code == 200, got.text
    sub = got.json()
    assert sub["id"] == "urn:ngsi-ld:Subscription:s1"
    assert sub["type"] == "Subscription"
    assert sub["entities"] == body["entities"]
    assert sub["watchedAttributes"] == ["temperature"]
    assert sub["q"] == "temperature>20"
    assert sub["geoQ"]["geoproperty"] == "location"
    assert sub["throttling"] == 5
    assert sub["isActive"] is True
    assert sub["status"] == "active"
    assert sub["expiresAt"] == body["expiresAt"]
    note = sub["notification"]
    assert note["attributes"] == ["temperature"]
    assert note["format"] == "keyValues"
    assert note["endpoint"]["uri"] == ENDPOINT
    assert note["endpoint"]["receiverInfo"] == [{"key": "X-Auth", "value": "secret"}]
    assert note["timesSent"] == 0 and note["timesFailed"] == 0
    assert "lastNotification" not in note and "status" not in note
    assert "createdAt" not in sub
    with_sys = client.get(f"{SUBSCRIPTIONS}/urn:ngsi-ld:Subscription:s1", params={"options": "sysAttrs"}).json()
    assert with_sys["createdAt"] and with_sys["modifiedAt"]


def test_generated_id_and_conflict(client: TestClient) -> None:
    sid = subscribe(client, entities=[{"type": "Room"}])
    assert sid.startswith("urn:ngsi-ld:Subscription:")
    again = client.post(SUBSCRIPTIONS, json=subscription(id=sid, entities=[{"type": "Room"}]))
    assert_problem(again, 409, "AlreadyExists")


def test_terms_are_expanded_with_the_request_context(client: TestClient) -> None:
    ctx = USER_CONTEXT["@context"]
    body = {**subscription(entities=[{"type": "Room"}], watchedAttributes=["temp"]), "@context": ctx}
    response = client.post(SUBSCRIPTIONS, json=body, headers={"Content-Type": JSONLD})
    assert response.status_code == 201, response.text
    sid = response.headers["location"].rsplit("/", 1)[-1]
    plain = client.get(f"{SUBSCRIPTIONS}/{sid}").json()
    assert plain["entities"] == [{"type": "https://example.org/ns/Room"}]
    assert plain["watchedAttributes"] == ["https://example.org/ns/temperature"]
    compact = client.get(f"{SUBSCRIPTIONS}/{sid}", headers={"Accept": JSONLD})
    assert compact.headers["content-type"].startswith(JSONLD)
    assert compact.json()["@context"] is not None
    inline = client.post(SUBSCRIPTIONS, json=subscription(entities=[{"type": "Room"}]))
    sid2 = inline.headers["location"].rsplit("/", 1)[-1]
    assert client.get(f"{SUBSCRIPTIONS}/{sid2}").json()["entities"] == [{"type": "Room"}]
    assert CONTEXT_REL in client.get(f"{SUBSCRIPTIONS}/{sid2}").headers["Link"]
    # read with the core context only, a term of the default vocabulary shows as its IRI under another context
    hosted = client.post(f"{BASE}/jsonldContexts", json={"@context": {"Room": "https://example.org/ns/Room"}})
    assert hosted.status_code == 201, hosted.text
    hosted_url = "http://testserver" + hosted.headers["location"]
    other = client.get(f"{SUBSCRIPTIONS}/{sid2}", headers=link(hosted_url)).json()
    shown = other["entities"][0]["type"]
    assert shown != "Room" and shown.endswith("default-context/Room"), shown


def test_query_with_paging(client: TestClient) -> None:
    ids = [subscribe(client, id=f"urn:ngsi-ld:Subscription:p{i}", entities=[{"type": "Room"}]) for i in range(5)]
    first = client.get(SUBSCRIPTIONS, params={"limit": "2", "count": "true"})
    assert first.status_code == 200, first.text
    assert first.headers["NGSILD-Results-Count"] == "5"
    assert [s["id"] for s in first.json()] == ids[:2]
    rest = client.get(SUBSCRIPTIONS, params={"limit": "10", "offset": "2"}).json()
    assert [s["id"] for s in rest] == ids[2:]
    assert "NGSILD-Results-Count" not in client.get(SUBSCRIPTIONS).headers
    assert client.get(SUBSCRIPTIONS, params={"limit": "0", "count": "true"}).json() == []
    for bad in ({"limit": "-1"}, {"limit": "1001"}, {"offset": "x"}, {"count": "yes"}, {"options": "bogus"}):
        assert_problem(client.get(SUBSCRIPTIONS, params=bad), 400, "BadRequestData")


def test_update_merges(client: TestClient) -> None:
    sid = subscribe(
        client,
        entities=[{"type": "Room"}],
        watchedAttributes=["temperature"],
        notification={"attributes": ["temperature"], "endpoint": {"uri": ENDPOINT}},
    )
    url = f"{SUBSCRIPTIONS}/{sid}"
    patch = {"q": "temperature>30", "notification": {"format": "keyValues"}, "isActive": False}
    response = client.patch(url, json=patch)
    assert response.status_code == 204, response.text
    sub = client.get(url).json()
    assert sub["q"] == "temperature>30"
    assert sub["watchedAttributes"] == ["temperature"]
    assert sub["notification"]["format"] == "keyValues"
    assert sub["notification"]["attributes"] == ["temperature"]  # merged, not replaced
    assert sub["notification"]["endpoint"]["uri"] == ENDPOINT
    assert sub["isActive"] is False and sub["status"] == "paused"
    assert client.patch(url, json={"q": None, "isActive": True}).status_code == 204
    sub = client.get(url).json()
    assert "q" not in sub and sub["status"] == "active"
    assert_problem(client.patch(url, json={"timeInterval": 10}), 400, "BadRequestData")
    assert_problem(client.patch(url, json={"throttling": -1}), 400, "BadRequestData")
    assert_problem(client.patch(url, json={"id": "urn:other"}), 400, "BadRequestData")
    assert_problem(client.patch(url, json={}), 400, "BadRequestData")
    assert_problem(client.patch(f"{SUBSCRIPTIONS}/urn:ngsi-ld:Subscription:none", json={"q": "a>1"}), 404)


def test_delete(client: TestClient) -> None:
    sid = subscribe(client, entities=[{"type": "Room"}])
    assert client.delete(f"{SUBSCRIPTIONS}/{sid}").status_code == 204
    assert_problem(client.get(f"{SUBSCRIPTIONS}/{sid}"), 404, "ResourceNotFound")
    assert_problem(client.delete(f"{SUBSCRIPTIONS}/{sid}"), 404, "ResourceNotFound")
    assert_problem(client.get(f"{SUBSCRIPTIONS}/not%20a%20uri"), 400, "BadRequestData")


def test_tenants(client: TestClient) -> None:
    sid = subscribe(client, tenant("city"), entities=[{"type": "Room"}])
    assert client.get(f"{SUBSCRIPTIONS}/{sid}", headers=tenant("city")).status_code == 200
    assert client.get(f"{SUBSCRIPTIONS}/{sid}", headers=tenant("city")).headers["NGSILD-Tenant"] == "city"
    assert_problem(client.get(f"{SUBSCRIPTIONS}/{sid}"), 404, "ResourceNotFound")
    assert client.get(SUBSCRIPTIONS).json() == []
    assert_problem(client.get(SUBSCRIPTIONS, headers=tenant("nowhere")), 404, "NonexistentTenant")
    assert_problem(client.get(f"{SUBSCRIPTIONS}/{sid}", headers=tenant("nowhere")), 404, "NonexistentTenant")


ROOM = [{"type": "Room"}]
BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("no type", {"entities": ROOM, "notification": {"endpoint": {"uri": ENDPOINT}}}),
    ("wrong type", subscription(type="Entity", entities=ROOM)),
    ("nothing watched", subscription()),
    ("empty entities", subscription(entities=[])),
    ("selector without type", subscription(entities=[{"id": "urn:a"}])),
    ("selector id not a URI", subscription(entities=[{"id": "not a uri", "type": "Room"}])),
    ("bad idPattern", subscription(entities=[{"idPattern": "([", "type": "Room"}])),
    ("bad type selection", subscription(entities=[{"type": "Room;;Car"}])),
    ("watched not a list", subscription(watchedAttributes="temperature")),
    ("watched bad name", subscription(watchedAttributes=["a b"])),
    ("no notification", {"type": "Subscription", "entities": ROOM}),
    ("no endpoint", subscription(entities=ROOM, notification={"format": "keyValues"})),
    ("no uri", subscription(entities=ROOM, notification={"endpoint": {}})),
    ("relative uri", subscription(entities=ROOM, notification={"endpoint": {"uri": "/notify"}})),
    ("ftp uri", subscription(entities=ROOM, notification={"endpoint": {"uri": "ftp://host/x"}})),
    ("bad accept", subscription(entities=ROOM, notification={"endpoint": {"uri": ENDPOINT, "accept": "text/xml"}})),
    ("bad format", subscription(entities=ROOM, notification={"format": "xml", "endpoint": {"uri": ENDPOINT}})),
    (
        "bad receiverInfo",
        subscription(entities=ROOM, notification={"endpoint": {"uri": ENDPOINT, "receiverInfo": [{"key": 1}]}}),
    ),
    ("timeInterval with watched", subscription(entities=ROOM, watchedAttributes=["a"], timeInterval=10)),
    ("zero timeInterval", subscription(entities=ROOM, timeInterval=0)),
    ("negative throttling", subscription(entities=ROOM, throttling=-5)),
    ("text throttling", subscription(entities=ROOM, throttling="5")),
    ("bad expiresAt", subscription(entities=ROOM, expiresAt="tomorrow")),
    ("past expiresAt", subscription(entities=ROOM, expiresAt="2001-01-01T00:00:00Z")),
    ("bad isActive", subscription(entities=ROOM, isActive="yes")),
    ("bad q", subscription(entities=ROOM, q="temperature>>1")),
    ("bad geoQ georel", subscription(entities=ROOM, geoQ={"geometry": "Point", "coordinates": [1, 2], "georel": "x"})),
    ("incomplete geoQ", subscription(entities=ROOM, geoQ={"geometry": "Point", "georel": "within"})),
    ("bad trigger", subscription(entities=ROOM, notificationTrigger=["entityTouched"])),
    ("unknown member", subscription(entities=ROOM, colour="red")),
    ("id not a URI", subscription(id="sub 1", entities=ROOM)),
]


@pytest.mark.parametrize(("why", "body"), BAD_BODIES, ids=[why for why, _ in BAD_BODIES])
def test_invalid_subscriptions(client: TestClient, why: str, body: dict[str, Any]) -> None:
    assert_problem(client.post(SUBSCRIPTIONS, json=body), 400, "BadRequestData")


def test_invalid_requests(client: TestClient) -> None:
    assert_problem(client.post(SUBSCRIPTIONS, content=b"{", headers={"Content-Type": "application/json"}), 400)
    assert_problem(client.post(SUBSCRIPTIONS, json=[1, 2]), 400, "BadRequestData")
    response = client.post(SUBSCRIPTIONS, content=b"{}", headers={"Content-Type": "text/plain"})
    assert_problem(response, 415)
