"""The incident routes (docs/ioc.md, section Incidents): ``/ioc/incidents``, ``/ioc/departments``,
``/ioc/incident-types``. A department officer sees and changes only their department's incidents (the desk
enforces it); other incidents answer 404 to them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from smartcity.hub.api.negotiation import read_json
from smartcity.hub.api.params import parse_int
from smartcity.hub.errors import BadRequestData, ResourceNotFound
from smartcity.ioc.contracts import IncidentRequest
from smartcity.ioc.incidents import body as b
from smartcity.ioc.incidents.changes import Patch
from smartcity.ioc.incidents.desk import IncidentDesk
from smartcity.ioc.incidents.errors import AlertsUnavailable
from smartcity.ioc.incidents.from_alert import request_from_alert
from smartcity.ioc.incidents.model import Filter, Viewer
from smartcity.ioc.runtime import runtime_of, watched_tenant_access
from smartcity.security.roles import Role
from smartcity.security.runtime import principal_of

log = logging.getLogger(__name__)
router = APIRouter(tags=["Operations centre: incidents"], dependencies=[Depends(watched_tenant_access)])

BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}
OPEN_FIELDS = frozenset({"type", "title", "description", "severity", "department", "ward", "location"})
ALERT_FIELDS = frozenset({"alertId", "type", "title", "description", "severity", "department"})
PATCH_FIELDS = frozenset({"title", "description", "severity", "type", "department", "assignee", "ward", "location"})
MAX_LIMIT = 1000


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)


def _desk(request: Request) -> IncidentDesk:
    desk: IncidentDesk = runtime_of(request).incidents
    return desk


def viewer_of(request: Request) -> Viewer:
    principal = principal_of(request)
    restricted = principal.role is Role.DEPARTMENT_OFFICER
    return Viewer(principal.subject, principal.department if restricted else None, restricted)


def _audit(request: Request, data: Mapping[str, Any]) -> None:
    request.state.audit_details = {"incident": data.get("id"), "number": data.get("number")}


@router.get("/ioc/departments", name="incidents_departments", summary="Departments and ward units")
async def incidents_departments(request: Request) -> Response:
    kind = request.query_params.get("kind")
    if kind not in (None, "city", "ward"):
        raise BadRequestData("'kind' must be city or ward")
    found = [d for d in _desk(request).catalogue.departments() if kind is None or d["kind"] == kind]
    return _json({"count": len(found), "departments": found})


@router.get("/ioc/incident-types", name="incidents_types", summary="Incident types, their SOP and SLA")
async def incidents_types(request: Request) -> Response:
    catalogue = _desk(request).catalogue
    types = [t.view() for t in catalogue.types.values()]
    return _json({"count": len(types), "types": types, "alertDomains": catalogue.alert_domains})


@router.get("/ioc/incidents", name="incidents_list", summary="Incidents, newest first")
async def incidents_list(request: Request) -> Response:
    params = request.query_params
    statuses = tuple(b.status(s, "status") for s in (params.get("status") or "").split(",") if s)
    severity = params.get("severity")
    where = Filter(
        status=statuses,
        department=params.get("department"),
        type=params.get("type"),
        severity=b.severity(severity) if severity is not None else None,
        assignee=params.get("assignee"),
        ward=params.get("ward"),
        source=params.get("source"),
        overdue=b.boolean_param(params.get("overdue"), "overdue"),
        limit=parse_int(params.get("limit"), "limit", 50, low=1, high=MAX_LIMIT),
        offset=parse_int(params.get("offset"), "offset", 0, low=0, high=2**62),
    )
    found, total = await run_in_threadpool(_desk(request).query, where, viewer_of(request))
    return _json({"count": total, "incidents": found})


@router.post("/ioc/incidents", name="incidents_open", summary="Open an incident (by hand or from an alert)",
             openapi_extra=BODY)  # fmt: skip
async def incidents_open(request: Request) -> Response:
    """201 with the new incident; 200 with the incident already open for the same alert."""
    desk = _desk(request)
    viewer = viewer_of(request)
    raw = await read_json(request)
    if isinstance(raw, dict) and "alertId" in raw:
        data, created = await _open_from_alert(request, desk, viewer, b.obj(raw, ALERT_FIELDS))
    else:
        body = b.obj(raw, OPEN_FIELDS)
        if "severity" not in body:
            raise BadRequestData("'severity' is required")
        incident = IncidentRequest(
            type=b.text(body, "type", required=True, limit=100) or "",
            title=b.text(body, "title", required=True, limit=b.MAX_TITLE) or "",
            description=b.text(body, "description") or "",
            severity=b.severity(body["severity"]),
            source="manual",
            opened_by=viewer.subject,
            department=b.text(body, "department", limit=100),
            ward=b.text(body, "ward", limit=20),
            location=b.point(body.get("location")),
        )
        data, created = await run_in_threadpool(desk.open_as, incident, viewer)
    _audit(request, data)
    if not created:
        return _json(data)
    return _json(data, 201, {"Location": f"/ioc/incidents/{data['id']}"})


async def _open_from_alert(
    request: Request, desk: IncidentDesk, viewer: Viewer, body: Mapping[str, Any]
) -> tuple[dict[str, Any], bool]:
    alert_id = b.text(body, "alertId", required=True, limit=300) or ""
    alerts = runtime_of(request).alerts
    if alerts is None or not hasattr(alerts, "get"):
        raise AlertsUnavailable("the alert manager is not running: open the incident by hand")
    alert = await run_in_threadpool(alerts.get, alert_id)
    if alert is None:
        raise ResourceNotFound(f"no alert {alert_id!r}")
    overrides: dict[str, Any] = {
        "type": b.text(body, "type", limit=100),
        "title": b.text(body, "title", limit=b.MAX_TITLE),
        "description": b.text(body, "description"),
        "department": b.text(body, "department", limit=100),
        "severity": b.severity(body["severity"]) if body.get("severity") is not None else None,
    }
    incident = request_from_alert(alert, desk.catalogue, viewer.subject, overrides)
    data, created = await run_in_threadpool(desk.open_as, incident, viewer)
    link = getattr(alerts, "link_incident", None)
    if created and callable(link):
        try:
            await run_in_threadpool(link, alert_id, data["id"])
        except Exception:  # the incident stands; the alert only misses its back-link
            log.exception("could not link alert %s to incident %s", alert_id, data["number"])
    return data, created


@router.get("/ioc/incidents/{incidentId}", name="incidents_get", summary="One incident with its timeline")
async def incidents_get(request: Request, incidentId: str) -> Response:
    return _json(await run_in_threadpool(_desk(request).require, incidentId, viewer_of(request)))


@router.patch("/ioc/incidents/{incidentId}", name="incidents_change", summary="Edit or assign an incident",
              openapi_extra=BODY)  # fmt: skip
async def incidents_change(request: Request, incidentId: str) -> Response:
    body = b.obj(await read_json(request), PATCH_FIELDS)
    if not body:
        raise BadRequestData(f"nothing to change; give any of {', '.join(sorted(PATCH_FIELDS))}")
    given: dict[str, Any] = {}
    for key in ("title", "type"):
        if key in body:
            given[key] = b.text(body, key, required=True, limit=b.MAX_TITLE)
    if "description" in body:
        given["description"] = b.text(body, "description", nullable=True) or ""
    for key in ("assignee", "ward"):
        if key in body:
            given[key] = b.text(body, key, nullable=True, limit=b.MAX_NAME) or None
    if "department" in body:
        given["department"] = b.text(body, "department", required=True, limit=100)
    if "severity" in body:
        given["severity"] = b.severity(body["severity"])
    if "location" in body:
        given["location"] = b.point(body["location"])
    data = await run_in_threadpool(_desk(request).change, incidentId, Patch(**given), viewer_of(request))
    _audit(request, data)
    return _json(data)


@router.post("/ioc/incidents/{incidentId}/transitions", name="incidents_transition",
             summary="Move an incident along its life", openapi_extra=BODY)  # fmt: skip
async def incidents_transition(request: Request, incidentId: str) -> Response:
    body = b.obj(await read_json(request), frozenset({"to", "note", "public"}))
    if "to" not in body:
        raise BadRequestData("'to' is required: the status to move to")
    target = b.status(body["to"])
    note = b.text(body, "note")
    data = await run_in_threadpool(
        _desk(request).transition, incidentId, target, note or None, b.flag(body, "public"), viewer_of(request)
    )
    _audit(request, data)
    return _json(data)


@router.post("/ioc/incidents/{incidentId}/comments", name="incidents_comment", summary="Comment on an incident",
             openapi_extra=BODY)  # fmt: skip
async def incidents_comment(request: Request, incidentId: str) -> Response:
    body = b.obj(await read_json(request), frozenset({"text", "public"}))
    note = b.text(body, "text", required=True) or ""
    public = b.flag(body, "public") or False
    data = await run_in_threadpool(_desk(request).comment, incidentId, note, public, viewer_of(request))
    _audit(request, data)
    return _json(data, 201)


@router.put("/ioc/incidents/{incidentId}/checklist/{itemId}", name="incidents_checklist",
            summary="Tick or untick an SOP checklist item", openapi_extra=BODY)  # fmt: skip
async def incidents_checklist(request: Request, incidentId: str, itemId: str) -> Response:
    body = b.obj(await read_json(request), frozenset({"done"}))
    done = bool(b.flag(body, "done", required=True))
    data = await run_in_threadpool(_desk(request).check, incidentId, itemId, done, viewer_of(request))
    _audit(request, data)
    return _json(data)
