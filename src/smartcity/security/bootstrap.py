"""The first administrator of a new installation (used by ``smartcity demo``)."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from smartcity.hub.store import Store
from smartcity.security.credentials import Credentials
from smartcity.security.roles import Role
from smartcity.settings import Settings

FIRST_ADMIN = "admin"


def ensure_administrator(
    store: Store, settings: Settings, on_change: Callable[[str, str, dict[str, object]], None]
) -> tuple[str, str] | None:
    """Create ``admin`` with a random password when no administrator exists; returns (username, password)."""
    credentials = Credentials.from_settings(store, settings)
    users = credentials.list_users()
    if any(user.role is Role.ADMINISTRATOR and not user.disabled for user in users):
        return None
    if any(user.username == FIRST_ADMIN for user in users):
        return None  # disabled or demoted on purpose: an operator decided, the demo does not override it
    password = secrets.token_urlsafe(12)
    credentials.add_user(FIRST_ADMIN, password, Role.ADMINISTRATOR, tenants=None, display_name="Administrator")
    on_change("security.user.add", FIRST_ADMIN, {"role": Role.ADMINISTRATOR.value, "reason": "first administrator"})
    return FIRST_ADMIN, password
