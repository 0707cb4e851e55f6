"""Who may call: users with passwords and browser sessions; OAuth2 client-credentials applications and API keys
(see :mod:`.machine_credentials`).

Secrets (passwords, session and access tokens, client secrets, API keys) are never logged, are stored only as hashes
(argon2id for passwords, SHA-256 for high-entropy random secrets) and are returned once, when they are created.

Resolving a session, access token or API key is one indexed lookup, then a principal cached in this process for a few
seconds (:class:`~smartcity.security.principal_cache.PrincipalCache`): a revocation made here takes effect at once,
one made by another process within that cache's TTL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from smartcity.hub.store import Store, StoreConflict
from smartcity.hub.store.sql import Db
from smartcity.security.credential_rules import (
    CredentialError,
    department_for,
    dump_tenants,
    from_micros,
    label,
    load_tenants,
    maybe_username,
    micros_of,
    role_of,
    tenants_for,
    to_micros,
    username_of,
)
from smartcity.security.machine_credentials import ApiKeyInfo, ClientInfo, MachineCredentials, stale, utc_now
from smartcity.security.passwords import Passwords, check_password
from smartcity.security.principal import Principal
from smartcity.security.principal_cache import PrincipalCache
from smartcity.security.roles import Role
from smartcity.security.tokens import hash_secret, is_session_token, new_csrf_token, new_session_token
from smartcity.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "ApiKeyInfo",
    "ClientInfo",
    "CredentialError",
    "Credentials",
    "IssuedSession",
    "LoginOutcome",
    "User",
]

_MAX_CLIENT = 200
_FAILURES = "SELECT failed_count, first_failed_at, locked_until FROM users WHERE id = ?"
_FAILURES_FOR_UPDATE = "SELECT failed_count, first_failed_at, locked_until FROM users WHERE id = ? FOR UPDATE"


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: Role
    department: str | None
    tenants: frozenset[str] | None
    disabled: bool
    locked_until: datetime | None  # only while the lock lasts
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a password sign-in; ``reason`` is for the audit trail, never for the person signing in."""

    principal: Principal | None
    reason: str  # "ok", "unknown_user", "bad_password", "locked", "disabled"
    locked_now: bool = False  # this failure locked the account

    @property
    def ok(self) -> bool:
        return self.principal is not None


@dataclass(frozen=True)
class IssuedSession:
    token: str  # shown once: the cookie value
    csrf: str
    expires_at: datetime
    principal: Principal


