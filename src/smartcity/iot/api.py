"""The provisioning API of the FIWARE IoT Agent library: config groups and devices.

* ``/iot/services`` (body key ``services``) and its newer name ``/iot/groups`` (body key ``groups``):
  ``POST`` creates groups, ``GET`` lists them (``limit``, ``offset``), ``PUT ?resource=&apikey=`` changes one,
  ``DELETE ?resource=&apikey=[&device=true]`` removes one (with its devices when asked);
* ``/iot/devices``: ``POST`` (body ``{"devices": [...]}``), ``GET`` (``limit``, ``offset``);
  ``/iot/devices/{deviceId}``: ``GET`` (with the device's counters under ``stats``), ``PUT``, ``DELETE``.

A request acts in the service and service path of its FIWARE headers (:mod:`.headers`). Creations are
all-or-nothing: one invalid or duplicate item refuses the whole request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from smartcity.hub.api.negotiation import read_json
from smartcity.hub.api.params import parse_int
from smartcity.hub.model import Entity
from smartcity.hub.store import Store
from smartcity.iot import registry, stats
from smartcity.iot.commands import command_attrs, ensure_attrs
from smartcity.iot.errors import BadRequest, DeviceNotFound, GroupNotFound, WrongSyntax
from smartcity.iot.headers import scope_of, tenant_id
from smartcity.iot.model import ConfigGroup, Device, Scope, device_commands, protocol_resource, select_group
from smartcity.iot.provisioning import MAX_ITEMS, parse_device, parse_group, render_device, render_group
from smartcity.iot.provisioning import updated_device as apply_device_update
from smartcity.iot.provisioning import updated_group as apply_group_update
from smartcity.iot.runtime import runtime_of

T = TypeVar("T")
router = APIRouter(tags=["IoT agent: provisioning"])

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _items(body: Any, key: str) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise WrongSyntax(f"the body must be an object with a '{key}' array")
    items: list[Any] = body[key]
    if not items or len(items) > MAX_ITEMS:
        raise WrongSyntax(f"'{key}' must hold between 1 and {MAX_ITEMS} items")
    return items


async def _write(request: Request, fn: Callable[..., T], *args: Any) -> T:
    """A provisioning change in one transaction; every process drops its cached devices afterwards."""
    store = _store(request)

    def run() -> T:
        with store.transaction(write=True) as db:
            return fn(db, *args)

    result = await run_in_threadpool(run)
    runtime_of(request).invalidate()
    return result


async def _read(request: Request, fn: Callable[..., T], *args: Any) -> T:
    store = _store(request)

    def run() -> T:
        with store.transaction(write=False) as db:
            return fn(db, *args)

    return await run_in_threadpool(run)


def _page(request: Request) -> tuple[int, int]:
    limit = parse_int(request.query_params.get("limit"), "limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    offset = parse_int(request.query_params.get("offset"), "offset", 0, low=0, high=2**62)
    return limit, offset


def _command_entities(request: Request, db: Any, tid: int, devices: list[Device]) -> list[Entity]:
    """The command attributes (``<cmd>``, ``<cmd>_status``, ``<cmd>_info``) each device's entity needs."""
    expand = runtime_of(request).directory.expand
    out: list[Entity] = []
    for device in devices:
        groups = registry.groups_of(db, tid, device.scope.tenant, device.apikey)
        found = device_commands(device, select_group(groups, protocol_resource(device.protocol)))
        if found:
            attrs = command_attrs(found, expand, with_command=True)
            out.append(Entity(device.entity_name, [expand(device.entity_type)], attrs))
    return out


async def _add_command_attrs(request: Request, tenant: str, entities: list[Entity]) -> None:
    if not entities:
        return
    hub = request.app.state.hub

    def run() -> None:
        for entity in entities:
            ensure_attrs(hub, tenant, entity)

    await run_in_threadpool(run)


# -- config groups -------------------------------------------------------------------------------------


async def _create_groups(request: Request, key: str) -> Response:
    scope = scope_of(request)
    groups = [parse_group(item, scope) for item in _items(await read_json(request), key)]
    store = _store(request)
    tid = await run_in_threadpool(lambda: store.tenant(scope.tenant, create=True).tenant_id)
    await _write(request, registry.insert_groups, tid, groups)
    return Response(status_code=201)


