"""A modelled bus fleet moving along the real route polylines.

The routes, their polylines, lengths and scheduled running times are real (EBMS, April 2024); the buses are not:
the demo puts a few buses on each chosen route, spaced evenly, each running the outbound variant then the inbound
one, at the variant's scheduled mean speed (Distance / RunningTime), for ever. A bus's position is a pure function
of the simulated instant: the fraction of the variant's running time elapsed, times the polyline's length, found on
the polyline by linear interpolation between its vertices (in longitude/latitude, as GeoJSON lines are drawn), so
a bus is always on its route's line. Timetables, dwell times and traffic are not modelled.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime

from smartcity.demo import sources
from smartcity.demo.devices import DEGREE, KM_PER_HOUR, Device, Measure, Message, ServiceGroup, statics
from smartcity.demo.transit import Network, RouteVar, route_entity_id
from smartcity.hub.geo import haversine_m

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
#: well-known trunk routes, used when present in the data (by route number)
PREFERRED_ROUTES = ("01", "03", "08", "18", "19", "33", "36", "56", "93", "109", "150", "152")

GROUP = ServiceGroup(
    apikey="hcmc-bus",
    entity_type="Vehicle",
    measures=(
        Measure("loc", "location", type="GeoProperty"),
        Measure("spd", "speed", unit=KM_PER_HOUR),
        Measure("hdg", "heading", unit=DEGREE),
        Measure("rv", "refPublicTransportRoute", type="Relationship"),
    ),
    label="buses (modelled positions)",
)


@dataclass(frozen=True)
class Polyline:
    """A line of (lon, lat) vertices with the cumulative distance (metres) at each."""

    points: tuple[tuple[float, float], ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, points: list[tuple[float, float]]) -> Polyline:
        kept = [points[0]] if points else []
        for p in points[1:]:
            if p != kept[-1]:
                kept.append(p)
        if len(kept) < 2:
            raise ValueError("a polyline needs two distinct positions")
        total = [0.0]
        for (lon1, lat1), (lon2, lat2) in itertools.pairwise(kept):
            total.append(total[-1] + haversine_m(lon1, lat1, lon2, lat2))
        return cls(tuple(kept), tuple(total))

    @property
    def length(self) -> float:
        return self.cumulative[-1]

    def at(self, distance: float) -> tuple[float, float, float]:
        """(lon, lat, bearing in degrees from north) at ``distance`` metres along the line (clamped to it)."""
        d = min(max(distance, 0.0), self.length)
        i = min(bisect_right(self.cumulative, d), len(self.points) - 1)  # the segment ends at vertex i
        (lon1, lat1), (lon2, lat2) = self.points[i - 1], self.points[i]
        span = self.cumulative[i] - self.cumulative[i - 1]
        f = (d - self.cumulative[i - 1]) / span if span > 0 else 0.0
        return lon1 + (lon2 - lon1) * f, lat1 + (lat2 - lat1) * f, bearing(lon1, lat1, lon2, lat2)


def bearing(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Initial great-circle bearing from the first position to the second, degrees clockwise from north."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


@dataclass(frozen=True)
class Leg:
    var: RouteVar
    line: Polyline

    @property
    def seconds(self) -> float:
        return self.var.running_min * 60.0


@dataclass(frozen=True)
class BusPosition:
    lon: float
    lat: float
    bearing: float
    speed_kmh: float
    leg: Leg


@dataclass(frozen=True)
class Bus:
    """One modelled bus: its legs (outbound then inbound) and where in the cycle it was at :data:`EPOCH`."""

    bus_id: str
    route_no: str
    legs: tuple[Leg, ...]
    phase_s: float

    @property
    def cycle_s(self) -> float:
        return sum(leg.seconds for leg in self.legs)

    def position(self, moment: datetime) -> BusPosition:
        t = ((moment - EPOCH).total_seconds() + self.phase_s) % self.cycle_s
        for leg in self.legs:
            if t < leg.seconds or leg is self.legs[-1]:
                fraction = min(t / leg.seconds, 1.0)
                lon, lat, heading = leg.line.at(fraction * leg.line.length)
                return BusPosition(lon, lat, heading, leg.var.speed_kmh, leg)
            t -= leg.seconds
        raise AssertionError("a bus has at least one leg")


def build(network: Network, *, routes: int = 12, per_route: int = 2) -> list[Bus]:
    """Buses on up to ``routes`` routes that have both an outbound and an inbound variant with a polyline."""
    by_route: dict[int, list[RouteVar]] = {}
    for v in network.route_vars:
        if v.running_min > 0 and v.key in network.paths:
            by_route.setdefault(v.route_id, []).append(v)
    candidates: list[tuple[RouteVar, RouteVar]] = []
    for variants in by_route.values():
        out = next((v for v in variants if v.outbound), None)
        back = next((v for v in variants if not v.outbound), None)
        if out is not None and back is not None:
            candidates.append((out, back))
    rank = {no: i for i, no in enumerate(PREFERRED_ROUTES)}
    candidates.sort(key=lambda pair: (rank.get(pair[0].route_no, len(rank)), pair[0].route_id))
    buses = []
    for out, back in candidates[:routes]:
        legs = tuple(Leg(v, Polyline.of(network.paths[v.key])) for v in (out, back))
        cycle = sum(leg.seconds for leg in legs)
        for n in range(per_route):
            bus_id = f"bus-{out.route_no}-{n + 1}"
            buses.append(Bus(bus_id, out.route_no, legs, cycle * n / per_route))
    return buses


def entity_id(bus: Bus) -> str:
    return f"urn:ngsi-ld:Vehicle:HCMC:{bus.bus_id}"


def devices(buses: list[Bus]) -> list[Device]:
    out = []
    for bus in buses:
        static = statics(
            ("name", f"Bus {bus.route_no} #{bus.bus_id.rsplit('-', 1)[1]}"),
            ("vehicleType", "bus"),
            ("category", ["public", "tracked"]),
            ("routeNumber", bus.route_no),
            provenance=sources.provenance(
                "smartcity demo (bus model on EBMS route data)",
                sources.REPO_BUS,
                modelled=True,
                description="Modelled bus: real route polyline and scheduled mean speed (Distance/RunningTime), "
                "position computed by the demo, not a GPS report.",
            ),
        )
        out.append(Device(bus.bus_id, entity_id(bus), GROUP, static))
    return out


def messages(buses: list[Bus], moment: datetime) -> list[Message]:
    out = []
    for bus in buses:
        p = bus.position(moment)
        measures = {
            "loc": sources.point(p.lon, p.lat),
            "spd": round(p.speed_kmh, 1),
            "hdg": round(p.bearing, 1) % 360.0,
            "rv": route_entity_id(p.leg.var.key),
        }
        out.append(Message(GROUP, bus.bus_id, moment, measures))
    return out
