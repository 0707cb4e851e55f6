"""``smartcity demo``: the platform's server with the demo city fed into it once it is up.

The demo runs inside the server process as a background service: it waits for the server to answer, loads the
static layers through the hub's Python service interface, provisions the sensors through the IoT agent's
provisioning API (with an API key of role ``data_publisher`` made for it at start) and then replays the data as
device messages through the IoT agent's southbound, over loopback HTTP or an MQTT broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from smartcity import __version__
from smartcity.demo import air, scenario
from smartcity.demo.client import HttpClient, HttpError
from smartcity.demo.replay import Replay
from smartcity.demo.southbound import HttpSouthbound, MqttSouthbound, Provisioner, Southbound, dead_letters
from smartcity.demo.timeline import SimClock, local_naive
from smartcity.hub.errors import NgsiError
from smartcity.hub.jsonld import ResolvedContext
from smartcity.hub.payload import expand_entity
from smartcity.hub.service import BatchResult, Hub
from smartcity.hub.store import Store
from smartcity.security.credentials import Credentials
from smartcity.security.roles import Role
from smartcity.settings import GRACEFUL_SHUTDOWN_SECONDS, Settings
from smartcity.web import background

log = logging.getLogger(__name__)

REPLAYER_KEY_NAME = "demo replayer"
LOAD_CHUNK = 500


@dataclass(frozen=True)
class DemoOptions:
    speed: float = 60.0  # simulated seconds per wall-clock second, until the clock catches up with the wall
    backfill_hours: float = 24.0  # the replay starts this long before the current hour
    mqtt_url: str | None = None  # send device messages to this broker instead of HTTP
    replay: bool = True  # False: load and provision only
    summary_every: float = 5.0  # wall seconds between summary lines
    bus_routes: int = 12
    buses_per_route: int = 2
    bus_every_s: float = 2.0  # wall seconds between bus positions
    max_rate: float = 400.0  # device messages per second at most


def replayer_key(store: Store, on_change: Callable[[str, str, dict[str, object]], None]) -> str:
    """A fresh API key for the replayer (role data_publisher); earlier demo keys are revoked."""
    credentials = Credentials(store)
    for info in credentials.list_api_keys():
        if info.name == REPLAYER_KEY_NAME and not info.revoked:
            credentials.revoke_api_key(info.id)
            on_change("security.apikey.revoke", info.id, {"reason": "replaced by a new demo replayer key"})
    info, key = credentials.create_api_key(REPLAYER_KEY_NAME, Role.DATA_PUBLISHER, tenants=None)
    on_change("security.apikey.create", info.id, {"role": Role.DATA_PUBLISHER.value, "name": REPLAYER_KEY_NAME})
    return key


def _upsert(hub: Hub, ctx: ResolvedContext, bodies: list[dict[str, Any]]) -> BatchResult:
    """Validate and expand entity bodies (with the core @context) and upsert them in one hub transaction."""
    return hub.batch_upsert(None, [expand_entity(body, ctx) for body in bodies])


def loopback(host: str) -> str:
    """Where this process's own server answers."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def where_to_look(base: str) -> str:
    station = air.entity_id(1)
    api = f"{base}/ngsi-ld/v1"
    return "\n".join(
        [
            "Where to look:",
            f"  operations centre     {base}/  (sign in with the administrator above)",
            f"  open data portal      {base}/data  (datasets published from the hub a minute after start)",
            f"  CKAN API              {base}/api/3/action/package_search?q=chat%20luong%20khong%20khi",
            f"  DCAT-AP catalogue     {base}/catalog.ttl",
            f"  API documentation     {base}/docs",
            f"  air-quality stations  {api}/entities?type=AirQualityObserved&options=keyValues",
            f"  PM2.5 of station 1    {api}/temporal/entities/{station}?attrs=pm25&lastN=24",
            f"  wards                 {api}/entities?type=AdministrativeArea&attrs=name,nameEn,area&limit=20",
            f"  buses near Bến Thành  {api}/entities?type=Vehicle&georel=near;maxDistance==3000&geometry=Point"
            "&coordinates=[106.698,10.772]&options=keyValues",
            f"  refused device data   {base}/iot/deadletters  (needs a credential: X-API-Key or a session)",
            "  also: WeatherObserved, FloodMonitoring, TrafficFlowObserved, OffStreetParking, PublicTransportStop, "
            "PublicTransportRoute",
        ]
    )


