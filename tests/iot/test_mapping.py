"""The device-to-NGSI-LD mapping without HTTP: casts by FIWARE type, units and plausibility, timestamps."""

from __future__ import annotations

from typing import Any

import pytest

from smartcity.hub.jsonld import ContextRegistry
from smartcity.iot import quality, timestamps, values
from smartcity.iot.binding import Binding, compile_binding
from smartcity.iot.inbound import Address, Inbound
from smartcity.iot.mapping import map_message
from smartcity.iot.measures import MeasureGroup
from smartcity.iot.model import Attribute, ConfigGroup, Device, Scope, StaticAttribute

EXPAND = ContextRegistry().resolve(None).expand_term
FAR = 2**62


def _binding(entity_type: str, attributes: list[Attribute], statics: list[StaticAttribute] | None = None) -> Binding:
    scope = Scope("")
    group = ConfigGroup(scope, "k", "/iot/json", entity_type, tuple(attributes))
    device = Device(
        scope, "d1", "k", f"urn:ngsi-ld:{entity_type}:d1", entity_type, static_attributes=tuple(statics or ())
    )
    return compile_binding("", group, device, EXPAND)


def _map(binding: Binding, measures: dict[str, Any], latest: int = FAR) -> Any:
    inbound = Inbound("http", Address("k", "d1", "json"), "/iot/json", b"", 1_700_000_000_000_000)
    inbound.groups = [MeasureGroup(measures)]
    return map_message(inbound, binding, latest)


@pytest.mark.parametrize(
    ("name", "unit", "raw", "expected", "code"),
    [
        ("co", "GP", 1.2, 1200.0, "GQ"),
        ("pm25", None, 12, 12, "GQ"),
        ("temperature", "FAH", 86, 30.0, "CEL"),
        ("temperature", "KEL", 300.15, 27.0, "CEL"),
        ("relativeHumidity", "P1", 55, 0.55, "C62"),
        ("relativeHumidity", None, 0.55, 0.55, "C62"),
        ("windSpeed", "KMH", 36, 10.0, "MTS"),
        ("averageVehicleSpeed", "MTS", 10, 36.0, "KMH"),
        ("waterLevel", "MMT", 1500, 1.5, "MTR"),
        ("precipitation", "CMT", 1.2, 12.0, "MMT"),
        ("atmosphericPressure", "PAL", 101325, 1013.25, "A97"),
        ("tsp", "GQ", 88.5, 89, "GQ"),
    ],
)
def test_units_become_the_models_units(name: str, unit: str | None, raw: Any, expected: Any, code: str) -> None:
    rule = quality.rule_for("AirQualityObserved", name)
    assert rule is not None
    value, written = quality.check(rule, raw, unit)
    assert value == pytest.approx(expected) and written == code


@pytest.mark.parametrize(
    ("entity_type", "name", "value", "unit"),
    [
        ("AirQualityObserved", "pm25", -0.1, "GQ"),
        ("AirQualityObserved", "pm10", 5000, "GQ"),
        ("WeatherObserved", "relativeHumidity", 101, "P1"),
        ("WeatherObserved", "relativeHumidity", 1.01, None),
        ("WeatherObserved", "temperature", 75, "CEL"),
        ("WeatherObserved", "windDirection", -10, "DD"),
        ("AirQualityObserved", "windDirection", 200, "DD"),
        ("OffStreetParking", "availableSpotNumber", -1, None),
        ("OffStreetParking", "availableSpotNumber", 2.5, None),
        ("Vehicle", "speed", 400, "KMH"),
        ("ParkingSpot", "status", "flying", None),
    ],
)
def test_implausible_values(entity_type: str, name: str, value: Any, unit: str | None) -> None:
    rule = quality.rule_for(entity_type, name)
    assert rule is not None
    with pytest.raises(quality.Implausible):
        quality.check(rule, value, unit)


