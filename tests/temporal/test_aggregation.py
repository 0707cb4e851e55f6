"""options=aggregatedValues: every method against values computed here, independently, per period."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.support import assert_problem
from tests.temporal.support import TEMPORAL, get_temporal, instances, iso, load, parse

S1 = "urn:ngsi-ld:Sensor:1"
METHODS = "totalCount,distinctCount,sum,avg,min,max,stddev,sumsq"

EXPECTED: dict[str, Callable[[Sequence[float]], float]] = {
    "totalCount": len,
    "distinctCount": lambda xs: len(set(xs)),
    "sum": math.fsum,
    "avg": statistics.fmean,
    "min": min,
    "max": max,
    "stddev": lambda xs: statistics.stdev(xs) if len(xs) > 1 else 0.0,
    "sumsq": lambda xs: math.fsum(x * x for x in xs),
}


def _series(n: int, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return [round(rng.uniform(10, 40), 1) if i % 7 else 25.0 for i in range(n)]


def _check(actual: float, expected: float) -> None:
    assert actual == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("method", list(EXPECTED))
def test_each_method_per_hour(client: TestClient, method: str) -> None:
    values = _series(300)  # every 5 minutes: 25 hours
    load(client, S1, {"pm25": instances(values, step=5)})
    body = get_temporal(
        client,
        S1,
        options="aggregatedValues",
        aggrMethods=method,
        aggrPeriodDuration="PT1H",
        timerel="between",
        timeAt=iso(0),
        endTimeAt=iso(25 * 60),
    )
    periods = body["pm25"][method]
    assert len(periods) == 25
    for hour, (value, start, end) in enumerate(periods):
        assert parse(start) == parse(iso(hour * 60)) and parse(end) == parse(iso(hour * 60 + 60))
        _check(value, EXPECTED[method](values[hour * 12 : hour * 12 + 12]))


def test_all_methods_over_the_whole_window(client: TestClient) -> None:
    values = _series(50, seed=3)
    load(client, S1, {"pm25": instances(values, step=10)})
    body = get_temporal(client, S1, options="aggregatedValues", aggrMethods=METHODS)
    aggregated = body["pm25"]
    assert aggregated["type"] == "Property"
    for method, expected in EXPECTED.items():
        ((value, start, end),) = aggregated[method]
        _check(value, expected(values))
        assert parse(start) == parse(iso(0)) and parse(end) == parse(iso(490))


def test_window_and_period_origin(client: TestClient) -> None:
    values = list(range(1, 25))  # hourly
    load(client, S1, {"level": instances(values)})
    body = get_temporal(
        client,
        S1,
        options="aggregatedValues",
        aggrMethods="sum,totalCount",
        aggrPeriodDuration="PT6H",
        timerel="after",
        timeAt=iso(90),  # strictly after 01:30 -> from the 3rd value, periods start at 01:30
    )
    sums = body["level"]["sum"]
    assert [p[0] for p in sums] == [sum(range(3, 9)), sum(range(9, 15)), sum(range(15, 21)), sum(range(21, 25))]
    assert parse(sums[0][1]) == parse(iso(90))
    assert [p[0] for p in body["level"]["totalCount"]] == [6, 6, 6, 4]
    # before: the periods start at the first instance
    before = get_temporal(
        client,
        S1,
        options="aggregatedValues",
        aggrMethods="max",
        aggrPeriodDuration="P1D",
        timerel="before",
        timeAt=iso(600),
    )
    assert before["level"]["max"] == [[10, iso(0), iso(24 * 60)]]


def test_calendar_months(client: TestClient) -> None:
    # one value per day for 90 days from 2025-01-01
    values = [float(i % 10) for i in range(90)]
    load(client, S1, {"level": instances(values, step=24 * 60)})
    body = get_temporal(
        client,
        S1,
        options="aggregatedValues",
        aggrMethods="totalCount,avg",
        aggrPeriodDuration="P1M",
        timerel="between",
        timeAt="2025-01-01T00:00:00Z",
        endTimeAt="2025-04-01T00:00:00Z",
    )
    counts = body["level"]["totalCount"]
    assert [c[0] for c in counts] == [31, 28, 31]
    assert [parse(c[1]).month for c in counts] == [1, 2, 3]
    assert [parse(c[2]).month for c in counts] == [2, 3, 4]
    avgs = [a[0] for a in body["level"]["avg"]]
    for got, chunk in zip(avgs, (values[:31], values[31:59], values[59:90]), strict=True):
        _check(got, statistics.fmean(chunk))


def test_non_numbers_count_but_do_not_sum(client: TestClient) -> None:
    load(client, S1, {"state": instances(["on", "off", "on", "on"]), "open": instances([True, False, True])})
    body = get_temporal(client, S1, options="aggregatedValues", aggrMethods="totalCount,distinctCount,sum,avg")
    assert body["state"]["totalCount"][0][0] == 4
    assert body["state"]["distinctCount"][0][0] == 2
    assert body["state"]["sum"] == [] and body["state"]["avg"] == []
    # booleans aggregate as 0 and 1
    assert body["open"]["sum"][0][0] == 2
    _check(body["open"]["avg"][0][0], 2 / 3)


def test_datasets_and_deletions(client: TestClient) -> None:
    gps = "urn:ngsi-ld:Dataset:gps"
    load(client, S1, {"speed": instances([1, 2, 3]) + instances([10, 20], datasetId=gps)})
    body = get_temporal(client, S1, options="aggregatedValues", aggrMethods="sum")
    by_dataset: dict[Any, Any] = {item.get("datasetId"): item["sum"][0][0] for item in body["speed"]}
    assert by_dataset == {None: 6, gps: 30}
    # deletion instances are not aggregated
    response = client.post(
        "/ngsi-ld/v1/entities", json={"id": "urn:ngsi-ld:Sensor:2", "type": "Sensor", "v": {"value": 4}}
    )
    assert response.status_code == 201
    assert client.delete("/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:2/attrs/v").status_code == 204
    counted = get_temporal(client, "urn:ngsi-ld:Sensor:2", options="aggregatedValues", aggrMethods="totalCount")
    assert counted["v"]["totalCount"][0][0] == 1


def test_query_aggregates_several_entities(client: TestClient) -> None:
    load(client, S1, {"level": instances([1, 2, 3])})
    load(client, "urn:ngsi-ld:Sensor:2", {"level": instances([10, 30])})
    response = client.get(TEMPORAL, params={"type": "Sensor", "options": "aggregatedValues", "aggrMethods": "avg"})
    assert response.status_code == 200, response.text
    assert {e["id"]: e["level"]["avg"][0][0] for e in response.json()} == {S1: 2, "urn:ngsi-ld:Sensor:2": 20}


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"options": "aggregatedValues"}, "aggrMethods"),
        ({"options": "aggregatedValues", "aggrMethods": "median"}, "median"),
        ({"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "1 hour"}, "duration"),
        ({"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "PT0S"}, "positive"),
        ({"options": "aggregatedValues", "aggrMethods": "avg", "aggrPeriodDuration": "PT0.000001S"}, "too short"),
        ({"options": "aggregatedValues,temporalValues", "aggrMethods": "avg"}, "combined"),
    ],
)
def test_aggregation_errors(client: TestClient, params: dict[str, str], detail: str) -> None:
    load(client, S1, {"level": instances([1, 2, 3])})
    body = assert_problem(client.get(f"{TEMPORAL}/{S1}", params=params), 400, "BadRequestData")
    assert detail in body["detail"]
