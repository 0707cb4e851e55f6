"""Notification channels for real: a webhook receiver on a local port, a real SMTP server in-process
(aiosmtpd), the real Mosquitto on 127.0.0.1:1883. Deliveries go through the outbox: sent once confirmed,
retried with backoff, marked failed (and written on the alert's timeline) after the last try."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import aiomqtt
import orjson
import pytest
from aiosmtpd.controller import Controller

from smartcity.hub.store import Store
from smartcity.ioc.alerts import configuration as conf
from smartcity.ioc.alerts.delivery import Deliverer
from smartcity.ioc.alerts.manager import AlertManager
from smartcity.ioc.alerts.senders import Senders
from tests.conftest import require_service
from tests.ioc.alerts.support import Clock, flood, kinds, manager_on
from tests.iot.broker import free_port


class Receiver:
    """An HTTP/1.1 endpoint answering each POST with the next status of ``statuses`` (then the last one)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.bodies: list[dict[str, Any]] = []
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hooks/ioc"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                self.bodies.append(orjson.loads(await reader.readexactly(length)))
                status = self.statuses[min(len(self.bodies) - 1, len(self.statuses) - 1)]
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _deliverer(manager: AlertManager, smtp_url: str = "") -> Deliverer:
    senders = Senders(timeout=10.0, smtp_url=smtp_url, smtp_from="ioc@smartcity.local")
    manager.senders = senders
    return Deliverer(manager, senders, max_backoff=60.0, max_attempts=3)


def _states(manager: AlertManager, channel_id: str) -> list[tuple[str, int]]:
    return [(d["state"], d["attempts"]) for d in conf.deliveries(manager, channel_id, 100)]


def test_a_webhook_gets_the_alert_json_and_a_confirmed_delivery_is_recorded(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)

    async def scenario() -> Receiver:
        receiver = Receiver([200])
        async with receiver as url:
            conf.put_channel(
                manager,
                {"id": "hook", "name": "Ops", "type": "webhook", "target": url, "matchers": {"domain": "flood"}},
            )
            manager.apply(flood(clock))
            deliverer = _deliverer(manager)
            assert await deliverer.run_once() == 1
            assert await deliverer.run_once() == 0  # sent once, not again
            await deliverer.senders.close()
        return receiver

    receiver = asyncio.run(scenario())
    assert len(receiver.bodies) == 1
    body = receiver.bodies[0]
    assert body["reason"] == "raised" and body["alert"]["ruleId"] == "flood-level"
    assert body["alert"]["summary"]["vi"].startswith("Ngập")
    assert _states(manager, "hook") == [("sent", 1)]
    alert_id = body["alert"]["id"]
    assert kinds(manager, alert_id) == ["raised", "notified"]


def test_a_failing_webhook_is_retried_with_backoff_then_marked_failed_on_the_timeline(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)

    async def scenario() -> Receiver:
        receiver = Receiver([503, 500, 502])
        async with receiver as url:
            conf.put_channel(
                manager,
                {"id": "hook", "name": "Ops", "type": "webhook", "target": url, "matchers": {"severity": "info"}},
            )
            manager.apply(flood(clock))
            deliverer = _deliverer(manager)
            assert await deliverer.run_once() == 1
            assert _states(manager, "hook") == [("pending", 1)]
            assert await deliverer.run_once() == 0  # not due before its backoff
            for _ in range(2):
                clock.advance(minutes=2)
                assert await deliverer.run_once() == 1
            clock.advance(minutes=10)
            assert await deliverer.run_once() == 0  # failed for good: never tried again
            await deliverer.senders.close()
        return receiver

    receiver = asyncio.run(scenario())
    assert len(receiver.bodies) == 3
    deliveries = conf.deliveries(manager, "hook", 10)
    assert [(d["state"], d["attempts"]) for d in deliveries] == [("failed", 3)]
    assert "502" in deliveries[0]["lastError"]
    view = conf.channel_view(manager, conf.channel(manager, "hook"))
    assert view["deliveries"] == {"pending": 0, "sent": 0, "failed": 1}
    assert kinds(manager, deliveries[0]["alertId"]) == ["raised", "notification_failed"]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


def test_an_email_channel_sends_through_smtp(store: Store, smtp: tuple[str, Inbox]) -> None:
    url, inbox = smtp
    clock = Clock()
    manager = manager_on(store, clock)
    conf.put_channel(
        manager,
        {
            "id": "duty",
            "name": "Duty",
            "type": "email",
            "target": "duty@hcmc.example, chief@hcmc.example",
            "matchers": {"ward": "26740"},
        },
    )
    alert = manager.apply(flood(clock))
    assert alert is not None

    async def scenario() -> None:
        deliverer = _deliverer(manager, url)
        assert await deliverer.run_once() == 1
        await deliverer.senders.close()

    asyncio.run(scenario())
    assert len(inbox.messages) == 1
    sender, recipients, content = inbox.messages[0]
    assert sender == "ioc@smartcity.local"
    assert recipients == ["duty@hcmc.example", "chief@hcmc.example"]
    message = message_from_bytes(content)
    assert message["Subject"].startswith("[IOC MAJOR] Flood level above 0.3 m (raised)")
    text = message.get_payload(decode=True).decode("utf-8")
    assert "Ngập 0,42 m" in text and alert.id in text
    assert _states(manager, "duty") == [("sent", 1)]


def test_an_email_channel_without_smtp_fails_visibly(store: Store) -> None:
    clock = Clock()
    manager = manager_on(store, clock)
    conf.put_channel(
        manager,
        {"id": "duty", "name": "Duty", "type": "email", "target": "duty@hcmc.example", "matchers": {"domain": "flood"}},
    )
    manager.apply(flood(clock))

    async def scenario() -> None:
        deliverer = _deliverer(manager, "")
        await deliverer.run_once()
        await deliverer.senders.close()

    asyncio.run(scenario())
    deliveries = conf.deliveries(manager, "duty", 10)
    assert deliveries[0]["state"] == "pending" and "SMARTCITY_SMTP_URL" in deliveries[0]["lastError"]


@pytest.mark.mqtt
def test_an_mqtt_channel_publishes_the_alert_json(store: Store) -> None:
    require_service(1883, "Mosquitto")
    topic = f"smartcity/test/ioc/{uuid.uuid4().hex[:8]}"
    clock = Clock()
    manager = manager_on(store, clock)
    conf.put_channel(
        manager,
        {
            "id": "bus",
            "name": "Broker",
            "type": "mqtt",
            "target": f"mqtt://127.0.0.1:1883/{topic}",
            "matchers": {"domain": "flood", "severity": "minor"},
        },
    )
    alert = manager.apply(flood(clock))
    assert alert is not None

    async def scenario() -> dict[str, Any]:
        async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"t-{uuid.uuid4().hex[:8]}") as client:
            await client.subscribe(topic, qos=1)
            deliverer = _deliverer(manager)
            assert await deliverer.run_once() == 1
            await deliverer.senders.close()
            async with asyncio.timeout(30):
                async for message in client.messages:
                    payload: dict[str, Any] = orjson.loads(bytes(message.payload))  # type: ignore[arg-type]
                    return payload
        raise AssertionError("no message")

    payload = asyncio.run(scenario())
    assert payload["reason"] == "raised" and payload["alert"]["id"] == alert.id
    assert _states(manager, "bus") == [("sent", 1)]