async def _list_groups(request: Request, key: str) -> Response:
    scope = scope_of(request, reading=True)
    limit, offset = _page(request)
    tid = tenant_id(_store(request), scope.tenant)
    if tid is None:
        return _json({"count": 0, key: []})
    groups, total = await _read(request, registry.list_groups, tid, scope, limit, offset)
    return _json({"count": total, key: [render_group(g) for g in groups]})


def _identifiers(request: Request) -> tuple[str, str | None]:
    apikey = request.query_params.get("apikey")
    if not apikey:
        raise BadRequest("the 'apikey' query parameter (and 'resource') identify the config group")
    return apikey, request.query_params.get("resource")


async def _existing_group(request: Request, scope: Scope) -> tuple[int, ConfigGroup]:
    apikey, resource = _identifiers(request)
    tid = tenant_id(_store(request), scope.tenant)
    group = None if tid is None else await _read(request, registry.find_group, tid, scope, apikey, resource)
    if tid is None or group is None:
        raise GroupNotFound(f"no config group with apikey {apikey!r} and resource {resource!r} in this service")
    return tid, group


async def _update_group(request: Request) -> Response:
    scope = scope_of(request)
    tid, group = await _existing_group(request, scope)
    changed = apply_group_update(group, await read_json(request))
    await _write(request, registry.replace_group, tid, changed)
    return Response(status_code=204)


async def _delete_group(request: Request) -> Response:
    scope = scope_of(request)
    tid, group = await _existing_group(request, scope)
    with_devices = request.query_params.get("device", "false").lower() == "true"
    await _write(request, lambda db: registry.delete_group(db, tid, group, with_devices=with_devices))
    return Response(status_code=204)


@router.post("/iot/services", status_code=201, openapi_extra=BODY, summary="Create config groups (services)")
async def iot_create_services(request: Request) -> Response:
    return await _create_groups(request, "services")


@router.get("/iot/services", summary="List config groups (services)")
async def iot_list_services(request: Request) -> Response:
    return await _list_groups(request, "services")


@router.put("/iot/services", status_code=204, openapi_extra=BODY, summary="Change a config group")
async def iot_update_service(request: Request) -> Response:
    return await _update_group(request)


@router.delete("/iot/services", status_code=204, summary="Remove a config group")
async def iot_delete_service(request: Request) -> Response:
    return await _delete_group(request)


@router.post("/iot/groups", status_code=201, openapi_extra=BODY, summary="Create config groups")
async def iot_create_groups(request: Request) -> Response:
    return await _create_groups(request, "groups")


@router.get("/iot/groups", summary="List config groups")
async def iot_list_groups(request: Request) -> Response:
    return await _list_groups(request, "groups")


@router.put("/iot/groups", status_code=204, openapi_extra=BODY, summary="Change a config group")
async def iot_update_group(request: Request) -> Response:
    return await _update_group(request)


@router.delete("/iot/groups", status_code=204, summary="Remove a config group")
async def iot_delete_group(request: Request) -> Response:
    return await _delete_group(request)


# -- devices -------------------------------------------------------------------------------------------


@router.post("/iot/devices", status_code=201, openapi_extra=BODY, summary="Provision devices")
async def iot_create_devices(request: Request) -> Response:
    scope = scope_of(request)
    items = _items(await read_json(request), "devices")
    store = _store(request)
    tid = await run_in_threadpool(lambda: store.tenant(scope.tenant, create=True).tenant_id)

    def create(db: Any) -> list[Entity]:
        def apikey_for(entity_type: str) -> str | None:
            return registry.group_apikey_for(db, tid, scope.service_path, entity_type)

        devices = [parse_device(item, scope, apikey_for) for item in items]
        registry.insert_devices(db, tid, devices)
        return _command_entities(request, db, tid, devices)

    await _add_command_attrs(request, scope.tenant, await _write(request, create))
    return Response(status_code=201)


@router.get("/iot/devices", summary="List devices")
async def iot_list_devices(request: Request) -> Response:
    scope = scope_of(request, reading=True)
    limit, offset = _page(request)
    tid = tenant_id(_store(request), scope.tenant)
    if tid is None:
        return _json({"count": 0, "devices": []})
    devices, total = await _read(request, registry.list_devices, tid, scope, limit, offset)
    return _json({"count": total, "devices": [render_device(d) for d in devices]})


