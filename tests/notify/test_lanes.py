"""Delivery lanes: an unreachable receiver is left alone for a while, longer after each failed probe."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from smartcity.hub.notify.lanes import Lanes
from smartcity.hub.notify.outbox import OutboxRow
from smartcity.hub.notify.sender import DeliveryError

DEAD = "http://127.0.0.1:9/notify"


class FlakySender:
    schemes = ("http",)

    def __init__(self) -> None:
        self.up = False
        self.calls = 0

    def lane_of(self, endpoint: str) -> str:
        return endpoint.split("/")[2]

    async def send(self, endpoint: str, headers: Mapping[str, str], body: bytes) -> None:
        self.calls += 1
        if not self.up:
            raise DeliveryError("connection refused", unreachable=True)

    async def close(self) -> None:
        return None


def row(n: int) -> OutboxRow:
    return OutboxRow(n, 1, "urn:s:1", DEAD, {}, b"{}", 0)


def test_an_unreachable_receiver_is_skipped_with_a_growing_pause() -> None:
    async def scenario() -> None:
        sender = FlakySender()
        results: list[str | None] = []
        reported = asyncio.Event()

        def report(r: OutboxRow, error: str | None) -> None:
            results.append(error)
            reported.set()

        lanes = Lanes([sender], report, down_seconds=0.5, max_down_seconds=2.0)

        async def deliver(rows: list[OutboxRow]) -> None:
            for r in rows:
                lanes.dispatch(r)
            async with asyncio.timeout(10):
                while len(results) < len(rows):
                    reported.clear()
                    await reported.wait()
            results.clear()

        await deliver([row(1), row(2), row(3)])
        assert sender.calls == 1  # the two queued behind the failure were not tried
        assert lanes.down_endpoints() == [DEAD]
        await asyncio.sleep(0.6)
        assert lanes.down_endpoints() == []  # the first pause is over: a probe may go
        await deliver([row(4)])
        assert sender.calls == 2
        await asyncio.sleep(0.1)
        assert lanes.down_endpoints() == [DEAD]  # the second pause (1 s) is twice as long
        await asyncio.sleep(1.0)
        sender.up = True
        await deliver([row(5)])
        assert lanes.down_endpoints() == []
        await deliver([row(6)])
        assert sender.calls == 4
        await lanes.close()

    asyncio.run(scenario())
