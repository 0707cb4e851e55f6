"""``smartcity demo`` as a real process on a free port and a fresh SQLite file, replaying at 3600x.

The static layers go through the hub's service interface and are checked here whatever else exists. The live
part (provisioning, device messages through the IoT agent's southbound, VN_AQI on the stations) needs the IoT
agent mounted in the app (``/iot/json`` in its OpenAPI description) and is skipped without it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from smartcity.demo import air, flood, parking, traffic
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Demo:
    base: str
    log: Path
    proc: subprocess.Popen[bytes]

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_output(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None:
                pytest.fail(f"the demo exited with {self.proc.returncode}:\n{self.output()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} after {timeout} s:\n{self.output()[-4000:]}")
            time.sleep(0.1)

    def get(self, path: str, **params: str) -> tuple[Any, Message]:
        url = f"{self.base}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read()), response.headers

    def needs_iot_agent(self) -> None:
        paths, _ = self.get("/openapi.json")
        if "/iot/json" not in paths.get("paths", {}):
            pytest.skip("the app has no IoT agent southbound (/iot/json) yet")

    def count(self, entity_type: str) -> int:
        _, headers = self.get("/ngsi-ld/v1/entities", type=entity_type, count="true", limit="0")
        return int(headers["NGSILD-Results-Count"])  # header names are case-insensitive here


@contextmanager
def running_demo(folder: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[Demo]:
    port = _free_port()
    log = folder / "demo.log"
    command = [sys.executable, "-m", "smartcity", "demo", "--port", str(port)]
    command += ["--database", f"sqlite:///{folder}/demo.db", "--speed", "3600", *extra]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "SMARTCITY_LOG_LEVEL": "WARNING", **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Demo(f"http://127.0.0.1:{port}", log, proc)
    try:
        running.wait_for_output("loaded bus routes", timeout=120)
        yield running
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("demo")) as running:
        yield running


def test_the_demo_prints_the_administrator_and_where_to_look(demo: Demo) -> None:
    printed = demo.output()
    assert "A first administrator was created: admin / " in printed
    assert f"{demo.base}/docs" in printed
    assert f"/ngsi-ld/v1/temporal/entities/{air.entity_id(1)}?attrs=pm25" in printed


def test_the_static_city_is_queryable(demo: Demo) -> None:
    assert demo.count("AdministrativeArea") == 168
    assert demo.count("PublicTransportStop") == 4_397
    assert demo.count("PublicTransportRoute") == 297
    ward, _ = demo.get("/ngsi-ld/v1/entities/urn:ngsi-ld:AdministrativeArea:HCMC:25747", options="keyValues")
    assert ward["nameEn"] == "Thu Dau Mot" and ward["location"]["type"] == "MultiPolygon"
    near, _ = demo.get(
        "/ngsi-ld/v1/entities",
        type="PublicTransportStop",
        georel="near;maxDistance==150",
        geometry="Point",
        coordinates="[106.689362,10.767676]",
        options="keyValues",
        limit="100",
    )
    assert "urn:ngsi-ld:PublicTransportStop:HCMC:35" in {s["id"] for s in near}


def _wait(probe: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.5)


def test_live_measurements_arrive_through_the_iot_agent(demo: Demo) -> None:
    demo.needs_iot_agent()
    demo.wait_for_output("Replaying at 3600x", timeout=60)

    def stations() -> list[dict[str, Any]] | None:
        found, _ = demo.get("/ngsi-ld/v1/entities", type="AirQualityObserved", options="keyValues")
        return found if len(found) == 6 and all("pm25" in s for s in found) else None

    for station in _wait(stations, 60, "six stations with PM2.5"):
        assert "pm10" not in station and station["modelled"] is False
        assert "approximate" in station["positionNote"]
        assert 0 <= station["relativeHumidity"] <= 1  # sent in percent, written as the model's fraction
    _wait(lambda: demo.count("OffStreetParking") == len(parking.CAR_PARKS), 60, "the car parks")
    assert demo.count("WeatherObserved") == 1
    assert demo.count("FloodMonitoring") == len(flood.SPOTS)
    assert demo.count("TrafficFlowObserved") == len(traffic.COUNTERS)
    assert demo.count("Vehicle") == 24
    station, _ = demo.get(f"/ngsi-ld/v1/entities/{air.entity_id(1)}")
    assert "observedAt" in station["pm25"] and station["pm25"]["unitCode"] == "GQ"
    history, _ = demo.get(f"/ngsi-ld/v1/temporal/entities/{air.entity_id(1)}", attrs="pm25", lastN="5")
    assert history["pm25"], history
    bus, _ = demo.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Vehicle:HCMC:bus-01-1", options="keyValues")
    assert bus["vehicleType"] == "bus" and bus["location"]["type"] == "Point" and bus["modelled"] is True


def test_stations_carry_hourly_and_daily_vn_aqi_with_the_dominant_pollutant(demo: Demo) -> None:
    demo.needs_iot_agent()
    demo.wait_for_output("Replaying at 3600x", timeout=60)

    def daily() -> dict[str, Any] | None:
        found, _ = demo.get("/ngsi-ld/v1/entities", id=air.entity_id(1))
        station: dict[str, Any] | None = found[0] if found else None
        return station if station and "airQualityIndexDaily" in station and "airQualityIndex" in station else None

    station = _wait(daily, 120, "the hourly and daily VN_AQI of station 1")
    hourly = station["airQualityIndex"]
    assert isinstance(hourly["value"], int) and 0 <= hourly["value"] <= 500
    assert hourly["dominantPollutant"]["value"] in ("pm25", "o3", "co", "no2", "so2")
    assert isinstance(station["airQualityIndexDaily"]["value"], int)


@pytest.mark.mqtt
def test_device_messages_over_mqtt(tmp_path: Path) -> None:
    require_service(1883, "Mosquitto")
    broker = ["--mqtt", "mqtt://127.0.0.1:1883"]
    agent = {"SMARTCITY_IOT_MQTT_CLIENT_ID": f"demo-e2e-{os.getpid()}"}
    with running_demo(tmp_path, *broker, env=agent) as mqtt_demo:
        mqtt_demo.needs_iot_agent()
        mqtt_demo.wait_for_output("device messages over MQTT mqtt://127.0.0.1:1883", timeout=60)

        def measured() -> bool:
            found, _ = mqtt_demo.get("/ngsi-ld/v1/entities", id=air.entity_id(1), options="keyValues")
            return bool(found) and "pm25" in found[0] and "airQualityIndex" in found[0]

        _wait(measured, 60, "station 1's PM2.5 and VN_AQI over MQTT")
        assert mqtt_demo.count("Vehicle") == 24 or _wait(lambda: mqtt_demo.count("Vehicle") == 24, 30, "the buses")
