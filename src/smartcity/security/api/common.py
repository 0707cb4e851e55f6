"""What the security routes share: JSON responses, the runtime, running credential calls off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import orjson
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from smartcity.security.runtime import SecurityRuntime

T = TypeVar("T")


def runtime(request: Request) -> SecurityRuntime:
    found: SecurityRuntime = request.app.state.security
    return found


async def call(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A credential-store call: inline on SQLite (fast, one writer), in a worker thread on PostgreSQL."""
    if runtime(request).inline:
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=orjson.dumps(data), status_code=status, media_type="application/json", headers=headers or {}
    )


def audit_details(request: Request, **details: Any) -> None:
    """What the audit record of this request should say beyond who, what path and outcome."""
    request.state.audit_details = details
