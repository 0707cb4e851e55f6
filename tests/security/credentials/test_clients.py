"""OAuth2 client credentials: applications, their access tokens, expiry and revocation (both engines)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smartcity.hub.store import Store
from smartcity.security.credentials import CredentialError, Credentials
from smartcity.security.passwords import Passwords
from smartcity.security.roles import Role
from smartcity.security.tokens import hash_secret
from tests.security.credentials.conftest import START, Clock


def _token_count(store: Store) -> int:
    with store.transaction(write=False) as db:
        return int(db.run("SELECT count(*) FROM access_tokens").fetchone()[0])


def test_create_and_list(creds: Credentials, store: Store) -> None:
    info, secret = creds.create_client("Traffic dashboard", "analyst", tenants=["d1"])
    assert secret.startswith("sccs_") and len(secret) == 48
    assert (info.name, info.role, info.tenants, info.revoked) == (
        "Traffic dashboard",
        Role.ANALYST,
        frozenset({"d1"}),
        False,
    )
    assert info.created_at == START and info.last_used_at is None
    assert creds.list_clients() == [info]
    with store.transaction(write=False) as db:
        stored = db.run("SELECT secret_hash FROM oauth_clients").fetchone()[0]
    assert stored == hash_secret(secret) and secret not in stored


def test_create_checks_the_scope(creds: Credentials) -> None:
    with pytest.raises(CredentialError, match="needs a department"):
        creds.create_client("Roads", "department_officer")
    with pytest.raises(CredentialError, match="role"):
        creds.create_client("Roads", "public")
    with pytest.raises(CredentialError, match="name must not be empty"):
        creds.create_client("  ", "analyst")
    info, _ = creds.create_client("Roads", "department_officer", department="transport")
    assert info.department == "transport"
    admin, _ = creds.create_client("Ops", Role.ADMINISTRATOR, tenants=["d1"])
    assert admin.tenants is None


def test_token_issue_and_resolve(creds: Credentials, clock: Clock) -> None:
    info, secret = creds.create_client("Dashboard", "analyst", tenants=["d1"])
    clock.advance(minutes=1)
    issued = creds.issue_token(info.client_id, secret)
    assert issued is not None
    token, expires_in = issued
    assert token.startswith("scat_") and expires_in == 3600
    principal = creds.resolve_token(token)
    assert principal is not None
    assert principal.subject == f"client:{info.client_id}"
    assert (principal.kind, principal.credential_id, principal.role) == ("client", info.client_id, Role.ANALYST)
    assert principal.tenants == frozenset({"d1"}) and principal.session_csrf is None
    assert creds.list_clients()[0].last_used_at == START + timedelta(minutes=1)


def test_bad_credentials_get_no_token(creds: Credentials) -> None:
    info, secret = creds.create_client("Dashboard", "analyst")
    other, other_secret = creds.create_client("Other", "analyst")
    assert creds.issue_token(info.client_id, other_secret) is None
    assert creds.issue_token(info.client_id, secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert creds.issue_token("nosuchclient", secret) is None
    assert creds.issue_token(info.client_id, "") is None
    assert creds.issue_token("", secret) is None
    assert creds.issue_token(info.client_id, secret.removeprefix("sccs_")) is None
    assert creds.issue_token(other.client_id, other_secret) is not None


@pytest.mark.parametrize("token", ["", "scat_", "scat_" + "a" * 42, "sccs_" + "a" * 43, "Bearer x", "scat_" + "é" * 43])
def test_malformed_tokens(creds: Credentials, token: str) -> None:
    assert creds.resolve_token(token) is None


def test_unknown_token(creds: Credentials) -> None:
    assert creds.resolve_token("scat_" + "a" * 43) is None


def test_token_expiry(store: Store, clock: Clock, passwords: Passwords) -> None:
    creds = Credentials(store, passwords=passwords, clock=clock, token_ttl=timedelta(minutes=5))
    info, secret = creds.create_client("Dashboard", "analyst")
    issued = creds.issue_token(info.client_id, secret)
    assert issued is not None and issued[1] == 300
    clock.advance(minutes=4, seconds=59)
    assert creds.resolve_token(issued[0]) is not None
    clock.advance(seconds=1)
    assert creds.resolve_token(issued[0]) is None


def test_expired_tokens_are_purged_on_issue(creds: Credentials, store: Store, clock: Clock) -> None:
    info, secret = creds.create_client("Dashboard", "analyst")
    for _ in range(3):
        creds.issue_token(info.client_id, secret)
    clock.advance(hours=2)
    creds.issue_token(info.client_id, secret)
    assert _token_count(store) == 1


def test_revoke_kills_tokens_and_the_cache(creds: Credentials, store: Store) -> None:
    info, secret = creds.create_client("Dashboard", "analyst")
    keep, keep_secret = creds.create_client("Other", "analyst")
    issued = creds.issue_token(info.client_id, secret)
    kept = creds.issue_token(keep.client_id, keep_secret)
    assert issued is not None and kept is not None
    assert creds.resolve_token(issued[0]) is not None  # now cached
    revoked = creds.revoke_client(info.client_id)
    assert revoked.revoked and revoked.client_id == info.client_id
    assert creds.resolve_token(issued[0]) is None
    assert creds.issue_token(info.client_id, secret) is None
    assert _token_count(store) == 1
    assert creds.resolve_token(kept[0]) is not None
    assert {c.client_id: c.revoked for c in creds.list_clients()} == {info.client_id: True, keep.client_id: False}
    assert creds.revoke_client(info.client_id).revoked  # revoking again is harmless
    with pytest.raises(CredentialError, match="no client"):
        creds.revoke_client("nosuchclient")
    with pytest.raises(CredentialError, match="no client"):
        creds.revoke_client("NOT AN ID")


def test_last_used_is_written_at_most_once_a_minute(creds: Credentials, store: Store, clock: Clock) -> None:
    info, secret = creds.create_client("Dashboard", "analyst")
    issued = creds.issue_token(info.client_id, secret)
    assert issued is not None
    for _ in range(5):
        clock.advance(seconds=10)
        creds.clear_cache()
        assert creds.resolve_token(issued[0]) is not None
    assert creds.list_clients()[0].last_used_at == START
    clock.advance(seconds=10)
    creds.clear_cache()
    creds.resolve_token(issued[0])
    assert creds.list_clients()[0].last_used_at == START + timedelta(minutes=1)
