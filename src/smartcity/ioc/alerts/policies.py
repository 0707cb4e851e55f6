"""Escalation policies and notification channels: data operators edit through the API (and the demo YAML).

An escalation policy matches alerts by labels and severity and lists levels ``[{afterMinutes, channels}]``:
an active alert nobody has acknowledged ``afterMinutes`` after it was raised (or after its silence ended) goes
to that level and is notified on the level's channels. A channel is where notifications go (``webhook``: an
http(s) URL receiving a POST of the alert JSON; ``email``: addresses, sent through ``SMARTCITY_SMTP_URL``;
``mqtt``: ``mqtt://host[:port]/topic``) with matchers that route alerts to it when they are raised or cleared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from smartcity.hub.errors import BadRequestData
from smartcity.ioc.alerts.matching import matches, parse_matchers
from smartcity.ioc.alerts.model import Alert

POLICY_MATCHERS = frozenset({"ruleId", "ward", "domain", "severity"})
CHANNEL_MATCHERS = frozenset({"ruleId", "ward", "domain", "severity"})
KINDS = ("webhook", "email", "mqtt")
MAX_LEVELS = 10
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_NAME = re.compile(r"^\S(.{0,198}\S)?$")


@dataclass(frozen=True)
class Level:
    after_minutes: float
    channels: tuple[str, ...]


@dataclass(frozen=True)
class EscalationPolicy:
    id: str
    name: str
    matchers: dict[str, Any]
    levels: tuple[Level, ...]

    def applies_to(self, alert: Alert) -> bool:
        return matches(self.matchers, alert)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "matchers": self.matchers,
            "levels": [{"afterMinutes": lv.after_minutes, "channels": list(lv.channels)} for lv in self.levels],
        }


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    kind: str
    target: str
    matchers: dict[str, Any]
    enabled: bool

    def routes(self, alert: Alert) -> bool:
        """Whether alerts like this one are sent here when raised or cleared (channels with no matcher only
        receive escalations and tests)."""
        return self.enabled and bool(self.matchers) and matches(self.matchers, alert)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.kind,
            "target": self.target,
            "matchers": self.matchers,
            "enabled": self.enabled,
        }


def _name(body: dict[str, Any]) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise BadRequestData("'name' must be a text of 1 to 200 characters")
    return name


def _only(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequestData("the body must be a JSON object")
    unknown = set(body) - allowed
    if unknown:
        raise BadRequestData(f"unknown members {sorted(unknown)}")
    return body


def parse_policy(body: Any, policy_id: str) -> EscalationPolicy:
    body = _only(body, {"id", "name", "matchers", "levels"})
    levels_raw = body.get("levels")
    if not isinstance(levels_raw, list) or not 1 <= len(levels_raw) <= MAX_LEVELS:
        raise BadRequestData(f"'levels' must be a list of 1 to {MAX_LEVELS} levels")
    levels: list[Level] = []
    for i, raw in enumerate(levels_raw):
        if not isinstance(raw, dict) or set(raw) - {"afterMinutes", "channels"}:
            raise BadRequestData(f"level {i} must be {{'afterMinutes': n, 'channels': [channel ids]}}")
        after = raw.get("afterMinutes")
        if not isinstance(after, int | float) or isinstance(after, bool) or not 0 < after <= 7 * 24 * 60:
            raise BadRequestData(f"level {i}: 'afterMinutes' must be a number of minutes in (0, 10080]")
        channels = raw.get("channels", [])
        if not isinstance(channels, list) or not all(isinstance(c, str) and c for c in channels):
            raise BadRequestData(f"level {i}: 'channels' must be a list of channel ids")
        if levels and after <= levels[-1].after_minutes:
            raise BadRequestData("levels must come in increasing 'afterMinutes'")
        levels.append(Level(float(after), tuple(channels)))
    matchers = parse_matchers(body.get("matchers"), allowed=POLICY_MATCHERS, require_one=False)
    return EscalationPolicy(policy_id, _name(body), matchers, tuple(levels))


def _target(kind: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw or len(raw) > 2048:
        raise BadRequestData("'target' must be a non-empty text")
    target: str = raw
    if kind == "webhook":
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadRequestData("a webhook 'target' must be an http(s) URL")
    elif kind == "mqtt":
        parts = urlsplit(target)
        topic = parts.path[1:] if parts.path.startswith("/") else ""
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname or not topic or "+" in topic or "#" in target:
            raise BadRequestData("an MQTT 'target' must be mqtt[s]://host[:port]/topic (no wildcards)")
    else:
        addresses = [a.strip() for a in target.split(",")]
        if not all(_EMAIL.match(a) for a in addresses):
            raise BadRequestData("an e-mail 'target' must be one or more addresses separated by commas")
        target = ", ".join(addresses)
    return target


def parse_channel(body: Any, channel_id: str) -> Channel:
    body = _only(body, {"id", "name", "type", "target", "matchers", "enabled"})
    kind = body.get("type")
    if kind not in KINDS:
        raise BadRequestData(f"'type' must be one of {list(KINDS)}")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise BadRequestData("'enabled' must be true or false")
    matchers = parse_matchers(body.get("matchers"), allowed=CHANNEL_MATCHERS, require_one=False)
    return Channel(channel_id, _name(body), kind, _target(kind, body.get("target")), matchers, enabled)
