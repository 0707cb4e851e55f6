"""Units and plausibility of the attributes the city's sensors report (Smart Data Models names).

Each known attribute has a canonical unit (the Smart Data Models one, as a UN/CEFACT common code written as
``unitCode``), the range a real measurement can take in that unit, and the conversions from other units a device
may be provisioned with (``metadata.unitCode``): a device reporting relative humidity in percent (``P1``) is
written as the fraction the model defines (``C62``), carbon monoxide in mg/m³ (``GP``) as µg/m³ (``GQ``).

A value outside its range is *implausible* (a negative PM2.5, a relative humidity over 100 %, a parking with more
free spots than spots): the agent refuses that measure. Ranges are wide on purpose: they catch broken sensors and
wrong units, not bad air.

Codes: GQ µg/m³, GP mg/m³, CEL °C, FAH °F, KEL kelvin, C62 one (a fraction 0..1), P1 percent, MMT mm,
CMT cm, MTR m, KMH km/h, MTS m/s, DD degree (angle), A97 hPa, KPA kPa, PAL Pa, D54 W/m², LUX lux, SEC second,
MQS m³/s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Convert = Callable[[float], float]


@dataclass(frozen=True)
class Rule:
    """What a plausible value of one attribute is. ``unit``: the canonical unitCode (None: none written)."""

    unit: str | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False  # a count: a fraction is implausible
    whole: bool = False  # the model types it as an integer: the value is rounded (half up)
    convert: Mapping[str, Convert] = field(default_factory=dict)
    choices: frozenset[str] | None = None

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"[{self.low}, {self.high}]{unit}"


class Implausible(ValueError):
    """A value no working sensor reports."""


class UnknownUnit(ValueError):
    """A provisioned unit the attribute cannot be converted from."""


def _times(k: float) -> Convert:
    return lambda v: v * k


_MASS = {"GP": _times(1000.0), "GQ": _times(1.0)}
_FRACTION = {"P1": _times(0.01), "C62": _times(1.0)}
_TEMPERATURE = {"CEL": _times(1.0), "FAH": lambda v: (v - 32.0) * 5.0 / 9.0, "KEL": lambda v: v - 273.15}
_LENGTH_M = {"MTR": _times(1.0), "CMT": _times(0.01), "MMT": _times(0.001)}
_LENGTH_MM = {"MMT": _times(1.0), "CMT": _times(10.0), "MTR": _times(1000.0)}
_SPEED_MS = {"MTS": _times(1.0), "KMH": _times(1 / 3.6)}
_SPEED_KMH = {"KMH": _times(1.0), "MTS": _times(3.6)}
_PRESSURE = {"A97": _times(1.0), "KPA": _times(10.0), "PAL": _times(0.01)}


def _pollutant(high: float, *, whole: bool = False) -> Rule:
    return Rule("GQ", 0.0, high, whole=whole, convert=_MASS)


def _level(low: float, high: float) -> Rule:
    return Rule("MTR", low, high, convert=_LENGTH_M)


#: attribute name -> rule, whatever the entity type
RULES: dict[str, Rule] = {
    # air quality (µg/m³): far above any city's worst hour, below what a broken sensor reports
    "pm1": _pollutant(1000),
    "pm25": _pollutant(1000),
    "pm4": _pollutant(1500),
    "pm10": _pollutant(2000),
    "tsp": _pollutant(5000, whole=True),  # an integer in the Smart Data Models schema
    "o3": _pollutant(2000),
    "no": _pollutant(4000),
    "no2": _pollutant(4000),
    "nox": _pollutant(6000),
    "so2": _pollutant(4000),
    "co": _pollutant(200_000),
    "c6h6": _pollutant(1000),
    "sh2": _pollutant(5000),
    "volatileOrganicCompoundsTotal": _pollutant(100_000),
    # weather
    "temperature": Rule("CEL", -50.0, 60.0, convert=_TEMPERATURE),
    "feelsLikeTemperature": Rule("CEL", -60.0, 70.0, convert=_TEMPERATURE),
    "dewPoint": Rule("CEL", -60.0, 40.0, convert=_TEMPERATURE),
    "relativeHumidity": Rule("C62", 0.0, 1.0, convert=_FRACTION),
    "precipitation": Rule("MMT", 0.0, 1000.0, convert=_LENGTH_MM),
    "windSpeed": Rule("MTS", 0.0, 120.0, convert=_SPEED_MS),
    "gustSpeed": Rule("MTS", 0.0, 150.0, convert=_SPEED_MS),
    "windDirection": Rule("DD", -180.0, 360.0),
    "atmosphericPressure": Rule("A97", 300.0, 1100.0, convert=_PRESSURE),
    "solarRadiation": Rule("D54", 0.0, 2000.0),
    "illuminance": Rule("LUX", 0.0, 200_000.0),
    # water and floods (metres; flood levels are relative to a datum and may be negative)
    "waterLevel": _level(0.0, 100.0),
    "height": _level(0.0, 100.0),
    "currentLevel": _level(-100.0, 1000.0),
    "alertLevel": _level(-100.0, 1000.0),
    "dangerLevel": _level(-100.0, 1000.0),
    "referenceLevel": _level(-100.0, 1000.0),
    "measuredDistance": _level(0.0, 1000.0),
    "flow": Rule("MQS", 0.0, 1_000_000.0),
    "waterDischarge": Rule("MQS", 0.0, 1_000_000.0),
    # traffic
    "intensity": Rule(None, 0.0, 100_000.0),
    "occupancy": Rule("C62", 0.0, 1.0, convert=_FRACTION),
    "averageVehicleSpeed": Rule("KMH", 0.0, 300.0, convert=_SPEED_KMH),
    "averageVehicleLength": Rule("MTR", 0.0, 50.0, convert=_LENGTH_M),
    "averageGapDistance": Rule("MTR", 0.0, 10_000.0, convert=_LENGTH_M),
    "averageHeadwayTime": Rule("SEC", 0.0, 86_400.0),
    # parking
    "availableSpotNumber": Rule(None, 0.0, 100_000.0, integer=True),
    "occupiedSpotNumber": Rule(None, 0.0, 100_000.0, integer=True),
    "totalSpotNumber": Rule(None, 1.0, 100_000.0, integer=True),
    "extraSpotNumber": Rule(None, 0.0, 100_000.0, integer=True),
    # vehicles
    "speed": Rule("KMH", 0.0, 300.0, convert=_SPEED_KMH),
    "heading": Rule("DD", 0.0, 360.0),
    "battery": Rule("C62", 0.0, 1.0, convert=_FRACTION),
    "serviceStatus": Rule(choices=frozenset({"broken", "onRoute", "outOfService", "parked"})),
}

#: (entity type, attribute) -> rule, where a model narrows the general one
TYPE_RULES: dict[tuple[str, str], Rule] = {
    ("AirQualityObserved", "windDirection"): Rule("DD", -180.0, 180.0),
    ("WeatherObserved", "windDirection"): Rule("DD", 0.0, 360.0),
    ("ParkingSpot", "status"): Rule(choices=frozenset({"closed", "free", "occupied", "unknown"})),
}

#: attributes whose value may not exceed another one's (when both are known): a count within a capacity
NOT_ABOVE: dict[str, str] = {"availableSpotNumber": "totalSpotNumber", "occupiedSpotNumber": "totalSpotNumber"}


def rule_for(entity_type: str, name: str) -> Rule | None:
    return TYPE_RULES.get((entity_type, name)) or RULES.get(name)


def check(rule: Rule, value: Any, unit: str | None) -> tuple[Any, str | None]:
    """(value in the canonical unit, unitCode to write) for a value cast already; raises Implausible,
    UnknownUnit or TypeError (a number was expected)."""
    if rule.choices is not None:
        if not isinstance(value, str) or value not in rule.choices:
            raise Implausible(f"{value!r} is not one of {', '.join(sorted(rule.choices))}")
        return value, None
    if rule.low is None and rule.high is None:
        return value, unit
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"a number was expected, not {value!r}")
    converted: float | int = value
    if unit is not None and unit != rule.unit:
        convert = rule.convert.get(unit)
        if convert is None:
            raise UnknownUnit(f"cannot convert from unitCode {unit!r} to {rule.unit!r}")
        converted = round(convert(float(value)), 9)
    if rule.integer:
        if isinstance(converted, float) and not converted.is_integer():
            raise Implausible(f"{value!r} is not a whole number")
        converted = int(converted)
    elif rule.whole:
        converted = math.floor(converted + 0.5)
    if (rule.low is not None and converted < rule.low) or (rule.high is not None and converted > rule.high):
        shown = f"{value!r}" if converted == value else f"{value!r} ({converted!r} {rule.unit})"
        raise Implausible(f"{shown} is outside the plausible range {rule.describe()}")
    return converted, rule.unit
