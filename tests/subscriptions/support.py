"""Helpers of the subscription tests: subscription bodies and the queued notifications read from the outbox."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.testclient import TestClient

from tests.api.support import BASE

SUBSCRIPTIONS = f"{BASE}/subscriptions"
ENDPOINT = "http://127.0.0.1:9/notify"


@dataclass
class Queued:
    subscription_id: str
    endpoint: str
    headers: dict[str, str]
    body: dict[str, Any]
    tenant_id: int


def subscription(**members: Any) -> dict[str, Any]:
    """A subscription body: notification to ENDPOINT unless given; other members as given."""
    body: dict[str, Any] = {"type": "Subscription", "notification": {"endpoint": {"uri": ENDPOINT}}}
    body.update(members)
    return body


def subscribe(client: TestClient, headers: Mapping[str, str] | None = None, /, **members: Any) -> str:
    response = client.post(SUBSCRIPTIONS, json=subscription(**members), headers=headers)
    assert response.status_code == 201, response.text
    location: str = response.headers["location"]
    return location.rsplit("/", 1)[-1]


def outbox(client: TestClient, subscription_id: str | None = None) -> list[Queued]:
    """The queued notifications, oldest first (of one subscription, if given)."""
    with client.app.state.store.transaction(write=False) as db:  # type: ignore[attr-defined]
        rows = db.run(
            "SELECT subscription_id, endpoint, headers, body, tenant_id FROM notification_outbox ORDER BY id"
        ).fetchall()
    out = [Queued(r[0], r[1], orjson.loads(r[2]), orjson.loads(bytes(r[3])), int(r[4])) for r in rows]
    return [q for q in out if subscription_id is None or q.subscription_id == subscription_id]


def data_of(client: TestClient, subscription_id: str) -> list[dict[str, Any]]:
    """Every entity notified to the subscription, in order."""
    return [entity for q in outbox(client, subscription_id) for entity in q.body["data"]]


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll ``check`` until it holds (a deadline, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        time.sleep(0.05)
