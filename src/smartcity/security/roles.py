"""The platform's roles. A credential (user, application, API key) has exactly one."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    IOC_OPERATOR = "ioc_operator"
    DEPARTMENT_OFFICER = "department_officer"
    ANALYST = "analyst"
    SOC_ANALYST = "soc_analyst"
    DATA_PUBLISHER = "data_publisher"
    DEVICE = "device"
    CITIZEN = "citizen"
    PUBLIC = "public"


#: roles a signed-in credential may hold (``public`` is what an anonymous caller is)
ASSIGNABLE = frozenset(r for r in Role if r is not Role.PUBLIC)

#: roles that see every hub tenant whatever their credential says
ALL_TENANTS = frozenset({Role.ADMINISTRATOR})


def parse_role(value: str) -> Role:
    """A role from its name (``ioc_operator`` or ``ioc-operator``); ValueError names the valid ones."""
    key = value.strip().lower().replace("-", "_")
    try:
        role = Role(key)
    except ValueError:
        raise ValueError(f"unknown role {value!r}: use one of {', '.join(sorted(ASSIGNABLE))}") from None
    if role not in ASSIGNABLE:
        raise ValueError(f"role {value!r} cannot be assigned to a credential")
    return role
