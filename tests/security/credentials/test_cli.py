"""``smartcity user|apikey|client ...`` end to end through ``run``, on both engines."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator

import pytest

from smartcity.hub.store import Store
from smartcity.security import credentials_cli
from smartcity.security.credentials import Credentials
from smartcity.security.passwords import Passwords
from smartcity.security.roles import Role
from smartcity.settings import Settings
from tests.security.credentials.conftest import PASSWORD

Change = tuple[str, str, dict[str, object]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smartcity")
    credentials_cli.add_parsers(parser.add_subparsers(dest="command", required=True))
    return parser


class Cli:
    def __init__(self, store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        url = getattr(store, "url", None) or f"sqlite:///{getattr(store, 'path', '')}"
        self.settings = Settings(database_url=url)
        self.changes: list[Change] = []
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.out = ""
        self.err = ""

    def __call__(self, *argv: str, stdin: str | None = None) -> int:
        if stdin is not None:
            self.monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        args = _parser().parse_args(argv)
        code = credentials_cli.run(
            args, self.settings, lambda *change: self.changes.append(change), passwords=Passwords.fast()
        )
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        return code


@pytest.fixture
def cli(store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    yield Cli(store, capsys, monkeypatch)


def test_user_add_with_password_on_stdin(cli: Cli, creds: Credentials) -> None:
    code = cli(
        "user",
        "add",
        "Alice",
        "--role",
        "ioc-operator",
        "--tenant",
        "d1",
        "--tenant",
        "",
        "--display-name",
        "Alice Trần",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0, cli.err
    assert "added user alice (ioc_operator, tenants (default),d1)" in cli.out
    assert cli.changes == [
        ("security.user.add", "alice", {"role": "ioc_operator", "department": None, "tenants": ["", "d1"]})
    ]
    user = creds.get_user("alice")
    assert user is not None and user.display_name == "Alice Trần"
    assert creds.authenticate_password("alice", PASSWORD).ok


def test_user_add_prompts_twice(cli: Cli, creds: Credentials, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, PASSWORD])
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert cli("user", "add", "bob", "--role", "administrator") == 0, cli.err
    assert len(prompts) == 2
    bob = creds.get_user("bob")
    assert bob is not None and bob.role is Role.ADMINISTRATOR and bob.tenants is None
    assert PASSWORD not in cli.out


def test_user_add_with_differing_passwords(cli: Cli, creds: Credentials, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli("user", "add", "bob", "--role", "analyst") == 2
    assert cli.err == "smartcity: the two passwords differ\n"
    assert creds.get_user("bob") is None and cli.changes == []


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["user", "add", "bob", "--role", "analyst", "--password-stdin"], "short\n", "at least 10 characters"),
        (["user", "add", "bob", "--role", "analyst", "--password-stdin"], "", "no password on standard input"),
        (["user", "add", "bob", "--role", "public", "--password-stdin"], PASSWORD, "cannot be assigned"),
        (["user", "add", "bob", "--role", "department_officer", "--password-stdin"], PASSWORD, "needs a department"),
        (["user", "add", "b", "--role", "analyst", "--password-stdin"], PASSWORD, "3 to 64 characters"),
        (
            ["user", "add", "bob", "--role", "analyst", "--tenant", "d1", "--all-tenants", "--password-stdin"],
            PASSWORD,
            "not both",
        ),
        (["user", "disable", "nobody"], None, "no user 'nobody'"),
        (["user", "set-role", "nobody", "analyst"], None, "no user 'nobody'"),
        (["user", "set-password", "nobody", "--password-stdin"], PASSWORD, "no user 'nobody'"),
        (["apikey", "revoke", "nosuchkey"], None, "no API key 'nosuchkey'"),
        (["client", "revoke", "nosuchclient"], None, "no client 'nosuchclient'"),
        (["apikey", "create", "--name", "x", "--role", "superuser"], None, "unknown role"),
    ],
)
def test_errors_are_one_line_and_change_nothing(cli: Cli, argv: list[str], stdin: str | None, message: str) -> None:
    assert cli(*argv, stdin=stdin) == 2
    assert cli.err.startswith("smartcity: ") and message in cli.err and cli.err.count("\n") == 1
    assert cli.out == "" and cli.changes == []


def test_password_is_never_an_argument(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["user", "add", "bob", "--role", "analyst", "--password", PASSWORD])
    capsys.readouterr()


def test_bad_database_url(cli: Cli) -> None:
    cli.settings = Settings(database_url="mysql://nowhere")
    assert cli("user", "list") == 2
    assert "unsupported database URL" in cli.err


def test_user_list_disable_enable_set_role_set_password(cli: Cli, creds: Credentials) -> None:
    creds.add_user("alice", PASSWORD, "analyst")
    creds.add_user("carol", PASSWORD, "department_officer", department="transport", tenants=["d1"])
    session = creds.open_session("alice")

    assert cli("user", "list") == 0
    lines = cli.out.splitlines()
    assert lines[0].split() == ["USERNAME", "NAME", "ROLE", "DEPARTMENT", "TENANTS", "STATUS", "LAST", "SIGN-IN"]
    assert lines[1].split()[:6] == ["alice", "alice", "analyst", "-", "(default)", "active"]
    assert lines[2].split()[:6] == ["carol", "carol", "department_officer", "transport", "d1", "active"]
    assert "argon2" not in cli.out

    assert cli("user", "disable", "alice") == 0
    assert creds.resolve_session(session.token) is None
    assert cli("user", "list") == 0 and "disabled" in cli.out
    assert cli("user", "enable", "ALICE") == 0
    assert "enabled user alice" in cli.out

    assert cli("user", "set-role", "alice", "department_officer", "--department", "water") == 0
    assert "now has role department_officer" in cli.out
    alice = creds.get_user("alice")
    assert alice is not None and (alice.role, alice.department) == (Role.DEPARTMENT_OFFICER, "water")

    second = creds.open_session("alice")
    assert cli("user", "set-password", "alice", "--password-stdin", stdin="a different passphrase\r\n") == 0
    assert creds.resolve_session(second.token) is None
    assert creds.authenticate_password("alice", "a different passphrase").ok

    assert [c[:2] for c in cli.changes] == [
        ("security.user.disable", "alice"),
        ("security.user.enable", "alice"),
        ("security.user.set_role", "alice"),
        ("security.user.set_password", "alice"),
    ]
    assert cli.changes[2][2] == {
        "role": "department_officer",
        "department": "water",
        "tenants": [""],
        "previous_role": "analyst",
    }
    assert "a different passphrase" not in repr(cli.changes)


def test_apikey_create_list_revoke(cli: Cli, creds: Credentials) -> None:
    assert cli("apikey", "create", "--name", "Air sensors", "--role", "device", "--tenant", "d1") == 0, cli.err
    lines = cli.out.splitlines()
    key = next(line.removeprefix("key: ") for line in lines if line.startswith("key: "))
    assert "will not be shown again" in cli.out
    principal = creds.resolve_api_key(key)
    assert principal is not None and principal.role is Role.DEVICE and principal.tenants == frozenset({"d1"})
    key_id = principal.credential_id
    assert key_id is not None
    assert cli.changes == [
        (
            "security.apikey.create",
            key_id,
            {"name": "Air sensors", "role": "device", "department": None, "tenants": ["d1"]},
        )
    ]

    assert cli("apikey", "list") == 0
    assert key_id in cli.out and "Air sensors" in cli.out and "active" in cli.out
    assert key.split("_", 2)[2] not in cli.out

    assert cli("apikey", "revoke", key_id) == 0
    assert f"revoked API key {key_id}" in cli.out
    assert cli.changes[-1] == ("security.apikey.revoke", key_id, {"name": "Air sensors"})
    assert cli("apikey", "list") == 0 and "revoked" in cli.out
    creds.clear_cache()
    assert creds.resolve_api_key(key) is None
    assert key not in repr(cli.changes)


def test_client_create_list_revoke(cli: Cli, creds: Credentials) -> None:
    assert cli("client", "create", "--name", "Dashboard", "--role", "analyst", "--all-tenants") == 0, cli.err
    fields = dict(line.split(": ", 1) for line in cli.out.splitlines() if line.startswith("client_"))
    client_id, secret = fields["client_id"], fields["client_secret"]
    assert "will not be shown again" in cli.out
    issued = creds.issue_token(client_id, secret)
    assert issued is not None
    principal = creds.resolve_token(issued[0])
    assert principal is not None and principal.tenants is None
    assert cli.changes == [
        (
            "security.client.create",
            client_id,
            {"name": "Dashboard", "role": "analyst", "department": None, "tenants": None},
        )
    ]

    assert cli("client", "list") == 0
    assert client_id in cli.out and "*" in cli.out and secret not in cli.out

    assert cli("client", "revoke", client_id) == 0
    assert cli.changes[-1] == ("security.client.revoke", client_id, {"name": "Dashboard"})
    assert creds.issue_token(client_id, secret) is None
    assert secret not in repr(cli.changes)


def test_empty_lists(cli: Cli) -> None:
    for kind in ("user", "apikey", "client"):
        assert cli(kind, "list") == 0
        assert cli.out == "(none)\n"


def test_every_command_is_registered() -> None:
    parser = _parser()
    expected = {
        ("user", "add", "u", "--role", "analyst"): "user.add",
        ("user", "list"): "user.list",
        ("user", "disable", "u"): "user.disable",
        ("user", "enable", "u"): "user.enable",
        ("user", "set-role", "u", "analyst"): "user.set_role",
        ("user", "set-password", "u"): "user.set_password",
        ("apikey", "create", "--name", "n", "--role", "device"): "apikey.create",
        ("apikey", "list"): "apikey.list",
        ("apikey", "revoke", "k"): "apikey.revoke",
        ("client", "create", "--name", "n", "--role", "device"): "client.create",
        ("client", "list"): "client.list",
        ("client", "revoke", "c"): "client.revoke",
    }
    for argv, action in expected.items():
        args = parser.parse_args([*argv, "--database", "sqlite:///x.db"])
        assert args.credentials_action == action
        assert args.database_url == "sqlite:///x.db"
