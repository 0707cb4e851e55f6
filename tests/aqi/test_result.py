"""AqiResult: consistency checks, immutability, NGSI-LD properties, dominant pollutant."""

from __future__ import annotations

import dataclasses
import json

import pytest

from smartcity.aqi import DOMINANCE_ORDER, AqiResult, us_category, vn_category, vn_daily
from smartcity.aqi.result import build_result


def daily_110() -> AqiResult:
    result = vn_daily({"pm25": [55.7] * 24, "no2": [130.8] * 24})
    assert result is not None
    return result


def test_as_properties_for_ngsi_ld() -> None:
    props = daily_110().as_properties()
    assert props == {
        "value": 110,
        "scale": "VN_AQI",
        "period": "daily",
        "category": "Kém",
        "categoryEn": "Poor",
        "categoryKey": "poor",
        "colour": "#FF7E00",
        "dominantPollutant": "pm25",
        "subIndices": {"pm25": 110, "no2": 65},
        "concentrations": {"pm25": 55.7, "no2": 130.8},
        "concentrationUnitCode": "GQ",
    }
    assert json.loads(json.dumps(props, ensure_ascii=False)) == props


def test_as_properties_rounds_concentrations_half_up() -> None:
    r = build_result("US_EPA_AQI", "hourly", {"pm25": 60}, {"pm25": 20.25, "o3_8h": 2.675})
    assert r.as_properties()["concentrations"] == {"pm25": 20.3, "o3_8h": 2.7}
    assert r.as_properties()["category"] == "Trung bình"
    assert r.as_properties()["categoryEn"] == "Moderate"


def test_result_is_immutable_and_hashable() -> None:
    r = daily_110()
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        r.sub_indices["pm25"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        r.concentrations["pm25"] = 1.0  # type: ignore[index]
    assert hash(r) == hash(daily_110())
    assert r == daily_110()


def test_dominance_tie_order() -> None:
    assert DOMINANCE_ORDER == ("pm25", "pm10", "o3", "no2", "so2", "co")
    r = build_result("VN_AQI", "hourly", {"co": 80, "o3": 80, "pm10": 80, "no2": 20}, {})
    assert r.dominant == "pm10"
    r = build_result("VN_AQI", "hourly", {"co": 80, "so2": 80}, {})
    assert r.dominant == "so2"
    assert list(r.sub_indices) == ["so2", "co"]


def test_build_result_rejects_unknown_parameters() -> None:
    with pytest.raises(ValueError, match="unknown parameter"):
        build_result("VN_AQI", "hourly", {"nh3": 10}, {})


def test_consistency_checks() -> None:
    good = vn_category(60)
    with pytest.raises(ValueError, match="does not match"):
        AqiResult("VN_AQI", "hourly", 60, us_category(120), "pm25", {"pm25": 60}, {})
    with pytest.raises(ValueError, match="maximum sub-index"):
        AqiResult("VN_AQI", "hourly", 60, good, "pm25", {"pm25": 60, "o3": 70}, {})
    with pytest.raises(ValueError, match="maximum sub-index"):
        AqiResult("VN_AQI", "hourly", 60, good, "o3", {"pm25": 60}, {})
    with pytest.raises(ValueError, match="at least one"):
        AqiResult("VN_AQI", "hourly", 60, good, "pm25", {}, {})
    with pytest.raises(ValueError, match="period"):
        AqiResult("VN_AQI", "weekly", 60, good, "pm25", {"pm25": 60}, {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="between 0 and 500"):
        AqiResult("VN_AQI", "hourly", 600, good, "pm25", {"pm25": 600}, {})
