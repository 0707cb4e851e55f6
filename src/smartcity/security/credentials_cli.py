"""``smartcity user|apikey|client ...``: credentials from the command line.

Passwords are never arguments (they would land in the shell history and the process list): they are prompted for
twice, or read from the first line of standard input with ``--password-stdin``. A new API key or client secret is
printed once and never again; lists show no hash, ever.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime

from smartcity.hub.store import open_store
from smartcity.security.credential_rules import CredentialError, describe_tenants
from smartcity.security.credentials import ApiKeyInfo, ClientInfo, Credentials, User
from smartcity.security.passwords import Passwords
from smartcity.settings import Settings

log = logging.getLogger(__name__)

#: the top-level commands this module adds
COMMANDS = ("user", "apikey", "client")

OnChange = Callable[[str, str, dict[str, object]], None]
_Handler = Callable[[Credentials, argparse.Namespace, OnChange], None]


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``user``, ``apikey`` and ``client`` with their actions on the ``smartcity`` subcommands."""
    user = commands.add_parser("user", help="manage the people who sign in").add_subparsers(
        dest="user_command", required=True, metavar="ACTION"
    )
    add = _leaf(user, "add", "user.add", "add a user (the password is prompted for, or read with --password-stdin)")
    add.add_argument("username")
    add.add_argument("--role", required=True, help="e.g. administrator, ioc_operator, department_officer, analyst")
    _scope_arguments(add)
    add.add_argument("--display-name", dest="display_name", help="the name shown in the operations centre")
    _password_argument(add)
    _leaf(user, "list", "user.list", "list users")
    for action, text in (("disable", "disable a user and end their sessions"), ("enable", "enable a user again")):
        _leaf(user, action, f"user.{action}", text).add_argument("username")
    set_role = _leaf(user, "set-role", "user.set_role", "change a user's role")
    set_role.add_argument("username")
    set_role.add_argument("role")
    set_role.add_argument("--department", help="required for department_officer, refused for other roles")
    set_password = _leaf(user, "set-password", "user.set_password", "give a user a new password (ends their sessions)")
    set_password.add_argument("username")
    _password_argument(set_password)

    for kind, what in (("apikey", "API keys (devices, data publishers)"), ("client", "OAuth2 applications")):
        group = commands.add_parser(kind, help=f"manage {what}").add_subparsers(
            dest=f"{kind}_command", required=True, metavar="ACTION"
        )
        create = _leaf(group, "create", f"{kind}.create", "create one; its secret is printed once")
        create.add_argument("--name", required=True, help="what it is for, e.g. 'air quality sensors, district 1'")
        create.add_argument("--role", required=True, help="e.g. device, data_publisher, analyst")
        _scope_arguments(create)
        _leaf(group, "list", f"{kind}.list", "list them (never a secret)")
        revoke = _leaf(group, "revoke", f"{kind}.revoke", "revoke one for good")
        revoke.add_argument(
            "key_id" if kind == "apikey" else "client_id", metavar="KEY_ID" if kind == "apikey" else "CLIENT_ID"
        )


def _leaf(
    group: argparse._SubParsersAction[argparse.ArgumentParser], name: str, action: str, text: str
) -> argparse.ArgumentParser:
    parser = group.add_parser(name, help=text, description=text)
    parser.add_argument(
        "--database",
        dest="database_url",
        help="sqlite:///path/file.db or postgresql://... (env SMARTCITY_DATABASE_URL)",
    )
    parser.set_defaults(credentials_action=action)
    return parser


def _scope_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tenant",
        dest="tenants",
        action="append",
        metavar="T",
        help="a hub tenant it may use (repeatable; '' is the default tenant, which is the default)",
    )
    parser.add_argument("--all-tenants", dest="all_tenants", action="store_true", help="it may use every tenant")
    parser.add_argument("--department", help="required for department_officer, refused for other roles")


def _password_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        dest="password_stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of prompting",
    )


