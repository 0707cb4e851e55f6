"""Query entities (clause 4.9 q, 4.17 type selection, 5.7.2, 6.4.3.2): every filter, paging, counting and
representation option, on both storage backends."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.support import (
    ENTITIES,
    OPS,
    assert_problem,
    create_all,
    parse_links,
    prop,
    query,
    query_ids,
    rel,
)

W1 = "urn:ngsi-ld:WeatherObserved:tan-son-nhat"
W2 = "urn:ngsi-ld:WeatherObserved:district-1"
W3 = "urn:ngsi-ld:WeatherObserved:thu-duc"
W4 = "urn:ngsi-ld:WeatherObserved:can-gio"
ALL_W = sorted([W1, W2, W3, W4])

D1 = "urn:ngsi-ld:Device:thermo-cam"
D2 = "urn:ngsi-ld:Device:camera"
D3 = "urn:ngsi-ld:Device:thermo"


def typed(kind: str, value: str) -> dict[str, Any]:
    return prop({"@type": kind, "@value": value})


def weather() -> list[dict[str, Any]]:
    return [
        {
            "id": W1,
            "type": "WeatherObserved",
            "temperature": prop(31.5, observedAt="2024-05-01T01:00:00Z", accuracy=prop(0.5)),
            "humidity": prop(70),
            "level": prop(1),
            "stationName": prop("Tân Sơn Nhất"),
            "status": prop("ok"),
            "raining": prop(False),
            "sensor": rel(D1),
            "dateObserved": typed("DateTime", "2024-05-01T08:00:00Z"),
            "inspectionDate": typed("Date", "2024-04-30"),
            "openingTime": typed("Time", "06:00:00"),
            "address": prop({"district": "Tân Bình", "ward": {"code": 26734}}),
            "measurements": prop({"pm25": 35, "pm10": 50}),
        },
        {
            "id": W2,
            "type": "WeatherObserved",
            "temperature": prop(33.0, observedAt="2024-05-01T02:00:00Z", accuracy=prop(1.0)),
            "humidity": prop(65),
            "level": prop(3),
            "stationName": prop("Quận 1"),
            "status": prop("maintenance"),
            "raining": prop(True),
            "sensor": rel(D2),
            "dateObserved": typed("DateTime", "2024-05-01T09:30:00Z"),
            "inspectionDate": typed("Date", "2024-05-15"),
            "openingTime": typed("Time", "07:30:00"),
            "address": prop({"district": "Quận 1", "ward": {"code": 26740}}),
            "measurements": prop({"pm25": 20, "pm10": 31}),
        },
        {
            "id": W3,
            "type": "WeatherObserved",
            "temperature": prop(29.0, observedAt="2024-05-02T00:00:00Z"),
            "humidity": prop(80),
            "level": prop(5),
            "stationName": prop("Thủ Đức"),
            "raining": prop(False),
            "dateObserved": typed("DateTime", "2024-05-02T07:00:00Z"),
            "inspectionDate": typed("Date", "2024-06-01"),
            "openingTime": typed("Time", "08:00:00"),
            "address": prop({"district": "Thủ Đức"}),
        },
        {
            "id": W4,
            "type": "WeatherObserved",
            "temperature": prop(27.5),
            "humidity": prop(90),
            "level": prop(7),
            "stationName": prop('Cần Giờ "coast"'),
            "status": prop("ok"),
            "raining": prop(True),
        },
    ]


def devices() -> list[dict[str, Any]]:
    return [
        {"id": D1, "type": ["Device", "Thermometer", "Camera"], "serial": prop("A-1")},
        {"id": D2, "type": ["Device", "Camera"], "serial": prop("B-2")},
        {"id": D3, "type": "Thermometer", "serial": prop("C-3")},
    ]


@pytest.fixture
def city(client: TestClient) -> TestClient:
    create_all(client, weather() + devices())
    return client


def q_ids(client: TestClient, q: str) -> list[str]:
    return query_ids(client, type="WeatherObserved", q=q)


# -- q: comparison operators ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("temperature==31.5", [W1]),
        ("temperature!=31.5", [W2, W3, W4]),
        ("temperature>31.5", [W2]),
        ("temperature>=31.5", [W1, W2]),
        ("temperature<29", [W4]),
        ("temperature<=29", [W3, W4]),
        ("humidity==70", [W1]),
        ("humidity==70.0", [W1]),
        ("humidity>70", [W3, W4]),
        ("humidity<=-1", []),
        ("temperature>=2.9e1", [W1, W2, W3]),
    ],
)
def test_q_numeric_comparisons(city: TestClient, q: str, expected: list[str]) -> None:
    assert q_ids(city, q) == sorted(expected)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("level==1..5", [W1, W2, W3]),
        ("level==2..6", [W2, W3]),
        ("level==5..5", [W3]),
        ("level==8..9", []),
        ("level!=1..5", [W4]),
        ("level==1,3,5", [W1, W2, W3]),
        ("level==1,7", [W1, W4]),
        ("level!=1,3", [W3, W4]),
        ('status=="ok","maintenance"', [W1, W2, W4]),
        ('stationName=="A".."R"', [W2, W4]),
        ('stationName=="D".."R"', [W2]),
    ],
)
def test_q_ranges_and_lists(city: TestClient, q: str, expected: list[str]) -> None:
    assert q_ids(city, q) == sorted(expected)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('status=="ok"', [W1, W4]),
        ('status!="ok"', [W2]),
        ('stationName=="Quận 1"', [W2]),
        (r'stationName=="Cần Giờ \"coast\""', [W4]),
        ('stationName=="quận 1"', []),
        ('stationName>"T"', [W1, W3]),
        ("raining==true", [W2, W4]),
        ("raining==false", [W1, W3]),
        ("raining!=true", [W1, W3]),
    ],
)
def test_q_strings_and_booleans(city: TestClient, q: str, expected: list[str]) -> None:
    assert q_ids(city, q) == sorted(expected)


def test_q_comparing_values_of_another_kind_never_matches(city: TestClient) -> None:
    assert q_ids(city, "stationName>10") == []
    assert q_ids(city, 'temperature=="31.5"') == []
    assert q_ids(city, "raining==1") == []


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("stationName~=Qu.*1", [W2]),
        ("stationName~=^T", [W1, W3]),
        ("stationName~=(?i)thủ", [W3]),
        ("stationName!~=^T", [W2, W4]),
        ("status~=^m", [W2]),
        ("status!~=^m", [W1, W4]),
    ],
)
def test_q_patterns(city: TestClient, q: str, expected: list[str]) -> None:
    assert q_ids(city, q) == sorted(expected)


# -- q: relationships, existence ----------------------------------------------------------------------


def test_q_relationship_object(city: TestClient) -> None:
    assert q_ids(city, f"sensor=={D1}") == [W1]
    assert q_ids(city, f'sensor=="{D2}"') == [W2]
    assert q_ids(city, f"sensor!={D1}") == [W2]
    assert q_ids(city, "sensor~=camera$") == [W2]


def test_q_existence_and_non_existence(city: TestClient) -> None:
    assert q_ids(city, "status") == sorted([W1, W2, W4])
    assert q_ids(city, "!status") == [W3]
    assert q_ids(city, "sensor") == sorted([W1, W2])
    assert q_ids(city, "!sensor") == sorted([W3, W4])
    assert q_ids(city, "nothing") == []
    assert q_ids(city, "!nothing") == ALL_W


# -- q: dates and times -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("dateObserved==2024-05-01T08:00:00Z", [W1]),
        ("dateObserved>2024-05-01T08:00:00Z", [W2, W3]),
        ("dateObserved<=2024-05-01T09:30:00Z", [W1, W2]),
        ("dateObserved==2024-05-01T00:00:00Z..2024-05-01T23:59:59Z", [W1, W2]),
        ("inspectionDate<2024-05-01", [W1]),
        ("inspectionDate>=2024-05-15", [W2, W3]),
        ("inspectionDate==2024-05-01..2024-05-31", [W2]),
        ("openingTime<07:30:00", [W1]),
        ("openingTime>=07:30:00", [W2, W3]),
        ("temperature.observedAt>=2024-05-01T02:00:00Z", [W2, W3]),
        ("temperature.observedAt<2024-05-02T00:00:00Z", [W1, W2]),
    ],
)
def test_q_dates_and_times(city: TestClient, q: str, expected: list[str]) -> None:
    assert q_ids(city, q) == sorted(expected)


def test_q_date_time_compares_instants_not_text(client: TestClient) -> None:
    create_all(
        client,
        [
            {"id": "urn:ngsi-ld:R:1", "type": "R", "t": prop(1, observedAt="2024-05-01T07:00:00+07:00")},
            {"id": "urn:ngsi-ld:R:2", "type": "R", "t": prop(2, observedAt="2024-05-01T00:30:00.000Z")},
        ],
    )
    # 07:00+07:00 is 00:00Z; both instants are at or after 2024-05-01T00:00:00Z, and only R:1 equals it
    assert query_ids(client, type="R", q="t.observedAt==2024-05-01T00:00:00Z") == ["urn:ngsi-ld:R:1"]
    assert query_ids(client, type="R", q="t.observedAt>=2024-05-01T00:00:00Z") == ["urn:ngsi-ld:R:1", "urn:ngsi-ld:R:2"]


# -- q: sub-attributes and structured values ---------------------------------------------------------


def test_q_sub_attribute_paths(city: TestClient) -> None:
    assert q_ids(city, "temperature.accuracy<=0.5") == [W1]
    assert q_ids(city, "temperature.accuracy>=0.5") == sorted([W1, W2])
    assert q_ids(city, "temperature.accuracy") == sorted([W1, W2])
    assert q_ids(city, "!temperature.accuracy") == sorted([W3, W4])


def test_q_structured_value_paths(city: TestClient) -> None:
    assert q_ids(city, 'address[district]=="Quận 1"') == [W2]
    assert q_ids(city, "address[district]~=^T") == sorted([W1, W3])
    assert q_ids(city, "address[ward][code]==26734") == [W1]
    assert q_ids(city, "address[ward][code]>26735") == [W2]
    assert q_ids(city, "measurements[pm25]>30") == [W1]
    assert q_ids(city, "measurements[pm10]==31..50") == sorted([W1, W2])
    assert q_ids(city, "address[ward]") == sorted([W1, W2])
    assert q_ids(city, "!address[ward]") == sorted([W3, W4])


def test_q_on_multi_attribute_matches_any_instance(client: TestClient) -> None:
    create_all(
        client,
        [
            {
                "id": "urn:ngsi-ld:Noise:1",
                "type": "Noise",
                "level": [
                    prop(40, datasetId="urn:ngsi-ld:Dataset:night"),
                    prop(75, datasetId="urn:ngsi-ld:Dataset:day"),
                ],
            },
            {"id": "urn:ngsi-ld:Noise:2", "type": "Noise", "level": prop(50)},
        ],
    )
    assert query_ids(client, type="Noise", q="level>70") == ["urn:ngsi-ld:Noise:1"]
    assert query_ids(client, type="Noise", q="level<45") == ["urn:ngsi-ld:Noise:1"]
    assert query_ids(client, type="Noise", q="level==50") == ["urn:ngsi-ld:Noise:2"]


# -- q: logical operators -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("temperature>30;humidity>=70", [W1]),
        ("temperature<28|humidity==65", [W2, W4]),
        ('raining==true|status=="ok";humidity<75', [W1, W2, W4]),
        ('(raining==true|status=="ok");humidity<75', [W1, W2]),
        ('raining==true;(status=="ok"|humidity>85)', [W4]),
        ("((temperature>30));(humidity<70|level==1)", [W1, W2]),
        ("!status;raining==false|level==7", [W3, W4]),
        ("humidity>100|temperature>100", []),
    ],
)
def test_q_and_or_with_parentheses(city: TestClient, q: str, expected: list[str]) -> None:
    assert q_ids(city, q) == sorted(expected)


def test_q_without_type(city: TestClient) -> None:
    assert query_ids(city, q='serial=="B-2"') == [D2]
    assert query_ids(city, q="serial") == sorted([D1, D2, D3])


# -- type selection -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ("Device", [D1, D2]),
        ("Thermometer", [D1, D3]),
        ("Device,Thermometer", [D1, D2, D3]),
        ("Device|Thermometer", [D1, D2, D3]),
        ("Device;Thermometer", [D1]),
        ("Camera;Device", [D1, D2]),
        ("(Camera|Thermometer);Device", [D1, D2]),
        ("Thermometer;(Camera|Device)", [D1]),
        ("Thermometer;Camera;Device", [D1]),
        ("Camera;Thermometer|WeatherObserved", [D1, W1, W2, W3, W4]),
        ("Nothing", []),
    ],
)
def test_type_selection(city: TestClient, types: str, expected: list[str]) -> None:
    assert query_ids(city, type=types) == sorted(expected)


def test_type_by_full_iri(city: TestClient) -> None:
    assert query_ids(city, type="https://uri.etsi.org/ngsi-ld/default-context/Camera") == sorted([D1, D2])


# -- id, idPattern, attrs -----------------------------------------------------------------------------


def test_query_by_ids(city: TestClient) -> None:
    assert query_ids(city, id=f"{W1},{W3}") == sorted([W1, W3])
    assert query_ids(city, id=f"{W1},{D1}", type="Device") == [D1]
    assert query_ids(city, id="urn:ngsi-ld:X:none") == []


def test_query_by_id_pattern(city: TestClient) -> None:
    assert query_ids(city, idPattern="^urn:ngsi-ld:Device:") == sorted([D1, D2, D3])
    assert query_ids(city, idPattern="district") == [W2]
    assert query_ids(city, idPattern=".*thermo.*", type="Camera") == [D1]


def test_attrs_selects_entities_and_projects_attributes(city: TestClient) -> None:
    found = query(city, attrs="status,sensor")
    assert sorted(e["id"] for e in found) == sorted([W1, W2, W4])
    by_id = {e["id"]: e for e in found}
    assert by_id[W1] == {"id": W1, "type": "WeatherObserved", "status": prop("ok"), "sensor": rel(D1)}
    assert by_id[W4] == {"id": W4, "type": "WeatherObserved", "status": prop("ok")}


def test_attrs_with_type_and_q(city: TestClient) -> None:
    found = query(city, type="WeatherObserved", q="humidity>75", attrs="humidity")
    assert found == [
        {"id": W3, "type": "WeatherObserved", "humidity": prop(80)},
        {"id": W4, "type": "WeatherObserved", "humidity": prop(90)},
    ]


def test_query_needs_a_filter(city: TestClient) -> None:
    assert_problem(city.get(ENTITIES), 400, "BadRequestData")
    assert_problem(city.get(ENTITIES, params={"limit": "5"}), 400, "BadRequestData")


# -- paging and counting ------------------------------------------------------------------------------


def test_count_header(city: TestClient) -> None:
    response = city.get(ENTITIES, params={"type": "WeatherObserved", "count": "true", "limit": "1"})
    assert response.status_code == 200
    assert response.headers["ngsild-results-count"] == "4"
    assert len(response.json()) == 1
    no_count = city.get(ENTITIES, params={"type": "WeatherObserved"})
    assert "ngsild-results-count" not in no_count.headers


def test_count_with_limit_zero_returns_only_the_count(city: TestClient) -> None:
    response = city.get(ENTITIES, params={"type": "Device", "count": "true", "limit": "0"})
    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["ngsild-results-count"] == "2"
    links = parse_links(response.headers.get("link", ""))
    assert "next" not in links
    assert "prev" not in links


def test_limit_and_offset_page_in_a_stable_order(city: TestClient) -> None:
    everything = [e["id"] for e in query(city, type="WeatherObserved")]
    assert sorted(everything) == ALL_W
    pages = [
        [e["id"] for e in query(city, type="WeatherObserved", limit="2", offset=str(offset))] for offset in (0, 2, 4)
    ]
    assert pages[0] + pages[1] == everything
    assert pages[2] == []
    assert [e["id"] for e in query(city, type="WeatherObserved", limit="3", offset="1")] == everything[1:]


def test_paging_links_walk_every_entity_once(city: TestClient) -> None:
    response = city.get(ENTITIES, params={"type": "WeatherObserved,Device", "limit": "3", "count": "true"})
    seen: list[str] = []
    pages = 0
    while True:
        assert response.status_code == 200
        assert response.headers["ngsild-results-count"] == "6"
        seen += [e["id"] for e in response.json()]
        pages += 1
        links = parse_links(response.headers["link"])
        assert ("prev" in links) == (pages > 1)
        if "next" not in links:
            break
        response = city.get(links["next"])
    assert pages == 2
    assert sorted(seen) == sorted([*ALL_W, D1, D2])
    assert len(seen) == len(set(seen))
    back = city.get(parse_links(response.headers["link"])["prev"])
    assert [e["id"] for e in back.json()] == seen[:3]


def test_link_header_keeps_the_context_link_alongside_paging(city: TestClient) -> None:
    response = city.get(ENTITIES, params={"type": "WeatherObserved", "limit": "1", "count": "true"})
    links = parse_links(response.headers["link"])
    assert links["http://www.w3.org/ns/json-ld#context"].endswith(".jsonld")
    assert "next" in links


def test_default_limit_is_20_and_max_is_1000(client: TestClient) -> None:
    create_all(client, [{"id": f"urn:ngsi-ld:Lamp:{i:03d}", "type": "Lamp"} for i in range(25)])
    assert len(query(client, type="Lamp")) == 20
    assert len(query(client, type="Lamp", limit="1000")) == 25
    assert_problem(client.get(ENTITIES, params={"type": "Lamp", "limit": "1001"}), 400, "BadRequestData")


# -- representations ----------------------------------------------------------------------------------


def test_key_values_and_simplified(city: TestClient) -> None:
    for params in ({"options": "keyValues"}, {"format": "simplified"}, {"options": "simplified"}):
        found = query(city, type="WeatherObserved", q="level==1", **params)
        assert found == [
            {
                "id": W1,
                "type": "WeatherObserved",
                "temperature": 31.5,
                "humidity": 70,
                "level": 1,
                "stationName": "Tân Sơn Nhất",
                "status": "ok",
                "raining": False,
                "sensor": D1,
                "dateObserved": {"@type": "DateTime", "@value": "2024-05-01T08:00:00Z"},
                "inspectionDate": {"@type": "Date", "@value": "2024-04-30"},
                "openingTime": {"@type": "Time", "@value": "06:00:00"},
                "address": {"district": "Tân Bình", "ward": {"code": 26734}},
                "measurements": {"pm25": 35, "pm10": 50},
            }
        ], params


def test_sys_attrs_in_query_results(city: TestClient) -> None:
    found = query(city, id=W4, options="sysAttrs")
    assert len(found) == 1
    entity = found[0]
    assert entity["createdAt"].endswith("Z")
    assert entity["modifiedAt"] == entity["createdAt"]
    assert entity["humidity"]["createdAt"] == entity["createdAt"]
    plain = query(city, id=W4)[0]
    assert "createdAt" not in plain
    assert "createdAt" not in plain["humidity"]


def test_sys_attrs_with_key_values_shows_values_only(city: TestClient) -> None:
    found = query(city, id=W4, options="keyValues,sysAttrs")
    assert found[0]["humidity"] == 90


def test_unknown_option_or_format_is_400(city: TestClient) -> None:
    assert_problem(city.get(ENTITIES, params={"type": "Device", "options": "fancy"}), 400, "BadRequestData")
    assert_problem(city.get(ENTITIES, params={"type": "Device", "format": "fancy"}), 400, "BadRequestData")


# -- LanguageProperty and lang ------------------------------------------------------------------------


@pytest.fixture
def signs(client: TestClient) -> TestClient:
    create_all(
        client,
        [
            {
                "id": "urn:ngsi-ld:Sign:nguyen-hue",
                "type": "Sign",
                "text": {"type": "LanguageProperty", "languageMap": {"vi": "Phố đi bộ", "en": "Walking street"}},
            },
            {
                "id": "urn:ngsi-ld:Sign:airport",
                "type": "Sign",
                "text": {"type": "LanguageProperty", "languageMap": {"vi": "Sân bay", "@none": "SGN"}},
            },
        ],
    )
    return client


def test_without_lang_the_language_map_is_returned(signs: TestClient) -> None:
    found = {e["id"]: e for e in query(signs, type="Sign")}
    assert found["urn:ngsi-ld:Sign:nguyen-hue"]["text"] == {
        "type": "LanguageProperty",
        "languageMap": {"vi": "Phố đi bộ", "en": "Walking street"},
    }


def test_lang_picks_one_language_as_a_property(signs: TestClient) -> None:
    found = {e["id"]: e for e in query(signs, type="Sign", lang="en")}
    assert found["urn:ngsi-ld:Sign:nguyen-hue"]["text"] == {"type": "Property", "value": "Walking street", "lang": "en"}
    found = {e["id"]: e for e in query(signs, type="Sign", lang="vi")}
    assert found["urn:ngsi-ld:Sign:nguyen-hue"]["text"] == {"type": "Property", "value": "Phố đi bộ", "lang": "vi"}
    assert found["urn:ngsi-ld:Sign:airport"]["text"] == {"type": "Property", "value": "Sân bay", "lang": "vi"}


def test_lang_falls_back_to_none_then_to_an_available_language(signs: TestClient) -> None:
    found = {e["id"]: e for e in query(signs, type="Sign", lang="fr")}
    assert found["urn:ngsi-ld:Sign:airport"]["text"]["value"] == "SGN"
    assert found["urn:ngsi-ld:Sign:nguyen-hue"]["text"]["value"] in ("Phố đi bộ", "Walking street")


def test_lang_with_preference_list(signs: TestClient) -> None:
    found = {e["id"]: e for e in query(signs, type="Sign", lang="fr,en;q=0.8")}
    assert found["urn:ngsi-ld:Sign:nguyen-hue"]["text"]["value"] == "Walking street"


def test_lang_with_key_values_gives_the_string(signs: TestClient) -> None:
    found = {e["id"]: e for e in query(signs, type="Sign", lang="vi", options="keyValues")}
    assert found["urn:ngsi-ld:Sign:nguyen-hue"]["text"] == "Phố đi bộ"
    response = signs.get(f"{ENTITIES}/urn:ngsi-ld:Sign:nguyen-hue", params={"lang": "en", "format": "simplified"})
    assert response.json()["text"] == "Walking street"


# -- POST /entityOperations/query ---------------------------------------------------------------------


def test_post_query_with_entities_q_and_attrs(city: TestClient) -> None:
    body = {
        "type": "Query",
        "entities": [{"type": "WeatherObserved"}, {"id": D3}],
        "q": "humidity>=80|serial",
        "attrs": ["humidity", "serial"],
    }
    response = city.post(f"{OPS}/query", json=body, params={"count": "true"})
    assert response.status_code == 200, response.text
    assert response.headers["ngsild-results-count"] == "3"
    found = {e["id"]: e for e in response.json()}
    assert found == {
        W3: {"id": W3, "type": "WeatherObserved", "humidity": prop(80)},
        W4: {"id": W4, "type": "WeatherObserved", "humidity": prop(90)},
        D3: {"id": D3, "type": "Thermometer", "serial": prop("C-3")},
    }


def test_post_query_with_id_pattern_and_key_values(city: TestClient) -> None:
    body = {"type": "Query", "entities": [{"idPattern": "^urn:ngsi-ld:Device:", "type": "Camera"}]}
    response = city.post(f"{OPS}/query", json=body, params={"options": "keyValues", "limit": "1"})
    assert response.status_code == 200
    assert response.json() == [{"id": D1, "type": ["Device", "Thermometer", "Camera"], "serial": "A-1"}]


def test_post_query_requires_a_query_object(city: TestClient) -> None:
    assert_problem(city.post(f"{OPS}/query", json={"entities": [{"type": "Device"}]}), 400, "BadRequestData")
    assert_problem(city.post(f"{OPS}/query", json={"type": "Query"}), 400, "BadRequestData")
    assert_problem(city.post(f"{OPS}/query", json={"type": "Query", "q": "a>>1"}), 400, "BadRequestData")
    assert_problem(city.post(f"{OPS}/query", json={"type": "Query", "entities": [{}]}), 400, "BadRequestData")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("https://uri.etsi.org/ngsi-ld/default-context/humidity>75", [W3, W4]),
        ("https://uri.etsi.org/ngsi-ld/default-context/temperature.accuracy==1.0", [W2]),
        ('kit.unitCode=="CEL"', [W1]),
        ("kit.observedAt", [W1]),
        ("kit[active]==true", [W1]),
        ("kit[active]==false", [W2]),
        ("kit[tags]", [W1, W2]),
        ("kit.calibration[by]==urn:ngsi-ld:Person:lan", [W2]),
        ('kit.calibration[by]=="urn:ngsi-ld:Person:lan"', [W2]),
    ],
)
def test_q_full_iris_meta_members_and_nested_values(city: TestClient, q: str, expected: list[str]) -> None:
    patches = {
        W1: {"kit": prop({"active": True, "tags": ["a"]}, unitCode="CEL", observedAt="2024-05-01T00:00:00Z")},
        W2: {"kit": prop({"active": False, "tags": []}, calibration=prop({"by": "urn:ngsi-ld:Person:lan"}))},
    }
    for entity_id, attrs in patches.items():
        assert city.post(f"{ENTITIES}/{entity_id}/attrs", json=attrs).status_code == 204
    assert q_ids(city, q) == sorted(expected)


def test_attrs_with_key_values_projects_the_values(city: TestClient) -> None:
    found = query(city, type="WeatherObserved", attrs="humidity,sensor", options="keyValues", q="level<=3")
    assert found == [
        {"id": W1, "type": "WeatherObserved", "humidity": 70, "sensor": D1},
        {"id": W2, "type": "WeatherObserved", "humidity": 65, "sensor": D2},
    ]


def test_id_and_id_pattern_together_must_both_match(city: TestClient) -> None:
    assert query_ids(city, id=f"{W1},{W2},{D1}", idPattern="WeatherObserved") == sorted([W1, W2])
