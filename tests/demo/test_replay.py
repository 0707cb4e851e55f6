"""The replay engine with a recording southbound, and the FIWARE payloads the demo sends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from smartcity.demo import air, fleet, flood, transit, weather
from smartcity.demo.client import Answer
from smartcity.demo.devices import Message
from smartcity.demo.replay import BusFeed, FloodFeed, Replay, SeriesFeed
from smartcity.demo.scenario import loop_of
from smartcity.demo.southbound import Delivery, HttpSouthbound, Provisioner, payload
from smartcity.demo.timeline import Series, SimClock, SourceLoop, Timeline

START = datetime(2025, 7, 1, 3, tzinfo=UTC)  # 10:00 in Ho Chi Minh City


class Wall:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self, refuse: set[str] | None = None) -> None:
        self.messages: list[Message] = []
        self.refuse = refuse or set()

    async def send(self, message: Message) -> Delivery:
        self.messages.append(message)
        return Delivery(False, problem="HTTP 400 refused") if message.device_id in self.refuse else Delivery(True)

    async def close(self) -> None:
        return None


def _air_feed(start: datetime) -> SeriesFeed[air.AirReading]:
    readings = [
        air.AirReading(datetime(2021, 3, 2, h), station, {"pm25": 10.0 + h} if h != 12 else {})
        for h in range(24)
        for station in (1, 2)
    ]
    series = Series.of([(r.time, r) for r in readings])
    loop = SourceLoop(datetime(2021, 3, 2), timedelta(days=1), weekly=False)
    return SeriesFeed("air quality", Timeline(loop, start), series, air.messages)


def test_a_turn_sends_what_the_clock_reached_in_time_order() -> None:
    wall = Wall()
    clock = SimClock(START, 3600.0, monotonic=wall)
    recorder = Recorder(refuse={air.device_id(2)})
    replay = Replay(clock, [_air_feed(START)], recorder, max_rate=0)
    wall.now = 3.0  # three hours of data: 10:00, 11:00, 12:00 (12:00 has no measures: nothing is sent)
    assert asyncio.run(replay.turn()) == 4
    assert [m.at for m in recorder.messages] == [START, START, START + timedelta(hours=1), START + timedelta(hours=1)]
    assert recorder.messages[0].measures == {"pm25": 20.0}  # the 10:00 reading at 10:00 HCMC time
    assert (replay.stats.sent, replay.stats.rejected) == (2, 2)
    assert replay.stats.last_problem == "HTTP 400 refused"
    wall.now = 4.0
    asyncio.run(replay.turn())
    assert recorder.messages[-1].at == START + timedelta(hours=3)
    assert replay.position == START + timedelta(hours=4)


def test_buses_report_every_few_wall_seconds_at_the_current_simulated_instant() -> None:
    buses = fleet.build(transit.load(), routes=1, per_route=2)
    wall = Wall()
    feed = BusFeed(buses, 2.0, monotonic=wall)
    messages = feed.messages(START, START + timedelta(minutes=30))
    assert len(messages) == 2 and {m.at for m in messages} == {START + timedelta(minutes=30)}
    wall.now = 1.0  # too soon
    assert feed.messages(START + timedelta(minutes=30), START + timedelta(minutes=31)) == []
    wall.now = 2.5
    later = feed.messages(START + timedelta(minutes=31), START + timedelta(minutes=31, seconds=1))
    assert {m.at for m in later} == {START + timedelta(minutes=31, seconds=1)}


def test_the_flood_feed_uses_the_rain_replayed_at_the_same_moment() -> None:
    series = weather.load()
    line = Timeline(loop_of(series, timedelta(hours=1)), START)
    feed = FloodFeed(flood.FloodModel(), line, series)
    rainy = next(r for r in series.items if r.rain_mm > 10)
    # find the simulated instant at which that hour is replayed, then ask for the rain 5 minutes before its end
    offset = rainy.time - line.loop.day0
    sim_hour_end = START + (offset - line.offset(START)) % line.loop.period
    assert line.source_time(sim_hour_end) == rainy.time
    assert feed.rain_at(sim_hour_end - timedelta(minutes=5)) == rainy.rain_mm
    assert feed.rain_at(sim_hour_end) == rainy.rain_mm
    messages = feed.messages(sim_hour_end - timedelta(hours=1), sim_hour_end)
    assert len(messages) == 6 * len(flood.SPOTS)
    assert max(m.measures["lvl"] for m in messages) > 0


def test_the_device_payload_carries_the_time_instant() -> None:
    message = Message(air.GROUP, "healthyair-1", START + timedelta(minutes=5), {"pm25": 12.5})
    assert payload(message) == {"pm25": 12.5, "TimeInstant": "2025-07-01T03:05:00Z"}


class FakeClient:
    def __init__(self, answers: list[int]) -> None:
        self.answers = answers
        self.bodies: dict[int, bytes] = {}
        self.calls: list[tuple[str, str, Any, dict[str, str]]] = []

    async def request(self, method: str, target: str, body: bytes | None = None, headers: Any = None) -> Answer:
        self.calls.append((method, target, orjson.loads(body) if body else None, dict(headers or {})))
        status = self.answers.pop(0) if self.answers else 201
        return Answer(status, self.bodies.get(len(self.calls) - 1, b""))


def test_provisioning_follows_the_fiware_api() -> None:
    client = FakeClient([201, 409])
    provisioner = Provisioner(client, "scak_secret")  # type: ignore[arg-type]
    assert asyncio.run(provisioner.groups([air.GROUP, weather.GROUP])) == 1
    method, target, body, headers = client.calls[0]
    assert (method, target, headers["X-API-Key"]) == ("POST", "/iot/services", "scak_secret")
    group = body["services"][0]
    assert group["apikey"] == "hcmc-healthyair" and group["entity_type"] == "AirQualityObserved"
    assert {
        "object_id": "pm25",
        "name": "pm25",
        "type": "Number",
        "metadata": {"unitCode": {"type": "Text", "value": "GQ"}},
    } in group["attributes"]
    client.calls.clear()
    assert asyncio.run(provisioner.devices(air.devices())) == 6
    device = client.calls[0][2]["devices"][0]
    assert device["device_id"] == "healthyair-1"
    assert device["entity_name"] == air.entity_id(1) and device["entity_type"] == "AirQualityObserved"
    statics = {s["name"]: s for s in device["static_attributes"]}
    assert statics["location"] == {
        "name": "location",
        "type": "geo:json",
        "value": {"type": "Point", "coordinates": [106.705, 10.7877]},
    }
    assert statics["stationCode"]["type"] == "Text" and statics["modelled"]["type"] == "Boolean"


def test_existing_groups_and_devices_are_updated() -> None:
    client = FakeClient([409, 204])
    assert asyncio.run(Provisioner(client, "k").groups([air.GROUP])) == 0  # type: ignore[arg-type]
    method, target, body, _ = client.calls[1]
    assert (method, target) == ("PUT", "/iot/services?resource=/iot/json&apikey=hcmc-healthyair")
    assert body["entity_type"] == "AirQualityObserved"
    client = FakeClient([409, 409, 204, 201, 201, 201, 201, 201])
    assert asyncio.run(Provisioner(client, "k").devices(air.devices())) == 5  # type: ignore[arg-type]
    assert len(client.calls) == 8
    assert client.calls[2][:2] == ("PUT", "/iot/devices/healthyair-1")


def test_device_messages_go_to_the_json_southbound() -> None:
    dropped = b'{"written": 1, "dropped": [{"reason": "implausible", "detail": "pm25: 5000.0 is outside"}]}'
    client = FakeClient([200, 400, 429, 200])
    client.bodies = {3: dropped}
    southbound = HttpSouthbound(client)  # type: ignore[arg-type]
    message = Message(air.GROUP, "healthyair-1", START, {"pm25": 12.5})
    assert asyncio.run(southbound.send(message)) == Delivery(True)
    method, target, body, _ = client.calls[0]
    assert (method, target) == ("POST", "/iot/json?k=hcmc-healthyair&i=healthyair-1")
    assert body == {"pm25": 12.5, "TimeInstant": "2025-07-01T03:00:00Z"}
    refused = asyncio.run(southbound.send(message))
    assert not refused.accepted and refused.problem is not None and refused.problem.startswith("HTTP 400")
    partial = asyncio.run(southbound.send(message))  # 429 first: sent again
    assert partial == Delivery(True, 1, "pm25: 5000.0 is outside") and len(client.calls) == 4


def test_every_feed_of_the_city_produces_messages() -> None:
    from smartcity.demo import scenario

    city = scenario.build(bus_routes=2, buses_per_route=1)
    assert city.static_count == 168 + 4_397 + 297
    assert len(city.devices) == 6 + 1 + 8 + 12 + 8 + 2
    feeds = city.feeds(START, 2.0)
    span = timedelta(hours=2)
    counts = {f.name: len(f.messages(START, START + span)) for f in feeds}
    assert counts["weather"] == 2 and counts["traffic"] == 12 * 24 and counts["flood"] == 8 * 12
    assert counts["buses"] == 2 and counts["air quality"] >= 6 and counts["parking"] >= 8
