"""The modelled parts: the tide and rain model of the flood gauges, and buses moving along their polylines."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import LineString, Point

from smartcity.demo import fleet, flood, transit
from smartcity.demo.fleet import Polyline
from smartcity.hub.geo import haversine_m


def test_the_tide_is_bounded_by_its_amplitudes_and_mainly_semidiurnal() -> None:
    total = sum(a for _, _, a in flood.CONSTITUENTS)
    start = datetime(2025, 7, 1, tzinfo=UTC)
    levels = [flood.tide_m(start + timedelta(minutes=10 * i)) for i in range(6 * 24 * 30)]
    assert max(levels) <= total and min(levels) >= -total
    assert max(levels) - min(levels) > 2.5  # spring tides reach a range of several metres
    assert flood.tide_m(flood.EPOCH) == pytest.approx(total)  # all phases 0 at the epoch
    # mixed semidiurnal: more than one and at most two high waters in a lunar day (24 h 50 min)
    highs = [i for i in range(1, len(levels) - 1) if levels[i - 1] < levels[i] >= levels[i + 1]]
    per_day = len(highs) / (30 * 24 / 24.84)
    assert 1.3 < per_day <= 2.05
    # the form factor (K1 + O1) / (M2 + S2) of a mixed, mainly semidiurnal tide lies between 0.25 and 1.5
    amplitude = {name: a for name, _, a in flood.CONSTITUENTS}
    assert 0.25 < (amplitude["K1"] + amplitude["O1"]) / (amplitude["M2"] + amplitude["S2"]) < 1.5


def test_the_rain_reservoir_properties() -> None:
    c, k = 3.0, 1.5
    assert flood.reservoir_step(0.0, 0.0, 1.0, c, k) == 0.0  # dry stays dry
    # steady rain tends to c * P * k
    storage = 0.0
    for _ in range(400):  # 40 hours, about 27 time constants
        storage = flood.reservoir_step(storage, 20.0, 0.1, c, k)
    assert storage == pytest.approx(c * 20.0 * k, rel=1e-6)
    # without rain the water halves every k * ln 2 hours
    assert flood.reservoir_step(100.0, 0.0, k * math.log(2), c, k) == pytest.approx(50.0)
    # more rain, more water; never negative
    assert flood.reservoir_step(10.0, 5.0, 0.5, c, k) > flood.reservoir_step(10.0, 1.0, 0.5, c, k) > 0
    # the step is exact: two half steps equal one whole step
    half = flood.reservoir_step(flood.reservoir_step(7.0, 4.0, 0.25, c, k), 4.0, 0.25, c, k)
    assert half == pytest.approx(flood.reservoir_step(7.0, 4.0, 0.5, c, k))


def test_a_gauge_adds_tidal_flooding_above_its_crest_and_the_rain_storage() -> None:
    spot = flood.FloodSpot("x", "x", 106.7, 10.8, crest_m=1.0, c=2.0, k_h=1.0)
    gauge = flood.Gauge(spot)
    high = flood.EPOCH  # the tide is at its highest (sum of the amplitudes)
    assert gauge.level_m(high) == pytest.approx(flood.tide_m(high) - 1.0)
    gauge.storage_mm = 50.0
    assert gauge.level_m(high) == pytest.approx(flood.tide_m(high) - 1.0 + 0.05)
    inland = flood.Gauge(flood.FloodSpot("y", "y", 106.7, 10.8, crest_m=None, c=2.0, k_h=1.0))
    assert inland.level_m(high) == 0.0
    assert [flood.status_of(v) for v in (0.0, 0.1, 0.29, 0.3)] == ["normal", "alert", "alert", "danger"]


def test_the_flood_model_reports_every_gauge() -> None:
    model = flood.FloodModel()
    model.advance(30.0, timedelta(hours=1))
    messages = model.messages(datetime(2025, 7, 1, 6, tzinfo=UTC))
    assert len(messages) == len(flood.SPOTS) == 8
    assert all(m.measures["lvl"] > 0 for m in messages)  # 30 mm of rain in an hour wets every spot
    assert all(m.measures["st"] in ("normal", "alert", "danger") for m in messages)


def test_polyline_interpolation_stays_on_the_line() -> None:
    points = [(106.70, 10.77), (106.70, 10.77), (106.71, 10.77), (106.71, 10.78)]
    line = Polyline.of(points)
    assert len(line.points) == 3  # the repeated vertex is dropped
    assert line.length == pytest.approx(
        haversine_m(106.70, 10.77, 106.71, 10.77) + haversine_m(106.71, 10.77, 106.71, 10.78)
    )
    assert line.at(0)[:2] == (106.70, 10.77)
    assert line.at(line.length)[:2] == pytest.approx((106.71, 10.78))
    assert line.at(-5)[:2] == line.at(0)[:2] and line.at(line.length + 5)[:2] == line.at(line.length)[:2]
    first = line.cumulative[1]
    lon, lat, heading = line.at(first / 2)
    assert (lon, lat) == pytest.approx((106.705, 10.77))
    assert heading == pytest.approx(90.0, abs=0.01)  # east
    assert line.at(first + 1)[2] == pytest.approx(0.0, abs=0.01)  # then north
    shapely_line = LineString(line.points)
    for i in range(101):
        lon, lat, _ = line.at(line.length * i / 100)
        assert shapely_line.distance(Point(lon, lat)) < 1e-12
    with pytest.raises(ValueError, match="two distinct"):
        Polyline.of([(1.0, 1.0), (1.0, 1.0)])


@pytest.fixture(scope="module")
def buses() -> list[fleet.Bus]:
    return fleet.build(transit.load(), routes=3, per_route=2)


def test_buses_run_their_route_out_and_back_at_the_scheduled_speed(buses: list[fleet.Bus]) -> None:
    assert len(buses) == 6
    assert [b.route_no for b in buses[:2]] == ["01", "01"]
    bus = buses[0]
    out, back = bus.legs
    assert out.var.outbound and not back.var.outbound and out.var.route_id == back.var.route_id
    start = fleet.EPOCH - timedelta(seconds=bus.phase_s)  # the start of a cycle
    at_start = bus.position(start)
    assert (at_start.lon, at_start.lat) == pytest.approx(out.line.points[0])
    halfway = bus.position(start + timedelta(seconds=out.seconds / 2))
    assert halfway.leg is out and halfway.speed_kmh == pytest.approx(out.var.distance_m / out.var.running_min * 0.06)
    assert bus.position(start + timedelta(seconds=out.seconds + 1)).leg is back
    again = bus.position(start + timedelta(seconds=bus.cycle_s))
    assert (again.lon, again.lat) == pytest.approx((at_start.lon, at_start.lat))
    # two buses of a route are half a cycle apart
    assert buses[1].phase_s == pytest.approx(bus.cycle_s / 2)


def test_a_bus_is_always_on_its_route_polyline(buses: list[fleet.Bus]) -> None:
    moment = datetime(2025, 7, 1, tzinfo=UTC)
    for bus in buses:
        lines = {id(leg): LineString(leg.line.points) for leg in bus.legs}
        for minute in range(0, int(bus.cycle_s / 60) + 1, 3):
            p = bus.position(moment + timedelta(minutes=minute))
            assert lines[id(p.leg)].distance(Point(p.lon, p.lat)) < 1e-9
            assert 0 <= p.bearing < 360


def test_bus_messages_carry_position_speed_and_route(buses: list[fleet.Bus]) -> None:
    moment = datetime(2025, 7, 1, tzinfo=UTC)
    messages = fleet.messages(buses, moment)
    assert len(messages) == len(buses)
    first = messages[0]
    assert first.at == moment and first.measures["loc"]["type"] == "Point"
    assert first.measures["rv"].startswith("urn:ngsi-ld:PublicTransportRoute:HCMC:")
    statics = {s.name: s.value for s in fleet.devices(buses)[0].static}
    assert statics["vehicleType"] == "bus" and statics["modelled"] is True
