"""Users: their lifecycle, password sign-in, and the lockout after repeated failures (both engines)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smartcity.hub.store import Store
from smartcity.security.credentials import CredentialError, Credentials
from smartcity.security.passwords import Passwords
from smartcity.security.roles import Role
from tests.security.credentials.conftest import PASSWORD, START, Clock

# -- lifecycle ---------------------------------------------------------------------------------------


def test_add_user_normalises_and_scopes(creds: Credentials) -> None:
    user = creds.add_user("Alice.Nguyen@HCMC", PASSWORD, "analyst", display_name="Alice Nguyễn")
    assert user.username == "alice.nguyen@hcmc"
    assert user.display_name == "Alice Nguyễn"
    assert user.role is Role.ANALYST
    assert user.tenants == frozenset({""})
    assert user.department is None
    assert not user.disabled and user.locked_until is None
    assert user.created_at == START
    assert user.last_login_at is None
    assert creds.get_user("ALICE.NGUYEN@hcmc") == user
    assert creds.add_user("bob", PASSWORD, Role.ANALYST).display_name == "bob"


def test_duplicate_username_is_refused_whatever_the_case(creds: Credentials) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    with pytest.raises(CredentialError, match="already exists"):
        creds.add_user("ALICE", PASSWORD, "ioc_operator")
    assert [u.role for u in creds.list_users()] == [Role.ANALYST]


@pytest.mark.parametrize("username", ["ab", "x" * 65, "has space", "semi;colon", "", "ünï"])
def test_bad_usernames(creds: Credentials, username: str) -> None:
    with pytest.raises(CredentialError, match="3 to 64 characters"):
        creds.add_user(username, PASSWORD, "analyst")
    assert creds.get_user(username) is None


@pytest.mark.parametrize("password", ["short", "alice-smith", "zzzzzzzzzzzzzz"])
def test_weak_passwords_are_refused(creds: Credentials, password: str) -> None:
    with pytest.raises(CredentialError):
        creds.add_user("alice-smith", password, "analyst")
    assert creds.list_users() == []


@pytest.mark.parametrize("role", ["public", "superuser", "", Role.PUBLIC])
def test_bad_roles_are_refused(creds: Credentials, role: Role | str) -> None:
    with pytest.raises(CredentialError, match="role"):
        creds.add_user("alice", PASSWORD, role)


def test_role_names_are_forgiving(creds: Credentials) -> None:
    assert creds.add_user("alice", PASSWORD, " IOC-Operator ").role is Role.IOC_OPERATOR


def test_department_rules(creds: Credentials) -> None:
    with pytest.raises(CredentialError, match="needs a department"):
        creds.add_user("officer", PASSWORD, "department_officer")
    with pytest.raises(CredentialError, match="only a department_officer"):
        creds.add_user("analyst", PASSWORD, "analyst", department="transport")
    officer = creds.add_user("officer", PASSWORD, "department_officer", department=" transport ")
    assert officer.department == "transport"


def test_tenant_rules(creds: Credentials) -> None:
    admin = creds.add_user("root", PASSWORD, "administrator", tenants=["district1"])
    assert admin.tenants is None  # an administrator always sees every tenant
    everywhere = creds.add_user("auditor", PASSWORD, "analyst", tenants=None)
    assert everywhere.tenants is None
    scoped = creds.add_user("d1-analyst", PASSWORD, "analyst", tenants=["district1", "", "district1"])
    assert scoped.tenants == frozenset({"district1", ""})
    with pytest.raises(CredentialError, match="not valid"):
        creds.add_user("bad", PASSWORD, "analyst", tenants=["no spaces"])
    with pytest.raises(CredentialError, match="at least one tenant"):
        creds.add_user("bad", PASSWORD, "analyst", tenants=[])
    with pytest.raises(CredentialError, match="list of tenant names"):
        creds.add_user("bad", PASSWORD, "analyst", tenants="district1")


def test_list_users_is_sorted_and_has_no_hash(creds: Credentials) -> None:
    for name in ("carol", "alice", "bob"):
        creds.add_user(name, PASSWORD, "analyst")
    users = creds.list_users()
    assert [u.username for u in users] == ["alice", "bob", "carol"]
    assert all(not hasattr(u, "password_hash") for u in users)
    assert "argon2" not in repr(users)


def test_disable_blocks_sign_in_and_ends_sessions(creds: Credentials) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    session = creds.open_session("alice")
    assert creds.resolve_session(session.token) is not None
    assert creds.disable_user("ALICE").disabled
    assert creds.resolve_session(session.token) is None
    outcome = creds.authenticate_password("alice", PASSWORD)
    assert outcome.principal is None and outcome.reason == "disabled"
    with pytest.raises(CredentialError, match="no active user"):
        creds.open_session("alice")
    with pytest.raises(CredentialError, match="no user"):
        creds.disable_user("nobody")


def test_enable_restores_sign_in_and_clears_a_lock(creds: Credentials) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    for _ in range(5):
        creds.authenticate_password("alice", "wrong password!")
    creds.disable_user("alice")
    user = creds.enable_user("alice")
    assert not user.disabled and user.locked_until is None
    assert creds.authenticate_password("alice", PASSWORD).reason == "ok"
    with pytest.raises(CredentialError):
        creds.enable_user("nobody")


def test_set_role(creds: Credentials) -> None:
    creds.add_user("alice", PASSWORD, "analyst", tenants=["district1"])
    session = creds.open_session("alice")
    assert creds.resolve_session(session.token).role is Role.ANALYST  # type: ignore[union-attr]
    officer = creds.set_role("alice", "department_officer", department="transport")
    assert (officer.role, officer.department, officer.tenants) == (
        Role.DEPARTMENT_OFFICER,
        "transport",
        frozenset({"district1"}),
    )
    resolved = creds.resolve_session(session.token)  # the cached principal was dropped
    assert resolved is not None and resolved.role is Role.DEPARTMENT_OFFICER and resolved.department == "transport"
    admin = creds.set_role("alice", Role.ADMINISTRATOR)
    assert admin.tenants is None and admin.department is None
    demoted = creds.set_role("alice", "analyst")
    assert demoted.tenants == frozenset({""})  # a former administrator keeps no blanket access
    with pytest.raises(CredentialError, match="needs a department"):
        creds.set_role("alice", "department_officer")
    with pytest.raises(CredentialError, match="only a department_officer"):
        creds.set_role("alice", "analyst", department="transport")
    with pytest.raises(CredentialError, match="no user"):
        creds.set_role("nobody", "analyst")


def test_set_password_ends_sessions(creds: Credentials) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    session = creds.open_session("alice")
    creds.set_password("alice", "a brand new passphrase")
    assert creds.resolve_session(session.token) is None
    assert creds.authenticate_password("alice", PASSWORD).reason == "bad_password"
    assert creds.authenticate_password("alice", "a brand new passphrase").reason == "ok"
    with pytest.raises(CredentialError, match="at least 10"):
        creds.set_password("alice", "short")
    with pytest.raises(CredentialError, match="no user"):
        creds.set_password("nobody", "a brand new passphrase")


# -- password sign-in --------------------------------------------------------------------------------


def test_sign_in_ok(creds: Credentials, clock: Clock) -> None:
    creds.add_user("officer", PASSWORD, "department_officer", department="transport", tenants=["d1"])
    clock.advance(minutes=5)
    outcome = creds.authenticate_password("OFFICER", PASSWORD, client="203.0.113.9")
    assert outcome.reason == "ok" and outcome.ok and not outcome.locked_now
    principal = outcome.principal
    assert principal is not None
    assert (principal.subject, principal.kind, principal.credential_id) == ("officer", "user", "officer")
    assert principal.role is Role.DEPARTMENT_OFFICER and principal.department == "transport"
    assert principal.tenants == frozenset({"d1"})
    assert principal.client == "203.0.113.9"
    assert principal.session_csrf is None
    assert creds.get_user("officer").last_login_at == clock.now  # type: ignore[union-attr]


def test_sign_in_failures(creds: Credentials) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    assert creds.authenticate_password("alice", "wrong password!") == _refused("bad_password")
    assert creds.authenticate_password("mallory", PASSWORD) == _refused("unknown_user")
    assert creds.authenticate_password("not a valid name!", PASSWORD) == _refused("unknown_user")
    assert creds.authenticate_password("alice", "") == _refused("bad_password")


def _refused(reason: str) -> object:
    from smartcity.security.credentials import LoginOutcome

    return LoginOutcome(None, reason, False)


def test_unknown_users_cost_a_hash_verification(store: Store, clock: Clock) -> None:
    class Counting(Passwords):
        calls = 0

        def verify(self, password_hash: str, password: str) -> bool:
            Counting.calls += 1
            return super().verify(password_hash, password)

    counting = Counting(time_cost=1, memory_cost=8, parallelism=1)
    creds = Credentials(store, passwords=counting, clock=clock)
    creds.add_user("alice", PASSWORD, "analyst")
    creds.authenticate_password("nobody", PASSWORD)
    creds.authenticate_password("alice", "wrong password!")
    creds.disable_user("alice")
    creds.authenticate_password("alice", PASSWORD)
    assert Counting.calls == 3


def test_rehash_on_sign_in_when_the_cost_changed(store: Store, clock: Clock) -> None:
    old = Credentials(store, passwords=Passwords.fast(), clock=clock)
    old.add_user("alice", PASSWORD, "analyst")
    stronger = Passwords(time_cost=2, memory_cost=16, parallelism=1)
    assert Credentials(store, passwords=stronger, clock=clock).authenticate_password("alice", PASSWORD).ok
    with store.transaction(write=False) as db:
        stored = db.run("SELECT password_hash FROM users WHERE username = ?", ["alice"]).fetchone()[0]
    assert not stronger.needs_rehash(stored)


# -- lockout -----------------------------------------------------------------------------------------


def test_lockout_after_threshold_failures_within_the_window(creds: Credentials, clock: Clock) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    outcomes = []
    for _ in range(5):
        outcomes.append(creds.authenticate_password("alice", "wrong password!"))
        clock.advance(minutes=2)
    assert [o.reason for o in outcomes] == ["bad_password"] * 5
    assert [o.locked_now for o in outcomes] == [False, False, False, False, True]
    user = creds.get_user("alice")
    assert user is not None and user.locked_until == START + timedelta(minutes=8 + 15)
    locked = creds.authenticate_password("alice", PASSWORD)  # even the right password
    assert locked.principal is None and locked.reason == "locked" and not locked.locked_now


def test_locked_accounts_do_not_check_the_password(store: Store, clock: Clock) -> None:
    class Counting(Passwords):
        calls = 0

        def verify(self, password_hash: str, password: str) -> bool:
            Counting.calls += 1
            return super().verify(password_hash, password)

    creds = Credentials(store, passwords=Counting(time_cost=1, memory_cost=8, parallelism=1), clock=clock)
    creds.add_user("alice", PASSWORD, "analyst")
    for _ in range(5):
        creds.authenticate_password("alice", "wrong password!")
    Counting.calls = 0
    assert creds.authenticate_password("alice", PASSWORD).reason == "locked"
    assert Counting.calls == 0


def test_no_lockout_when_failures_are_spread_beyond_the_window(creds: Credentials, clock: Clock) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    for _ in range(12):
        outcome = creds.authenticate_password("alice", "wrong password!")
        assert outcome.reason == "bad_password" and not outcome.locked_now
        clock.advance(minutes=4)  # five failures span 16 minutes > the 15-minute window
    assert creds.authenticate_password("alice", PASSWORD).reason == "ok"


def test_unlock_after_the_duration(creds: Credentials, clock: Clock) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    for _ in range(5):
        creds.authenticate_password("alice", "wrong password!")
    clock.advance(minutes=14, seconds=59)
    assert creds.authenticate_password("alice", PASSWORD).reason == "locked"
    clock.advance(seconds=1)
    assert creds.get_user("alice").locked_until is None  # type: ignore[union-attr]
    assert creds.authenticate_password("alice", PASSWORD).reason == "ok"


def test_a_fresh_count_after_a_lock_expires(creds: Credentials, clock: Clock) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    for _ in range(5):
        creds.authenticate_password("alice", "wrong password!")
    clock.advance(minutes=16)
    for _ in range(4):
        assert not creds.authenticate_password("alice", "wrong password!").locked_now
    assert creds.authenticate_password("alice", "wrong password!").locked_now


def test_success_resets_the_failure_count(creds: Credentials, clock: Clock) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    for _ in range(4):
        creds.authenticate_password("alice", "wrong password!")
    assert creds.authenticate_password("alice", PASSWORD).reason == "ok"
    for _ in range(4):
        assert not creds.authenticate_password("alice", "wrong password!").locked_now
    assert creds.authenticate_password("alice", PASSWORD).reason == "ok"


def test_custom_lockout_policy(store: Store, clock: Clock, passwords: Passwords) -> None:
    creds = Credentials(
        store,
        passwords=passwords,
        clock=clock,
        lockout_threshold=2,
        lockout_window=timedelta(minutes=1),
        lockout_duration=timedelta(hours=1),
    )
    creds.add_user("alice", PASSWORD, "analyst")
    creds.authenticate_password("alice", "wrong password!")
    clock.advance(seconds=61)
    assert not creds.authenticate_password("alice", "wrong password!").locked_now  # the window restarted
    assert creds.authenticate_password("alice", "wrong password!").locked_now
    clock.advance(minutes=59)
    assert creds.authenticate_password("alice", PASSWORD).reason == "locked"
    clock.advance(minutes=1)
    assert creds.authenticate_password("alice", PASSWORD).ok


def test_constructor_checks_its_policy(store: Store) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Credentials(store, lockout_threshold=0)
    with pytest.raises(ValueError, match="positive"):
        Credentials(store, session_ttl=timedelta(0))