def run(
    args: argparse.Namespace, settings: Settings, on_change: OnChange, *, passwords: Passwords | None = None
) -> int:
    """Perform one credentials command; 0, or 2 after a one-line error on stderr. ``on_change(action, target,
    details)`` is called for each change (details never hold a secret)."""
    handler = _HANDLERS.get(getattr(args, "credentials_action", ""))
    if handler is None:
        print("smartcity: unknown credentials command", file=sys.stderr)
        return 2
    try:
        store = open_store(settings.database_url)
    except ValueError as exc:
        print(f"smartcity: {exc}", file=sys.stderr)
        return 2
    try:
        handler(Credentials.from_settings(store, settings, passwords=passwords), args, on_change)
    except (CredentialError, ValueError) as exc:
        print(f"smartcity: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0


# -- users -----------------------------------------------------------------------------------------


def _user_add(creds: Credentials, args: argparse.Namespace, on_change: OnChange) -> None:
    password = _read_password(args.password_stdin)
    user = creds.add_user(
        args.username,
        password,
        args.role,
        department=args.department,
        tenants=_tenants(args),
        display_name=args.display_name,
    )
    on_change("security.user.add", user.username, _scope(user))
    print(f"added user {user.username} ({user.role.value}, tenants {describe_tenants(user.tenants)})")


def _user_list(creds: Credentials, args: argparse.Namespace, on_change: OnChange) -> None:
    rows = [
        [
            u.username,
            u.display_name,
            u.role.value,
            u.department or "-",
            describe_tenants(u.tenants),
            _status(u),
            _when(u.last_login_at),
        ]
        for u in creds.list_users()
    ]
    _table(["USERNAME", "NAME", "ROLE", "DEPARTMENT", "TENANTS", "STATUS", "LAST SIGN-IN"], rows)


def _user_disable(creds: Credentials, args: argparse.Namespace, on_change: OnChange) -> None:
    user = creds.disable_user(args.username)
    on_change("security.user.disable", user.username, {})
    print(f"disabled user {user.username} and ended their sessions")


def _user_enable(creds: Credentials, args: argparse.Namespace, on_change: OnChange) -> None:
    user = creds.enable_user(args.username)
    on_change("security.user.enable", user.username, {})
    print(f"enabled user {user.username}")


def _user_set_role(creds: Credentials, args: argparse.Namespace, on_change: OnChange) -> None:
    before = creds.get_user(args.username)
    user = creds.set_role(args.username, args.role, department=args.department)
    details = _scope(user)
    if before is not None:
        details["previous_role"] = before.role.value
    on_change("security.user.set_role", user.username, details)
    print(f"user {user.username} now has role {user.role.value} (tenants {describe_tenants(user.tenants)})")


def _user_set_password(creds: Credentials, args: argparse.Namespace, on_change: OnChange) -> None:
    user = creds.get_user(args.username)
    if user is None:
        raise CredentialError(f"no user {args.username!r}")
    creds.set_password(user.username, _read_password(args.password_stdin))
    on_change("security.user.set_password", user.username, {})
    print(f"set a new password for user {user.username} and ended their sessions")


# -- API keys and OAuth2 clients -------------------------------------------------------------------


def _apikey_create(creds: Credentials, args: argparse.Namespace, on_change: OnChange) -> None:
    info, key = creds.create_api_key(args.name, args.role, department=args.department, tenants=_tenants(args))
    on_change("security.apikey.create", info.id, {"name": info.name, **_scope(info)})
    print(f"created API key {info.id} ({info.name}, {info.role.value}, tenants {describe_tenants(info.tenants)})")
    print(f"key: {key}")
    print("Store this key now: it will not be shown again.")


def _apikey_list(creds: Credentials, args: argparse.Namespace, on_change: OnChange) -> None:
    _info_table(creds.list_api_keys())


def _apikey_revoke(creds: Credentials, args: argparse.Namespace, on_change: OnChange) -> None:
    info = creds.revoke_api_key(args.key_id)
    on_change("security.apikey.revoke", info.id, {"name": info.name})
    print(f"revoked API key {info.id} ({info.name})")


def _client_create(creds: Credentials, args: argparse.Namespace, on_change: OnChange) -> None:
    info, secret = creds.create_client(args.name, args.role, department=args.department, tenants=_tenants(args))
    on_change("security.client.create", info.client_id, {"name": info.name, **_scope(info)})
    print(f"created OAuth2 client {info.client_id} ({info.name}, {info.role.value}, ", end="")
    print(f"tenants {describe_tenants(info.tenants)})")
    print(f"client_id: {info.client_id}")
    print(f"client_secret: {secret}")
    print("Store this secret now: it will not be shown again.")


def _client_list(creds: Credentials, args: argparse.Namespace, on_change: OnChange) -> None:
    _info_table(creds.list_clients())


def _client_revoke(creds: Credentials, args: argparse.Namespace, on_change: OnChange) -> None:
    info = creds.revoke_client(args.client_id)
    on_change("security.client.revoke", info.client_id, {"name": info.name})
    print(f"revoked OAuth2 client {info.client_id} ({info.name}) and its access tokens")


_HANDLERS: dict[str, _Handler] = {
    "user.add": _user_add,
    "user.list": _user_list,
    "user.disable": _user_disable,
    "user.enable": _user_enable,
    "user.set_role": _user_set_role,
    "user.set_password": _user_set_password,
    "apikey.create": _apikey_create,
    "apikey.list": _apikey_list,
    "apikey.revoke": _apikey_revoke,
    "client.create": _client_create,
    "client.list": _client_list,
    "client.revoke": _client_revoke,
}


# -- helpers ---------------------------------------------------------------------------------------


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise CredentialError("no password on standard input")
        return password
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat the password: ") != first:
        raise CredentialError("the two passwords differ")
    return first


def _tenants(args: argparse.Namespace) -> tuple[str, ...] | None:
    if args.all_tenants:
        if args.tenants:
            raise CredentialError("give --tenant or --all-tenants, not both")
        return None
    return tuple(args.tenants) if args.tenants else ("",)


def _scope(item: User | ApiKeyInfo | ClientInfo) -> dict[str, object]:
    return {
        "role": item.role.value,
        "department": item.department,
        "tenants": None if item.tenants is None else sorted(item.tenants),
    }


def _status(user: User) -> str:
    if user.disabled:
        return "disabled"
    if user.locked_until is not None:
        return f"locked until {_when(user.locked_until)}"
    return "active"


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%SZ")


def _info_table(items: Sequence[ApiKeyInfo | ClientInfo]) -> None:
    rows = [
        [
            item.id if isinstance(item, ApiKeyInfo) else item.client_id,
            item.name,
            item.role.value,
            item.department or "-",
            describe_tenants(item.tenants),
            "revoked" if item.revoked else "active",
            _when(item.created_at),
            _when(item.last_used_at),
        ]
        for item in items
    ]
    _table(["ID", "NAME", "ROLE", "DEPARTMENT", "TENANTS", "STATUS", "CREATED", "LAST USED"], rows)


def _table(headers: list[str], rows: list[list[str]]) -> None:
    if not rows:
        print("(none)")
        return
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