async def _existing_device(request: Request, scope: Scope, device_id: str) -> tuple[int, Device]:
    apikey = request.query_params.get("apikey")
    tid = tenant_id(_store(request), scope.tenant)
    found = [] if tid is None else await _read(request, registry.find_devices, tid, scope, device_id, apikey)
    if tid is None or not found:
        raise DeviceNotFound(f"device {device_id!r} is not provisioned in this service and service path")
    if len(found) > 1:
        raise BadRequest(f"several devices have the id {device_id!r}: name the one meant with ?apikey=")
    return tid, found[0]


@router.get("/iot/devices/{deviceId}", summary="A device, with its counters")
async def iot_get_device(request: Request, deviceId: str) -> Response:
    scope = scope_of(request, reading=True)
    tid, device = await _existing_device(request, scope, deviceId)
    counters = runtime_of(request).agent.counters
    key: stats.StatsKey = (tid, device.apikey, device.device_id)
    body = render_device(device)
    body["stats"] = await _read(request, stats.read, key, counters.pending_for(key))
    return _json(body)


@router.put("/iot/devices/{deviceId}", status_code=204, openapi_extra=BODY, summary="Change a device")
async def iot_update_device(request: Request, deviceId: str) -> Response:
    scope = scope_of(request)
    tid, device = await _existing_device(request, scope, deviceId)
    changed = apply_device_update(device, await read_json(request))

    def replace(db: Any) -> list[Entity]:
        registry.replace_device(db, tid, changed)
        return _command_entities(request, db, tid, [changed])

    await _add_command_attrs(request, scope.tenant, await _write(request, replace))
    return Response(status_code=204)


@router.delete("/iot/devices/{deviceId}", status_code=204, summary="Remove a device")
async def iot_delete_device(request: Request, deviceId: str) -> Response:
    scope = scope_of(request)
    tid, device = await _existing_device(request, scope, deviceId)
    await _write(request, registry.delete_device, tid, device)
    return Response(status_code=204)


@router.post("/iot/op/delete", status_code=204, openapi_extra=BODY, summary="Remove several devices")
async def iot_delete_devices_op(request: Request) -> Response:
    """FIWARE's batch removal: ``{"devices": [{"deviceId": ..., "apikey": ...}]}``; all or nothing (one device
    not found in the service and service path: 404, nothing removed)."""
    scope = scope_of(request)
    items = _items(await read_json(request), "devices")
    wanted: list[tuple[str, str | None]] = []
    for index, item in enumerate(items):
        device_id = item.get("deviceId") if isinstance(item, dict) else None
        apikey = item.get("apikey") if isinstance(item, dict) else None
        if not isinstance(device_id, str) or not device_id or (apikey is not None and not isinstance(apikey, str)):
            raise WrongSyntax(f"devices[{index}] must be an object with a 'deviceId' (and an optional 'apikey')")
        wanted.append((device_id, apikey or None))
    tid = tenant_id(_store(request), scope.tenant)

    def remove(db: Any) -> None:
        for device_id, apikey in wanted:
            found = [] if tid is None else registry.find_devices(db, tid, scope, device_id, apikey)
            if not found:
                raise DeviceNotFound(f"device {device_id!r} is not provisioned in this service and service path")
            if len(found) > 1:
                raise BadRequest(f"several devices have the id {device_id!r}: give its 'apikey'")
            assert tid is not None
            registry.delete_device(db, tid, found[0])

    await _write(request, remove)
    return Response(status_code=204)


@router.get("/iot/about", summary="About the IoT agent")
async def iot_about(request: Request) -> Response:
    """What FIWARE IoT Agents answer on ``/iot/about``, with this agent's capabilities."""
    runtime = runtime_of(request)
    return _json(
        {
            "libVersion": "smartcity",
            "version": _version(),
            "port": request.url.port,
            "baseRoot": "/",
            "protocols": ["IoTA-JSON", "IoTA-UL"],
            "transports": ["HTTP", "MQTT"] if runtime.mqtt is not None else ["HTTP"],
            "mqtt": {"connected": runtime.mqtt.connected} if runtime.mqtt is not None else None,
        }
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("smartcity")
    except PackageNotFoundError:
        return "unknown"
