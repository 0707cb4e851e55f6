"""The security operations centre's reading: the audit trail and the security events, filtered and paged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from smartcity.hub.errors import BadRequestData
from smartcity.security.api.common import call, json_response
from smartcity.security.audit import list_events, list_records

router = APIRouter(prefix="/security", tags=["security operations"])

MAX_PAGE = 1000


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequestData(f"{name} must be an ISO 8601 date-time, not {value!r}") from exc
    if parsed.tzinfo is None:
        raise BadRequestData(f"{name} must carry a time zone (for example 2026-11-24T08:00:00+07:00)")
    return parsed


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequestData(f"limit must be between 1 and {MAX_PAGE}")
    return limit


@router.get("/audit", name="list_audit_records", summary="Audit records, oldest first, paged by sequence number")
async def list_audit_records(
    request: Request,
    since: str | None = None,
    until: str | None = None,
    actor: str | None = None,
    action: str | None = Query(default=None, description="an action or a prefix of one (hub.entity)"),
    tenant: str | None = None,
    outcome: str | None = None,
    after: int = Query(default=0, ge=0, description="the last sequence number already seen"),
    limit: int = 100,
) -> Response:
    store = request.app.state.store
    filters: dict[str, Any] = {
        "since": _when(since, "since"),
        "until": _when(until, "until"),
        "actor": actor,
        "action_prefix": action,
        "tenant": tenant,
        "outcome": outcome,
        "after_seq": after,
        "limit": _limit(limit),
    }

    def read() -> list[dict[str, object]]:
        with store.transaction(write=False) as db:
            return [entry.to_json() for entry in list_records(db, **filters)]

    records = await call(request, read)
    headers = {}
    if len(records) == filters["limit"]:
        headers["Link"] = f'</security/audit?after={records[-1]["seq"]}&limit={limit}>; rel="next"'
    return json_response(records, headers=headers)


@router.get("/events", name="list_security_events", summary="Security events, oldest first, paged by id")
async def list_security_events(
    request: Request,
    kind: str | None = None,
    severity: str | None = None,
    subject: str | None = None,
    client: str | None = None,
    since: str | None = None,
    until: str | None = None,
    after: int = Query(default=0, ge=0, description="the last event id already seen"),
    limit: int = 100,
) -> Response:
    store = request.app.state.store
    filters: dict[str, Any] = {
        "kind": kind,
        "severity": severity,
        "subject": subject,
        "client": client,
        "since": _when(since, "since"),
        "until": _when(until, "until"),
        "after_id": after,
        "limit": _limit(limit),
    }

    def read() -> list[dict[str, object]]:
        with store.transaction(write=False) as db:
            return [event.to_json() for event in list_events(db, **filters)]

    events = await call(request, read)
    headers = {}
    if len(events) == filters["limit"]:
        headers["Link"] = f'</security/events?after={events[-1]["id"]}&limit={limit}>; rel="next"'
    return json_response(events, headers=headers)
