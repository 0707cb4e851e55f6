"""The alerts' HTTP API: ``/ioc/alerts``, ``/ioc/silences``, ``/ioc/escalation-policies``, ``/ioc/channels``.

Routes only parse, call the manager in a worker thread and render; every error is an NgsiError rendered in the
platform's envelope. Who may call what is in :mod:`.policy`; the security gate audits every change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from smartcity.hub.api.params import parse_int
from smartcity.hub.errors import BadRequestData
from smartcity.hub.notify.sender import DeliveryError
from smartcity.ioc.alerts import configuration as conf
from smartcity.ioc.alerts import silencing
from smartcity.ioc.alerts.delivery import test_message
from smartcity.ioc.alerts.manager import AlertManager
from smartcity.ioc.alerts.model import ACTIVE, CLEARED, AlertFilter
from smartcity.ioc.contracts import Severity
from smartcity.ioc.runtime import watched_tenant_access
from smartcity.security.runtime import principal_of

router = APIRouter(tags=["IOC: alerts"], dependencies=[Depends(watched_tenant_access)])
T = TypeVar("T")
JSON = "application/json"


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=JSON)


def _manager(request: Request) -> AlertManager:
    manager: AlertManager = request.app.state.ioc.alerts
    return manager


async def _call(fn: Callable[..., T], *args: Any) -> T:
    return await run_in_threadpool(fn, *args)


async def _body(request: Request, *, optional: bool = False) -> Any:
    raw = await request.body()
    if not raw.strip():
        if optional:
            return {}
        raise BadRequestData("a JSON body is required")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequestData(f"the body is not valid JSON: {exc}") from exc


def _note(body: Any) -> str | None:
    if not isinstance(body, dict) or set(body) - {"note"}:
        raise BadRequestData("the body is {'note': text} (optional)")
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise BadRequestData("'note' must be a text of at most 2000 characters")
    return note


def _bool(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    if value not in ("true", "false"):
        raise BadRequestData(f"'{name}' must be true or false")
    return value == "true"


# -- alerts ----------------------------------------------------------------------------------------


@router.get("/ioc/alerts", name="ioc_list_alerts", summary="Alerts, newest first, with filters")
async def ioc_list_alerts(request: Request) -> Response:
    q = request.query_params
    status = q.get("status", ACTIVE)
    if status not in (ACTIVE, CLEARED, "all"):
        raise BadRequestData("'status' must be active, cleared or all")
    severity = q.get("severity")
    if severity is not None and severity not in set(Severity):
        raise BadRequestData(f"'severity' must be one of {[str(s) for s in Severity]}")
    where = AlertFilter(
        status=status,
        acknowledged=_bool(q.get("acknowledged"), "acknowledged"),
        severity=None if severity is None else Severity(severity),
        domain=q.get("domain"),
        ward=q.get("ward"),
        rule_id=q.get("ruleId"),
        subject=q.get("subject"),
    )
    limit = parse_int(q.get("limit"), "limit", 100, low=1, high=1000)
    offset = parse_int(q.get("offset"), "offset", 0, low=0, high=2**62)
    alerts, total = await _call(_manager(request).find, where, limit, offset)
    return _json({"count": total, "alerts": [a.view() for a in alerts]})


@router.get("/ioc/alerts/{alertId}", name="ioc_get_alert", summary="One alert with its timeline")
async def ioc_get_alert(request: Request, alertId: str) -> Response:
    return _json(await _call(_manager(request).detail, alertId))


@router.post("/ioc/alerts/{alertId}/acknowledge", name="ioc_acknowledge_alert", summary="Acknowledge an alert")
async def ioc_acknowledge_alert(request: Request, alertId: str) -> Response:
    note = _note(await _body(request, optional=True))
    alert = await _call(_manager(request).acknowledge, alertId, principal_of(request).subject, note)
    return _json(alert.view())


@router.post("/ioc/alerts/{alertId}/clear", name="ioc_clear_alert", summary="Clear an alert by hand")
async def ioc_clear_alert(request: Request, alertId: str) -> Response:
    note = _note(await _body(request, optional=True))
    alert = await _call(_manager(request).clear, alertId, principal_of(request).subject, note)
    return _json(alert.view())


# -- silences --------------------------------------------------------------------------------------


@router.get("/ioc/silences", name="ioc_list_silences", summary="Silences in force or to come (expired=true: all)")
async def ioc_list_silences(request: Request) -> Response:
    expired = _bool(request.query_params.get("expired"), "expired") or False
    found = await _call(lambda: silencing.list_silences(_manager(request), expired=expired))
    return _json({"count": len(found), "silences": [s.view() for s in found]})


@router.post("/ioc/silences", name="ioc_create_silence", summary="Silence alerts by rule, subject, ward, area")
async def ioc_create_silence(request: Request) -> Response:
    body = await _body(request)
    silence = await _call(silencing.add_silence, _manager(request), body, principal_of(request).subject)
    return _json(silence.view(), 201)


@router.delete("/ioc/silences/{silenceId}", name="ioc_delete_silence", summary="End a silence now")
async def ioc_delete_silence(request: Request, silenceId: str) -> Response:
    await _call(silencing.end_silence, _manager(request), silenceId)
    return Response(status_code=204)


# -- escalation policies ---------------------------------------------------------------------------


@router.get("/ioc/escalation-policies", name="ioc_list_escalation_policies", summary="Escalation policies")
async def ioc_list_escalation_policies(request: Request) -> Response:
    found = await _call(conf.policies, _manager(request))
    return _json({"count": len(found), "policies": [p.view() for p in found]})


@router.post("/ioc/escalation-policies", name="ioc_create_escalation_policy", summary="Add an escalation policy")
async def ioc_create_escalation_policy(request: Request) -> Response:
    body = await _body(request)
    return _json((await _call(conf.put_policy, _manager(request), body)).view(), 201)


@router.get("/ioc/escalation-policies/{policyId}", name="ioc_get_escalation_policy", summary="One policy")
async def ioc_get_escalation_policy(request: Request, policyId: str) -> Response:
    return _json((await _call(conf.policy, _manager(request), policyId)).view())


@router.put("/ioc/escalation-policies/{policyId}", name="ioc_replace_escalation_policy", summary="Replace one")
async def ioc_replace_escalation_policy(request: Request, policyId: str) -> Response:
    body = await _body(request)
    return _json((await _call(conf.put_policy, _manager(request), body, policyId)).view())


@router.delete("/ioc/escalation-policies/{policyId}", name="ioc_delete_escalation_policy", summary="Delete one")
async def ioc_delete_escalation_policy(request: Request, policyId: str) -> Response:
    await _call(conf.delete_policy, _manager(request), policyId)
    return Response(status_code=204)


# -- channels --------------------------------------------------------------------------------------


@router.get("/ioc/channels", name="ioc_list_channels", summary="Notification channels")
async def ioc_list_channels(request: Request) -> Response:
    manager = _manager(request)

    def read() -> list[dict[str, Any]]:
        return [conf.channel_view(manager, c) for c in conf.channels(manager)]

    found = await _call(read)
    return _json({"count": len(found), "channels": found})


@router.post("/ioc/channels", name="ioc_create_channel", summary="Add a notification channel")
async def ioc_create_channel(request: Request) -> Response:
    body = await _body(request)
    manager = _manager(request)
    made = await _call(conf.put_channel, manager, body)
    return _json(await _call(conf.channel_view, manager, made), 201)


@router.get("/ioc/channels/{channelId}", name="ioc_get_channel", summary="One channel, with delivery counts")
async def ioc_get_channel(request: Request, channelId: str) -> Response:
    manager = _manager(request)
    found = await _call(conf.channel, manager, channelId)
    return _json(await _call(conf.channel_view, manager, found))


@router.put("/ioc/channels/{channelId}", name="ioc_replace_channel", summary="Replace a channel")
async def ioc_replace_channel(request: Request, channelId: str) -> Response:
    body = await _body(request)
    manager = _manager(request)
    made = await _call(conf.put_channel, manager, body, channelId)
    return _json(await _call(conf.channel_view, manager, made))


@router.delete("/ioc/channels/{channelId}", name="ioc_delete_channel", summary="Delete a channel")
async def ioc_delete_channel(request: Request, channelId: str) -> Response:
    await _call(conf.delete_channel, _manager(request), channelId)
    return Response(status_code=204)


@router.get(
    "/ioc/channels/{channelId}/deliveries", name="ioc_list_channel_deliveries", summary="A channel's deliveries"
)
async def ioc_list_channel_deliveries(request: Request, channelId: str) -> Response:
    limit = parse_int(request.query_params.get("limit"), "limit", 50, low=1, high=1000)
    found = await _call(conf.deliveries, _manager(request), channelId, limit)
    return _json({"count": len(found), "deliveries": found})


@router.post("/ioc/channels/{channelId}/test", name="ioc_test_channel", summary="Send a test message now")
async def ioc_test_channel(request: Request, channelId: str) -> Response:
    found = await _call(conf.channel, _manager(request), channelId)
    senders = _manager(request).senders
    try:
        await senders.send(found, test_message(found, principal_of(request).subject))
    except DeliveryError as exc:
        return _json({"delivered": False, "error": str(exc)})
    return _json({"delivered": True, "error": None})
