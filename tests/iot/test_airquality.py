"""Air-quality indices on AirQualityObserved: computed by smartcity.aqi from the station's hourly means (the
history plus the message itself) and written with the message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcity.aqi import assess
from tests.iot.support import entity, history, provision, unit

STATION = "urn:ngsi-ld:AirQualityObserved:hcmc-1"
POLLUTANTS = ("pm25", "pm10", "o3", "co", "no2", "so2")


@pytest.fixture
def station(agent_client: TestClient, publisher: dict[str, str]) -> TestClient:
    group = {
        "apikey": "aq",
        "resource": "/iot/json",
        "entity_type": "AirQualityObserved",
        "attributes": [{"object_id": p, "name": p, "type": "Number", "metadata": unit("GQ")} for p in POLLUTANTS],
    }
    device = {
        "device_id": "hcmc-1",
        "entity_type": "AirQualityObserved",
        "static_attributes": [
            {"name": "location", "type": "geo:json", "value": {"type": "Point", "coordinates": [106.70, 10.78]}}
        ],
    }
    provision(agent_client, [group], [device], publisher)
    return agent_client


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _send(client: TestClient, body: Any) -> None:
    answer = client.post("/iot/json", params={"k": "aq", "i": "hcmc-1"}, json=body)
    assert answer.status_code == 200, answer.text


def test_the_hourly_indices_come_with_the_message(station: TestClient) -> None:
    start = datetime(2026, 11, 20, 3, 10, tzinfo=UTC)
    readings = [(35.0, 50.0), (42.0, 61.0), (58.0, 80.0)]  # pm25, pm10 per hour, oldest first
    _send(station, {"pm25": 30.0, "pm10": 45.0, "TimeInstant": _at(start - timedelta(hours=5))})  # not recent
    # two readings in one message (a multimeasure: one batch), then one more
    _send(
        station,
        [
            {"pm25": readings[0][0], "pm10": readings[0][1], "TimeInstant": _at(start)},
            {"pm25": readings[1][0], "pm10": readings[1][1], "TimeInstant": _at(start + timedelta(hours=1))},
        ],
    )
    current_hour = start + timedelta(hours=2)
    _send(station, {"pm25": readings[2][0], "pm10": readings[2][1], "TimeInstant": _at(current_hour)})
    hours = {
        "pm25": [58.0, 42.0, 35.0, None, None, None, None, 30.0],  # 22:10 the day before: 7 hours back
        "pm10": [80.0, 61.0, 50.0, None, None, None, None, 45.0],
    }
    expected = {(r.scale, r.period): r for r in assess(hours)}
    found = entity(station, STATION)
    vn = found["airQualityIndex"]
    assert vn["value"] == expected[("VN_AQI", "hourly")].value
    assert vn["observedAt"] == found["pm25"]["observedAt"] == "2026-11-20T05:10:00.000000Z"
    assert vn["scale"]["value"] == "VN_AQI" and vn["period"]["value"] == "hourly"
    assert vn["dominantPollutant"]["value"] == expected[("VN_AQI", "hourly")].dominant
    assert vn["colour"]["value"].startswith("#") and vn["category"]["value"]
    assert vn["concentrations"]["unitCode"] == "GQ"
    assert found["airQualityLevel"]["value"] == expected[("VN_AQI", "hourly")].category.key
    assert found["usAirQualityIndex"]["value"] == expected[("US_EPA_AQI", "hourly")].value
    assert "airQualityIndexDaily" not in found
    # every message got its own index: the history holds one per message that had enough hours
    assert len(history(station, STATION, "airQualityIndex")) == 2


def test_the_daily_indices_come_when_the_day_closes_in_ho_chi_minh_city(station: TestClient) -> None:
    first = datetime(2026, 11, 19, 17, 30, tzinfo=UTC)  # 00:30 on 20 November, Ho Chi Minh City time
    for hour in range(24):
        _send(station, {"pm25": 20.0 + hour, "TimeInstant": _at(first + timedelta(hours=hour))})
        if hour == 22:
            assert "airQualityIndexDaily" not in entity(station, STATION)
    found = entity(station, STATION)
    hours = {"pm25": [20.0 + h for h in range(23, -1, -1)]}
    expected = {(r.scale, r.period): r for r in assess(hours, closes_day=True)}
    assert found["airQualityIndexDaily"]["value"] == expected[("VN_AQI", "daily")].value
    assert found["airQualityIndexDaily"]["period"]["value"] == "daily"
    assert found["usAirQualityIndexDaily"]["value"] == expected[("US_EPA_AQI", "daily")].value


def test_a_station_without_particles_gets_no_index(station: TestClient) -> None:
    _send(station, {"o3": 80.0, "TimeInstant": "2026-11-20T01:00:00Z"})
    _send(station, {"o3": 90.0, "TimeInstant": "2026-11-20T02:00:00Z"})
    assert "airQualityIndex" not in entity(station, STATION)  # VN_AQI needs PM2.5 or PM10
