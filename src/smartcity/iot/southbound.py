"""The HTTP southbound: device messages over HTTP, as the FIWARE IoT Agents for JSON and UltraLight take them.

* ``POST /iot/json?k=<apikey>&i=<device_id>[&t=<timestamp>]``: a JSON object of measures, or an array of them;
* ``POST /iot/json/attrs/<measure>?k=&i=``: one measure (JSON value; ``text/plain`` text; ``application/
  octet-stream`` bytes, kept as hex);
* ``POST /iot/d?k=&i=``: UltraLight 2.0 (``text/plain``); ``GET /iot/d?k=&i=&d=<payload>``: the same in the URL.

These routes need no credential: the API key of the device's config group authenticates the message, as in
FIWARE. The answer comes once the message is written (200, with the dropped measures listed when some were
refused) or refused (404 ``DEVICE_NOT_FOUND`` / ``DEVICE_GROUP_NOT_FOUND``, 400 ``MEASURE_REJECTED`` with the
reason); a refused message is also kept in the dead-letter store.
"""

from __future__ import annotations

import asyncio
import re

import orjson
from fastapi import APIRouter, Request, Response

from smartcity.hub.errors import PayloadTooLarge
from smartcity.iot import inbound as transport
from smartcity.iot.agent import now_micros
from smartcity.iot.errors import (
    BadRequest,
    DeviceNotFound,
    GroupNotFound,
    MeasureRejected,
    MissingParameters,
    Overloaded,
)
from smartcity.iot.inbound import Address, Inbound
from smartcity.iot.measures import MeasureGroup
from smartcity.iot.model import JSON_RESOURCE, UL_RESOURCE
from smartcity.iot.outcome import UNKNOWN_APIKEY, UNKNOWN_DEVICE, Outcome
from smartcity.iot.runtime import runtime_of

router = APIRouter(tags=["IoT agent: device messages"])

#: the largest request body taken (bigger bodies are refused before decoding, and not kept)
MAX_BODY = 1024 * 1024
#: messages waiting in the agent beyond which HTTP devices are told to come back later
MAX_BACKLOG = 50_000
REPLY_TIMEOUT = 30.0
_ID = re.compile(r"^[^/+#\s\x00-\x1f\x7f]{1,256}$")
UL_BODY = {"requestBody": {"required": True, "content": {"text/plain": {"schema": {"type": "string"}}}}}
JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}}


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge(f"a device message is at most {MAX_BODY} bytes")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise PayloadTooLarge(f"a device message is at most {MAX_BODY} bytes")
    return raw


def _address(request: Request, protocol: str, resource: str, object_id: str | None = None) -> Address:
    apikey = request.query_params.get("k")
    device_id = request.query_params.get("i")
    if not apikey or not device_id:
        raise MissingParameters("a device message needs the query parameters k (API key) and i (device id)")
    for label, value in (("k", apikey), ("i", device_id)):
        if not _ID.match(value):
            raise BadRequest(f"the query parameter {label} is not a valid identifier")
    if object_id is not None and not _ID.match(object_id):
        raise BadRequest("the measure name is not valid")
    return Address(apikey, device_id, protocol, object_id, resource)


async def _submit(request: Request, address: Address, payload: bytes, groups: list[MeasureGroup] | None) -> Response:
    agent = runtime_of(request).agent
    if agent.backlog > MAX_BACKLOG:
        raise Overloaded("the IoT agent is busy: send the message again later")
    inbound = Inbound("http", address, request.url.path, payload, now_micros(), timestamp=request.query_params.get("t"))
    if groups is None:
        transport.decode(inbound, None)
    else:
        inbound.groups = groups
        inbound.decoded_as = address.protocol
    reply: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
    inbound.reply = reply
    agent.submit(inbound)
    try:
        outcome = await asyncio.wait_for(asyncio.shield(reply), REPLY_TIMEOUT)
    except TimeoutError:
        raise Overloaded("the message is queued but could not be written in time: it may still be") from None
    return _answer(outcome)


def _answer(outcome: Outcome) -> Response:
    if outcome.accepted:
        if not outcome.partial:
            return Response(status_code=200)
        body = {"written": len(outcome.observations), "dropped": [p.as_json() for p in outcome.problems]}
        return Response(orjson.dumps(body), status_code=200, media_type="application/json")
    reason = outcome.reason or ""
    if reason == UNKNOWN_DEVICE:
        raise DeviceNotFound(outcome.summary(), reason=reason)
    if reason == UNKNOWN_APIKEY:
        raise GroupNotFound(outcome.summary(), reason=reason)
    raise MeasureRejected(outcome.summary(), reason=reason, dropped=[p.as_json() for p in outcome.problems])


@router.post("/iot/json", openapi_extra=JSON_BODY, summary="Device measures as JSON")
async def iot_measure_json(request: Request) -> Response:
    address = _address(request, transport.JSON, JSON_RESOURCE)
    return await _submit(request, address, await _body(request), None)


@router.post("/iot/json/attrs/{attrId}", openapi_extra=JSON_BODY, summary="One device measure")
async def iot_measure_json_attr(request: Request, attrId: str) -> Response:
    media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    protocol = transport.UL if media == "text/plain" else transport.JSON
    address = _address(request, protocol, JSON_RESOURCE, attrId)
    payload = await _body(request)
    groups = [MeasureGroup({attrId: payload.hex()})] if media == "application/octet-stream" else None
    return await _submit(request, address, payload, groups)


@router.post("/iot/d", openapi_extra=UL_BODY, summary="Device measures in UltraLight 2.0")
async def iot_measure_ul(request: Request) -> Response:
    address = _address(request, transport.UL, UL_RESOURCE)
    return await _submit(request, address, await _body(request), None)


@router.get("/iot/d", summary="Device measures in UltraLight 2.0, in the URL (d=)")
async def iot_measure_ul_get(request: Request) -> Response:
    address = _address(request, transport.UL, UL_RESOURCE)
    data = request.query_params.get("d")
    if data is None:
        raise MissingParameters("a GET device message carries its UltraLight payload in the query parameter d")
    return await _submit(request, address, data.encode("utf-8"), None)
