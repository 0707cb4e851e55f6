"""The readers on the shipped files: row counts, units, gaps and what the entities say about their data."""

from __future__ import annotations

import statistics
from datetime import datetime

import pytest
from shapely.geometry import shape

from smartcity.demo import air, parking, sources, traffic, transit, wards, weather
from smartcity.hub import geo


@pytest.fixture(scope="module")
def air_rows() -> list[air.AirReading]:
    return air.read(sources.csv_rows(sources.AIR_QUALITY))


@pytest.fixture(scope="module")
def network() -> transit.Network:
    return transit.load()


def test_air_quality_rows_stations_and_period(air_rows: list[air.AirReading]) -> None:
    assert len(air_rows) == 52_548
    assert {r.station for r in air_rows} == {s.number for s in air.STATIONS} == {1, 2, 3, 4, 5, 6}
    assert min(r.time for r in air_rows) == datetime(2021, 2, 23, 21, 0)
    assert max(r.time for r in air_rows) == datetime(2022, 6, 21, 17, 0)


def test_air_quality_empty_cells_are_left_out_not_filled(air_rows: list[air.AirReading]) -> None:
    # the source has 10,610 empty O3 cells, 9,065 empty CO cells and 60 empty TSP cells: those measures are absent
    assert sum(1 for r in air_rows if "o3" not in r.measures) == 10_610
    assert sum(1 for r in air_rows if "co" not in r.measures) == 9_065
    assert sum(1 for r in air_rows if "tsp" not in r.measures) == 60
    assert all("pm25" in r.measures for r in air_rows)
    assert all(None not in r.measures.values() for r in air_rows)


def test_air_quality_units_and_tsp_is_not_pm10(air_rows: list[air.AirReading]) -> None:
    assert all("pm10" not in r.measures for r in air_rows)
    co = statistics.median(r.measures["co"] for r in air_rows if "co" in r.measures)
    assert 500 < co < 1500  # µg/m³ (about 0.7 ppm): neither mg/m³ nor ppm
    humidity = [r.measures["rh"] for r in air_rows if "rh" in r.measures]
    assert min(humidity) > 10 and max(humidity) < 100  # percent, as published (provisioned with unitCode P1)
    first = air_rows[0]
    assert first.measures["pm25"] == pytest.approx(15.6047619)
    assert first.measures["rh"] == pytest.approx(63.18809524)
    units = {m.name: m.unit for m in air.GROUP.measures}
    assert units["pm25"] == units["co"] == units["tsp"] == "GQ" and units["relativeHumidity"] == "P1"


def test_air_quality_outliers_are_kept_for_the_iot_agent_to_judge(air_rows: list[air.AirReading]) -> None:
    assert max(r.measures["pm25"] for r in air_rows) == pytest.approx(403.6883333)
    assert max(r.measures["co"] for r in air_rows if "co" in r.measures) == pytest.approx(21092.57077)


def test_air_quality_devices_label_their_approximate_positions() -> None:
    devices = air.devices()
    assert [d.entity_id for d in devices] == [air.entity_id(n) for n in range(1, 7)]
    for device in devices:
        static = {s.name: s.value for s in device.static}
        assert "approximate" in static["positionNote"]
        assert static["modelled"] is False
        assert "TSP is not PM10" in static["description"]
        assert device.group.entity_type == "AirQualityObserved"
    names = {m.name for m in air.GROUP.measures}
    assert {"pm25", "o3", "co", "no2", "so2", "tsp"} <= names and "pm10" not in names


def test_weather_rows_local_time_and_units() -> None:
    rows = weather.read(sources.csv_rows(sources.WEATHER))
    assert len(rows) == 17_544
    assert rows[0].time == datetime(2022, 10, 1, 7, 0)  # 00:00 UTC is 07:00 in Ho Chi Minh City
    assert rows[0].measures["p"] == pytest.approx(1.3)
    assert rows[0].measures["ws"] == pytest.approx(2.9024127)  # km/h, as published (provisioned with KMH)
    assert rows[0].measures["rh"] == pytest.approx(94.49476)
    units = {m.name: m.unit for m in weather.GROUP.measures}
    assert (units["windSpeed"], units["relativeHumidity"], units["precipitation"]) == ("KMH", "P1", "MMT")
    assert max(r.rain_mm for r in rows) == pytest.approx(21.4)
    static = {s.name: s.value for s in weather.devices()[0].static}
    assert static["modelled"] is True


def test_wards_are_168_valid_simplified_multipolygons() -> None:
    entities = wards.read()
    assert len(entities) == 168
    assert len({e["code"]["value"] for e in entities}) == 168
    levels = [e["administrativeLevel"]["value"] for e in entities]
    assert (levels.count("ward"), levels.count("commune"), levels.count("special zone")) == (113, 54, 1)
    for e in entities:
        geometry = e["location"]["value"]
        assert geometry["type"] == "MultiPolygon"
        geo.check_geojson(geometry)
        assert e["nameEn"]["value"] and e["area"]["unitCode"] == "KMK"


