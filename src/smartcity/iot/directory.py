"""Who sends a message: (API key, device id) -> the device's compiled :class:`~smartcity.iot.binding.Binding`.

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
from smartcity.iot.model import DEFAULT_SERVICE_PATH, speaks_ultralight
from smartcity.iot.outcome import UNKNOWN_APIKEY, UNKNOWN_DEVICE
from smartcity.iot.values import WrongType

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (apikey, device_id)

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
        self._version = -1
        self._checked = 0.0
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Forget everything (after a provisioning change)."""
        with self._lock:
            self._bindings = {}
            self._unknown = {}
            self._hints = {}
            self._checked = 0.0

    def hint(self, apikey: str, device_id: str) -> bool | None:
        """Whether the device speaks UltraLight on the plain topics, from the cache only (any thread)."""
        binding = self._bindings.get((apikey, device_id))
        if binding is not None:
            return binding.ultralight
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
            devices, groups = registry.southbound_rows(db, misses)
        out: dict[Key, Resolution] = {}
        with self._lock:
            if len(self._bindings) + len(misses) > MAX_ENTRIES:
                self._bindings = {}
            for apikey, (_, group) in groups.items():
                self._hints[apikey] = speaks_ultralight(group.protocol, group.resource)
            for key in misses:
                entry = devices.get(key)
                group_entry = groups.get(key[0])
                if entry is None:
                    if group_entry is None:
                        unknown = Unresolved(UNKNOWN_APIKEY)
                    else:
                        unknown = Unresolved(UNKNOWN_DEVICE, group_entry[0], group_entry[1].scope.service_path)
                    self._unknown[key] = (now + NEGATIVE_TTL, unknown)
                    out[key] = unknown
                    continue
                tenant, device = entry
                own_group = group_entry[1] if group_entry is not None and group_entry[0] == tenant else None
                try:
                    binding = compile_binding(tenant, own_group, device, self.expand)
                except WrongType as exc:  # provisioned before a check existed: refuse its messages, loudly
                    log.error("device %s (apikey %s) cannot be mapped: %s", key[1], key[0], exc)
                    out[key] = Unresolved(UNKNOWN_DEVICE, tenant, device.scope.service_path)
                    continue
                self._bindings[key] = binding
                out[key] = binding
        return out
