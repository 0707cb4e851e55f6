"""The command dispatcher: sends the commands the hook queued (:mod:`.commands`) and follows them to their end.

* MQTT devices: the command is published (QoS 1) on ``/<apikey>/<device_id>/cmd`` — JSON ``{"<cmd>": value}``,
  or UltraLight ``<device_id>@<cmd>|<value>`` for a device that speaks it; the device answers on
  ``/<apikey>/<device_id>/cmdexe`` (``/json/...``, ``/ul/...`` too) with ``{"<cmd>": result}`` or
  ``<device_id>@<cmd>|<result>``: ``<cmd>_status`` becomes ``OK`` and ``<cmd>_info`` the result;
* HTTP devices (an ``endpoint``): the command is POSTed there in the same format, the answer carries the result;
  an error status or no answer is ``ERROR`` with the reason in ``<cmd>_info``;
* a command sent but not answered within ``SMARTCITY_IOT_COMMAND_TIMEOUT`` seconds is ``EXPIRED``.

``<cmd>_status`` is ``PENDING`` from the moment the command is taken out of the queue until the answer. Every
process runs a dispatcher: HTTP commands are sent by whichever claims them first; MQTT commands by the process
connected to the broker. Queued commands are looked at when the hook wakes the dispatcher after a commit, and
once a second (commands queued by another process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import orjson

from smartcity.hub.model import Entity
from smartcity.hub.service import Hub
from smartcity.hub.store import Store
from smartcity.iot import commands
from smartcity.iot.binding import Binding
from smartcity.iot.commands import ERROR, EXPIRED, HTTP, MQTT, OK, PENDING, Row
from smartcity.iot.directory import Directory
from smartcity.iot.inbound import UL, Address
from smartcity.iot.mqtt import MqttSouthbound

log = logging.getLogger(__name__)
T = TypeVar("T")

POLL = 1.0
HTTP_TIMEOUT = 10.0
MAX_INFO = 4096


def ul_command(device_id: str, name: str, value: Any) -> str:
    """UltraLight 2.0 command syntax: ``<device>@<command>|<value>``; an object's members as ``|key=value``."""
    if isinstance(value, dict):
        params = "|".join(f"{k}={_ul_text(v)}" for k, v in value.items())
        return f"{device_id}@{name}" + (f"|{params}" if params else "")
    return f"{device_id}@{name}|{_ul_text(value)}"


def _ul_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def parse_results(payload: bytes, ultralight: bool) -> dict[str, Any]:
    """Command results in a device's answer: ``{"<cmd>": result}`` (JSON) or ``<device>@<cmd>|<result>`` lines
    (UltraLight); what is neither gives nothing."""
    text = payload.decode("utf-8", errors="replace").strip()
    if not ultralight and text[:1] == "{":
        try:
            body = orjson.loads(text)
        except orjson.JSONDecodeError:
            return {}
        return {str(k): v for k, v in body.items() if v is not None} if isinstance(body, dict) else {}
    out: dict[str, Any] = {}
    for line in text.replace("#", "\n").splitlines():
        head, _, result = line.strip().partition("|")
        _, at, name = head.partition("@")
        if at and name:
            out[name] = result
    return out


def command_payload(binding: Binding, name: str, value: Any) -> tuple[bytes, str]:
    """(body, media type) of a command to a device, in its protocol."""
    if binding.ultralight:
        return ul_command(binding.device_id, name, value).encode(), "text/plain"
    return orjson.dumps({name: value}), "application/json"