def test_ward_simplification_stays_faithful() -> None:
    import json

    features = json.loads(sources.text_of(sources.WARDS))["features"]
    for feature in features[:40]:
        original = shape(feature["geometry"])
        simpler = shape(wards.simplify(feature["geometry"]))
        assert abs(simpler.area - original.area) / original.area < 0.01
        assert original.hausdorff_distance(simpler) < 2 * wards.TOLERANCE_DEG


def test_bus_network_counts(network: transit.Network) -> None:
    assert len(network.stops) == 4_397
    assert len({s.stop_id for s in network.stops}) == 4_397
    assert len(network.route_vars) == 297
    assert len({v.key for v in network.route_vars}) == 297
    assert set(network.paths) == set(network.sequences) == {v.key for v in network.route_vars}


def test_bus_entities_reference_each_other(network: transit.Network) -> None:
    stops = transit.stop_entities(network)
    routes = transit.route_entities(network)
    stop_ids = {s["id"] for s in stops}
    route_ids = {r["id"] for r in routes}
    assert len(stop_ids) == 4_397 and len(route_ids) == 297
    for route in routes:
        assert route["location"]["value"]["type"] == "LineString"
        assert set(route["refPublicTransportStops"]["object"]) <= stop_ids
    served = [s for s in stops if "refPublicTransportRoute" in s]
    assert len(served) == 4_397
    assert all(set(s["refPublicTransportRoute"]["object"]) <= route_ids for s in served)
    ben_thanh = next(s for s in stops if s["id"] == transit.stop_entity_id(35))
    assert ben_thanh["name"]["value"] == "Bến xe buýt Sài Gòn"
    assert ben_thanh["location"]["value"] == {"type": "Point", "coordinates": [106.689362, 10.767676]}


def test_traffic_profile_timestamps_and_rescaling() -> None:
    feed = traffic.load()
    assert len(feed.sensors) == 12 and feed.sensors[0] == "717816"
    assert len(feed.series) == 2_016  # 7 days of 5-minute rows
    assert feed.series.first() == datetime(2012, 3, 1) and feed.series.first().weekday() == 3  # a Thursday
    assert feed.series.last() == datetime(2012, 3, 7, 23, 55)
    for i, counter in enumerate(traffic.COUNTERS):
        assert traffic.free_flow(feed.series.items, i) * feed.scale[i] == pytest.approx(counter.free_flow_kmh)
    static = {s.name: s.value for s in traffic.devices(feed.sensors)[0].static}
    assert static["modelled"] is True and "not HCMC measurements" in static["description"]


def test_parking_skips_impossible_rows_and_rescales_the_share() -> None:
    readings, skipped = parking.read(sources.csv_rows(sources.PARKING))
    assert len(readings) + skipped == 35_717
    assert skipped == 385
    assert all(0 <= r.share <= 1 for r in readings)
    wanted, none_skipped = parking.read(sources.csv_rows(sources.PARKING), {p.profile for p in parking.CAR_PARKS})
    assert none_skipped == 0 and len(wanted) == 8 * 1_312
    static = {s.name: s.value for s in parking.devices()[0].static}
    assert "not HCMC measurements" in static["description"]


@pytest.mark.parametrize(
    ("name", "size", "sha256_16"),
    [
        (sources.AIR_QUALITY, 4_763_898, "8969c32913057840"),
        (sources.WEATHER, 1_827_235, "9acd8ca44b0da75e"),
        (sources.WARDS, 5_027_343, "65e1679f8a5f52d7"),
        (sources.BUS_PATHS, 1_843_280, "83875d9f19400cdd"),
        (sources.BUS_ROUTE_VARS, 84_105, "aee8fc996d8cb124"),
        (sources.BUS_STOPS_BY_VAR, 3_338_056, "1e0f51fc46fc67ef"),
        (sources.BUS_STOPS, 673_398, "10072b30b19d12a4"),
        (sources.PARKING, 1_479_909, "f1e28b9c697769a1"),
        (sources.TRAFFIC, 195_668, "b05595fb61c50a27"),  # 12 columns of the original, values unchanged
    ],
)
def test_shipped_files_are_byte_identical_to_their_sources(name: str, size: int, sha256_16: str) -> None:
    """DATA_SOURCES.md gives these digests: only gzip was applied (and a column subset for the traffic file)."""
    import hashlib

    content = sources.data_bytes(name)
    assert (len(content), hashlib.sha256(content).hexdigest()[:16]) == (size, sha256_16)
