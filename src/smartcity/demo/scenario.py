"""The demo city: the static layers, the sensors to provision and the feeds that replay their data."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from smartcity.demo import air, fleet, flood, parking, traffic, transit, wards, weather
from smartcity.demo.devices import Device, ServiceGroup
from smartcity.demo.replay import BusFeed, Feed, FloodFeed, SeriesFeed
from smartcity.demo.timeline import Series, SourceLoop, Timeline

log = logging.getLogger(__name__)

GROUPS: tuple[ServiceGroup, ...] = (
    air.GROUP,
    weather.GROUP,
    flood.GROUP,
    traffic.GROUP,
    parking.GROUP,
    fleet.GROUP,
)


def loop_of(series: Series[Any], step: timedelta) -> SourceLoop:
    """The source's loop, its replay beginning in its busiest week."""
    return SourceLoop.covering(series.first(), series.last() + step).beginning_in_busiest_week(series.times)


@dataclass
class Scenario:
    layers: list[tuple[str, list[dict[str, Any]]]]  # (label, NGSI-LD entity bodies) loaded through the hub
    groups: tuple[ServiceGroup, ...]
    devices: list[Device]
    air: Series[air.AirReading]
    weather: Series[weather.WeatherReading]
    traffic: traffic.TrafficFeed
    parking: Series[parking.ParkingReading]
    buses: list[fleet.Bus]

    def feeds(self, sim_start: datetime, bus_every_s: float) -> list[Feed]:
        """The feeds of a replay whose simulated clock starts at ``sim_start``."""
        hourly = timedelta(hours=1)
        weather_line = Timeline(loop_of(self.weather, hourly), sim_start)
        flood_feed = FloodFeed(flood.FloodModel(), weather_line, self.weather)
        flood_feed.warm_up(sim_start)
        return [
            SeriesFeed("air quality", Timeline(loop_of(self.air, hourly), sim_start), self.air, air.messages),
            SeriesFeed("weather", weather_line, self.weather, weather.messages),
            flood_feed,
            SeriesFeed(
                "traffic",
                Timeline(loop_of(self.traffic.series, traffic.STEP), sim_start),
                self.traffic.series,
                self.traffic.messages,
            ),
            SeriesFeed("parking", Timeline(loop_of(self.parking, hourly), sim_start), self.parking, parking.messages),
            BusFeed(self.buses, bus_every_s),
        ]

    @property
    def static_count(self) -> int:
        return sum(len(bodies) for _, bodies in self.layers)


def build(*, bus_routes: int = 12, buses_per_route: int = 2) -> Scenario:
    """Read every shipped file and assemble the demo city (a few seconds: run it off the event loop)."""
    network = transit.load()
    buses = fleet.build(network, routes=bus_routes, per_route=buses_per_route)
    traffic_feed = traffic.load()
    devices = [
        *air.devices(),
        *weather.devices(),
        *flood.devices(),
        *traffic.devices(traffic_feed.sensors),
        *parking.devices(),
        *fleet.devices(buses),
    ]
    layers = [
        ("wards", wards.read()),
        ("bus stops", transit.stop_entities(network)),
        ("bus routes", transit.route_entities(network)),
    ]
    return Scenario(
        layers=layers,
        groups=GROUPS,
        devices=devices,
        air=air.load(),
        weather=weather.load(),
        traffic=traffic_feed,
        parking=parking.load(),
        buses=buses,
    )
