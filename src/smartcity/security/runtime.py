"""The security pillar as the running app sees it: credentials, the security log, the rate limits, the mode."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from fastapi import FastAPI
from starlette.requests import HTTPConnection

from smartcity.hub.store import Store
from smartcity.security.audit import AuditRecord, SecurityEvent, SecurityLog
from smartcity.security.credentials import Credentials
from smartcity.security.principal import Principal
from smartcity.security.ratelimit import TokenBuckets
from smartcity.settings import Settings

log = logging.getLogger(__name__)

#: a rate-limit event per key at most this often (a flood must not flood the security log too)
EVENT_EVERY = 10.0


@dataclass
class SecurityRuntime:
    settings: Settings
    credentials: Credentials
    log: SecurityLog
    per_credential: TokenBuckets
    per_address: TokenBuckets
    sign_in: TokenBuckets
    inline: bool
    _last_limit_event: dict[str, float] = field(default_factory=dict)

    @property
    def open_hub(self) -> bool:
        return self.settings.open_hub

    def record(self, record: AuditRecord) -> None:
        self.log.record(record)

    def emit(self, event: SecurityEvent) -> None:
        self.log.emit(event)

    def limited(self, key: str) -> bool:
        """Whether a rate-limit event for ``key`` is due (at most one per :data:`EVENT_EVERY` seconds)."""
        now = time.monotonic()
        last = self._last_limit_event.get(key)
        if last is not None and now - last < EVENT_EVERY:
            return False
        if len(self._last_limit_event) > 10_000:
            self._last_limit_event.clear()
        self._last_limit_event[key] = now
        return True


def build(settings: Settings, store: Store) -> SecurityRuntime:
    key = settings.audit_key.encode() if settings.audit_key else None
    credentials = Credentials.from_settings(store, settings)
    address_rate = settings.rate_limit_address
    return SecurityRuntime(
        settings=settings,
        credentials=credentials,
        log=SecurityLog(store, key),
        per_credential=TokenBuckets(settings.rate_limit, settings.rate_limit * 2),
        per_address=TokenBuckets(address_rate, address_rate * 2),
        # password and client-secret guessing from one address: 1 a second, 10 at once
        sign_in=TokenBuckets(1.0 if address_rate else 0.0, 10.0),
        inline=store.dialect.name == "sqlite",
    )


def runtime_of(app: FastAPI) -> SecurityRuntime:
    runtime: SecurityRuntime = app.state.security
    return runtime


def principal_of(conn: HTTPConnection) -> Principal:
    principal: Principal = conn.state.principal
    return principal
