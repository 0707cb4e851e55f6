"""The IoT agent: devices feed the hub through it, as FIWARE IoT Agents (JSON and UltraLight 2.0) do.

* :mod:`.api`: provisioning (``/iot/services``, ``/iot/groups``, ``/iot/devices``), FIWARE IoT Agent API;
* :mod:`.southbound` (HTTP ``/iot/json``, ``/iot/d``) and :mod:`.mqtt` (topics ``/<apikey>/<device>/attrs``,
  ``/json/...``, ``/ul/...``): device messages in;
* :mod:`.agent`: the batcher that maps messages onto Smart Data Models entities (:mod:`.mapping`,
  :mod:`.quality`, :mod:`.airquality`) and writes them through the hub, one transaction per batch;
* :mod:`.deadletter_api`: what was refused and why; per-device counters come with ``GET /iot/devices/{id}``;
* :mod:`.commands` and :mod:`.dispatch`: commands to devices, triggered by updates of the entity in the hub.

See docs/iot.md.
"""

from __future__ import annotations

from fastapi import FastAPI

from smartcity.web import background
from smartcity.web import errors as web_errors


def install(app: FastAPI) -> None:
    """Mount the agent's routes and start its batcher (and, with ``SMARTCITY_MQTT_URL``, its MQTT client).

    Needs the hub's history (``temporal.install``) for the air-quality indices."""
    from smartcity.iot import api, deadletter_api, southbound
    from smartcity.iot.agent import Agent
    from smartcity.iot.airquality import AirQuality
    from smartcity.iot.commands import CommandHook
    from smartcity.iot.directory import Directory
    from smartcity.iot.dispatch import CommandDispatcher
    from smartcity.iot.errors import PREFIX, iot_problem
    from smartcity.iot.mqtt import MqttSouthbound
    from smartcity.iot.runtime import IotRuntime

    settings = app.state.settings
    expand = app.state.contexts.resolve(None).expand_term  # the NGSI-LD core @context (bundled: no network)
    directory = Directory(app.state.store, expand)
    agent = Agent(
        app.state.store,
        app.state.hub,
        directory,
        AirQuality(app.state.temporal, expand),
        inline=app.state.inline_hub,
        max_future=settings.iot_max_future,
        deadletter_max=settings.iot_deadletter_max,
    )
    dispatcher = CommandDispatcher(app.state.store, app.state.hub, directory, timeout=settings.iot_command_timeout)
    hook = CommandHook(expand, dispatcher.wake)
    app.state.store.add_write_hook(hook)
    app.state.iot = IotRuntime(directory, agent, commands=dispatcher, command_hook=hook)
    if not any(prefix == PREFIX for prefix, _ in web_errors.FAMILIES):
        web_errors.FAMILIES.insert(0, (PREFIX, iot_problem))
    app.include_router(api.router)
    app.include_router(deadletter_api.router)
    app.include_router(southbound.router)
    background.register(app, agent)
    background.register(app, dispatcher)
    if settings.mqtt_url:
        mqtt = MqttSouthbound(settings.mqtt_url, settings.iot_mqtt_client_id, agent, directory)
        mqtt.on_result = dispatcher.on_result
        dispatcher.mqtt = mqtt
        app.state.iot.mqtt = mqtt
        background.register(app, mqtt)  # registered after the agent: stopped before it, so the agent drains
