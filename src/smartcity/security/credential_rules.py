"""The rules every credential follows (names, role, department, tenant scope) and their storage encodings."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import orjson

from smartcity.security.roles import ASSIGNABLE, Role, parse_role

_USERNAME = re.compile(r"[A-Za-z0-9._\-@]{3,64}", re.ASCII)
#: the hub's tenant names (NGSILD-Tenant header); "" is the default tenant
_TENANT = re.compile(r"[A-Za-z0-9_.:\-]{1,128}", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_LABEL = 200
MAX_DEPARTMENT = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CredentialError(ValueError):
    """Bad input to a credential operation (unknown user, weak password, invalid role, duplicate name...)."""


def username_of(value: str) -> str:
    """The stored (lowercased) form of a username; CredentialError if it breaks the rules."""
    if not isinstance(value, str) or _USERNAME.fullmatch(value.strip()) is None:
        raise CredentialError("a username has 3 to 64 characters: letters, digits, '.', '_', '-' or '@'")
    return value.strip().lower()


def maybe_username(value: object) -> str | None:
    """The stored form of ``value`` if it could be a username, else None (lookups never raise)."""
    if not isinstance(value, str) or _USERNAME.fullmatch(value.strip()) is None:
        return None
    return value.strip().lower()


def role_of(value: Role | str) -> Role:
    """An assignable role; CredentialError names the valid ones."""
    if isinstance(value, Role):
        if value not in ASSIGNABLE:
            raise CredentialError(f"role {value.value!r} cannot be assigned to a credential")
        return value
    if not isinstance(value, str):
        raise CredentialError("a role is a name such as 'analyst'")
    try:
        return parse_role(value)
    except ValueError as exc:
        raise CredentialError(str(exc)) from None


def department_for(role: Role, department: str | None) -> str | None:
    """The department a credential of ``role`` holds: required for a department officer, refused otherwise."""
    name = department.strip() if isinstance(department, str) else department
    if role is Role.DEPARTMENT_OFFICER:
        if not name:
            raise CredentialError("a department_officer needs a department")
        return label(name, "department", limit=MAX_DEPARTMENT)
    if name:
        raise CredentialError(f"only a department_officer has a department, not a {role.value}")
    return None


def tenants_for(role: Role, tenants: Iterable[str] | None) -> frozenset[str] | None:
    """The tenant scope of a credential: None (every tenant) for an administrator or when asked."""
    if role is Role.ADMINISTRATOR or tenants is None:
        return None
    if isinstance(tenants, str):
        raise CredentialError("tenants must be a list of tenant names, not one string")
    names: set[str] = set()
    for tenant in tenants:
        if not isinstance(tenant, str):
            raise CredentialError("tenant names must be text")
        name = tenant.strip()
        if name and _TENANT.fullmatch(name) is None:
            raise CredentialError(f"tenant name {tenant!r} is not valid (letters, digits, _ . : - only)")
        names.add(name)
    if not names:
        raise CredentialError("a credential needs at least one tenant, or every tenant")
    return frozenset(names)


def label(value: str, what: str, *, limit: int = MAX_LABEL) -> str:
    """A human-readable name (display name, application name): non-empty, one line, at most ``limit`` chars."""
    if not isinstance(value, str) or not value.strip():
        raise CredentialError(f"the {what} must not be empty")
    text = value.strip()
    if len(text) > limit:
        raise CredentialError(f"the {what} must be at most {limit} characters long")
    if _CONTROL.search(text):
        raise CredentialError(f"the {what} must not contain control characters")
    return text


def dump_tenants(tenants: frozenset[str] | None) -> str | None:
    return None if tenants is None else orjson.dumps(sorted(tenants)).decode()


def load_tenants(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(orjson.loads(text))


def to_micros(moment: datetime) -> int:
    """A timezone-aware time as integer microseconds since the Unix epoch (the stored form)."""
    if moment.tzinfo is None:
        raise ValueError("credential times must be timezone-aware")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def micros_of(span: timedelta) -> int:
    """A duration in whole microseconds."""
    return span // timedelta(microseconds=1)


def from_micros(micros: int | None) -> datetime | None:
    if micros is None:
        return None
    return _EPOCH + timedelta(microseconds=int(micros))


def describe_tenants(tenants: frozenset[str] | None) -> str:
    """Tenants for people: ``*`` for every tenant, ``(default)`` for the default tenant."""
    if tenants is None:
        return "*"
    return ",".join(name or "(default)" for name in sorted(tenants))