class CommandDispatcher:
    name = "iot.commands"

    def __init__(self, store: Store, hub: Hub, directory: Directory, *, timeout: float) -> None:
        self.store = store
        self.hub = hub
        self.directory = directory
        self.timeout = timeout
        self.mqtt: MqttSouthbound | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._http = httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False, trust_env=False)
        self._task = asyncio.create_task(self._run(), name="iot-commands")

    async def stop(self) -> None:
        for task in [self._task, *self._sending]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = None
        if self._http is not None:
            await self._http.aclose()

    def wake(self) -> None:
        """Look at the queue now (any thread: called after the commit of a write that queued a command)."""
        loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    # -- the loop --------------------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._event is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), POLL)
            self._event.clear()
            try:
                await self._dispatch()
                await self._expire()
            except Exception:
                log.exception("the IoT agent's command dispatcher failed (it carries on)")

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        def run() -> T:
            with self.store.transaction(write=True) as db:
                return fn(db, *args)

        return await self.store.run_write(run)

    async def _dispatch(self) -> None:
        transports = [HTTP] + ([MQTT] if self.mqtt is not None and self.mqtt.connected else [])
        rows = await self._db(commands.claim, transports, self.timeout)
        for row in rows:
            task = asyncio.create_task(self._send(row))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _expire(self) -> None:
        for row in await self._db(commands.expired):
            binding = await self._binding(row.apikey, row.device_id)
            if binding is not None:
                detail = f"the device did not answer within {self.timeout:g} s"
                await self._status(binding, row.name, EXPIRED, detail)

    async def _binding(self, apikey: str, device_id: str) -> Binding | None:
        found = (await asyncio.to_thread(self.directory.resolve, [(apikey, device_id, "")]))[(apikey, device_id, "")]
        return found if isinstance(found, Binding) and found.provisional is None else None

    async def _status(self, binding: Binding, name: str, status: str, info: Any) -> None:
        attrs = commands.status_attrs(name, status, info, binding.expand)
        entity = Entity(binding.entity_id, list(binding.types), attrs)

        def write() -> None:
            with commands.quiet():
                self.hub.batch_upsert(binding.tenant, [entity], update=True)

        await self.store.run_write(write)

    async def _send(self, row: Row) -> None:
        binding = await self._binding(row.apikey, row.device_id)
        if binding is None:
            log.warning("command %s of device %s: the device is no longer provisioned", row.name, row.device_id)
            await self._db(commands.finish_row, row.id)
            return
        await self._status(binding, row.name, PENDING, None)
        body, media = command_payload(binding, row.name, row.value)
        try:
            if row.transport == MQTT:
                assert self.mqtt is not None
                if not await self.mqtt.publish(f"/{binding.apikey}/{binding.device_id}/cmd", body):
                    raise ConnectionError("the agent is not connected to the MQTT broker")
                return  # the answer comes on .../cmdexe
            await self._push(binding, row, body, media)
        except Exception as exc:
            log.warning("command %s to device %s failed: %s", row.name, row.device_id, exc)
            await self._db(commands.finish_row, row.id)
            await self._status(binding, row.name, ERROR, str(exc)[:MAX_INFO] or type(exc).__name__)

    async def _push(self, binding: Binding, row: Row, body: bytes, media: str) -> None:
        if not binding.endpoint:
            raise ValueError("the device has no endpoint to send HTTP commands to")
        assert self._http is not None
        headers = {
            "Content-Type": media,
            "fiware-service": binding.tenant,
            "fiware-servicepath": binding.service_path,
        }
        answer = await self._http.post(binding.endpoint, content=body, headers=headers)
        if answer.status_code >= 300:
            raise ConnectionError(f"the device answered HTTP {answer.status_code}: {answer.text[:200]}")
        results = parse_results(answer.content, bool(binding.ultralight))
        await self._db(commands.finish_row, row.id)
        await self._status(binding, row.name, OK, results.get(row.name, answer.text[:MAX_INFO]))

    # -- answers over MQTT -----------------------------------------------------------------------------

    async def on_result(self, address: Address, payload: bytes) -> None:
        """A device's ``cmdexe`` message: each command result it holds ends that command."""
        binding = await self._binding(address.apikey, address.device_id)
        if binding is None:
            log.warning(
                "a command result from device %s (apikey %s), which is unknown", address.device_id, address.apikey
            )
            return
        ultralight = address.protocol == UL if address.protocol else bool(binding.ultralight)
        known = {c.name for c in binding.commands}
        for name, result in parse_results(payload, ultralight).items():
            if name not in known:
                continue
            await self._db(commands.finish, binding.apikey, binding.device_id, name)
            await self._status(binding, name, OK, result)
