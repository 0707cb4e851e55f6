"""How a notification reaches a channel: HTTP POST (webhook), e-mail through SMTP, MQTT publish.

Each raises :class:`~smartcity.hub.notify.sender.DeliveryError` unless the receiver confirmed the message (a 2xx
answer, the SMTP server's acceptance, the broker's PUBACK). The webhook reuses the hub's HTTP/1.1 notification
client (timeouts, kept-alive connections); e-mail runs the standard library's SMTP client in a worker thread.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt
import orjson

from smartcity.hub.notify.http_sender import HttpSender
from smartcity.hub.notify.sender import DeliveryError
from smartcity.ioc.alerts.policies import Channel


def email_message(sender: str, to: str, payload: dict[str, Any]) -> EmailMessage:
    """A plain-text e-mail (Vietnamese, then English) with the notification's JSON at the end."""
    alert = payload.get("alert") or {}
    reason = payload.get("reason", "")
    summary = alert.get("summary") or {}
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    severity = str(alert.get("severity", "info")).upper()
    message["Subject"] = f"[IOC {severity}] {alert.get('ruleName', 'alert')} ({reason}): {alert.get('subject', '')}"
    lines = [
        summary.get("vi") or "",
        summary.get("en") or "",
        "",
        f"Cảnh báo / Alert: {alert.get('id', '')}",
        f"Mức độ / Severity: {alert.get('severity', '')}   Lý do / Reason: {reason}",
        f"Đối tượng / Subject: {alert.get('subject', '')}",
        f"Lần đầu / First seen: {alert.get('firstSeen', '')}   Số lần / Count: {alert.get('count', '')}",
        "",
        orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode(),
    ]
    message.set_content("\n".join(lines))
    return message


class Senders:
    """Every channel kind's sender, sharing connections where the protocol allows."""

    def __init__(self, *, timeout: float, smtp_url: str, smtp_from: str) -> None:
        self.timeout = timeout
        self.smtp_url = smtp_url
        self.smtp_from = smtp_from
        self._http = HttpSender(timeout)

    async def send(self, channel: Channel, body: bytes) -> None:
        if channel.kind == "webhook":
            await self._http.send(channel.target, {"Content-Type": "application/json"}, body)
        elif channel.kind == "mqtt":
            await self._mqtt(channel.target, body)
        elif channel.kind == "email":
            await asyncio.to_thread(self._email, channel.target, body)
        else:
            raise DeliveryError(f"unknown channel type {channel.kind!r}")

    async def _mqtt(self, target: str, body: bytes) -> None:
        parts = urlsplit(target)
        topic = unquote(parts.path[1:])
        secure = parts.scheme == "mqtts"
        try:
            async with aiomqtt.Client(
                parts.hostname or "",
                parts.port or (8883 if secure else 1883),
                username=unquote(parts.username) if parts.username else None,
                password=unquote(parts.password) if parts.password else None,
                identifier=f"smartcity-ioc-{uuid.uuid4().hex[:12]}",
                timeout=self.timeout,
                tls_context=ssl.create_default_context() if secure else None,
            ) as client:
                await client.publish(topic, body, qos=1, timeout=self.timeout)
        except (aiomqtt.MqttError, OSError) as exc:
            raise DeliveryError(f"MQTT publish to {parts.hostname}:{parts.port} failed: {exc}") from exc

    def _email(self, to: str, body: bytes) -> None:
        if not self.smtp_url:
            raise DeliveryError("no SMTP server is configured (SMARTCITY_SMTP_URL)")
        parts = urlsplit(self.smtp_url)
        secure = parts.scheme == "smtps"
        message = email_message(self.smtp_from, to, orjson.loads(body))
        try:
            client: smtplib.SMTP
            if secure:
                client = smtplib.SMTP_SSL(parts.hostname or "", parts.port or 465, timeout=self.timeout)
            else:
                client = smtplib.SMTP(parts.hostname or "", parts.port or 25, timeout=self.timeout)
            with client:
                if parts.username:
                    client.login(unquote(parts.username), unquote(parts.password or ""))
                refused = client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP delivery through {parts.hostname}:{parts.port} failed: {exc}") from exc
        if refused:
            raise DeliveryError(f"the SMTP server refused {sorted(refused)}")

    async def close(self) -> None:
        await self._http.close()
