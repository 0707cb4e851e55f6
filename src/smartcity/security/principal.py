"""Who is calling: the result of authentication, read by the policy, the hub's tenant boundary and the audit."""

from __future__ import annotations

from dataclasses import dataclass

from smartcity.security.roles import ALL_TENANTS, Role


@dataclass(frozen=True)
class Principal:
    """A resolved caller.

    ``kind`` says how it was authenticated: ``anonymous``, ``user`` (password, then a browser session),
    ``client`` (OAuth2 client-credentials bearer token), ``apikey`` (devices and publishers) or ``system``
    (the command line and the platform's own jobs). ``tenants`` is the set of hub tenants the caller may see
    (``None``: every tenant); ``""`` is the default tenant. ``credential_id`` names the user, client or key
    (never its secret). ``session_csrf`` is set for session-cookie callers, whose unsafe requests must echo it.
    """

    subject: str
    kind: str = "anonymous"
    role: Role = Role.PUBLIC
    tenants: frozenset[str] | None = frozenset({""})
    department: str | None = None
    credential_id: str | None = None
    client: str | None = None
    session_csrf: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"

    def may_use_tenant(self, tenant: str | None) -> bool:
        """Whether this caller may see hub tenant ``tenant`` (``None`` or ``""``: the default tenant)."""
        if self.role in ALL_TENANTS or self.tenants is None:
            return True
        return (tenant or "") in self.tenants

    def with_client(self, client: str | None) -> Principal:
        from dataclasses import replace

        return replace(self, client=client)


def anonymous(client: str | None = None) -> Principal:
    return Principal(subject="anonymous", client=client)


def system(subject: str) -> Principal:
    """The command line or a platform job acting on its own authority."""
    return Principal(subject=subject, kind="system", role=Role.ADMINISTRATOR, tenants=None)
