"""A small in-process cache of resolved principals, so a busy credential costs no database read per request.

Entries are keyed by the SHA-256 of the presented secret (never the secret), live ``ttl`` at most and never past the
credential's own expiry, and the least recently used go first beyond ``max_size``. A revocation or a change made in
this process drops the affected entries at once; **other processes keep serving a cached principal for up to
``ttl``** after a revocation made elsewhere (a few seconds), which is the price of not reading the database on every
request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from smartcity.security.principal import Principal


class PrincipalCache:
    def __init__(self, ttl: timedelta = timedelta(seconds=5), max_size: int = 4096) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._entries: OrderedDict[str, tuple[Principal, datetime]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl > timedelta(0) and self.max_size > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str, now: datetime) -> Principal | None:
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            principal, until = entry
            if now >= until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return principal

    def put(self, key: str, principal: Principal, now: datetime, expires_at: datetime | None = None) -> None:
        """Remember ``principal`` until ``ttl`` from ``now``, or the credential's ``expires_at`` if sooner."""
        if not self.enabled:
            return
        until = now + self.ttl
        if expires_at is not None and expires_at < until:
            until = expires_at
        with self._lock:
            self._entries[key] = (principal, until)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    def drop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def drop_credential(self, kind: str, credential_id: str) -> int:
        """Forget every entry of one credential (a user's sessions, a client's tokens, a key); returns how many."""
        with self._lock:
            stale = [
                key
                for key, (principal, _) in self._entries.items()
                if principal.kind == kind and principal.credential_id == credential_id
            ]
            for key in stale:
                del self._entries[key]
        return len(stale)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
