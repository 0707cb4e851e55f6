"""Who sends a message: (API key, device id, resource) -> the device's compiled
:class:`~smartcity.iot.binding.Binding`.

The resource picks the config group among those sharing the API key (:func:`~smartcity.iot.model.select_group`).
A device that is not provisioned, under a group whose ``autoprovision`` is not false, is *autoprovisioned*: its
binding is built from the group (entity ``urn:ngsi-ld:<entity_type>:<device_id>``) and the writer registers the
device with its first written measure, as FIWARE does.

Bindings are cached in memory; a miss costs one query for all the misses of a batch. Unknown keys are cached
too, for a few seconds, so a flood from an unprovisioned device does not query the registry on every message.
Every provisioning change bumps ``iot_registry.version``; each process checks it at most once a second and
drops its cache when it moved (the process that made the change drops it at once).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from smartcity.hub.store import DEFAULT_TENANT, Store
from smartcity.iot import registry
from smartcity.iot.binding import Binding, Expand, compile_binding
from smartcity.iot.errors import IotError
from smartcity.iot.model import (
    DEFAULT_SERVICE_PATH,
    ConfigGroup,
    Device,
    Scope,
    protocol_resource,
    select_group,
    speaks_ultralight,
)
from smartcity.iot.outcome import UNKNOWN_APIKEY, UNKNOWN_DEVICE
from smartcity.iot.provisioning import check_identifier, entity_id_for
from smartcity.iot.values import WrongType

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (apikey, device_id, resource)

#: seconds between checks of the registry version
REFRESH = 1.0
#: seconds an unknown key stays known as unknown
NEGATIVE_TTL = 5.0
#: cached bindings at most (the cache is emptied when it is full)
MAX_ENTRIES = 200_000


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A key the registry does not know: the reason, and the service of its API key's group when known."""

    reason: str
    tenant: str = DEFAULT_TENANT
    service_path: str = DEFAULT_SERVICE_PATH


Resolution = Binding | Unresolved


class Directory:
    def __init__(self, store: Store, expand: Expand) -> None:
        self.store = store
        self.expand = expand
        self._bindings: dict[Key, Binding] = {}
        self._unknown: dict[Key, tuple[float, Unresolved]] = {}
        self._hints: dict[str, bool | None] = {}  # apikey -> how its group's devices encode plain-topic messages
        self._device_hints: dict[tuple[str, str], bool | None] = {}
        self._version = -1
        self._checked = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Forget everything (after a provisioning change)."""
        with self._lock:
            self._bindings = {}
            self._unknown = {}
            self._hints = {}
            self._device_hints = {}
            self._checked = 0.0

    def hint(self, apikey: str, device_id: str) -> bool | None:
        """Whether the device speaks UltraLight on the plain topics, from the cache only (any thread)."""
        if (apikey, device_id) in self._device_hints:
            return self._device_hints[(apikey, device_id)]
        return self._hints.get(apikey)

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < REFRESH:
            return
        with self.store.transaction(write=False) as db:
            current = registry.version(db)
        self._checked = now
        if current != self._version:
            with self._lock:
                self._bindings = {}
                self._unknown = {}
                self._hints = {}
                self._device_hints = {}
                self._version = current

    def resolve(self, keys: Iterable[Key]) -> dict[Key, Resolution]:
        """The binding of each key, or why there is none (blocking: call from a thread on PostgreSQL)."""
        self._refresh()
        now = time.monotonic()
        found: dict[Key, Resolution] = {}
        misses: list[Key] = []
        for key in set(keys):
            binding = self._bindings.get(key)
            if binding is not None:
                found[key] = binding
                continue
            unknown = self._unknown.get(key)
            if unknown is not None and unknown[0] > now:
                found[key] = unknown[1]
                continue
            misses.append(key)
        if misses:
            found.update(self._load(misses, now))
        return found

    def _load(self, misses: list[Key], now: float) -> dict[Key, Resolution]:
        with self.store.transaction(write=False) as db:
            devices, groups = registry.southbound_rows(db, [(k[0], k[1]) for k in misses])
        out: dict[Key, Resolution] = {}
        with self._lock:
            if len(self._bindings) + len(misses) > MAX_ENTRIES:
                self._bindings = {}
                self._device_hints = {}
            for apikey, entries in groups.items():
                hints = {speaks_ultralight(group.protocol, group.resource) for _, group in entries}
                self._hints[apikey] = hints.pop() if len(hints) == 1 else None
            for key in misses:
                apikey, device_id, resource = key
                entry = devices.get((apikey, device_id))
                candidates = groups.get(apikey, [])
                if entry is None:
                    found = self._unprovisioned(key, candidates)
                    if isinstance(found, Unresolved):
                        self._unknown[key] = (now + NEGATIVE_TTL, found)
                    else:
                        self._bindings[key] = found
                    out[key] = found
                    continue
                tenant, device = entry
                own = [group for group_tenant, group in candidates if group_tenant == tenant]
                group = select_group(own, resource or protocol_resource(device.protocol))
                try:
                    binding = compile_binding(tenant, group, device, self.expand)
                except WrongType as exc:  # provisioned before a check existed: refuse its messages, loudly
                    log.error("device %s (apikey %s) cannot be mapped: %s", device_id, apikey, exc)
                    out[key] = Unresolved(UNKNOWN_DEVICE, tenant, device.scope.service_path)
                    continue
                self._bindings[key] = binding
                self._device_hints[(apikey, device_id)] = binding.ultralight
                out[key] = binding
        return out

    def _unprovisioned(self, key: Key, candidates: list[tuple[str, ConfigGroup]]) -> Resolution:
        """A device the registry does not hold: autoprovisioned from its group, or why not."""
        apikey, device_id, resource = key
        chosen = select_group([group for _, group in candidates], resource)
        if chosen is None:
            return Unresolved(UNKNOWN_APIKEY)
        tenant = next(t for t, group in candidates if group is chosen)
        refused = Unresolved(UNKNOWN_DEVICE, tenant, chosen.scope.service_path)
        if not chosen.autoprovision:
            return refused
        try:
            device = autoprovisioned(chosen, device_id)
            return compile_binding(tenant, chosen, device, self.expand, provisional=device)
        except (IotError, WrongType) as exc:
            log.warning("device %r (apikey %r) cannot be autoprovisioned: %s", device_id, apikey, exc)
            return refused


def autoprovisioned(group: ConfigGroup, device_id: str) -> Device:
    """The device FIWARE creates for a measure of an unknown device: empty, with the group's API key and entity
    type (the group's attributes apply through it), entity ``urn:ngsi-ld:<entity_type>:<device_id>``."""
    check_identifier(device_id, "device_id")
    return Device(
        scope=Scope(group.scope.tenant, group.scope.service_path),
        device_id=device_id,
        apikey=group.apikey,
        entity_name=entity_id_for(None, group.entity_type, device_id),
        entity_type=group.entity_type,
    )
