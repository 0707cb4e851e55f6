"""Credentials of programs: OAuth2 client-credentials applications (with their bearer tokens) and API keys.

Their secrets are 32 random bytes, stored as SHA-256 and compared in constant time; resolving one is a single
indexed lookup, cached briefly in this process (see :mod:`.principal_cache`), and writes ``last_used_at`` at most
once a minute per credential. :class:`~smartcity.security.credentials.Credentials` builds on this class.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from smartcity.hub.store import Store
from smartcity.hub.store.sql import Db
from smartcity.security.credential_rules import (
    CredentialError,
    department_for,
    dump_tenants,
    from_micros,
    label,
    load_tenants,
    micros_of,
    role_of,
    tenants_for,
    to_micros,
)
from smartcity.security.principal import Principal
from smartcity.security.principal_cache import PrincipalCache
from smartcity.security.roles import Role
from smartcity.security.tokens import (
    hash_matches,
    hash_secret,
    is_access_token,
    is_client_secret,
    is_public_id,
    new_access_token,
    new_api_key,
    new_client_secret,
    new_id,
    parse_api_key,
)

log = logging.getLogger(__name__)

#: how often at most a session's last_seen_at, or a client's or key's last_used_at, is written
TOUCH_INTERVAL = timedelta(minutes=1)
#: compared against when a client id is unknown, so that answer takes as long as a wrong secret
_NO_HASH = hash_secret("no such client")
_CLIENT_REVOKED = "SELECT revoked FROM oauth_clients WHERE client_id = ?"
_KEY_REVOKED = "SELECT revoked FROM api_keys WHERE id = ?"


def utc_now() -> datetime:
    return datetime.now(UTC)


def stale(last: int | None, now: datetime) -> bool:
    """Whether a last-seen time (stored microseconds) is old enough to be written again."""
    return last is None or to_micros(now) - last >= micros_of(TOUCH_INTERVAL)


@dataclass(frozen=True)
class ClientInfo:
    client_id: str
    name: str
    role: Role
    department: str | None
    tenants: frozenset[str] | None
    revoked: bool
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    name: str
    role: Role
    department: str | None
    tenants: frozenset[str] | None
    revoked: bool
    created_at: datetime
    last_used_at: datetime | None


class MachineCredentials:
    """OAuth2 clients, their access tokens, and API keys."""

    def __init__(
        self,
        store: Store,
        *,
        token_ttl: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] = utc_now,
        cache: PrincipalCache | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._cache = cache if cache is not None else PrincipalCache()
        self.token_ttl = token_ttl

    def clear_cache(self) -> None:
        """Forget every cached principal of this process (the next resolution of each reads the database)."""
        self._cache.clear()

    def _now(self) -> datetime:
        moment = self._clock()
        if moment.tzinfo is None:
            raise ValueError("the credentials clock must return timezone-aware times")
        return moment

    # -- OAuth2 client credentials -----------------------------------------------------------------

    def create_client(
        self,
        name: str,
        role: Role | str,
        *,
        department: str | None = None,
        tenants: Iterable[str] | None = ("",),
    ) -> tuple[ClientInfo, str]:
        """A new application: its description and its client secret (shown once)."""
        title, chosen, dept, scope = _scoping(name, role, department, tenants)
        client_id, secret = new_id(), new_client_secret()
        now = self._now()
        with self._store.transaction(write=True) as db:
            db.run(
                "INSERT INTO oauth_clients (client_id, name, secret_hash, role, department, tenants, revoked, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                [client_id, title, hash_secret(secret), chosen.value, dept, dump_tenants(scope), to_micros(now)],
            )
        log.info("created OAuth2 client %s (%s) with role %s", client_id, title, chosen.value)
        return ClientInfo(client_id, title, chosen, dept, scope, False, now, None), secret

    def list_clients(self) -> list[ClientInfo]:
        with self._store.transaction(write=False) as db:
            rows = db.run(
                "SELECT client_id, name, role, department, tenants, revoked, created_at, last_used_at "
                "FROM oauth_clients ORDER BY created_at, client_id"
            ).fetchall()
        return [ClientInfo(*_info(row)) for row in rows]

    def revoke_client(self, client_id: str) -> ClientInfo:
        """Revoke an application for good; its access tokens stop working (elsewhere: within the cache TTL)."""
        with self._store.transaction(write=True) as db:
            if not is_public_id(client_id) or _revoked(db, _CLIENT_REVOKED, client_id) is None:
                raise CredentialError(f"no client {client_id!r}")
            db.run("UPDATE oauth_clients SET revoked = 1 WHERE client_id = ?", [client_id])
            db.run("DELETE FROM access_tokens WHERE client_id = ?", [client_id])
            row = db.run(
                "SELECT client_id, name, role, department, tenants, revoked, created_at, last_used_at "
                "FROM oauth_clients WHERE client_id = ?",
                [client_id],
            ).fetchone()
        info = ClientInfo(*_info(row))
        self._cache.drop_credential("client", client_id)
        log.info("revoked OAuth2 client %s and its tokens", client_id)
        return info

    def issue_token(self, client_id: str, secret: str) -> tuple[str, int] | None:
        """An access token and its lifetime in seconds, or None for a bad id or secret or a revoked client."""
        if not is_public_id(client_id) or not is_client_secret(secret):
            return None
        with self._store.transaction(write=False) as db:
            row = db.run("SELECT secret_hash, revoked FROM oauth_clients WHERE client_id = ?", [client_id]).fetchone()
        good = hash_matches(secret, _NO_HASH if row is None else row[0])
        if row is None or not good or row[1]:
            log.info("refused an access token to client %s", client_id if row is not None else "(unknown)")
            return None
        token = new_access_token()
        now = self._now()
        with self._store.transaction(write=True) as db:
            if _revoked(db, _CLIENT_REVOKED, client_id) is not False:
                return None  # revoked meanwhile
            db.run("DELETE FROM access_tokens WHERE expires_at <= ?", [to_micros(now)])
            db.run(
                "INSERT INTO access_tokens (token_hash, client_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
                [hash_secret(token), client_id, to_micros(now + self.token_ttl), to_micros(now)],
            )
            db.run("UPDATE oauth_clients SET last_used_at = ? WHERE client_id = ?", [to_micros(now), client_id])
        log.info("issued an access token to client %s", client_id)
        return token, int(self.token_ttl.total_seconds())

    def resolve_token(self, token: str) -> Principal | None:
        """The application behind a bearer access token, or None (unknown, expired, revoked)."""
        if not is_access_token(token):
            return None
        token_hash = hash_secret(token)
        key = "client:" + token_hash
        now = self._now()
        cached = self._cache.get(key, now)
        if cached is not None:
            return cached
        with self._store.transaction(write=False) as db:
            row = db.run(
                "SELECT t.expires_at, c.client_id, c.role, c.department, c.tenants, c.revoked, c.last_used_at "
                "FROM access_tokens t JOIN oauth_clients c ON c.client_id = t.client_id WHERE t.token_hash = ?",
                [token_hash],
            ).fetchone()
        if row is None or row[5] or row[0] <= to_micros(now):
            return None
        expires_at, client_id, role, department, tenants, _, last_used = row
        if stale(last_used, now):
            self._touch("UPDATE oauth_clients SET last_used_at = ? WHERE client_id = ?", client_id, now)
        principal = Principal(
            subject=f"client:{client_id}",
            kind="client",
            role=Role(role),
            tenants=load_tenants(tenants),
            department=department,
            credential_id=client_id,
        )
        self._cache.put(key, principal, now, from_micros(expires_at))
        return principal

    # -- API keys ----------------------------------------------------------------------------------

    def create_api_key(
        self,
        name: str,
        role: Role | str,
        *,
        department: str | None = None,
        tenants: Iterable[str] | None = ("",),
    ) -> tuple[ApiKeyInfo, str]:
        """A new API key: its description and the key itself (shown once)."""
        title, chosen, dept, scope = _scoping(name, role, department, tenants)
        key_id, secret, key = new_api_key()
        now = self._now()
        with self._store.transaction(write=True) as db:
            db.run(
                "INSERT INTO api_keys (id, name, secret_hash, role, department, tenants, revoked, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                [key_id, title, hash_secret(secret), chosen.value, dept, dump_tenants(scope), to_micros(now)],
            )
        log.info("created API key %s (%s) with role %s", key_id, title, chosen.value)
        return ApiKeyInfo(key_id, title, chosen, dept, scope, False, now, None), key

    def list_api_keys(self) -> list[ApiKeyInfo]:
        with self._store.transaction(write=False) as db:
            rows = db.run(
                "SELECT id, name, role, department, tenants, revoked, created_at, last_used_at "
                "FROM api_keys ORDER BY created_at, id"
            ).fetchall()
        return [ApiKeyInfo(*_info(row)) for row in rows]

    def revoke_api_key(self, key_id: str) -> ApiKeyInfo:
        """Revoke an API key for good (in other processes: within the cache TTL)."""
        with self._store.transaction(write=True) as db:
            if not is_public_id(key_id) or _revoked(db, _KEY_REVOKED, key_id) is None:
                raise CredentialError(f"no API key {key_id!r}")
            db.run("UPDATE api_keys SET revoked = 1 WHERE id = ?", [key_id])
            row = db.run(
                "SELECT id, name, role, department, tenants, revoked, created_at, last_used_at "
                "FROM api_keys WHERE id = ?",
                [key_id],
            ).fetchone()
        info = ApiKeyInfo(*_info(row))
        self._cache.drop_credential("apikey", key_id)
        log.info("revoked API key %s", key_id)
        return info

    def resolve_api_key(self, key: str) -> Principal | None:
        """The holder of an API key, or None (malformed, unknown, wrong secret, revoked); never raises."""
        parsed = parse_api_key(key)
        if parsed is None:
            return None
        key_id, secret = parsed
        cache_key = "apikey:" + hash_secret(key)
        now = self._now()
        cached = self._cache.get(cache_key, now)
        if cached is not None:
            return cached
        with self._store.transaction(write=False) as db:
            row = db.run(
                "SELECT secret_hash, role, department, tenants, revoked, last_used_at FROM api_keys WHERE id = ?",
                [key_id],
            ).fetchone()
        if row is None or not hash_matches(secret, row[0]) or row[4]:
            return None
        _, role, department, tenants, _, last_used = row
        if stale(last_used, now):
            self._touch("UPDATE api_keys SET last_used_at = ? WHERE id = ?", key_id, now)
        principal = Principal(
            subject=f"apikey:{key_id}",
            kind="apikey",
            role=Role(role),
            tenants=load_tenants(tenants),
            department=department,
            credential_id=key_id,
        )
        self._cache.put(cache_key, principal, now)
        return principal

    def _touch(self, update: str, ident: str, now: datetime) -> None:
        """Record a use (callers do so at most once a minute per credential, never on every request)."""
        with self._store.transaction(write=True) as db:
            db.run(update, [to_micros(now), ident])


def _scoping(
    name: str, role: Role | str, department: str | None, tenants: Iterable[str] | None
) -> tuple[str, Role, str | None, frozenset[str] | None]:
    title = label(name, "name")
    chosen = role_of(role)
    return title, chosen, department_for(chosen, department), tenants_for(chosen, tenants)


def _revoked(db: Db, query: str, ident: str) -> bool | None:
    """Whether a client or key is revoked; None if there is none."""
    row = db.run(query, [ident]).fetchone()
    return None if row is None else bool(row[0])


def _info(row: Any) -> tuple[Any, ...]:
    """(id, name, role, department, tenants, revoked, created_at, last_used_at) from a stored row."""
    ident, name, role, department, tenants, revoked, created_at, last_used_at = row
    return (
        ident,
        name,
        Role(role),
        department,
        load_tenants(tenants),
        bool(revoked),
        from_micros(created_at),
        from_micros(last_used_at),
    )
