"""A device message as it reaches the agent, from MQTT or HTTP, and its decoding.

MQTT topics (FIWARE iotagent-json and iotagent-ul user manuals):

* ``/json/<apikey>/<device_id>/attrs`` and ``/json/<apikey>/<device_id>/attrs/<measure>``: JSON;
* ``/ul/<apikey>/<device_id>/attrs`` and ``/ul/<apikey>/<device_id>/attrs/<measure>``: UltraLight 2.0;
* ``/<apikey>/<device_id>/attrs`` and ``/<apikey>/<device_id>/attrs/<measure>`` (no protocol prefix): the
  device's provisioned ``protocol`` decides (``IoTA-UL`` or ``IoTA-JSON``), else its group's ``resource``
  (``/iot/d`` or ``/iot/json``); when neither says, a payload starting with ``{`` or ``[`` is JSON, anything else
  UltraLight.

HTTP: ``POST /iot/json?k=<apikey>&i=<device_id>`` (JSON), ``POST /iot/d`` and ``GET /iot/d?...&d=`` (UltraLight),
``POST /iot/json/attrs/<measure>`` (one measure).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from smartcity.iot import jsonpayload, ultralight
from smartcity.iot.measures import DecodeError, MeasureGroup
from smartcity.iot.model import JSON_RESOURCE, UL_RESOURCE

if TYPE_CHECKING:
    from smartcity.iot.outcome import Outcome

JSON = "json"
UL = "ul"
#: the MQTT topic filters the agent subscribes to
TOPIC_FILTERS = (
    "/+/+/attrs",
    "/+/+/attrs/+",
    "/json/+/+/attrs",
    "/json/+/+/attrs/+",
    "/ul/+/+/attrs",
    "/ul/+/+/attrs/+",
    "/+/+/cmdexe",
    "/json/+/+/cmdexe",
    "/ul/+/+/cmdexe",
)


class Address(NamedTuple):
    """Who a message claims to come from, and how it is encoded."""

    apikey: str
    device_id: str
    protocol: str | None  # JSON, UL, or None: the device's provisioning decides
    object_id: str | None = None  # the measure of a single-measure topic or route
    #: the config group resource the message came through: ``/iot/json`` or ``/iot/d`` (HTTP routes and the
    #: ``/json/``, ``/ul/`` topics), '' for the plain topics (the group of the device's protocol, else any)
    resource: str = ""


@dataclass(slots=True)
class Inbound:
    """One device message: where it came from, its bytes and, once decoded, its measure groups."""

    transport: str  # "mqtt" or "http"
    address: Address
    topic: str  # the MQTT topic, or the HTTP path, kept with a dead letter
    payload: bytes
    received_at: int  # microseconds since the epoch
    timestamp: str | None = None  # the HTTP ``t`` parameter
    groups: list[MeasureGroup] = field(default_factory=list)
    error: DecodeError | None = None
    decoded_as: str | None = None  # JSON or UL, once decoded
    #: called once the message is durable (written, or kept as a dead letter): the MQTT acknowledgement
    ack: Callable[[], None] | None = None
    #: an HTTP request waiting for the outcome
    reply: asyncio.Future[Outcome] | None = None


def parse_topic(topic: str) -> Address | None:
    """The address of a measure topic, or None for any other topic."""
    parts = topic.split("/")
    if parts[0] != "" or len(parts) < 4:
        return None
    if len(parts) in (5, 6) and parts[1] in (JSON, UL) and parts[4] == "attrs":
        object_id = parts[5] if len(parts) == 6 else None
        resource = JSON_RESOURCE if parts[1] == JSON else UL_RESOURCE
        address = Address(parts[2], parts[3], parts[1], object_id, resource)
    elif len(parts) in (4, 5) and parts[3] == "attrs":
        address = Address(parts[1], parts[2], None, parts[4] if len(parts) == 5 else None)
    else:
        return None
    if not address.apikey or not address.device_id or address.object_id == "":
        return None
    return address


def parse_cmdexe(topic: str) -> Address | None:
    """The address of a command result topic (``[/json|/ul]/<apikey>/<device_id>/cmdexe``), or None."""
    parts = topic.split("/")
    if parts[0] != "" or parts[-1] != "cmdexe":
        return None
    if len(parts) == 5 and parts[1] in (JSON, UL):
        address = Address(parts[2], parts[3], parts[1])
    elif len(parts) == 4:
        address = Address(parts[1], parts[2], None)
    else:
        return None
    return address if address.apikey and address.device_id else None


def key_of(address: Address) -> tuple[str, str, str]:
    """How the directory looks a message's device up: (API key, device id, resource)."""
    return address.apikey, address.device_id, address.resource


def sniff_ultralight(payload: bytes) -> bool:
    """For a plain topic of a device whose protocol is unknown: JSON starts with ``{`` or ``[``."""
    head = payload.lstrip()[:1]
    return head not in (b"{", b"[")


def decode(inbound: Inbound, ultralight_device: bool | None) -> None:
    """Fill ``inbound.groups`` (or ``inbound.error``); ``ultralight_device`` is what the registry says of a
    plain-topic device (None: not known here)."""
    address = inbound.address
    protocol = address.protocol
    if protocol is None:
        is_ul = ultralight_device if ultralight_device is not None else sniff_ultralight(inbound.payload)
        protocol = UL if is_ul else JSON
    codec = ultralight if protocol == UL else jsonpayload
    inbound.decoded_as = protocol
    inbound.groups = []
    inbound.error = None
    try:
        if address.object_id is not None:
            inbound.groups = codec.decode_single(inbound.payload, address.object_id)
        else:
            inbound.groups = codec.decode_measures(inbound.payload)
    except DecodeError as exc:
        inbound.error = exc
