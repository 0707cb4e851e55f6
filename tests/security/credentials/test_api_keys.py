"""API keys: create, resolve, wrong secrets, malformed keys, revocation and the principal cache (both engines)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcity.hub.store import Store
from smartcity.security.credentials import CredentialError, Credentials
from smartcity.security.passwords import Passwords
from smartcity.security.principal_cache import PrincipalCache
from smartcity.security.roles import Role
from tests.security.credentials.conftest import START, Clock


def test_create_and_resolve(creds: Credentials, store: Store) -> None:
    info, key = creds.create_api_key("Air sensors, district 1", "device", tenants=["d1"])
    assert key.startswith(f"scak_{info.id}_") and len(info.id) >= 8
    assert (info.name, info.role, info.tenants, info.revoked) == (
        "Air sensors, district 1",
        Role.DEVICE,
        frozenset({"d1"}),
        False,
    )
    principal = creds.resolve_api_key(key)
    assert principal is not None
    assert (principal.subject, principal.kind, principal.credential_id) == (f"apikey:{info.id}", "apikey", info.id)
    assert principal.role is Role.DEVICE and principal.tenants == frozenset({"d1"})
    assert principal.department is None and principal.session_csrf is None
    with store.transaction(write=False) as db:
        row = db.run("SELECT id, secret_hash FROM api_keys").fetchone()
    assert row[0] == info.id and key.split("_", 2)[2] not in row[1]


def test_scoping(creds: Credentials) -> None:
    everywhere, _ = creds.create_api_key("Open data", "data_publisher", tenants=None)
    assert everywhere.tenants is None
    officer, key = creds.create_api_key("Roads", "department_officer", department="transport")
    assert officer.department == "transport"
    assert creds.resolve_api_key(key).department == "transport"  # type: ignore[union-attr]
    with pytest.raises(CredentialError, match="only a department_officer"):
        creds.create_api_key("Sensors", "device", department="transport")
    with pytest.raises(CredentialError, match="role"):
        creds.create_api_key("Sensors", "root")


def test_wrong_secret_with_a_valid_id(creds: Credentials) -> None:
    info, key = creds.create_api_key("Sensors", "device")
    _, other_key = creds.create_api_key("Other", "device")
    forged = f"scak_{info.id}_{other_key.split('_', 2)[2]}"
    assert creds.resolve_api_key(forged) is None
    assert creds.resolve_api_key(f"scak_{info.id}_" + "A" * 43) is None
    assert creds.resolve_api_key(key) is not None
    assert creds.resolve_api_key(forged) is None  # a cached good key does not vouch for its id


@pytest.mark.parametrize(
    "key",
    ["", "scak_", "scak__", "scak_abcdefgh_", "scak_ABCDEFGH_" + "a" * 43, "sccs_" + "a" * 43, "x" * 5000, "scak_a_b"],
)
def test_malformed_keys(creds: Credentials, key: str) -> None:
    assert creds.resolve_api_key(key) is None


_SHAPES = st.one_of(
    st.text(max_size=120),
    st.from_regex(r"scak_[a-z0-9]{6,14}_[A-Za-z0-9_\-]{40,46}", fullmatch=True),
    st.builds(lambda i, s: f"scak_{i}_{s}", st.text(max_size=16), st.text(max_size=50)),
    st.binary(max_size=60),
    st.none(),
    st.integers(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_SHAPES)
def test_malformed_keys_never_raise(creds: Credentials, value: object) -> None:
    assert creds.resolve_api_key(value) is None  # type: ignore[arg-type]


def test_revoke(creds: Credentials) -> None:
    info, key = creds.create_api_key("Sensors", "device")
    other, kept = creds.create_api_key("Other", "device")
    assert creds.resolve_api_key(key) is not None  # now cached
    revoked = creds.revoke_api_key(info.id)
    assert revoked.revoked and revoked.id == info.id and revoked.name == "Sensors"
    assert creds.resolve_api_key(key) is None  # the cache entry went with it
    assert creds.resolve_api_key(kept) is not None
    assert {k.id: k.revoked for k in creds.list_api_keys()} == {info.id: True, other.id: False}
    with pytest.raises(CredentialError, match="no API key"):
        creds.revoke_api_key("nosuchkey")
    with pytest.raises(CredentialError, match="no API key"):
        creds.revoke_api_key("../etc")


def test_revocation_elsewhere_is_seen_within_the_cache_ttl(creds: Credentials, store: Store, clock: Clock) -> None:
    info, key = creds.create_api_key("Sensors", "device")
    assert creds.resolve_api_key(key) is not None
    with store.transaction(write=True) as db:  # another process revokes it
        db.run("UPDATE api_keys SET revoked = 1 WHERE id = ?", [info.id])
    clock.advance(seconds=4)
    assert creds.resolve_api_key(key) is not None
    clock.advance(seconds=1)
    assert creds.resolve_api_key(key) is None


def test_without_a_cache_every_call_reads(store: Store, clock: Clock, passwords: Passwords) -> None:
    creds = Credentials(store, passwords=passwords, clock=clock, cache=PrincipalCache(ttl=timedelta(0)))
    info, key = creds.create_api_key("Sensors", "device")
    assert creds.resolve_api_key(key) is not None
    with store.transaction(write=True) as db:
        db.run("UPDATE api_keys SET revoked = 1 WHERE id = ?", [info.id])
    assert creds.resolve_api_key(key) is None


def test_cache_is_bounded(store: Store, clock: Clock, passwords: Passwords) -> None:
    cache = PrincipalCache(max_size=3)
    creds = Credentials(store, passwords=passwords, clock=clock, cache=cache)
    keys = [creds.create_api_key(f"key {n}", "device")[1] for n in range(5)]
    for key in keys:
        assert creds.resolve_api_key(key) is not None
    assert len(cache) == 3


def test_last_used_is_written_at_most_once_a_minute(creds: Credentials, clock: Clock) -> None:
    _, key = creds.create_api_key("Sensors", "device")
    creds.resolve_api_key(key)
    assert creds.list_api_keys()[0].last_used_at == START
    for _ in range(5):
        clock.advance(seconds=10)
        creds.clear_cache()
        creds.resolve_api_key(key)
    assert creds.list_api_keys()[0].last_used_at == START
    clock.advance(seconds=10)
    creds.clear_cache()
    creds.resolve_api_key(key)
    assert creds.list_api_keys()[0].last_used_at == START + timedelta(minutes=1)


def test_list_api_keys_in_creation_order(creds: Credentials, clock: Clock) -> None:
    names = ["first", "second", "third"]
    for name in names:
        creds.create_api_key(name, "device")
        clock.advance(seconds=1)
    assert [k.name for k in creds.list_api_keys()] == names
