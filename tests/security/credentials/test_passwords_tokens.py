"""Password hashing and policy; the shapes, parsing and hashing of opaque secrets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.security import tokens
from smartcity.security.passwords import Passwords, check_password


def test_hash_and_verify() -> None:
    passwords = Passwords.fast()
    hashed = passwords.hash("a long enough secret")
    assert hashed.startswith("$argon2id$")
    assert "a long enough secret" not in hashed
    assert passwords.verify(hashed, "a long enough secret")
    assert not passwords.verify(hashed, "a long enough secreT")
    assert not passwords.verify("not a hash", "a long enough secret")
    assert not passwords.verify(hashed, "\ud800 unencodable")
    assert passwords.hash("a long enough secret") != hashed  # salted


def test_needs_rehash_when_parameters_change() -> None:
    fast = Passwords.fast()
    stronger = Passwords(time_cost=2, memory_cost=16, parallelism=1)
    hashed = fast.hash("a long enough secret")
    assert not fast.needs_rehash(hashed)
    assert stronger.needs_rehash(hashed)
    assert stronger.verify(hashed, "a long enough secret")  # old hashes still verify
    assert fast.needs_rehash("garbage")


def test_production_profile_is_rfc9106_low_memory() -> None:
    hashed = Passwords().hash("a long enough secret")
    assert "$m=65536,t=3,p=4$" in hashed


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "at least 10"),
        ("x" * 1025, "at most"),
        ("Alice.Smith", "not be the username"),
        ("aaaaaaaaaaaa", "single character"),
        ("abcdefghij\ud800", "cannot be encoded"),
    ],
)
def test_password_policy(password: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_password(password, "alice.smith")


def test_password_policy_accepts_reasonable_passwords() -> None:
    check_password("correct horse battery", "alice")
    check_password("Ünïcødé-pässwörd", "alice")


def test_api_key_shape_and_parse() -> None:
    key_id, secret, key = tokens.new_api_key()
    assert key == f"scak_{key_id}_{secret}"
    assert len(key_id) >= 8 and key_id.isalnum() and key_id.islower()
    assert len(secret) == 43
    assert tokens.parse_api_key(key) == (key_id, secret)
    assert tokens.parse_api_key(key + "x") is None
    assert tokens.parse_api_key(key[:-1]) is None
    assert tokens.parse_api_key(key + "\n") is None


def test_secret_kinds_are_distinct() -> None:
    client_secret, access_token, session = (
        tokens.new_client_secret(),
        tokens.new_access_token(),
        tokens.new_session_token(),
    )
    assert client_secret.startswith("sccs_") and tokens.is_client_secret(client_secret)
    assert access_token.startswith("scat_") and tokens.is_access_token(access_token)
    assert tokens.is_session_token(session)
    assert not tokens.is_access_token(client_secret)
    assert not tokens.is_client_secret(access_token)
    assert not tokens.is_session_token(access_token)
    assert len({tokens.new_session_token() for _ in range(50)}) == 50


def test_hash_matches() -> None:
    secret = tokens.new_secret()
    stored = tokens.hash_secret(secret)
    assert len(stored) == 64
    assert tokens.hash_matches(secret, stored)
    assert not tokens.hash_matches(secret + "x", stored)


_KEYISH = st.one_of(
    st.text(max_size=200),
    st.from_regex(r"scak_[a-z0-9]{0,40}_[A-Za-z0-9_\-]{0,60}", fullmatch=True),
    st.builds(lambda a, b: f"scak_{a}_{b}", st.text(max_size=20), st.text(max_size=60)),
    st.binary(max_size=80),
    st.integers(),
    st.none(),
    st.lists(st.text(max_size=5), max_size=3),
)


@given(_KEYISH)
def test_parse_api_key_never_raises(value: object) -> None:
    parsed = tokens.parse_api_key(value)
    if parsed is not None:
        key_id, secret = parsed
        assert value == f"scak_{key_id}_{secret}"
        assert len(secret) == 43


@given(st.text(max_size=100))
def test_shape_checks_never_raise(value: str) -> None:
    for check in (tokens.is_client_secret, tokens.is_access_token, tokens.is_session_token, tokens.is_public_id):
        assert check(value) in (True, False)
    tokens.hash_secret(value)
