"""The one place every request passes through to learn who is calling.

Authentication (users, tokens, API keys) plugs in here: :class:`IdentityMiddleware` resolves the caller and
stores a :class:`Principal` in the request scope; routes read it with :func:`principal_of`. Until the
identity issue lands, every caller is the anonymous principal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, an application, a device, or nobody in particular."""

    subject: str
    kind: str = "anonymous"
    roles: frozenset[str] = field(default_factory=frozenset)
    client: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"


Authenticator = Callable[[Scope], Awaitable[Principal]]


async def anonymous(scope: Scope) -> Principal:
    client = scope.get("client")
    return Principal(subject="anonymous", client=client[0] if client else None)


class IdentityMiddleware:
    """Pure ASGI middleware: resolve the principal once per request, before any route runs."""

    def __init__(self, app: ASGIApp, authenticate: Authenticator = anonymous) -> None:
        self.app = app
        self.authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            state: dict[str, Any] = scope.setdefault("state", {})
            state["principal"] = await self.authenticate(scope)
        await self.app(scope, receive, send)


def principal_of(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal
