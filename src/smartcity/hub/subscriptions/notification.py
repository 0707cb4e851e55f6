"""Notifications (clause 5.3.1) rendered when their subscription fires and queued in ``notification_outbox``.

The body is rendered at once, in the transaction of the change, with the subscription's @context and format;
the deliverer (:mod:`smartcity.hub.notify`) only sends what the outbox holds.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import orjson

from smartcity.hub.api.negotiation import CONTEXT_REL, JSONLD, TENANT_HEADER, body_context, context_link
from smartcity.hub.model import INSTANCE_KEYS, NGSI_NULL, PROPERTY, RELATIONSHIP, Entity, micros_to_iso
from smartcity.hub.notify import wakeup
from smartcity.hub.payload import compact_entity
from smartcity.hub.store.sql import Db
from smartcity.hub.subscriptions.compiled import CompiledSubscription

#: at most this many entities in one notification; more go out in several
MAX_DATA = 100

_random = random.SystemRandom()
_ids = random.Random(_random.getrandbits(64))  # seeded once from the OS: uuid4 per notification costs ~10 µs


def notification_id() -> str:
    """``urn:ngsi-ld:Notification:`` and a random version-4 UUID."""
    bits = (_ids.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)
    text = f"{bits:032x}"
    return f"urn:ngsi-ld:Notification:{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def render_entity(sub: CompiledSubscription, entity: Entity, deleted: Sequence[str] = (), at: str = "") -> Any:
    """The entity as the subscription shows it: picked attributes, format, @context.

    ``deleted`` names attributes the change removed: they appear with the null value and ``deletedAt``.
    """
    shown = entity
    if deleted:
        shown = entity.copy()
        for name in deleted:
            shown.attrs[name] = [{"type": PROPERTY, "value": NGSI_NULL, "deletedAt": at}]
    pick = set(sub.pick) if sub.pick is not None else None
    key_values = sub.format == "keyValues"
    out = compact_entity(shown, sub.ctx, key_values=key_values, sys_attrs=sub.sys_attrs, pick=pick, lang=sub.lang)
    for name in deleted:
        short = sub.ctx.compact_iri(name)
        if not key_values and isinstance(out.get(short), dict):
            out[short]["deletedAt"] = at
    if sub.format == "concise":
        return {k: (v if k in ("id", "type", "createdAt", "modifiedAt") else _concise(v)) for k, v in out.items()}
    return out


def render_deleted_entity(sub: CompiledSubscription, entity: Entity, at: str) -> dict[str, Any]:
    """A deleted entity in a notification: its id, type and deletion time."""
    types = [sub.ctx.compact_iri(t) for t in entity.types]
    return {"id": entity.id, "type": types[0] if len(types) == 1 else types, "deletedAt": at}


def _concise(value: Any) -> Any:
    """A normalized attribute (one instance or several) in concise form (clause 4.5.1.2)."""
    if isinstance(value, list):
        return [_concise_instance(v) if isinstance(v, dict) else v for v in value]
    return _concise_instance(value) if isinstance(value, dict) else value


def _concise_instance(inst: dict[str, Any]) -> Any:
    kind = inst.get("type")
    out: dict[str, Any] = {}
    for key, item in inst.items():
        if key == "type":
            continue
        out[key] = item if key in INSTANCE_KEYS or not isinstance(item, dict) else _concise_instance(item)
    if kind == RELATIONSHIP or set(out) != {"value"}:
        return out
    value = out["value"]
    if kind == "GeoProperty" or not isinstance(value, dict | list):
        return value  # a bare value (or a bare GeoJSON geometry for a GeoProperty)
    return out


def headers_of(sub: CompiledSubscription, tenant: str) -> dict[str, str]:
    headers = {"Content-Type": sub.endpoint.accept}
    if sub.endpoint.accept != JSONLD:
        if sub.link_context is not None:
            headers["Link"] = f'<{sub.link_context}>; rel="{CONTEXT_REL}"; type="{JSONLD}"'
        else:
            headers["Link"] = context_link(sub.ctx)
    if tenant:
        headers[TENANT_HEADER] = tenant
    for key, value in sub.endpoint.receiver_info:
        headers[key] = value
    if sub.endpoint.uri.startswith(("mqtt://", "mqtts://")):
        # the MQTT sender reads its options (MQTT-QoS, MQTT-Version) from here and keeps them out of the metadata
        for key, value in sub.endpoint.notifier_info:
            headers[key] = value
    return headers


def body_of(sub: CompiledSubscription, data: list[Any], now: int) -> bytes:
    body: dict[str, Any] = {}
    if sub.endpoint.accept == JSONLD:
        body["@context"] = sub.link_context if sub.link_context is not None else body_context(sub.ctx)
    body.update(
        {
            "id": notification_id(),
            "type": "Notification",
            "subscriptionId": sub.id,
            "notifiedAt": micros_to_iso(now),
            "data": data,
        }
    )
    return orjson.dumps(body)


def enqueue(db: Db, sub: CompiledSubscription, tenant: str, data: list[Any], now: int) -> int:
    """Queue notifications carrying ``data`` (in chunks of :data:`MAX_DATA`); returns how many were queued."""
    if not data:
        return 0
    headers = orjson.dumps(headers_of(sub, tenant)).decode()
    rows = [
        (sub.tenant_id, sub.id, sub.endpoint.uri, headers, body_of(sub, data[i : i + MAX_DATA], now), now, now, 0)
        for i in range(0, len(data), MAX_DATA)
    ]
    db.many(
        "INSERT INTO notification_outbox (tenant_id, subscription_id, endpoint, headers, body, created_at, due_at, "
        "attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def signal() -> None:
    """Tell this process's deliverer that the outbox has new rows (it also polls, for other processes)."""
    wakeup.outbox.set()
