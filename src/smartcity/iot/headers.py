"""FIWARE multi-tenancy headers on the IoT agent's API, mapped onto the hub's tenants.

* ``Fiware-Service`` names the hub tenant (the one ``NGSILD-Tenant`` names in the NGSI-LD API); without it,
  the default tenant. The caller's credential must allow that tenant: a foreign one answers exactly as a
  service that does not exist (404 ``SERVICE_NOT_FOUND``), and is a security event.
* ``Fiware-ServicePath`` is stored with every group, device and dead letter and filters reads; without it,
  ``/``. Reads accept ``/*`` (or ``/#``) for every service path of the service.
"""

from __future__ import annotations

import re

from fastapi import Request

from smartcity.hub.errors import NonexistentTenant
from smartcity.hub.store import Store
from smartcity.iot.errors import BadRequest, ServiceNotFound
from smartcity.iot.model import DEFAULT_SERVICE_PATH, Scope

SERVICE = "fiware-service"
SERVICE_PATH = "fiware-servicepath"
_SERVICE = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
_PATH_PART = re.compile(r"^[A-Za-z0-9_\-]{1,50}$")
MAX_PATH_DEPTH = 10


def _service_path(raw: str | None, *, reading: bool) -> str:
    path = (raw or "").strip() or DEFAULT_SERVICE_PATH
    if path in ("/*", "/#"):
        if not reading:
            raise BadRequest("a wildcard Fiware-ServicePath (/* or /#) is only for reads")
        return path
    if path != "/":
        path = path.rstrip("/")
        parts = path.split("/")
        if parts[0] != "" or len(parts) - 1 > MAX_PATH_DEPTH or not all(_PATH_PART.match(p) for p in parts[1:]):
            raise BadRequest(
                f"Fiware-ServicePath {raw!r} is not valid: '/' then up to {MAX_PATH_DEPTH} names of letters, "
                "digits, '_' or '-' separated by '/'"
            )
    return path


def scope_of(request: Request, *, reading: bool = False) -> Scope:
    """The scope of a provisioning request, checked against the caller's tenants."""
    service = (request.headers.get(SERVICE) or "").strip()
    if service and not _SERVICE.match(service):
        raise BadRequest(f"Fiware-Service {service!r} is not valid (letters, digits, _ . : - only)")
    scope = Scope(service, _service_path(request.headers.get(SERVICE_PATH), reading=reading))
    principal = getattr(request.state, "principal", None)
    if principal is not None and not principal.may_use_tenant(service):
        on_foreign = getattr(request.app.state, "on_foreign_tenant", None)
        if on_foreign is not None:
            on_foreign(principal, service)
        raise ServiceNotFound(f"service {service!r} does not exist")
    return scope


def tenant_id(store: Store, tenant: str, *, create: bool = False) -> int | None:
    """The hub tenant's id (created when asked), or None when it does not exist."""
    try:
        return store.tenant(tenant, create=create).tenant_id
    except NonexistentTenant:
        return None
