"""The demo city in the hub as the demo leaves it: the static layers loaded through the hub (wards, bus stops, bus
routes, from the shipped files) and each kind of sensor's entity as the IoT agent writes it (the demo's own
devices with their static attributes and provenance, measures named by their config group, observed at given
times), so the shipped publications are tested against the attributes the demo really writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import FastAPI

from smartcity.demo import air, fleet, flood, parking, traffic, transit, wards, weather
from smartcity.demo.devices import Device
from smartcity.hub.model import format_time
from smartcity.hub.payload import expand_entity


def load_static_layers(app: FastAPI) -> dict[str, int]:
    """Wards, bus stops and bus routes, through the hub as the demo loads them; their counts."""
    network = transit.load()
    layers = {
        "wards": wards.read(),
        "bus-stops": transit.stop_entities(network),
        "bus-routes": transit.route_entities(network),
    }
    ctx = app.state.contexts.resolve(None)
    for bodies in layers.values():
        for start in range(0, len(bodies), 500):
            result = app.state.hub.batch_upsert(None, [expand_entity(b, ctx) for b in bodies[start : start + 500]])
            assert not result.errors, result.errors[:3]
    return {name: len(bodies) for name, bodies in layers.items()}


def device_body(device: Device, at: datetime, measures: dict[str, Any]) -> dict[str, Any]:
    """The entity update the IoT agent makes of one device message (static attributes with the first one)."""
    body: dict[str, Any] = {"id": device.entity_id, "type": device.group.entity_type}
    for static in device.static:
        kind = "GeoProperty" if static.type == "geo:json" else "Property"
        body[static.name] = {"type": kind, "value": static.value}
    observed = format_time(at)
    for measure in device.group.measures:
        if measure.object_id not in measures:
            continue
        value = measures[measure.object_id]
        if measure.type == "Relationship":
            body[measure.name] = {"type": "Relationship", "object": value, "observedAt": observed}
        elif measure.type == "GeoProperty":
            body[measure.name] = {"type": "GeoProperty", "value": value, "observedAt": observed}
        else:
            body[measure.name] = {"type": "Property", "value": value, "observedAt": observed}
    return body


@dataclass(frozen=True)
class Sensors:
    """The demo's devices of each kind, and the bus models behind the bus devices."""

    air: list[Device]
    weather: list[Device]
    flood: list[Device]
    traffic: list[Device]
    parking: list[Device]
    buses: list[Device]
    bus_models: dict[str, fleet.Bus]  # entity id -> bus


def sensors() -> Sensors:
    """Every kind of the demo's sensors (a few buses on three routes)."""
    buses = fleet.build(transit.load(), routes=3, per_route=2)
    return Sensors(
        air=air.devices(),
        weather=weather.devices(),
        flood=flood.devices(),
        traffic=traffic.devices([f"sensor-{i}" for i in range(len(traffic.COUNTERS))]),
        parking=parking.devices(),
        buses=fleet.devices(buses),
        bus_models={fleet.entity_id(b): b for b in buses},
    )


def report(app: FastAPI, devices: Sensors, at: datetime, step: int) -> None:
    """One message of every sensor observed at ``at`` (``step`` varies the values)."""
    ctx = app.state.contexts.resolve(None)
    bodies: list[dict[str, Any]] = []
    for device in devices.air:
        body = device_body(device, at, {"pm25": 20.0 + step, "tsp": 60.0, "o3": 30.0, "co": 800.0, "no2": 25.0})
        body["airQualityIndex"] = {"type": "Property", "value": 50 + step, "observedAt": format_time(at)}
        bodies.append(body)
    bodies += [device_body(d, at, {"t": 30.0, "rh": 0.7, "p": 1.5 + step, "ws": 3.0}) for d in devices.weather]
    bodies += [device_body(d, at, {"lvl": 0.05 * step, "st": "normal"}) for d in devices.flood]
    bodies += [device_body(d, at, {"v": 35.0 - step, "c": step % 2 == 0}) for d in devices.traffic]
    bodies += [device_body(d, at, {"occ": 50 + step, "free": 50 - step, "rate": 0.5}) for d in devices.parking]
    for device in devices.buses:
        message = fleet.messages([devices.bus_models[device.entity_id]], at)[0]
        bodies.append(device_body(device, at, message.measures))
    result = app.state.hub.batch_upsert(None, [expand_entity(b, ctx) for b in bodies], update=True)
    assert not result.errors, result.errors[:3]
