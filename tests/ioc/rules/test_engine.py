"""The rules engine with a controlled clock: every kind of rule, hysteresis, timers, robustness."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smartcity.ioc.contracts import REFRESH_SECONDS, Severity
from tests.ioc.rules.support import EXPAND, Feed, at, engine_with, entity, point, rule

FLOOD = rule(
    "flood",
    target={"type": "FloodMonitoring", "attribute": "currentLevel"},
    when={"op": ">", "value": 0.3, "for": "PT10M", "clear": 0.25},
    message={"vi": "Ngập {value} m tại {name}", "en": "Flooding {value} m at {name}"},
)
GAUGE = "urn:ngsi-ld:FloodMonitoring:g1"


def gauge(level: float, minute: float, eid: str = GAUGE) -> object:
    return entity(eid, "FloodMonitoring", at(minute), currentLevel=level, name="Nguyễn Hữu Cảnh")


def test_threshold_fires_after_its_duration_and_refreshes_at_most_every_refresh_period() -> None:
    feed = Feed(engine_with(FLOOD))
    assert feed.put(gauge(0.35, 0), at(0)) == []  # pending
    assert feed.put(gauge(0.40, 5), at(5)) == []  # held 5 min
    fired = feed.put(gauge(0.42, 10), at(10))  # held 10 min: fires
    assert len(fired) == 1
    s = fired[0]
    assert (s.firing, s.subject, s.subject_type, s.at, s.value) == (True, GAUGE, "FloodMonitoring", at(10), 0.42)
    assert (s.rule_id, s.rule_version, s.severity, s.labels["domain"]) == ("flood", 1, Severity.MAJOR, "flood")
    assert s.summary_en == "Flooding 0.42 m at Nguyễn Hữu Cảnh" and s.summary_vi == "Ngập 0.42 m tại Nguyễn Hữu Cảnh"
    assert feed.put(gauge(0.43, 10.5), at(10.5)) == []  # less than REFRESH_SECONDS later: no refresh
    refreshed = feed.put(gauge(0.44, 10 + REFRESH_SECONDS / 60), at(11))
    assert [(r.firing, r.value) for r in refreshed] == [(True, 0.44)]


def test_a_dip_below_the_threshold_restarts_the_duration() -> None:
    feed = Feed(engine_with(FLOOD))
    feed.put(gauge(0.35, 0), at(0))
    feed.put(gauge(0.20, 6), at(6))  # no longer holds: back to idle
    feed.put(gauge(0.35, 7), at(7))
    assert feed.put(gauge(0.35, 12), at(12)) == []  # only 5 min since 7
    assert [s.firing for s in feed.put(gauge(0.36, 17), at(17))] == [True]


def test_hysteresis_values_hovering_at_the_threshold_do_not_flap() -> None:
    feed = Feed(engine_with(FLOOD))
    feed.put(gauge(0.35, 0), at(0))
    feed.put(gauge(0.35, 10), at(10))  # fires
    band = [(11, 0.29), (12, 0.31), (13, 0.28), (14, 0.30), (15, 0.26), (16, 0.31)]
    during = [s for minute, level in band for s in feed.put(gauge(level, minute), at(minute))]
    # between 0.25 and 0.3 nothing clears; above 0.3 the alert is only refreshed (at most once a minute)
    assert [(s.firing, s.at) for s in during] == [(True, at(12)), (True, at(16))]
    cleared = feed.put(gauge(0.24, 17), at(17))
    assert [(s.firing, s.at, s.value) for s in cleared] == [(False, at(17), 0.35)]  # value: the episode's peak


def test_a_pending_condition_fires_on_the_timer_when_no_new_value_comes() -> None:
    feed = Feed(engine_with(FLOOD))
    feed.put(gauge(0.5, 0), at(0))
    assert feed.tick(at(9)) == []
    fired = feed.tick(at(11))
    assert [(s.firing, s.at) for s in fired] == [(True, at(10))]  # at the moment the duration completed
    assert feed.tick(at(12)) == []


def test_timers_measure_the_data_time_when_the_data_arrives_faster_than_real_time() -> None:
    """A replay at 60x: observations 10 minutes apart arrive 10 seconds apart and still count as 10 minutes."""
    feed = Feed(engine_with(FLOOD))
    arrive = at(60)  # catching up: the observations are an hour old
    feed.put(gauge(0.5, 0), arrive)
    assert [s.at for s in feed.put(gauge(0.5, 10), arrive + timedelta(seconds=10))] == [at(10)]


def test_clear_for_needs_the_value_to_stay_past_the_clear_value() -> None:
    doc = dict(FLOOD, when={"op": ">", "value": 0.3, "clear": 0.25, "clearFor": "PT5M"})
    feed = Feed(engine_with(doc))
    assert [s.firing for s in feed.put(gauge(0.4, 0), at(0))] == [True]  # no "for": fires at once
    assert feed.put(gauge(0.2, 1), at(1)) == []  # clearing
    assert feed.put(gauge(0.27, 3), at(3)) == []  # back in the band: clearing interrupted
    assert feed.put(gauge(0.2, 4), at(4)) == []
    assert [(s.firing, s.at) for s in feed.tick(at(9.5))] == [(False, at(9))]


def test_entity_deletion_ends_its_alert() -> None:
    feed = Feed(engine_with(dict(FLOOD, when={"op": ">", "value": 0.3})))
    feed.put(gauge(0.5, 0), at(0))
    assert [s.firing for s in feed.delete(GAUGE, at(1))] == [False]


def test_only_rules_of_the_changed_type_and_attribute_are_evaluated() -> None:
    engine = engine_with(
        FLOOD,
        rule(
            "other-attr",
            target={"type": "FloodMonitoring", "attribute": "floodLevelStatus"},
            when={"op": "==", "value": "danger"},
        ),
        rule(
            "other-type", target={"type": "WeatherObserved", "attribute": "precipitation"}, when={"op": ">", "value": 1}
        ),
    )
    feed = Feed(engine)
    feed.put(gauge(0.1, 0), at(0))
    feed.put(gauge(0.2, 1), at(1))
    feed.put(gauge(0.2, 1), at(2))  # same instance again: not evaluated
    assert engine.rules["flood"].evaluations == 2
    assert engine.rules["other-attr"].evaluations == 0
    assert engine.rules["other-type"].evaluations == 0


def test_share_of_a_total_and_string_and_boolean_conditions() -> None:
    engine = engine_with(
        rule(
            "parking",
            target={"type": "OffStreetParking", "attribute": "availableSpotNumber", "per": "totalSpotNumber"},
            when={"op": "<", "value": 0.05, "clear": 0.1},
        ),
        rule(
            "congested",
            target={"type": "TrafficFlowObserved", "attribute": "congested"},
            when={"op": "==", "value": True},
        ),
        rule(
            "aqi",
            target={"type": "AirQualityObserved", "attribute": "airQualityLevel"},
            when={"op": "in", "value": ["poor", "bad"]},
        ),
    )
    feed = Feed(engine)
    park = "urn:ngsi-ld:OffStreetParking:p"
    assert feed.put(entity(park, "OffStreetParking", at(0), availableSpotNumber=30, totalSpotNumber=400), at(0)) == []
    fired = feed.put(entity(park, "OffStreetParking", at(1), availableSpotNumber=19, totalSpotNumber=400), at(1))
    assert [(s.rule_id, s.value) for s in fired] == [("parking", 19 / 400)]
    road = "urn:ngsi-ld:TrafficFlowObserved:r"
    assert feed.put(entity(road, "TrafficFlowObserved", at(0), congested=1), at(0)) == []  # 1 is not true
    assert [s.rule_id for s in feed.put(entity(road, "TrafficFlowObserved", at(1), congested=True), at(1))] == [
        "congested"
    ]
    station = "urn:ngsi-ld:AirQualityObserved:s"
    fired = feed.put(entity(station, "AirQualityObserved", at(0), airQualityLevel="poor"), at(0))
    assert [(s.rule_id, s.value, s.summary_en) for s in fired] == [("aqi", None, "Value poor at s")]
    cleared = feed.put(entity(station, "AirQualityObserved", at(1), airQualityLevel="moderate"), at(1))
    assert [s.firing for s in cleared] == [False]


def test_rate_of_change_per_minute_over_a_window() -> None:
    doc = rule(
        "rising",
        "rate",
        target={"type": "FloodMonitoring", "attribute": "currentLevel"},
        rate={"window": "PT30M"},
        when={"op": ">", "value": 0.01},
    )
    feed = Feed(engine_with(doc))
    assert feed.put(gauge(0.10, 0), at(0)) == []
    assert feed.put(gauge(0.15, 10), at(10)) == []  # 0.005 m/min
    fired = feed.put(gauge(0.40, 20), at(20))  # (0.40 - 0.10) / 20 = 0.015 m/min
    assert [(s.firing, s.value) for s in fired] == [(True, 0.015)]
    # 40 minutes: the window keeps 10..40; (0.45 - 0.15) / 30 = 0.01 -> no longer holds (> 0.01)
    assert [s.firing for s in feed.put(gauge(0.45, 40), at(40))] == [False]


def test_absence_fires_at_the_deadline_and_clears_on_the_next_update() -> None:
    doc = rule(
        "silent",
        "absence",
        target={"type": "FloodMonitoring"},
        absence={"after": "PT30M"},
        labels={"domain": "devices"},
    )
    feed = Feed(engine_with(doc))
    feed.put(gauge(0.1, 0), at(0))
    assert feed.tick(at(29)) == []
    fired = feed.tick(at(31))
    assert [(s.firing, s.at, s.subject) for s in fired] == [(True, at(30), GAUGE)]
    assert [(s.firing, s.value) for s in feed.tick(at(31.5))] == [(True, 31.5)]  # a refresh: silent for 31.5 min
    assert feed.tick(at(32)) == []
    assert [s.firing for s in feed.put(gauge(0.1, 40), at(40))] == [False]


def test_absence_after_a_restart_is_seeded_from_modified_at() -> None:
    doc = rule("silent", "absence", target={"type": "FloodMonitoring"}, absence={"after": "PT30M"})
    engine = engine_with(doc)
    stale = gauge(0.1, 0)
    engine.observe(stale, at(0), at(0))  # the service seeds with the entity's modifiedAt
    assert [s.at for s in engine.tick(at(45))] == [at(30)]


def test_area_by_radius_and_by_ward_polygon() -> None:
    ward_polygon = {
        "type": "Polygon",
        "coordinates": [[[106.69, 10.77], [106.71, 10.77], [106.71, 10.79], [106.69, 10.79], [106.69, 10.77]]],
    }
    engine = engine_with(
        rule(
            "near",
            "area",
            target={
                "type": "FloodMonitoring",
                "attribute": "currentLevel",
                "area": {"center": [106.70, 10.78], "radius": 500},
            },
            when={"op": ">", "value": 0.3},
        ),
        rule(
            "in-ward",
            "area",
            target={"type": "FloodMonitoring", "attribute": "currentLevel", "area": {"ward": "26734"}},
            when={"op": ">", "value": 0.3},
        ),
    )
    feed = Feed(engine)
    inside = entity(
        "urn:ngsi-ld:FloodMonitoring:in", "FloodMonitoring", at(0), currentLevel=0.5, location=point(106.701, 10.781)
    )
    far = entity(
        "urn:ngsi-ld:FloodMonitoring:far", "FloodMonitoring", at(0), currentLevel=0.5, location=point(106.75, 10.85)
    )
    assert [s.rule_id for s in feed.put(inside, at(0))] == ["near"]  # the ward is not known yet
    assert feed.put(far, at(0)) == []
    ward = entity(
        "urn:ngsi-ld:AdministrativeArea:HCMC:26734",
        "AdministrativeArea",
        at(0),
        code="26734",
        name="Phường Bến Thành",
        location=ward_polygon,
    )
    feed.put(ward, at(0))
    fired = feed.put(
        entity(inside.id, "FloodMonitoring", at(0.5), currentLevel=0.6, location=point(106.701, 10.781)), at(0.5)
    )
    assert {s.rule_id for s in fired} == {"in-ward"}
    assert fired[0].labels["ward"] == "26734"


def test_aggregate_mean_per_ward_over_a_sliding_window() -> None:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    engine = engine_with(
        rule(
            "pm",
            "aggregate",
            target={"type": "AirQualityObserved", "attribute": "pm25"},
            aggregate={"method": "mean", "window": "PT1H", "groupBy": "ward"},
            when={"op": ">", "value": 50},
            labels={"domain": "air"},
            message={"vi": "PM2.5 {value} tại {ward}", "en": "PM2.5 {value} in {ward}"},
        ),
    )
    feed = Feed(engine)
    feed.put(
        entity(
            "urn:ngsi-ld:AdministrativeArea:w1", "AdministrativeArea", at(0), code="w1", name="Ward 1", location=square
        ),
        at(0),
    )

    def station(n: int, pm: float, minute: float) -> object:
        return entity(
            f"urn:ngsi-ld:AirQualityObserved:{n}",
            "AirQualityObserved",
            at(minute),
            pm25=pm,
            location=point(0.5, 0.1 * n),
        )

    assert feed.put(station(1, 40, 0), at(0)) == []  # mean 40
    assert feed.put(station(2, 55, 10), at(10)) == []  # mean 47.5
    fired = feed.put(station(3, 60, 20), at(20))  # mean (40 + 55 + 60) / 3 = 51.67
    assert [(s.firing, s.subject, s.subject_type, s.labels["ward"]) for s in fired] == [
        (True, "urn:ngsi-ld:AdministrativeArea:w1", "AdministrativeArea", "w1")
    ]
    assert fired[0].value == pytest.approx(155 / 3, abs=1e-5)
    assert fired[0].summary_en.startswith("PM2.5 51.67 in Ward 1")
    # at 70 min the sample of minute 0 has left the window: mean (55 + 60 + 30) / 3 = 48.3 -> ends
    assert [s.firing for s in feed.put(station(1, 30, 70), at(70))] == [False]


def test_composite_of_conditions_on_different_types() -> None:
    doc = rule(
        "rain-tide",
        "composite",
        composite={
            "mode": "all",
            "conditions": [
                {"name": "rain", "type": "WeatherObserved", "attribute": "precipitation", "op": ">", "value": 10},
                {"name": "tide", "type": "TideGauge", "attribute": "level", "op": ">", "value": 1.5, "maxAge": "PT1H"},
            ],
        },
    )
    feed = Feed(engine_with(doc))
    rain = "urn:ngsi-ld:WeatherObserved:w"
    tide = "urn:ngsi-ld:TideGauge:t"
    assert feed.put(entity(rain, "WeatherObserved", at(0), precipitation=20), at(0)) == []
    assert feed.put(entity(tide, "TideGauge", at(5), level=1.2), at(5)) == []
    fired = feed.put(entity(tide, "TideGauge", at(10), level=1.7), at(10))
    assert [(s.firing, s.subject, s.value) for s in fired] == [(True, "urn:ngsi-ld:IocRule:rain-tide", 20.0)]
    # the tide reading grows older than its maxAge: the composite no longer holds
    assert [(s.firing, s.at) for s in feed.tick(at(71))] == [(False, at(71))]


def test_proximity_bus_bunching_per_route() -> None:
    doc = rule(
        "bunching",
        "proximity",
        target={"type": "Vehicle"},
        proximity={"groupBy": "refPublicTransportRoute", "maxAge": "PT5M"},
        when={"op": "<", "value": 200, "clear": 400},
        labels={"domain": "transit"},
    )
    feed = Feed(engine_with(doc))
    route, other = "urn:ngsi-ld:PublicTransportRoute:r1", "urn:ngsi-ld:PublicTransportRoute:r2"

    def bus(n: int, lon: float, minute: float, on: str = route) -> object:
        return entity(
            f"urn:ngsi-ld:Vehicle:{n}", "Vehicle", at(minute), location=point(lon, 10.0), refPublicTransportRoute=on
        )

    assert feed.put(bus(1, 106.700, 0), at(0)) == []
    assert feed.put(bus(3, 106.7001, 0, other), at(0)) == []  # close, but another route
    fired = feed.put(bus(2, 106.7015, 0), at(0))  # 0.0015° of longitude at 10°N = 164 m
    assert [(s.firing, s.subject, s.subject_type) for s in fired] == [(True, route, "PublicTransportRoute")]
    assert fired[0].value == pytest.approx(164.4, abs=0.5)
    assert feed.put(bus(2, 106.703, 1), at(1)) == []  # 329 m: in the hysteresis band
    assert [s.firing for s in feed.put(bus(2, 106.705, 2), at(2))] == [False]  # 548 m


def test_a_failing_rule_or_a_bad_value_never_stops_the_engine() -> None:
    engine = engine_with(FLOOD, dict(FLOOD, id="flood-now", when={"op": ">", "value": 0.3}))
    feed = Feed(engine)

    def boom(*args: object) -> list[object]:
        raise RuntimeError("broken rule")

    engine.rules["flood"].observe = boom  # type: ignore[method-assign]
    assert feed.put(gauge("deep", 0), at(0)) == []  # type: ignore[arg-type]  # a text where a number is expected
    fired = feed.put(gauge(0.5, 1), at(1))
    assert [s.rule_id for s in fired] == ["flood-now"]
    assert engine.rules["flood"].errors == 2 and engine.evaluations_failed == 2


def test_alert_entities_are_skipped() -> None:
    engine = engine_with(rule("x", target={"type": "Alert", "attribute": "severity"}, when={"op": "==", "value": 1}))
    feed = Feed(engine)
    assert feed.put(entity("urn:ngsi-ld:Alert:1", "Alert", at(0), severity=1), at(0)) == []
    assert engine.rules["x"].evaluations == 0


def test_reloading_rules_ends_what_a_removed_or_disabled_rule_was_firing_about() -> None:
    quick = dict(FLOOD, when={"op": ">", "value": 0.3})
    engine = engine_with(quick)
    feed = Feed(engine)
    feed.put(gauge(0.5, 0), at(0))
    from smartcity.ioc.rules.model import parse_rule

    # a new version of the same kind and target keeps its state (no clear, no re-raise)
    assert engine.load([(parse_rule(dict(quick, severity="critical")), 2)], at(1)) == []
    assert engine.rules["flood"].tracker.firing == 1
    ended = engine.load([(parse_rule(dict(quick, enabled=False)), 3)], at(2))
    assert [(s.firing, s.subject, s.at) for s in ended] == [(False, GAUGE, at(2))]
    assert engine.rules == {}


def test_expanded_names_are_used() -> None:
    engine = engine_with(FLOOD)
    assert engine.types == {EXPAND("FloodMonitoring"), EXPAND("AdministrativeArea")} - {EXPAND("AdministrativeArea")}
