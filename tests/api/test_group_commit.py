"""Group commit (SQLite): one-entity writes of one event-loop turn share a transaction, yet each request is
answered only after its write is durable, and a failing request never undoes its neighbours' writes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson

from smartcity.app import create_app
from smartcity.hub.store import Store, open_store
from tests.open_hub import open_settings


def _entity(n: int) -> bytes:
    return orjson.dumps({"id": f"urn:ngsi-ld:Gauge:{n}", "type": "Gauge", "level": {"type": "Property", "value": n}})


async def _burst(app: object, bodies: list[bytes]) -> list[int]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        responses = await asyncio.gather(
            *(
                client.post("/ngsi-ld/v1/entities", content=b, headers={"Content-Type": "application/json"})
                for b in bodies
            )
        )
    return [r.status_code for r in responses]


def test_concurrent_creates_commit_together_and_failures_stay_isolated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/group.db"
    store = open_store(url)
    app = create_app(open_settings(database_url=url), store=store)
    # 40 creates in one burst; every fifth repeats an id created earlier in the same burst (409)
    bodies = [_entity(n if n % 5 else n - 1) for n in range(1, 41)]
    statuses = asyncio.run(_burst(app, bodies))
    assert statuses.count(201) == 32 and statuses.count(409) == 8
    store.close()
    # a fresh connection sees every accepted entity: each 201 was answered after its commit
    reopened = open_store(url)
    try:
        with reopened.tenant(None).read() as reader:
            ids = {e.id for e in reader.get_many([f"urn:ngsi-ld:Gauge:{n}" for n in range(1, 41)]).values()}
        assert ids == {f"urn:ngsi-ld:Gauge:{n}" for n in range(1, 41) if n % 5}
    finally:
        reopened.close()


def test_each_answered_write_is_visible_to_other_connections(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/visible.db"
    store = open_store(url)
    app = create_app(open_settings(database_url=url), store=store)

    async def scenario() -> list[bool]:
        seen = []
        for n in range(5):
            assert (await _burst(app, [_entity(100 + n)]))[0] == 201
            with store.tenant(None).read() as reader:  # a reader connection: committed data only
                seen.append(reader.get(f"urn:ngsi-ld:Gauge:{100 + n}") is not None)
        return seen

    try:
        assert asyncio.run(scenario()) == [True] * 5
    finally:
        store.close()


def test_grouped_writes_on_every_backend_keep_each_outcome(store: Store) -> None:
    """Creates, updates of missing entities and duplicates in one burst: each gets its own answer."""
    app = create_app(open_settings(database_url="sqlite:///unused.db"), store=store)
    bodies = [_entity(n if n % 5 else n - 1) for n in range(1, 41)]

    async def scenario() -> tuple[list[int], list[int]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            creates = [
                client.post("/ngsi-ld/v1/entities", content=b, headers={"Content-Type": "application/json"})
                for b in bodies
            ]
            updates = [
                client.patch(f"/ngsi-ld/v1/entities/urn:ngsi-ld:Gauge:missing-{n}/attrs/level", json={"value": n})
                for n in range(5)
            ]
            responses = await asyncio.gather(*creates, *updates)
        statuses = [r.status_code for r in responses]
        return statuses[: len(bodies)], statuses[len(bodies) :]

    created, updated = asyncio.run(scenario())
    assert created.count(201) == 32 and created.count(409) == 8
    assert updated == [404] * 5
    with store.tenant(None).read() as reader:
        found = reader.get_many([f"urn:ngsi-ld:Gauge:{n}" for n in range(1, 41)])
    assert set(found) == {f"urn:ngsi-ld:Gauge:{n}" for n in range(1, 41) if n % 5}