def test_units_that_cannot_be_converted_and_non_numbers() -> None:
    rule = quality.rule_for("WeatherObserved", "temperature")
    assert rule is not None
    with pytest.raises(quality.UnknownUnit):
        quality.check(rule, 20, "MTR")
    with pytest.raises(TypeError):
        quality.check(rule, "warm", "CEL")
    assert quality.rule_for("OffStreetParking", "status") is None  # only ParkingSpot's status is an enumeration


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("25.3", "Number", ("Property", 25.3)),
        ("25", "Integer", ("Property", 25)),
        (25.0, "Integer", ("Property", 25)),
        ("true", "Boolean", ("Property", True)),
        (0, "Boolean", ("Property", False)),
        (12, "Text", ("Property", "12")),
        ("2026-11-24T08:00:00+07:00", "DateTime", ("Property", "2026-11-24T01:00:00.000000Z")),
        ("10.77, 106.70", "geo:point", ("GeoProperty", {"type": "Point", "coordinates": [106.70, 10.77]})),
        ([106.7, 10.77], "GeoProperty", ("GeoProperty", {"type": "Point", "coordinates": [106.7, 10.77]})),
        ("urn:ngsi-ld:Building:1", "Relationship", ("Relationship", "urn:ngsi-ld:Building:1")),
        ("42", None, ("Property", 42)),
        ("1e3", "Property", ("Property", 1000.0)),
        ({"a": [1, 2]}, "StructuredValue", ("Property", {"a": [1, 2]})),
    ],
)
def test_casts_by_fiware_type(raw: Any, kind: str | None, expected: tuple[str, Any]) -> None:
    assert values.cast(raw, kind) == expected


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("abc", "Number"),
        (True, "Number"),
        ("2.5", "Integer"),
        ("yes", "Boolean"),
        ({"a": 1}, "Text"),
        ("nowhere", "geo:point"),
        ([500, 10], "geo:point"),
        ("not a uri", "Relationship"),
        ("a\x00b", None),
        ({"k": "a\x00"}, "StructuredValue"),
        (None, "Number"),
        ("tomorrow", "DateTime"),
    ],
)
def test_values_that_do_not_fit_their_type(raw: Any, kind: str) -> None:
    with pytest.raises(values.WrongType):
        values.cast(raw, kind)


def test_timestamps() -> None:
    assert timestamps.iso(timestamps.parse("2026-11-24T08:00:00Z")) == "2026-11-24T08:00:00.000000Z"
    assert timestamps.iso(timestamps.parse("2026-11-24T08:00:00", "Asia/Ho_Chi_Minh")) == "2026-11-24T01:00:00.000000Z"
    assert timestamps.iso(timestamps.parse("2026-11-24T08:00:00.5+01:00")) == "2026-11-24T07:00:00.500000Z"
    for bad in ("1999-12-31T23:59:59Z", "24/11/2026 08:00", "", 42, "2026-13-01T00:00:00Z"):
        with pytest.raises(timestamps.BadTimestamp):
            timestamps.parse(bad)


def test_a_count_above_its_capacity_is_dropped_and_the_rest_kept() -> None:
    binding = _binding(
        "OffStreetParking",
        [Attribute("availableSpotNumber", "Integer", "free"), Attribute("occupancy", "Number", "rate")],
        [StaticAttribute("totalSpotNumber", "Integer", 100)],
    )
    outcome = _map(binding, {"free": 120, "rate": 0.4})
    assert outcome.partial and [p.reason for p in outcome.problems] == ["implausible_value"]
    [observation] = outcome.observations
    assert set(observation.values) == {"occupancy"}
    assert EXPAND("observationDateTime") in observation.attrs  # the model's observation time is still set


def test_measure_names_id_type_and_invalid_names() -> None:
    binding = _binding("WeatherObserved", [])
    outcome = _map(binding, {"id": "x", "type": "y", "bad name": 1, "temperature": 20})
    assert [p.reason for p in outcome.problems] == ["invalid_name"]
    assert set(outcome.observations[0].values) == {"temperature"}
    assert _map(binding, {"TimeInstant": "2026-11-24T00:00:00Z"}).problems[0].reason == "empty_message"


def test_the_allowed_clock_skew() -> None:
    binding = _binding("WeatherObserved", [])
    latest = timestamps.micros(timestamps.parse("2026-11-24T00:05:00Z"))
    assert _map(binding, {"temperature": 20, "TimeInstant": "2026-11-24T00:05:00Z"}, latest).accepted
    late = _map(binding, {"temperature": 20, "TimeInstant": "2026-11-24T00:05:01Z"}, latest)
    assert not late.accepted and late.problems[0].reason == "future_timestamp"


def test_metadata_other_than_units_become_sub_properties() -> None:
    attribute = Attribute("temperature", "Number", "t", {"unitCode": {"value": "CEL"}, "accuracy": {"value": 0.1}})
    outcome = _map(_binding("WeatherObserved", [attribute]), {"t": 20})
    instance = outcome.observations[0].attrs[EXPAND("temperature")][0]
    assert instance["unitCode"] == "CEL"
    assert instance[EXPAND("accuracy")] == {"type": "Property", "value": 0.1}
