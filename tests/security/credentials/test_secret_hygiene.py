"""Secrets are never logged, never stored in clear, and never come back out of lists or lookups."""

from __future__ import annotations

import logging

import pytest

from smartcity.hub.store import Store
from smartcity.security.credentials import Credentials
from smartcity.security.tokens import hash_secret
from tests.security.credentials.conftest import PASSWORD, Clock

WRONG = "not-the-password-123"


def _everything(creds: Credentials) -> list[str]:
    """Exercise every operation; returns the secrets that went in or came out."""
    creds.add_user("alice", PASSWORD, "analyst")
    creds.authenticate_password("alice", WRONG)
    creds.authenticate_password(WRONG, PASSWORD)  # a password typed into the username field
    outcome = creds.authenticate_password("alice", PASSWORD)
    assert outcome.principal is not None
    session = creds.open_session(outcome.principal)
    creds.resolve_session(session.token)
    creds.close_session(session.token)
    client, client_secret = creds.create_client("Dashboard", "analyst")
    issued = creds.issue_token(client.client_id, client_secret)
    assert issued is not None
    creds.resolve_token(issued[0])
    creds.issue_token(client.client_id, "sccs_" + "x" * 43)
    key_info, key = creds.create_api_key("Sensors", "device")
    creds.resolve_api_key(key)
    creds.resolve_api_key(key[:-2] + "zz")
    creds.set_password("alice", "another fine passphrase")
    creds.revoke_api_key(key_info.id)
    creds.revoke_client(client.client_id)
    creds.disable_user("alice")
    secret_part = key.split("_", 2)[2]
    return [PASSWORD, WRONG, "another fine passphrase", session.token, client_secret, issued[0], key, secret_part]


def test_no_secret_in_logs(creds: Credentials, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = _everything(creds)
    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert "alice" in text  # the log does say what happened
    for secret in secrets:
        assert secret not in text
        assert hash_secret(secret) not in text
    assert "$argon2" not in text


def test_no_secret_in_what_comes_back(creds: Credentials, store: Store) -> None:
    secrets = _everything(creds)
    shown = repr([creds.list_users(), creds.get_user("alice"), creds.list_clients(), creds.list_api_keys()])
    for secret in secrets:
        assert secret not in shown
        assert hash_secret(secret) not in shown
    assert "$argon2" not in shown


def test_secrets_are_stored_hashed(creds: Credentials, store: Store, clock: Clock) -> None:
    secrets = _everything(creds)
    creds.add_user("bob", PASSWORD, "analyst")
    bob = creds.authenticate_password("bob", PASSWORD).principal
    assert bob is not None
    live = creds.open_session(bob)
    secrets.append(live.token)
    dump: list[str] = []
    with store.transaction(write=False) as db:
        for table in ("users", "user_sessions", "oauth_clients", "access_tokens", "api_keys"):
            dump += [repr(row) for row in db.run(f"SELECT * FROM {table}").fetchall()]
    text = "\n".join(dump)
    assert hash_secret(live.token) in text  # the session is there, by its hash
    for secret in secrets:
        assert secret not in text
