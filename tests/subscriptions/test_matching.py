"""Which changes fire a subscription, and what the queued notification holds (read back from the outbox)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from smartcity.hub.subscriptions import repository
from tests.api.support import CORE_CONTEXT, ENTITIES, JSONLD, OPS, create, entity_url, point, prop, rel, tenant
from tests.subscriptions.support import ENDPOINT, SUBSCRIPTIONS, data_of, outbox, subscribe


def room(n: int, temperature: float = 20, **attrs: object) -> dict[str, object]:
    return {"id": f"urn:room:{n}", "type": "Room", "temperature": prop(temperature), **attrs}


def patch_attrs(client: TestClient, entity_id: str, body: dict[str, object], headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    response = client.patch(f"{entity_url(entity_id)}/attrs", json=body, headers=headers)
    assert response.status_code == 204, response.text
    return response


def test_fires_on_creation_and_update(client: TestClient) -> None:
    sid = subscribe(client, entities=[{"type": "Room"}])
    create(client, room(1))
    patch_attrs(client, "urn:room:1", {"temperature": prop(25)})
    queued = outbox(client, sid)
    assert len(queued) == 2
    first = queued[0]
    assert first.endpoint == ENDPOINT
    assert first.body["type"] == "Notification"
    assert first.body["id"].startswith("urn:ngsi-ld:Notification:")
    assert first.body["subscriptionId"] == sid
    assert first.body["notifiedAt"].endswith("Z")
    assert first.body["data"] == [{"id": "urn:room:1", "type": "Room", "temperature": prop(20)}]
    assert queued[1].body["data"][0]["temperature"] == prop(25)
    assert first.headers["Content-Type"] == "application/json"
    assert CORE_CONTEXT in first.headers["Link"]
    assert "NGSILD-Tenant" not in first.headers
    assert "@context" not in first.body


def test_deletion_fires_only_when_asked(client: TestClient) -> None:
    default = subscribe(client, entities=[{"type": "Room"}])
    deletions = subscribe(client, entities=[{"type": "Room"}], notificationTrigger=["entityDeleted"])
    create(client, room(1))
    assert client.delete(entity_url("urn:room:1")).status_code == 204
    assert len(outbox(client, default)) == 1  # the creation only
    (deleted,) = data_of(client, deletions)
    assert deleted["id"] == "urn:room:1" and deleted["type"] == "Room" and deleted["deletedAt"].endswith("Z")


def test_attribute_triggers(client: TestClient) -> None:
    created = subscribe(client, entities=[{"type": "Room"}], notificationTrigger=["attributeCreated"])
    removed = subscribe(
        client, entities=[{"type": "Room"}], watchedAttributes=["humidity"], notificationTrigger=["attributeDeleted"]
    )
    create(client, room(1))
    patch_attrs(client, "urn:room:1", {"temperature": prop(21)})  # an update: neither
    append = client.post(f"{entity_url('urn:room:1')}/attrs", json={"humidity": prop(50)})
    assert append.status_code == 204, append.text
    assert client.delete(f"{entity_url('urn:room:1')}/attrs/humidity").status_code == 204
    assert len(outbox(client, created)) == 2  # creation of the entity, then of humidity
    (gone,) = data_of(client, removed)
    assert gone["humidity"]["value"] == "urn:ngsi-ld:null"
    assert gone["humidity"]["deletedAt"].endswith("Z")


def test_watched_attributes(client: TestClient) -> None:
    sid = subscribe(client, entities=[{"type": "Room"}], watchedAttributes=["temperature"])
    anything = subscribe(client, watchedAttributes=["humidity"])  # no entities: any entity with humidity
    create(client, room(1, humidity=prop(40)))
    patch_attrs(client, "urn:room:1", {"humidity": prop(41)})
    patch_attrs(client, "urn:room:1", {"temperature": prop(22)})
    create(client, {"id": "urn:car:1", "type": "Car", "humidity": prop(3)})
    assert [d["temperature"]["value"] for d in data_of(client, sid)] == [20, 22]
    assert [d["id"] for d in data_of(client, anything)] == ["urn:room:1", "urn:room:1", "urn:car:1"]


def test_q_is_evaluated_after_the_change(client: TestClient) -> None:
    sid = subscribe(client, entities=[{"type": "Room"}], q='temperature>25;name=="hall"')
    create(client, room(1, name=prop("hall")))
    patch_attrs(client, "urn:room:1", {"temperature": prop(30)})
    patch_attrs(client, "urn:room:1", {"name": prop("kitchen")})
    create(client, room(2, temperature=40, name=prop("hall")))
    assert [(d["id"], d["temperature"]["value"]) for d in data_of(client, sid)] == [
        ("urn:room:1", 30),
        ("urn:room:2", 40),
    ]


def test_geoq(client: TestClient) -> None:
    geoq = {"geometry": "Point", "coordinates": [106.70, 10.78], "georel": "near;maxDistance==1000"}
    sid = subscribe(client, entities=[{"type": "Room"}], geoQ=geoq)
    create(client, room(1, location=point(106.701, 10.781)))  # ~150 m away
    create(client, room(2, location=point(106.80, 10.90)))  # ~17 km away
    patch_attrs(client, "urn:room:2", {"location": point(106.7, 10.7805)})
    create(client, room(3))  # no location
    assert [d["id"] for d in data_of(client, sid)] == ["urn:room:1", "urn:room:2"]


def test_selectors(client: TestClient) -> None:
    either = subscribe(client, entities=[{"type": "Room,Car"}])
    both = subscribe(client, entities=[{"type": "Room;Heated"}])
    pattern = subscribe(client, entities=[{"type": "Room", "idPattern": "^urn:room:[0-4]$"}])
    one = subscribe(client, entities=[{"id": "urn:room:7", "type": "Room"}])
    create(client, room(1))
    create(client, room(7))
    create(client, {"id": "urn:car:1", "type": "Car"})
    create(client, {"id": "urn:room:2", "type": ["Room", "Heated"]})
    create(client, {"id": "urn:bus:1", "type": "Bus"})
    assert [d["id"] for d in data_of(client, either)] == ["urn:room:1", "urn:room:7", "urn:car:1", "urn:room:2"]
    assert [d["id"] for d in data_of(client, both)] == ["urn:room:2"]
    assert [d["id"] for d in data_of(client, pattern)] == ["urn:room:1", "urn:room:2"]
    assert [d["id"] for d in data_of(client, one)] == ["urn:room:7"]


def test_notification_attributes_and_formats(client: TestClient) -> None:
    endpoint = {"uri": ENDPOINT}
    picked = subscribe(client, entities=[{"type": "Room"}], notification={"attributes": ["name"], "endpoint": endpoint})
    simple = subscribe(client, entities=[{"type": "Room"}], notification={"format": "keyValues", "endpoint": endpoint})
    concise = subscribe(client, entities=[{"type": "Room"}], notification={"format": "concise", "endpoint": endpoint})
    create(client, room(1, name=prop("hall", unitCode="X"), owner=rel("urn:person:1")))
    assert data_of(client, picked) == [{"id": "urn:room:1", "type": "Room", "name": prop("hall", unitCode="X")}]
    assert data_of(client, simple) == [
        {"id": "urn:room:1", "type": "Room", "temperature": 20, "name": "hall", "owner": "urn:person:1"}
    ]
    assert data_of(client, concise) == [
        {
            "id": "urn:room:1",
            "type": "Room",
            "temperature": 20,
            "name": {"value": "hall", "unitCode": "X"},
            "owner": {"object": "urn:person:1"},
        }
    ]


def test_accept_and_headers(client: TestClient) -> None:
    ctx = {"temp": "https://example.org/ns/temperature"}
    body = {
        "type": "Subscription",
        "entities": [{"type": "Room"}],
        "notification": {
            "endpoint": {"uri": ENDPOINT, "accept": JSONLD, "receiverInfo": [{"key": "X-Api-Key", "value": "k1"}]}
        },
        "@context": ctx,
    }
    response = client.post(SUBSCRIPTIONS, json=body, headers={**tenant("city"), "Content-Type": JSONLD})
    assert response.status_code == 201, response.text
    sid = response.headers["location"].rsplit("/", 1)[-1]
    entity = {"id": "urn:room:1", "type": "Room", "temp": prop(20), "@context": ctx}
    assert client.post(ENTITIES, json=entity, headers={**tenant("city"), "Content-Type": JSONLD}).status_code == 201
    (queued,) = outbox(client, sid)
    assert queued.headers["Content-Type"] == JSONLD
    assert "Link" not in queued.headers
    assert queued.headers["NGSILD-Tenant"] == "city"
    assert queued.headers["X-Api-Key"] == "k1"
    assert queued.body["@context"] == ctx
    assert queued.body["data"] == [{"id": "urn:room:1", "type": "Room", "temp": prop(20)}]


def test_tenant_isolation(client: TestClient) -> None:
    city = subscribe(client, tenant("city"), entities=[{"type": "Room"}])
    default = subscribe(client, entities=[{"type": "Room"}])
    create(client, room(1))
    create(client, room(2), headers=tenant("city"))
    assert [d["id"] for d in data_of(client, default)] == ["urn:room:1"]
    assert [d["id"] for d in data_of(client, city)] == ["urn:room:2"]


def test_inactive_subscriptions_do_not_fire(client: TestClient) -> None:
    sid = subscribe(client, entities=[{"type": "Room"}], isActive=False)
    create(client, room(1))
    assert outbox(client, sid) == []
    assert client.patch(f"{SUBSCRIPTIONS}/{sid}", json={"isActive": True}).status_code == 204
    patch_attrs(client, "urn:room:1", {"temperature": prop(30)})
    assert [d["temperature"]["value"] for d in data_of(client, sid)] == [30]


def test_throttling(client: TestClient) -> None:
    sid = subscribe(client, entities=[{"type": "Room"}], throttling=3600)
    create(client, room(1))
    for value in (21, 22, 23):
        patch_attrs(client, "urn:room:1", {"temperature": prop(value)})
    assert [d["temperature"]["value"] for d in data_of(client, sid)] == [20]


def test_batch_changes_share_one_notification(client: TestClient) -> None:
    sid = subscribe(client, entities=[{"type": "Room"}])
    response = client.post(f"{OPS}/create", json=[room(i) for i in range(3)])
    assert response.status_code == 201, response.text
    (queued,) = outbox(client, sid)
    assert [d["id"] for d in queued.body["data"]] == ["urn:room:0", "urn:room:1", "urn:room:2"]


def test_deleting_a_subscription_drops_its_pending_notifications(client: TestClient) -> None:
    doomed = subscribe(client, entities=[{"type": "Room"}])
    kept = subscribe(client, entities=[{"type": "Room"}])
    create(client, room(1))
    assert len(outbox(client, doomed)) == 1
    assert client.delete(f"{SUBSCRIPTIONS}/{doomed}").status_code == 204
    assert outbox(client, doomed) == []
    assert len(outbox(client, kept)) == 1
    patch_attrs(client, "urn:room:1", {"temperature": prop(30)})
    assert outbox(client, doomed) == []


def test_subscriptions_written_by_another_process_are_seen(client: TestClient) -> None:
    """The index follows the table, not the routes of this process: a row written elsewhere fires at once."""
    create(client, room(1))  # builds this process's index
    store = client.app.state.store  # type: ignore[attr-defined]
    doc = {
        "id": "urn:ngsi-ld:Subscription:elsewhere",
        "type": "Subscription",
        "entities": [{"type": "https://uri.etsi.org/ngsi-ld/default-context/Room"}],
        "notification": {"format": "normalized", "endpoint": {"uri": ENDPOINT, "accept": "application/json"}},
        "isActive": True,
    }
    with store.tenant(None).transaction() as tx:
        repository.insert(tx.db, tx.tenant_id, doc, None)
    patch_attrs(client, "urn:room:1", {"temperature": prop(30)})
    assert [d["temperature"]["value"] for d in data_of(client, "urn:ngsi-ld:Subscription:elsewhere")] == [30]
    with store.tenant(None).transaction() as tx:
        assert repository.delete(tx.db, tx.tenant_id, "urn:ngsi-ld:Subscription:elsewhere")
    patch_attrs(client, "urn:room:1", {"temperature": prop(31)})
    assert outbox(client, "urn:ngsi-ld:Subscription:elsewhere") == []


@pytest.mark.parametrize("format_", ["normalized", "keyValues"])
def test_sys_attrs(client: TestClient, format_: str) -> None:
    sid = subscribe(
        client,
        entities=[{"type": "Room"}],
        notification={"format": format_, "sysAttrs": True, "endpoint": {"uri": ENDPOINT}},
    )
    create(client, room(1))
    (data,) = data_of(client, sid)
    assert ("createdAt" in data) == (format_ == "normalized")


def test_notifier_info_reaches_the_mqtt_sender_only(client: TestClient) -> None:
    info = [{"key": "MQTT-QoS", "value": "0"}, {"key": "MQTT-Version", "value": "mqtt3.1.1"}]
    mqtt = subscribe(
        client,
        entities=[{"type": "Room"}],
        notification={"endpoint": {"uri": "mqtt://127.0.0.1:1883/city/rooms", "notifierInfo": info}},
    )
    http = subscribe(
        client, entities=[{"type": "Room"}], notification={"endpoint": {"uri": ENDPOINT, "notifierInfo": info}}
    )
    create(client, room(1))
    (to_mqtt,) = outbox(client, mqtt)
    assert to_mqtt.headers["MQTT-QoS"] == "0" and to_mqtt.headers["MQTT-Version"] == "mqtt3.1.1"
    (to_http,) = outbox(client, http)
    assert "MQTT-QoS" not in to_http.headers and "MQTT-Version" not in to_http.headers
