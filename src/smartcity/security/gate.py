"""The gate every request passes: rate limits, authentication, then (after the route ran) the audit record.

Authorization itself happens once routing has chosen a route, in :func:`authorize`, a dependency the
application puts on every route: it looks the route up in :data:`smartcity.security.policy.POLICY`.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartcity.hub.errors import NgsiError
from smartcity.security.audit import AuditRecord, SecurityEvent
from smartcity.security.authn import BadCredential, presented, resolve
from smartcity.security.errors import Forbidden, TooManyRequests, Unauthorized
from smartcity.security.policy import Rule, rule_for
from smartcity.security.principal import Principal
from smartcity.security.runtime import SecurityRuntime, principal_of
from smartcity.web.errors import build_error

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RULE_KEY = "smartcity.rule"
DENIED_KEY = "smartcity.denied"
SIGN_IN_PATHS = frozenset({"/auth/login", "/auth/token"})
TENANT_HEADER = b"ngsild-tenant"


class Gate:
    """Pure ASGI middleware; ``runtime`` is read from the app state on each request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        runtime: SecurityRuntime = scope["app"].state.security
        client = scope.get("client")
        address = client[0] if client else "unknown"
        state: dict[str, Any] = scope.setdefault("state", {})
        state["principal"] = Principal(
            subject="anonymous", client=address, tenants=None if runtime.open_hub else frozenset({""})
        )

        wait = runtime.per_address.take(address)
        if wait is None and scope["path"] in SIGN_IN_PATHS and scope["method"] == "POST":
            wait = runtime.sign_in.take(address)
        if wait is not None:
            await self._refuse_limited(runtime, scope, receive, send, state["principal"], f"address:{address}", wait)
            return

        headers = dict(scope["headers"])
        found = None
        try:
            found = presented(headers)
            if found is not None:
                state["principal"] = (await resolve(runtime, found)).with_client(address)
        except BadCredential as exc:
            label = found.label if found is not None else "credential"
            runtime.emit(
                SecurityEvent.of(
                    "auth.failure",
                    state["principal"],
                    action=f"{scope['method']} {scope['path']}",
                    details={"credential": label, "reason": str(exc)},
                )
            )
            scope[DENIED_KEY] = True
            await self._answer(scope, receive, send, Unauthorized(str(exc)))
            return

        principal: Principal = state["principal"]
        if not principal.is_anonymous:
            wait = runtime.per_credential.take(principal.subject)
            if wait is not None:
                await self._refuse_limited(runtime, scope, receive, send, principal, principal.subject, wait)
                return

        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            rule: Rule | None = scope.get(RULE_KEY)
            if rule is not None and (rule.audit if rule.audit is not None else scope["method"] not in SAFE_METHODS):
                self._audit(runtime, scope, principal_of_scope(scope), rule, status, headers)

    async def _refuse_limited(
        self,
        runtime: SecurityRuntime,
        scope: Scope,
        receive: Receive,
        send: Send,
        who: Principal,
        key: str,
        wait: float,
    ) -> None:
        if runtime.limited(key):
            runtime.emit(
                SecurityEvent.of(
                    "ratelimit.hit", who, action=f"{scope['method']} {scope['path']}", details={"limit": key}
                )
            )
        await self._answer(scope, receive, send, TooManyRequests("too many requests: slow down", wait))

    async def _answer(self, scope: Scope, receive: Receive, send: Send, error: NgsiError) -> None:
        response = build_error(Request(scope), error)
        extra = getattr(error, "response_headers", None)
        if extra is not None:
            response.headers.update(extra())
        await response(scope, receive, send)

    def _audit(
        self,
        runtime: SecurityRuntime,
        scope: Scope,
        principal: Principal,
        rule: Rule,
        status: int,
        headers: dict[bytes, bytes],
    ) -> None:
        if scope.get(DENIED_KEY):
            outcome = "denied"
        elif status < 400:
            outcome = "success"
        elif status < 500:
            outcome = "failure"
        else:
            outcome = "error"
        tenant = headers.get(TENANT_HEADER)
        details: dict[str, Any] = dict(scope["state"].get("audit_details") or {})
        record = AuditRecord.of(
            principal,
            rule.action,
            scope["path"],
            outcome=outcome,
            status=status,
            method=scope["method"],
            tenant=tenant.decode("latin-1") if tenant is not None else None,
            details=details,
        )
        runtime.record(record)
        administrative = rule.action.startswith("security.") and not rule.public
        if administrative and scope["method"] not in SAFE_METHODS and outcome == "success":
            runtime.emit(
                SecurityEvent.of("admin.action", principal, action=rule.action, details={"target": scope["path"]})
            )


def principal_of_scope(scope: Scope) -> Principal:
    principal: Principal = scope["state"]["principal"]
    return principal


async def authorize(request: Request) -> None:
    """The dependency on every route: the policy decides; a route without a rule is refused."""
    scope = request.scope
    route = scope.get("route")
    name = getattr(route, "name", None)
    rule = rule_for(name) if isinstance(name, str) else None
    runtime: SecurityRuntime = request.app.state.security
    principal = principal_of(request)
    if rule is None:
        log.error("route %r has no entry in the policy table: refused", name)
        scope[DENIED_KEY] = True
        raise Forbidden("this route has no access policy")
    scope[RULE_KEY] = rule
    if not rule.allows(principal, open_hub=runtime.open_hub):
        scope[DENIED_KEY] = True
        runtime.emit(SecurityEvent.of("access.denied", principal, action=rule.action, details={"path": scope["path"]}))
        if principal.is_anonymous:
            raise Unauthorized(f"{rule.action} needs a credential: sign in, or send a bearer token or an API key")
        raise Forbidden(f"the role {principal.role.value} may not perform {rule.action}")
    if (
        principal.session_csrf is not None
        and rule.session_csrf
        and request.method not in SAFE_METHODS
        and request.headers.get("x-csrf-token") != principal.session_csrf
    ):
        scope[DENIED_KEY] = True
        runtime.emit(SecurityEvent.of("access.denied", principal, action=rule.action, details={"reason": "csrf"}))
        raise Forbidden("a signed-in browser must send its X-CSRF-Token with every change")