class DemoService:
    """The background service that feeds the demo city into the running platform."""

    name = "demo"

    def __init__(
        self, app: FastAPI, settings: Settings, options: DemoOptions, api_key: str, out: Callable[[str], None]
    ) -> None:
        self.app = app
        self.settings = settings
        self.options = options
        self.api_key = api_key
        self.out = out
        self.client = HttpClient(loopback(settings.host), settings.port)
        self.replay: Replay | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="smartcity-demo")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def _run(self) -> None:
        try:
            await self._feed()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the demo feed stopped")
            self.out("The demo feed stopped after an error (see the log); the platform keeps running.")

    async def _feed(self) -> None:
        city = await asyncio.to_thread(
            scenario.build, bus_routes=self.options.bus_routes, buses_per_route=self.options.buses_per_route
        )
        await self._wait_for_server()
        await self._load(city)
        provisioner = Provisioner(self.client, self.api_key)
        groups = await provisioner.groups(city.groups)
        devices = await provisioner.devices(city.devices)
        self.out(
            f"Provisioned {len(city.groups)} sensor groups and {len(city.devices)} devices in the IoT agent "
            f"({groups} and {devices} new)"
        )
        if not self.options.replay:
            self.out("Replay off (--no-replay): the static city and the sensors are in place.")
            return
        southbound: Southbound = (
            MqttSouthbound(self.options.mqtt_url) if self.options.mqtt_url else HttpSouthbound(self.client)
        )
        clock = SimClock.from_now(self.options.speed, timedelta(hours=self.options.backfill_hours))
        feeds = await asyncio.to_thread(city.feeds, clock.start, self.options.bus_every_s)
        self.replay = Replay(clock, feeds, southbound, max_rate=self.options.max_rate)
        via = f"MQTT {self.options.mqtt_url}" if self.options.mqtt_url else "HTTP /iot/json"
        catch_up = ""
        if self.options.speed > 1 and clock.live_from is not None:
            seconds = (clock.live_from - clock.start).total_seconds() / (self.options.speed - 1)
            catch_up = f", live (the wall clock) in about {_duration(seconds)}"
        self.out(
            f"Replaying at {self.options.speed:g}x from {local_naive(clock.start):%Y-%m-%d %H:%M} HCMC time"
            f"{catch_up}; device messages over {via}"
        )
        summary = asyncio.create_task(self._summaries())
        try:
            await self.replay.run()
        finally:
            summary.cancel()
            if self.options.mqtt_url:
                await southbound.close()

    async def _wait_for_server(self) -> None:
        for _ in range(600):
            try:
                if (await self.client.request("GET", "/health")).ok:
                    return
            except HttpError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError("the platform's server did not answer /health within a minute")

    async def _load(self, city: scenario.Scenario) -> None:
        hub: Hub = self.app.state.hub
        ctx = self.app.state.contexts.resolve(None)
        tty = sys.stdout.isatty()
        for label, bodies in city.layers:
            failed = 0
            for start in range(0, len(bodies), LOAD_CHUNK):
                chunk = bodies[start : start + LOAD_CHUNK]
                result = await asyncio.to_thread(_upsert, hub, ctx, chunk)
                failed += len(result.errors)
                for entity_id, error in result.errors[:3]:
                    log.warning("%s: %s was not loaded: %s", label, entity_id, error)
                done = min(start + LOAD_CHUNK, len(bodies))
                if tty and done < len(bodies):
                    print(f"  loading {label}: {done:,}/{len(bodies):,}", end="\r", flush=True)
            problem = f" ({failed} refused, see the log)" if failed else ""
            self.out(f"  loaded {label}: {len(bodies) - failed:,}/{len(bodies):,} through the hub{problem}")

    async def _summaries(self) -> None:
        while True:
            await asyncio.sleep(self.options.summary_every)
            self.out(await self.summary())

    async def summary(self) -> str:
        replay = self.replay
        if replay is None:
            return "demo: not replaying"
        hub: Hub = self.app.state.hub
        try:
            infos = await asyncio.to_thread(hub.type_info, None)
            entities = f"{sum(i.entity_count for i in infos):,} entities"
        except NgsiError as exc:
            entities = f"entities unknown ({exc})"
        letters = await dead_letters(self.client, self.api_key)
        kept = f", {letters:,} in the IoT agent's dead letters" if letters else ""
        s = replay.stats
        state = "live" if replay.clock.live else f"{replay.clock.speed:g}x"
        behind = f", sending {s.behind_s:.1f} s behind" if s.behind_s >= 1 else ""
        dropped = f" ({s.dropped:,} measures dropped)" if s.dropped else ""
        return (
            f"[demo {local_naive(replay.position):%Y-%m-%d %H:%M} HCMC, {state}] {s.sent:,} messages accepted"
            f"{dropped}, {s.rejected:,} refused{kept}, {entities}{behind}"
        )


def run(settings: Settings, options: DemoOptions, api_key: str, *, out: Callable[[str], None] | None = None) -> int:
    """Serve the platform with the demo city fed into it (blocks until the server stops)."""
    import uvicorn

    from smartcity.app import create_app

    def say(text: str) -> None:
        print(text, flush=True)

    emit = out or say
    if not settings.ioc_rules:  # the operations centre's demo rules (floods, air, traffic, parking, buses, devices)
        from smartcity.ioc.rules.files import demo_directory

        settings = dataclasses.replace(settings, ioc_rules=str(demo_directory()))
    app = create_app(settings)
    service = DemoService(app, settings, options, api_key, emit)
    background.register(app, service)
    app.state.demo = service
    base = f"http://{loopback(settings.host)}:{settings.port}"
    emit(f"smartcity {__version__} live demo: {base}/  (database {_safe(settings.database_url)})")
    emit(where_to_look(base))
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return 0


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _safe(url: str) -> str:
    """The database URL without a password."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)