class Credentials(MachineCredentials):
    """The facade over every credential: users, sessions, OAuth2 clients and their tokens, API keys."""

    def __init__(
        self,
        store: Store,
        *,
        passwords: Passwords | None = None,
        lockout_threshold: int = 5,
        lockout_window: timedelta = timedelta(minutes=15),
        lockout_duration: timedelta = timedelta(minutes=15),
        session_ttl: timedelta = timedelta(hours=12),
        token_ttl: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] = utc_now,
        cache: PrincipalCache | None = None,
    ) -> None:
        if lockout_threshold < 1:
            raise ValueError("lockout_threshold must be at least 1")
        if min(lockout_window, lockout_duration, session_ttl, token_ttl) <= timedelta(0):
            raise ValueError("lockout window and duration, session and token lifetimes must be positive")
        super().__init__(store, token_ttl=token_ttl, clock=clock, cache=cache)
        self._passwords = passwords or Passwords()
        self.lockout_threshold = lockout_threshold
        self.lockout_window = lockout_window
        self.lockout_duration = lockout_duration
        self.session_ttl = session_ttl
        self._dummy_hash: str | None = None

    @classmethod
    def from_settings(cls, store: Store, settings: Settings, *, passwords: Passwords | None = None) -> Credentials:
        """Credentials with the platform's lockout threshold and session and token lifetimes."""
        return cls(
            store,
            passwords=passwords,
            lockout_threshold=settings.login_lockout,
            session_ttl=timedelta(hours=settings.session_hours),
            token_ttl=timedelta(seconds=settings.token_seconds),
        )

    # -- users -------------------------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        password: str,
        role: Role | str,
        *,
        department: str | None = None,
        tenants: Iterable[str] | None = ("",),
        display_name: str | None = None,
    ) -> User:
        name = username_of(username)
        chosen = role_of(role)
        dept = department_for(chosen, department)
        scope = tenants_for(chosen, tenants)
        shown = label(name if display_name is None else display_name, "display name")
        _check_password(password, name)
        password_hash = self._passwords.hash(password)
        now = to_micros(self._now())
        try:
            with self._store.transaction(write=True) as db:
                if db.run("SELECT 1 FROM users WHERE username = ?", [name]).fetchone() is not None:
                    raise CredentialError(f"user {name!r} already exists")
                db.run(
                    "INSERT INTO users (username, display_name, password_hash, role, department, tenants, disabled, "
                    "failed_count, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?)",
                    [name, shown, password_hash, chosen.value, dept, dump_tenants(scope), now, now],
                )
        except StoreConflict:
            raise CredentialError(f"user {name!r} already exists") from None
        log.info("added user %s with role %s", name, chosen.value)
        return self._require_user(name)

    def list_users(self) -> list[User]:
        now = self._now()
        with self._store.transaction(write=False) as db:
            rows = db.run(
                "SELECT username, display_name, role, department, tenants, disabled, locked_until, created_at, "
                "last_login_at FROM users ORDER BY username"
            ).fetchall()
        return [_user(row, now) for row in rows]

    def get_user(self, username: str) -> User | None:
        name = maybe_username(username)
        if name is None:
            return None
        with self._store.transaction(write=False) as db:
            row = db.run(
                "SELECT username, display_name, role, department, tenants, disabled, locked_until, created_at, "
                "last_login_at FROM users WHERE username = ?",
                [name],
            ).fetchone()
        return None if row is None else _user(row, self._now())

    def disable_user(self, username: str) -> User:
        """Disable a user and end their sessions; they cannot sign in until enabled again."""
        name = username_of(username)
        with self._store.transaction(write=True) as db:
            user_id = _user_id(db, name)
            db.run("UPDATE users SET disabled = 1, updated_at = ? WHERE id = ?", [to_micros(self._now()), user_id])
            db.run("DELETE FROM user_sessions WHERE user_id = ?", [user_id])
        self._cache.drop_credential("user", name)
        log.info("disabled user %s and ended their sessions", name)
        return self._require_user(name)

    def enable_user(self, username: str) -> User:
        """Enable a user again, clearing any lockout."""
        name = username_of(username)
        with self._store.transaction(write=True) as db:
            user_id = _user_id(db, name)
            db.run(
                "UPDATE users SET disabled = 0, failed_count = 0, first_failed_at = NULL, locked_until = NULL, "
                "updated_at = ? WHERE id = ?",
                [to_micros(self._now()), user_id],
            )
        log.info("enabled user %s", name)
        return self._require_user(name)

    def set_role(self, username: str, role: Role | str, *, department: str | None = None) -> User:
        """Change a user's role (and department). An administrator sees every tenant; a former administrator is
        scoped to the default tenant until given others."""
        name = username_of(username)
        chosen = role_of(role)
        dept = department_for(chosen, department)
        with self._store.transaction(write=True) as db:
            row = db.run("SELECT id, role, tenants FROM users WHERE username = ?", [name]).fetchone()
            if row is None:
                raise CredentialError(f"no user {name!r}")
            tenants: str | None = row[2]
            if chosen is Role.ADMINISTRATOR:
                tenants = None
            elif row[1] == Role.ADMINISTRATOR.value:
                tenants = dump_tenants(frozenset({""}))
            db.run(
                "UPDATE users SET role = ?, department = ?, tenants = ?, updated_at = ? WHERE id = ?",
                [chosen.value, dept, tenants, to_micros(self._now()), row[0]],
            )
        self._cache.drop_credential("user", name)
        log.info("user %s now has role %s", name, chosen.value)
        return self._require_user(name)

    def set_password(self, username: str, password: str) -> None:
        """Give a user a new password, clear any lockout and end their sessions."""
        name = username_of(username)
        _check_password(password, name)
        password_hash = self._passwords.hash(password)
        with self._store.transaction(write=True) as db:
            user_id = _user_id(db, name)
            db.run(
                "UPDATE users SET password_hash = ?, failed_count = 0, first_failed_at = NULL, locked_until = NULL, "
                "updated_at = ? WHERE id = ?",
                [password_hash, to_micros(self._now()), user_id],
            )
            db.run("DELETE FROM user_sessions WHERE user_id = ?", [user_id])
        self._cache.drop_credential("user", name)
        log.info("set a new password for user %s and ended their sessions", name)

    def _require_user(self, name: str) -> User:
        user = self.get_user(name)
        if user is None:
            raise CredentialError(f"no user {name!r}")
        return user

    # -- password sign-in --------------------------------------------------------------------------

    def authenticate_password(self, username: str, password: str, *, client: str | None = None) -> LoginOutcome:
        """Check a password, counting failures: ``lockout_threshold`` of them within ``lockout_window`` lock the
        account for ``lockout_duration``. Unknown and disabled users cost one hash verification too."""
        now = self._now()
        name = maybe_username(username)
        row = None
        if name is not None:
            with self._store.transaction(write=False) as db:
                row = db.run(
                    "SELECT id, password_hash, role, department, tenants, disabled, locked_until FROM users "
                    "WHERE username = ?",
                    [name],
                ).fetchone()
        if name is None or row is None:
            self._passwords.verify(self._dummy(), password)
            log.info("password sign-in refused: unknown user")
            return LoginOutcome(None, "unknown_user")
        user_id, password_hash, role, department, tenants, disabled, locked_until = row
        if disabled:
            self._passwords.verify(self._dummy(), password)
            log.info("password sign-in refused: user %s is disabled", name)
            return LoginOutcome(None, "disabled")
        if locked_until is not None and locked_until > to_micros(now):
            log.info("password sign-in refused: user %s is locked", name)
            return LoginOutcome(None, "locked")
        if not self._passwords.verify(password_hash, password):
            return self._failed(user_id, name, now)
        rehashed = self._passwords.hash(password) if self._passwords.needs_rehash(password_hash) else password_hash
        with self._store.transaction(write=True) as db:
            db.run(
                "UPDATE users SET failed_count = 0, first_failed_at = NULL, locked_until = NULL, last_login_at = ?, "
                "password_hash = ? WHERE id = ?",
                [to_micros(now), rehashed, user_id],
            )
        log.info("user %s signed in with a password", name)
        principal = _user_principal(name, role, department, tenants, client=client)
        return LoginOutcome(principal, "ok")

    def _failed(self, user_id: int, name: str, now: datetime) -> LoginOutcome:
        at = to_micros(now)
        # PostgreSQL: lock the row so concurrent failures count one by one (SQLite's write lock already does)
        query = _FAILURES_FOR_UPDATE if self._store.dialect.name == "postgresql" else _FAILURES
        with self._store.transaction(write=True) as db:
            count, first, locked_until = db.run(query, [user_id]).fetchone()
            if locked_until is not None and locked_until > at:  # a concurrent failure locked it meanwhile
                return LoginOutcome(None, "bad_password")
            if first is None or at - first > micros_of(self.lockout_window):
                count, first = 0, at
            count += 1
            locked_now = count >= self.lockout_threshold
            if locked_now:
                db.run(
                    "UPDATE users SET failed_count = 0, first_failed_at = NULL, locked_until = ? WHERE id = ?",
                    [to_micros(now + self.lockout_duration), user_id],
                )
            else:
                db.run("UPDATE users SET failed_count = ?, first_failed_at = ? WHERE id = ?", [count, first, user_id])
        if locked_now:
            log.warning("user %s locked for %s after %d failed sign-ins", name, self.lockout_duration, count)
        else:
            log.info("password sign-in refused: bad password for user %s (%d within the lockout window)", name, count)
        return LoginOutcome(None, "bad_password", locked_now)

    def _dummy(self) -> str:
        """A hash with this hasher's parameters, verified for unknown users so they cost as much as known ones."""
        if self._dummy_hash is None:
            self._dummy_hash = self._passwords.hash(new_csrf_token())
        return self._dummy_hash

    # -- browser sessions --------------------------------------------------------------------------

    def open_session(self, principal_or_username: Principal | str, *, client: str | None = None) -> IssuedSession:
        """A new session for a (signed-in) user: the token for the cookie and the CSRF token, both shown once."""
        if isinstance(principal_or_username, Principal):
            if principal_or_username.kind != "user" or principal_or_username.credential_id is None:
                raise CredentialError("only a user can open a browser session")
            name = username_of(principal_or_username.credential_id)
        else:
            name = username_of(principal_or_username)
        token, csrf = new_session_token(), new_csrf_token()
        now = self._now()
        expires = now + self.session_ttl
        where = client[:_MAX_CLIENT] if isinstance(client, str) else None
        with self._store.transaction(write=True) as db:
            row = db.run(
                "SELECT id, role, department, tenants, disabled FROM users WHERE username = ?", [name]
            ).fetchone()
            if row is None or row[4]:
                raise CredentialError(f"no active user {name!r}")
            db.run("DELETE FROM user_sessions WHERE expires_at <= ?", [to_micros(now)])
            db.run(
                "INSERT INTO user_sessions (token_hash, user_id, csrf, client, created_at, expires_at, last_seen_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [hash_secret(token), row[0], csrf, where, to_micros(now), to_micros(expires), to_micros(now)],
            )
        log.info("opened a session for user %s", name)
        principal = _user_principal(name, row[1], row[2], row[3], client=client, csrf=csrf)
        return IssuedSession(token, csrf, expires, principal)

    def resolve_session(self, token: str) -> Principal | None:
        """The user behind a session token (with its CSRF token), or None: unknown, expired, or user disabled."""
        if not is_session_token(token):
            return None
        token_hash = hash_secret(token)
        key = "session:" + token_hash
        now = self._now()
        cached = self._cache.get(key, now)
        if cached is not None:
            return cached
        with self._store.transaction(write=False) as db:
            row = db.run(
                "SELECT s.csrf, s.expires_at, s.last_seen_at, u.username, u.role, u.department, u.tenants, u.disabled "
                "FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
                [token_hash],
            ).fetchone()
        if row is None or row[7] or row[1] <= to_micros(now):
            return None
        csrf, expires_at, last_seen, username, role, department, tenants, _ = row
        if stale(last_seen, now):
            with self._store.transaction(write=True) as db:
                db.run(
                    "UPDATE user_sessions SET last_seen_at = ? WHERE token_hash = ?",
                    [to_micros(now), token_hash],
                )
        principal = _user_principal(username, role, department, tenants, csrf=csrf)
        self._cache.put(key, principal, now, from_micros(expires_at))
        return principal

    def close_session(self, token: str) -> bool:
        """End a session (sign-out); False if there was none."""
        if not is_session_token(token):
            return False
        token_hash = hash_secret(token)
        self._cache.drop("session:" + token_hash)
        with self._store.transaction(write=True) as db:
            gone = db.run("DELETE FROM user_sessions WHERE token_hash = ? RETURNING user_id", [token_hash]).fetchall()
        return bool(gone)


def _check_password(password: str, username: str) -> None:
    try:
        check_password(password, username)
    except ValueError as exc:
        raise CredentialError(str(exc)) from None


def _user_id(db: Db, name: str) -> int:
    row = db.run("SELECT id FROM users WHERE username = ?", [name]).fetchone()
    if row is None:
        raise CredentialError(f"no user {name!r}")
    return int(row[0])


def _user(row: Any, now: datetime) -> User:
    username, display_name, role, department, tenants, disabled, locked_until, created_at, last_login_at = row
    lock = from_micros(locked_until)
    return User(
        username=username,
        display_name=display_name,
        role=Role(role),
        department=department,
        tenants=load_tenants(tenants),
        disabled=bool(disabled),
        locked_until=lock if lock is not None and lock > now else None,
        created_at=from_micros(created_at) or now,
        last_login_at=from_micros(last_login_at),
    )


def _user_principal(
    name: str,
    role: str,
    department: str | None,
    tenants: str | None,
    *,
    client: str | None = None,
    csrf: str | None = None,
) -> Principal:
    return Principal(
        subject=name,
        kind="user",
        role=Role(role),
        tenants=load_tenants(tenants),
        department=department,
        credential_id=name,
        client=client,
        session_csrf=csrf,
    )
