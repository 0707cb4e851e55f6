"""Commands to devices, as the FIWARE IoT Agents (JSON, UltraLight 2.0) carry them: what triggers them, where
they wait, and their wire formats.

A device provisioned with ``commands: [{"name": "ping", "type": "command"}]`` (or whose group has them) gets three
attributes on its entity: ``ping`` (the command), ``ping_status`` and ``ping_info``. An NGSI-LD client triggers the
command by updating ``ping`` (``PATCH /ngsi-ld/v1/entities/{id}/attrs``, a batch update ...): the
:class:`CommandHook`, one of the store's write hooks, sees the change inside the write transaction and queues the
command in ``iot_commands`` there, so it is durable exactly when the update is. After the commit the dispatcher
(:mod:`.dispatch`) sends it and keeps ``ping_status`` (``PENDING``, ``OK``, ``ERROR``, ``EXPIRED``) and
``ping_info`` (the result) up to date.

The agent's own writes of these attributes run under :func:`quiet`, so they never trigger a command.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from smartcity.hub.errors import NonexistentTenant, ResourceNotFound
from smartcity.hub.model import Entity, Instance
from smartcity.hub.service import Hub
from smartcity.hub.store.changes import Change, WriteContext
from smartcity.hub.store.sql import Db
from smartcity.iot import registry
from smartcity.iot.binding import Expand
from smartcity.iot.model import Command, device_commands, protocol_resource, select_group

log = logging.getLogger(__name__)

MQTT = "mqtt"
HTTP = "http"
QUEUED, SENT, DONE = "queued", "sent", "done"
PENDING, OK, ERROR, EXPIRED, UNKNOWN = "PENDING", "OK", "ERROR", "EXPIRED", "UNKNOWN"
STATUS_SUFFIX, INFO_SUFFIX = "_status", "_info"
#: seconds between checks of the registry version by the hook
REFRESH = 1.0

_local = threading.local()


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The agent's own writes of command attributes (on this thread): they trigger nothing."""
    before = getattr(_local, "quiet", False)
    _local.quiet = True
    try:
        yield
    finally:
        _local.quiet = before


def now_micros() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Target:
    """A device that takes commands: its entity, and the IRI of each command attribute -> the command's name."""

    tenant: str
    entity_id: str
    apikey: str
    device_id: str
    transport: str  # MQTT or HTTP
    commands: Mapping[str, str]


def transport_of(transport: str | None, endpoint: str | None) -> str:
    """MQTT unless the device (or group) says HTTP, or has an ``endpoint`` and no transport."""
    if transport:
        return HTTP if transport.strip().upper() == "HTTP" else MQTT
    return HTTP if endpoint else MQTT


def command_attrs(commands: Sequence[Command], expand: Expand, *, with_command: bool) -> dict[str, list[Instance]]:
    """The attributes a device's commands add to its entity (status ``UNKNOWN`` until one is sent)."""
    attrs: dict[str, list[Instance]] = {}
    for command in commands:
        if with_command:
            attrs[expand(command.name)] = [{"type": "Property", "value": ""}]
        attrs[expand(command.name + STATUS_SUFFIX)] = [{"type": "Property", "value": UNKNOWN}]
        attrs[expand(command.name + INFO_SUFFIX)] = [{"type": "Property", "value": ""}]
    return attrs


def status_attrs(name: str, status: str, info: Any, expand: Expand) -> dict[str, list[Instance]]:
    attrs: dict[str, list[Instance]] = {expand(name + STATUS_SUFFIX): [{"type": "Property", "value": status}]}
    if info is not None:
        attrs[expand(name + INFO_SUFFIX)] = [{"type": "Property", "value": info}]
    return attrs


def ensure_attrs(hub: Hub, tenant: str, entity: Entity) -> None:
    """Add the command attributes a device's entity lacks (creating the entity when needed), quietly."""
    with quiet():
        try:
            current = hub.get_entity(tenant, entity.id)
        except (ResourceNotFound, NonexistentTenant):
            hub.batch_upsert(tenant, [entity], update=True)
            return
        missing = {name: inst for name, inst in entity.attrs.items() if name not in current.attrs}
        if missing:
            hub.append_attrs(tenant, entity.id, missing, no_overwrite=True)


# -- the table -----------------------------------------------------------------------------------------


def queue(db: Db, tenant_id: int, target: Target, name: str, value: Any) -> None:
    db.run(
        "INSERT INTO iot_commands (tenant_id, entity_id, apikey, device_id, name, value, transport, state, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            tenant_id,
            target.entity_id,
            target.apikey,
            target.device_id,
            name,
            orjson.dumps(value).decode(),
            target.transport,
            QUEUED,
            now_micros(),
        ],
    )


@dataclass(frozen=True)
class Row:
    id: int
    tenant_id: int
    entity_id: str
    apikey: str
    device_id: str
    name: str
    value: Any
    transport: str


