"""Errors of the IoT agent's API, in the FIWARE IoT Agent format plus the platform's envelope.

The FIWARE IoT Agent library answers errors as ``{"name": "DEVICE_NOT_FOUND", "message": "..."}``; the platform
answers every error with ``type``, ``title`` and ``detail`` (:mod:`smartcity.web.errors`). Responses under
``/iot/`` carry both, so a FIWARE client reads ``name``/``message`` and the platform's tools read the rest.
Errors raised elsewhere (authentication, rate limits) get a FIWARE-style ``name`` from their status.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
from fastapi import Response

from smartcity.hub.errors import NgsiError

IOT_ERRORS = "https://smartcity.hcmc.gov.vn/errors/iot/"
PREFIX = "/iot/"

#: status -> FIWARE-style name, for errors that are not IoT agent errors
_NAMES_BY_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "ACCESS_FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_CONTENT_TYPE",
    429: "TOO_MANY_REQUESTS",
    503: "SERVICE_UNAVAILABLE",
}


class IotError(NgsiError):
    """An error of the IoT agent, named as the FIWARE IoT Agent library names it."""

    name: ClassVar[str] = "BAD_REQUEST"
    error_type = "BadRequest"
    status = 400
    title = "Bad request"

    @property
    def type_uri(self) -> str:
        return IOT_ERRORS + self.name


class WrongSyntax(IotError):
    """A provisioning body that does not follow the FIWARE IoT Agent API."""

    name = "WRONG_SYNTAX"
    title = "Wrong syntax"


class BadRequest(IotError):
    name = "BAD_REQUEST"


class MissingParameters(IotError):
    """A southbound request without its ``k`` (API key) or ``i`` (device id) query parameter."""

    name = "MISSING_PARAMETERS"
    title = "Missing parameters"


class Unsupported(IotError):
    """A FIWARE feature this agent does not implement (expressions, NGSI payloads)."""

    name = "UNSUPPORTED_FEATURE"
    title = "Not supported"


class MeasureRejected(IotError):
    """A device message the agent refused; it is kept in the dead-letter store with the reason."""

    name = "MEASURE_REJECTED"
    title = "Measure rejected"


class DeviceNotFound(IotError):
    name = "DEVICE_NOT_FOUND"
    status = 404
    title = "Device not found"


class GroupNotFound(IotError):
    name = "DEVICE_GROUP_NOT_FOUND"
    status = 404
    title = "Config group not found"


class ServiceNotFound(IotError):
    """The FIWARE service (hub tenant) does not exist for this caller (a foreign one looks the same)."""

    name = "SERVICE_NOT_FOUND"
    status = 404
    title = "Service not found"


class DuplicateDevice(IotError):
    name = "DUPLICATE_DEVICE_ID"
    status = 409
    title = "Duplicate device"


class DuplicateGroup(IotError):
    name = "DUPLICATE_GROUP"
    status = 409
    title = "Duplicate config group"


class Overloaded(IotError):
    """The agent's queue is full: the device should retry later."""

    name = "OVERLOADED"
    status = 503
    title = "Agent overloaded"


def fiware_name(error: NgsiError) -> str:
    if isinstance(error, IotError):
        return error.name
    return _NAMES_BY_STATUS.get(error.status, "INTERNAL_ERROR" if error.status >= 500 else error.error_type)


def iot_problem(error: NgsiError) -> Response:
    """The error body of ``/iot/`` routes: FIWARE ``name``/``message`` and the platform's problem details."""
    body: dict[str, Any] = {"name": fiware_name(error), "message": error.detail}
    body.update(error.problem())
    return Response(content=orjson.dumps(body), status_code=error.status, media_type="application/json")
