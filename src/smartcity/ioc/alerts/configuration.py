"""Escalation policies and notification channels as operators edit them, and the demo's start-up set."""

from __future__ import annotations

import logging
import re
from importlib import resources
from typing import Any

import yaml  # type: ignore[import-untyped]

from smartcity.hub.errors import AlreadyExists, BadRequestData, ResourceNotFound
from smartcity.ioc.alerts.manager import AlertManager, new_id
from smartcity.ioc.alerts.model import iso
from smartcity.ioc.alerts.policies import Channel, EscalationPolicy, parse_channel, parse_policy
from smartcity.settings import Settings

log = logging.getLogger(__name__)

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def _chosen_id(body: Any) -> str:
    given = body.get("id") if isinstance(body, dict) else None
    if given is None:
        return new_id()
    if not isinstance(given, str) or not _ID.match(given):
        raise BadRequestData("'id' must be 1 to 64 letters, digits, '-', '_' or '.'")
    return given


# -- escalation policies ---------------------------------------------------------------------------


def policies(manager: AlertManager) -> list[EscalationPolicy]:
    with manager.tables.read() as tx:
        return tx.policies()


def policy(manager: AlertManager, policy_id: str) -> EscalationPolicy:
    found = next((p for p in policies(manager) if p.id == policy_id), None)
    if found is None:
        raise ResourceNotFound(f"escalation policy {policy_id} not found")
    return found


def put_policy(manager: AlertManager, body: Any, policy_id: str | None = None) -> EscalationPolicy:
    """Create (``policy_id`` None) or replace a policy."""
    new = parse_policy(body, policy_id or _chosen_id(body))
    now = iso(manager.clock()) or ""
    with manager._change() as (tx, _):
        exists = any(p.id == new.id for p in tx.policies())
        if policy_id is None and exists:
            raise AlreadyExists(f"escalation policy {new.id} already exists")
        if policy_id is not None and not exists:
            raise ResourceNotFound(f"escalation policy {policy_id} not found")
        tx.put_policy(new, now, create=policy_id is None)
    return new


def delete_policy(manager: AlertManager, policy_id: str) -> None:
    policy(manager, policy_id)
    with manager._change() as (tx, _):
        tx.delete_policy(policy_id)


# -- channels --------------------------------------------------------------------------------------


def channels(manager: AlertManager) -> list[Channel]:
    with manager.tables.read() as tx:
        return tx.channels()


def channel(manager: AlertManager, channel_id: str) -> Channel:
    found = next((c for c in channels(manager) if c.id == channel_id), None)
    if found is None:
        raise ResourceNotFound(f"channel {channel_id} not found")
    return found


def channel_view(manager: AlertManager, c: Channel) -> dict[str, Any]:
    with manager.tables.read() as tx:
        counts = tx.delivery_counts().get(c.id, {})
    return {**c.view(), "deliveries": {s: counts.get(s, 0) for s in ("pending", "sent", "failed")}}


def put_channel(manager: AlertManager, body: Any, channel_id: str | None = None) -> Channel:
    new = parse_channel(body, channel_id or _chosen_id(body))
    now = iso(manager.clock()) or ""
    with manager._change() as (tx, _):
        exists = any(c.id == new.id for c in tx.channels())
        if channel_id is None and exists:
            raise AlreadyExists(f"channel {new.id} already exists")
        if channel_id is not None and not exists:
            raise ResourceNotFound(f"channel {channel_id} not found")
        tx.put_channel(new, now, create=channel_id is None)
    return new


def delete_channel(manager: AlertManager, channel_id: str) -> None:
    channel(manager, channel_id)
    with manager._change() as (tx, _):
        tx.delete_channel(channel_id)


def deliveries(manager: AlertManager, channel_id: str, limit: int) -> list[dict[str, Any]]:
    channel(manager, channel_id)
    with manager.tables.read() as tx:
        return [d.view() for d in tx.deliveries(channel_id, limit)]


# -- the demo's start-up set ------------------------------------------------------------------------


def demo_document() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("demo.yaml").read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def load_demo(manager: AlertManager, settings: Settings, document: dict[str, Any] | None = None) -> bool:
    """Create the demo's channels and policies when the tenant has none yet; whether it did."""
    if policies(manager) or channels(manager):
        return False
    document = document or demo_document()
    made: set[str] = set()
    for raw in document.get("channels", []):
        raw = dict(raw)
        setting = raw.pop("when", None)
        value = getattr(settings, setting, "") if isinstance(setting, str) else ""
        if setting is not None and not value:
            continue
        raw["target"] = str(raw["target"]).replace("{mqtt_url}", settings.mqtt_url.rstrip("/"))
        made.add(put_channel(manager, raw).id)
    for raw in document.get("escalation_policies", []):
        raw = dict(raw)
        raw["levels"] = [{**lv, "channels": [c for c in lv.get("channels", []) if c in made]} for lv in raw["levels"]]
        put_policy(manager, raw)
    log.info("loaded the demo alert configuration (%d channels)", len(made))
    return True