_ROW = "id, tenant_id, entity_id, apikey, device_id, name, value, transport"


def _rows(found: list[Any]) -> list[Row]:
    return [Row(r[0], r[1], r[2], r[3], r[4], r[5], orjson.loads(r[6]), r[7]) for r in found]


def claim(db: Db, transports: Sequence[str], timeout: float, limit: int = 100) -> list[Row]:
    """Queued commands this process can send, marked sent (they expire ``timeout`` seconds from now)."""
    in_sql, params = db.dialect.in_list("transport", list(transports))
    rows = db.run(
        f"SELECT id FROM iot_commands WHERE state = ? AND {in_sql} ORDER BY id LIMIT ?",  # noqa: S608 - fixed SQL
        [QUEUED, *params, limit],
    ).fetchall()
    if not rows:
        return []
    now = now_micros()
    in_ids, ids = db.dialect.in_list("id", [r[0] for r in rows])
    return _rows(
        db.run(
            f"UPDATE iot_commands SET state = ?, sent_at = ?, expires_at = ? WHERE state = ? AND {in_ids} "  # noqa: S608
            f"RETURNING {_ROW}",
            [SENT, now, now + int(timeout * 1_000_000), QUEUED, *ids],
        ).fetchall()
    )


def expired(db: Db) -> list[Row]:
    """Sent commands past their time, marked done."""
    return _rows(
        db.run(
            f"UPDATE iot_commands SET state = ? WHERE state = ? AND expires_at < ? RETURNING {_ROW}",  # noqa: S608
            [DONE, SENT, now_micros()],
        ).fetchall()
    )


def finish(db: Db, apikey: str, device_id: str, name: str) -> bool:
    """A device's answer: its oldest sent command of that name is done; False when none was waiting."""
    row = db.run(
        "SELECT id FROM iot_commands WHERE apikey = ? AND device_id = ? AND name = ? AND state = ? ORDER BY id",
        [apikey, device_id, name, SENT],
    ).fetchone()
    if row is None:
        return False
    db.run("UPDATE iot_commands SET state = ? WHERE id = ?", [DONE, row[0]])
    return True


def finish_row(db: Db, row_id: int) -> None:
    db.run("UPDATE iot_commands SET state = ? WHERE id = ?", [DONE, row_id])


def prune(db: Db, keep: int = 100_000) -> None:
    """Forget the oldest finished commands beyond ``keep``."""
    top = db.run("SELECT max(id) FROM iot_commands").fetchone()
    if top is not None and top[0] is not None and int(top[0]) > keep:
        db.run("DELETE FROM iot_commands WHERE state = ? AND id < ?", [DONE, int(top[0]) - keep])


# -- the hook ------------------------------------------------------------------------------------------


class CommandHook:
    """A write hook: an update of a command attribute of a device's entity queues the command."""

    def __init__(self, expand: Expand, wake: Callable[[], None]) -> None:
        self.expand = expand
        self.wake = wake
        self._targets: dict[str, dict[str, Target]] = {}  # tenant -> entity id -> target
        self._version = -1
        self._checked = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        with self._lock:
            self._checked = 0.0
            self._version = -1

    def _index(self, db: Db) -> dict[str, dict[str, Target]]:
        now = time.monotonic()
        if now - self._checked < REFRESH:
            return self._targets
        with self._lock:
            current = registry.version(db)
            if current != self._version:
                self._targets = load_targets(db, self.expand)
                self._version = current
            self._checked = now
            return self._targets

    def __call__(self, context: WriteContext, changes: Sequence[Change]) -> None:
        if getattr(_local, "quiet", False):
            return
        targets = self._index(context.db).get(context.tenant)
        if not targets:
            return
        queued = 0
        for change in changes:
            target = targets.get(change.entity_id)
            if target is None or change.kind != "update" or change.before is None or change.after is None:
                continue
            for iri, name in target.commands.items():
                after = change.after.attrs.get(iri)
                if after and after != change.before.attrs.get(iri):
                    value = after[0].get("value", after[0].get("object"))
                    queue(context.db, context.tenant_id, target, name, value)
                    queued += 1
        if queued:
            context.db.after_commit(self.wake)


def load_targets(db: Db, expand: Expand) -> dict[str, dict[str, Target]]:
    """Every device that takes commands, by tenant and entity id."""
    out: dict[str, dict[str, Target]] = {}
    for tenant, device, groups in registry.command_devices(db):
        own = select_group(groups, protocol_resource(device.protocol))
        commands = device_commands(device, own)
        if not commands:
            continue
        endpoint = device.extra.get("endpoint") or (own.extra.get("endpoint") if own else None)
        transport = transport_of(device.transport or (own.transport if own else None), endpoint)
        target = Target(
            tenant,
            device.entity_name,
            device.apikey,
            device.device_id,
            transport,
            {expand(c.name): c.name for c in commands},
        )
        out.setdefault(tenant, {})[device.entity_name] = target
    return out
