"""Pagination of instances (clause 6.3.10): at most 1,000 per attribute, 206 and Content-Range beyond."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.temporal.support import TEMPORAL, instances, iso, load, parse, values_of

S1 = "urn:ngsi-ld:Sensor:1"
LIMIT = 1000
RANGE = re.compile(r"^date-time (\S+Z)-(\S+Z)/(\*|\d+)$")


def _range(header: str) -> tuple[str, str]:
    match = RANGE.match(header)
    assert match is not None, header
    return match.group(1), match.group(2)


def test_small_answers_are_complete(client: TestClient) -> None:
    load(client, S1, {"level": instances(list(range(LIMIT)), step=1)})
    response = client.get(f"{TEMPORAL}/{S1}")
    assert response.status_code == 200
    assert "content-range" not in response.headers
    assert len(response.json()["level"]) == LIMIT


def test_oldest_first_pages_continue_from_the_range_end(client: TestClient) -> None:
    total = 2500
    load(client, S1, {"level": instances(list(range(total)), step=1), "other": instances([1, 2, 3], step=1500)})
    seen: list[int] = []
    params = {"timerel": "after", "timeAt": "2024-12-31T00:00:00Z"}
    pages = 0
    while True:
        response = client.get(f"{TEMPORAL}/{S1}", params=params)
        pages += 1
        assert pages <= 5
        body = response.json()
        seen += values_of(body.get("level", []))
        if response.status_code == 200:
            break
        assert response.status_code == 206, response.text
        start, end = _range(response.headers["Content-Range"])
        assert parse(start) == parse(params["timeAt"])
        assert len(body["level"]) == LIMIT
        assert parse(body["level"][-1]["observedAt"]) == parse(end)
        # every attribute is cut at the same instant
        assert all(parse(i["observedAt"]) <= parse(end) for i in body.get("other", []))
        params = {"timerel": "after", "timeAt": end}
    assert seen == list(range(total))
    assert pages == 3


def test_no_timerel_range_starts_at_the_first_instance(client: TestClient) -> None:
    load(client, S1, {"level": instances(list(range(LIMIT + 5)), step=1)})
    response = client.get(f"{TEMPORAL}/{S1}", params={"options": "temporalValues"})
    assert response.status_code == 206
    start, end = _range(response.headers["Content-Range"])
    assert parse(start) == parse(iso(0)) and parse(end) == parse(iso(LIMIT - 1))
    assert len(response.json()["level"]["values"]) == LIMIT


def test_last_n_within_the_limit_is_never_partial(client: TestClient) -> None:
    load(client, S1, {"level": instances(list(range(LIMIT + 5)), step=1)})
    response = client.get(f"{TEMPORAL}/{S1}", params={"lastN": "10"})
    assert response.status_code == 200
    assert values_of(response.json()["level"]) == list(range(LIMIT - 5, LIMIT + 5))


def test_last_n_beyond_the_limit_pages_backwards(client: TestClient) -> None:
    total = LIMIT + 200
    load(client, S1, {"level": instances(list(range(total)), step=1)})
    response = client.get(f"{TEMPORAL}/{S1}", params={"lastN": "1100", "timerel": "before", "timeAt": iso(total + 10)})
    assert response.status_code == 206
    start, end = _range(response.headers["Content-Range"])
    assert parse(start) == parse(iso(total + 10))
    level = values_of(response.json()["level"])
    assert level == list(range(total - LIMIT, total))
    assert parse(end) == parse(iso(total - LIMIT))
    rest = client.get(f"{TEMPORAL}/{S1}", params={"lastN": "100", "timerel": "before", "timeAt": end})
    assert rest.status_code == 200
    assert values_of(rest.json()["level"]) == list(range(total - LIMIT - 100, total - LIMIT))


def test_query_pages_all_entities_at_the_same_instant(client: TestClient) -> None:
    load(client, S1, {"level": instances(list(range(LIMIT + 10)), step=1)})
    load(client, "urn:ngsi-ld:Sensor:2", {"level": instances(list(range(LIMIT + 10)), step=1, start=0.5)})
    response = client.get(TEMPORAL, params={"type": "Sensor"})
    assert response.status_code == 206
    _, end = _range(response.headers["Content-Range"])
    for entity in response.json():
        assert all(parse(i["observedAt"]) <= parse(end) for i in entity["level"])
    # S1 is complete up to (not including) its 1,001st instance at minute 1000; S2's last one before is at 999.5
    assert parse(end) == parse(iso(LIMIT - 0.5))
    assert [len(e["level"]) for e in response.json()] == [LIMIT, LIMIT]
