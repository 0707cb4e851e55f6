"""The demo's rules: valid, and firing on data shaped like what the demo writes (its own flood model, AQI
categories as the IoT agent computes them, car parks, traffic counters, buses, silent devices)."""

from __future__ import annotations

from datetime import timedelta

from smartcity.aqi import vn_category
from smartcity.demo.flood import FloodModel
from smartcity.ioc.rules.engine import Engine
from smartcity.ioc.rules.files import demo_directory, load_directory
from tests.ioc.rules.support import EXPAND, T0, Feed, at, entity, point


def _engine() -> Engine:
    engine = Engine(EXPAND)
    engine.load([(spec, 1) for _, spec in load_directory(demo_directory())], T0)
    return engine


def test_the_demo_rules_are_valid_and_cover_every_domain_asked_for() -> None:
    specs = [spec for _, spec in load_directory(demo_directory())]
    ids = {s.id for s in specs}
    assert {"flood-street-water-level", "air-quality-poor", "traffic-congestion", "parking-full", "bus-bunching"} <= ids
    assert {s.labels["domain"] for s in specs} == {"flood", "air", "traffic", "parking", "transit", "devices"}
    assert any(s.kind == "absence" for s in specs)


def test_flood_rule_fires_on_the_demo_flood_model_under_a_downpour_and_clears_with_hysteresis() -> None:
    model = FloodModel(step=timedelta(minutes=5))
    feed = Feed(_engine())
    levels: list[tuple[float, float]] = []
    for step in range(72):  # six hours: a 100 mm/h downpour for two hours, then none
        moment = T0 + timedelta(minutes=5 * step)
        model.advance(100.0 if step < 24 else 0.0, timedelta(minutes=5))
        gauge = model.gauges[4]  # Kinh Dương Vương Street: rain only, no tide
        level = round(gauge.level_m(moment), 3)
        levels.append((5 * step, level))
        feed.put(
            entity(
                "urn:ngsi-ld:FloodMonitoring:HCMC:kinh-duong-vuong",
                "FloodMonitoring",
                moment,
                currentLevel=level,
                name=gauge.spot.name,
            ),
            moment,
        )
    flood = [s for s in feed.signals if s.rule_id == "flood-street-water-level"]
    above = [m for m, level in levels if level > 0.3]
    assert above, "the downpour must raise the water above 0.3 m"
    first_fire = next(m for m in above if m - above[0] >= 10)  # held 10 minutes (samples every 5)
    ended = next(m for m, level in levels if m > first_fire and level < 0.25)
    assert [(s.firing, s.at) for s in flood if not s.firing or s.at == at(first_fire)] == [
        (True, at(first_fire)),
        (False, at(ended)),
    ]
    assert flood[0].summary_vi.startswith("Ngập ") and flood[0].labels == {"domain": "flood"}


def test_air_quality_rules_fire_on_vn_aqi_categories() -> None:
    feed = Feed(_engine())
    station = "urn:ngsi-ld:AirQualityObserved:HCMC:HealthyAir:1"
    fired = []
    for hour, index in enumerate((45, 88, 132, 171)):
        category = vn_category(index)
        moment = T0 + timedelta(hours=hour)
        fired += feed.put(
            entity(station, "AirQualityObserved", moment, airQualityIndex=index, airQualityLevel=category.key),
            moment,
        )
    raised = [(s.rule_id, s.at) for s in fired if s.firing]
    # poor (132) from hour 2, refreshed at hour 3; bad (171) from hour 3
    assert sorted(raised) == [
        ("air-quality-bad", T0 + timedelta(hours=3)),
        ("air-quality-poor", T0 + timedelta(hours=2)),
        ("air-quality-poor", T0 + timedelta(hours=3)),
    ]
    assert fired[0].summary_en == "Air quality poor at 1"


def test_traffic_parking_buses_and_silent_devices() -> None:
    feed = Feed(_engine())
    road = "urn:ngsi-ld:TrafficFlowObserved:HCMC:cong-hoa"
    for minute, (speed, congested) in enumerate(
        ((30.0, False), (18.0, True), (15.0, True), (14.0, True), (16.0, True))
    ):
        moment = at(5 * minute)
        feed.put(entity(road, "TrafficFlowObserved", moment, averageVehicleSpeed=speed, congested=congested), moment)
    congestion = [s for s in feed.signals if s.rule_id == "traffic-congestion"]
    assert [(s.firing, s.at) for s in congestion] == [(True, at(20))]  # congested from 5 to 20: 15 minutes

    park = "urn:ngsi-ld:OffStreetParking:HCMC:ben-thanh"
    for minute, free in ((0, 40), (30, 12), (60, 45)):
        feed.put(
            entity(
                park,
                "OffStreetParking",
                at(minute),
                availableSpotNumber=free,
                totalSpotNumber=300,
                occupiedSpotNumber=300 - free,
            ),
            at(minute),
        )
    parking = [s for s in feed.signals if s.rule_id == "parking-full"]
    assert [(s.firing, s.at) for s in parking] == [(True, at(30)), (False, at(60))]  # 12/300 = 4 %, 45/300 = 15 %

    route = "urn:ngsi-ld:PublicTransportRoute:HCMC:152-1"
    for second in range(0, 181, 30):
        moment = T0 + timedelta(seconds=second)
        for n, lon in ((1, 106.6600 + second * 0.00002), (2, 106.6610 + second * 0.00001)):
            feed.put(
                entity(
                    f"urn:ngsi-ld:Vehicle:HCMC:{n}",
                    "Vehicle",
                    moment,
                    location=point(lon, 10.80),
                    refPublicTransportRoute=route,
                ),
                moment,
            )
    bunching = [s for s in feed.signals if s.rule_id == "bus-bunching"]
    assert bunching and bunching[0].firing and bunching[0].subject == route
    assert bunching[0].value is not None and bunching[0].value < 200

    silent = [s for s in feed.tick(at(95)) if s.rule_id == "silent-traffic-counter"]
    assert [(s.firing, s.subject, s.at) for s in silent] == [(True, road, at(50))]  # last heard at 20
