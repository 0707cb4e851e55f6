"""Time in subscriptions: periodic notifications (timeInterval) and expiry (expiresAt)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from smartcity.hub.model import parse_time
from tests.api.support import create, entity_url, prop, tenant
from tests.subscriptions.support import SUBSCRIPTIONS, data_of, outbox, subscribe, wait_for


def test_periodic_notifications(client: TestClient) -> None:
    create(client, {"id": "urn:room:1", "type": "Room", "temperature": prop(30)})
    create(client, {"id": "urn:room:2", "type": "Room", "temperature": prop(10)})
    create(client, {"id": "urn:car:1", "type": "Car", "temperature": prop(30)})
    sid = subscribe(client, entities=[{"type": "Room"}], q="temperature>20", timeInterval=1)
    other = subscribe(client, tenant("city"), entities=[{"type": "Room"}], timeInterval=1)
    wait_for(lambda: len(outbox(client, sid)) >= 2)
    first, second = outbox(client, sid)[:2]
    assert [d["id"] for d in first.body["data"]] == ["urn:room:1"]
    assert [d["id"] for d in second.body["data"]] == ["urn:room:1"]
    start, then = parse_time(first.body["notifiedAt"]), parse_time(second.body["notifiedAt"])
    assert start is not None and then is not None
    assert then - start >= timedelta(seconds=0.99)
    assert outbox(client, other) == []  # the city tenant has no rooms: nothing to send
    # a periodic subscription does not follow changes: its notifications stay one interval apart
    response = client.patch(f"{entity_url('urn:room:1')}/attrs", json={"temperature": prop(31)})
    assert response.status_code == 204
    wait_for(lambda: any(d["temperature"]["value"] == 31 for d in data_of(client, sid)))
    times = [parse_time(q.body["notifiedAt"]) for q in outbox(client, sid)]
    assert all(b - a >= timedelta(seconds=0.99) for a, b in itertools.pairwise(times))  # type: ignore[operator]
    # paused: no more periodic notifications
    assert client.patch(f"{SUBSCRIPTIONS}/{sid}", json={"isActive": False}).status_code == 204
    paused_at = datetime.now(UTC)
    count = len(outbox(client, sid))
    wait_for(lambda: datetime.now(UTC) - paused_at > timedelta(seconds=1.5), timeout=5)
    assert len(outbox(client, sid)) <= count + 1  # a period already being queued may still land


def test_expired_subscriptions_stop_firing(client: TestClient) -> None:
    expires = (datetime.now(UTC) + timedelta(seconds=3)).isoformat().replace("+00:00", "Z")
    sid = subscribe(client, entities=[{"type": "Room"}], expiresAt=expires)
    create(client, {"id": "urn:room:1", "type": "Room", "temperature": prop(20)})
    assert len(outbox(client, sid)) == 1
    wait_for(lambda: client.get(f"{SUBSCRIPTIONS}/{sid}").json()["status"] == "expired")
    response = client.patch(f"{entity_url('urn:room:1')}/attrs", json={"temperature": prop(21)})
    assert response.status_code == 204
    assert [d["temperature"]["value"] for d in data_of(client, sid)] == [20]
