"""Mount the security pillar on the app: the gate, the policy on every route, the log, the routes."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from smartcity.hub.store import Store
from smartcity.security import api, runtime
from smartcity.security.audit import SecurityEvent
from smartcity.security.gate import Gate
from smartcity.security.policy import POLICY
from smartcity.security.principal import Principal
from smartcity.settings import Settings
from smartcity.web import background
from smartcity.web.routes import iter_routes

log = logging.getLogger(__name__)


def install(app: FastAPI, settings: Settings, store: Store) -> None:
    """Before the pillars' routers: the runtime and the gate. :func:`check` runs once every router is in."""
    security = runtime.build(settings, store)
    app.state.security = security
    app.add_middleware(Gate)
    app.include_router(api.router())
    background.register(app, security.log)

    def on_foreign_tenant(principal: Principal, tenant: str | None) -> None:
        security.emit(
            SecurityEvent.of(
                "tenant.denied", principal, action="hub.tenant", tenant=tenant or "", details={"tenant": tenant or ""}
            )
        )

    app.state.on_foreign_tenant = on_foreign_tenant
    if settings.open_hub:
        log.warning(
            "SMARTCITY_AUTH=open: the hub's NGSI-LD API answers anyone without a credential "
            "(the embedded demo); set SMARTCITY_AUTH=required in production"
        )
    else:
        log.info("the hub's NGSI-LD API needs a credential (SMARTCITY_AUTH=required)")


def check(app: FastAPI) -> None:
    """Refuse to build an app with a route the policy table does not decide."""
    missing = sorted({r.name for r in iter_routes(app) if r.name not in POLICY})
    if missing:
        raise RuntimeError(f"routes without an access policy (add them to security/policy.py): {', '.join(missing)}")
