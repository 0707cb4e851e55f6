"""Browser sessions: open, resolve (with the CSRF token), slide last_seen_at, expire, close (both engines)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smartcity.hub.store import Store
from smartcity.security.credentials import CredentialError, Credentials
from smartcity.security.passwords import Passwords
from smartcity.security.principal import Principal, system
from smartcity.security.roles import Role
from tests.security.credentials.conftest import PASSWORD, START, Clock


def _last_seen(store: Store) -> list[int]:
    with store.transaction(write=False) as db:
        return [r[0] for r in db.run("SELECT last_seen_at FROM user_sessions ORDER BY created_at").fetchall()]


def _session_count(store: Store) -> int:
    with store.transaction(write=False) as db:
        return int(db.run("SELECT count(*) FROM user_sessions").fetchone()[0])


def test_open_and_resolve(creds: Credentials) -> None:
    creds.add_user("alice", PASSWORD, "ioc_operator", tenants=["d1", ""])
    outcome = creds.authenticate_password("alice", PASSWORD, client="198.51.100.7")
    assert outcome.principal is not None
    session = creds.open_session(outcome.principal, client="198.51.100.7")
    assert session.expires_at == START + timedelta(hours=12)
    assert session.token != session.csrf and len(session.token) == 43
    assert session.principal.session_csrf == session.csrf
    assert session.principal.client == "198.51.100.7"
    resolved = creds.resolve_session(session.token)
    assert resolved is not None
    assert (resolved.subject, resolved.kind, resolved.credential_id) == ("alice", "user", "alice")
    assert resolved.role is Role.IOC_OPERATOR and resolved.tenants == frozenset({"d1", ""})
    assert resolved.session_csrf == session.csrf
    second = creds.open_session("ALICE")
    assert second.token != session.token and second.csrf != session.csrf
    assert creds.resolve_session(second.token) is not None


def test_only_users_have_sessions(creds: Credentials) -> None:
    with pytest.raises(CredentialError, match="only a user"):
        creds.open_session(system("cli"))
    with pytest.raises(CredentialError, match="only a user"):
        creds.open_session(Principal(subject="apikey:abc", kind="apikey", credential_id="abcdefgh"))
    with pytest.raises(CredentialError, match="no active user"):
        creds.open_session("nobody")


@pytest.mark.parametrize("token", ["", "x", "a" * 43 + "=", "scat_" + "a" * 43, "a" * 42, "é" * 43, "a" * 10_000])
def test_unknown_or_malformed_tokens(creds: Credentials, token: str) -> None:
    assert creds.resolve_session(token) is None
    assert creds.close_session(token) is False


def test_unknown_well_formed_token(creds: Credentials) -> None:
    assert creds.resolve_session("A" * 43) is None
    assert creds.close_session("A" * 43) is False


def test_expiry(store: Store, clock: Clock, passwords: Passwords) -> None:
    creds = Credentials(store, passwords=passwords, clock=clock, session_ttl=timedelta(hours=2))
    creds.add_user("alice", PASSWORD, "analyst")
    session = creds.open_session("alice")
    clock.advance(hours=1, minutes=59)
    assert creds.resolve_session(session.token) is not None  # now in the cache, with the session's own expiry
    clock.advance(minutes=1)
    assert creds.resolve_session(session.token) is None


def test_expired_sessions_are_purged_when_one_is_opened(creds: Credentials, store: Store, clock: Clock) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    creds.open_session("alice")
    creds.open_session("alice")
    clock.advance(hours=13)
    fresh = creds.open_session("alice")
    assert _session_count(store) == 1
    assert creds.resolve_session(fresh.token) is not None


def test_close(creds: Credentials, store: Store) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    session = creds.open_session("alice")
    other = creds.open_session("alice")
    assert creds.resolve_session(session.token) is not None  # cached
    assert creds.close_session(session.token) is True
    assert creds.resolve_session(session.token) is None
    assert creds.close_session(session.token) is False
    assert creds.resolve_session(other.token) is not None


def test_last_seen_slides_at_most_once_a_minute(store: Store, clock: Clock, passwords: Passwords) -> None:
    creds = Credentials(store, passwords=passwords, clock=clock)
    creds.add_user("alice", PASSWORD, "analyst")
    session = creds.open_session("alice")
    opened = _last_seen(store)
    clock.advance(seconds=30)
    creds.resolve_session(session.token)
    assert _last_seen(store) == opened  # written at most once a minute
    creds.clear_cache()
    clock.advance(seconds=31)
    creds.resolve_session(session.token)
    assert _last_seen(store)[0] - opened[0] == 61_000_000


def test_cache_answers_without_the_database(creds: Credentials, store: Store) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    session = creds.open_session("alice")
    first = creds.resolve_session(session.token)
    with store.transaction(write=True) as db:  # as another process would
        db.run("DELETE FROM user_sessions")
    assert creds.resolve_session(session.token) == first  # within the cache TTL
    creds.clear_cache()
    assert creds.resolve_session(session.token) is None


def test_cache_entries_expire_after_the_ttl(creds: Credentials, store: Store, clock: Clock) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    session = creds.open_session("alice")
    assert creds.resolve_session(session.token) is not None
    with store.transaction(write=True) as db:
        db.run("UPDATE users SET disabled = 1")  # disabled by another process
    clock.advance(seconds=5)
    assert creds.resolve_session(session.token) is None
