"""The hub's change feed: every committed write is published once, after its commit, and never a rolled-back
one, whichever path the write takes (SQLite group commit or plain transaction, PostgreSQL writer groups or
plain transaction)."""

from __future__ import annotations

import asyncio

import httpx
import orjson

from smartcity.app import create_app
from smartcity.hub.feed import ChangeBatch, FeedQueue
from smartcity.hub.store import Store
from tests.open_hub import open_settings

JSON = {"Content-Type": "application/json"}


def _entity(n: int, level: float = 1.0) -> dict[str, object]:
    return {"id": f"urn:ngsi-ld:Gauge:{n}", "type": "Gauge", "level": {"type": "Property", "value": level}}


async def _scenario(store: Store) -> tuple[list[ChangeBatch], list[int]]:
    app = create_app(open_settings(database_url="sqlite:///unused.db"), store=store)
    feed = FeedQueue(store.feed)
    statuses: list[int] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        # one-entity writes of one loop turn (grouped), one of them failing (409: rolled back, not published)
        burst = [_entity(1), _entity(2), _entity(1)]
        answers = await asyncio.gather(
            *(client.post("/ngsi-ld/v1/entities", content=orjson.dumps(b), headers=JSON) for b in burst)
        )
        statuses += [r.status_code for r in answers]
        # a batch operation (its own transaction)
        r = await client.post(
            "/ngsi-ld/v1/entityOperations/create", content=orjson.dumps([_entity(3), _entity(4)]), headers=JSON
        )
        statuses.append(r.status_code)
        r = await client.patch(
            "/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:2/attrs",
            content=orjson.dumps({"level": {"type": "Property", "value": 7}}),
            headers=JSON,
        )
        statuses.append(r.status_code)
        r = await client.delete("/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:4")
        statuses.append(r.status_code)
        r = await client.delete("/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:404")  # fails: nothing published
        statuses.append(r.status_code)
    batches: list[ChangeBatch] = []
    for _ in range(50):
        while (batch := feed.get_nowait()) is not None:
            batches.append(batch)
        if sum(len(b.changes) for b in batches) >= 6:
            break
        await asyncio.sleep(0.02)
    feed.close()
    return batches, statuses


def test_committed_writes_are_published_once_in_order_and_failed_ones_never(store: Store) -> None:
    batches, statuses = asyncio.run(_scenario(store))
    assert sorted(statuses[:3]) == [201, 201, 409]
    assert statuses[3:] == [201, 204, 204, 404]
    changes = [(c.kind, c.entity_id) for b in batches for c in b.changes]
    assert sorted(changes[:2]) == [("create", "urn:ngsi-ld:Gauge:1"), ("create", "urn:ngsi-ld:Gauge:2")]
    assert changes[2:] == [
        ("create", "urn:ngsi-ld:Gauge:3"),
        ("create", "urn:ngsi-ld:Gauge:4"),
        ("update", "urn:ngsi-ld:Gauge:2"),
        ("delete", "urn:ngsi-ld:Gauge:4"),
    ]
    assert all(b.tenant == "" for b in batches)
    update = next(c for b in batches for c in b.changes if c.kind == "update")
    assert update.before is not None and update.after is not None


def test_listeners_stop_and_a_failing_listener_never_breaks_a_write(store: Store) -> None:
    seen: list[ChangeBatch] = []

    def broken(batch: ChangeBatch) -> None:
        raise RuntimeError("listener bug")

    stop_broken = store.feed.listen(broken)
    stop = store.feed.listen(seen.append)
    assert store.feed.active and broken in store.feed.listeners
    app = create_app(open_settings(database_url="sqlite:///unused.db"), store=store)
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        assert client.post("/ngsi-ld/v1/entities", json=_entity(1), headers=JSON).status_code == 201
        stop()
        stop_broken()
        assert broken not in store.feed.listeners and seen.append not in store.feed.listeners
        assert client.post("/ngsi-ld/v1/entities", json=_entity(2), headers=JSON).status_code == 201
        assert client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:1").status_code == 200
    assert [c.entity_id for b in seen for c in b.changes] == ["urn:ngsi-ld:Gauge:1"]
