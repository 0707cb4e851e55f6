"""Geo-queries (clause 4.10, 6.4.3.2) around Ho Chi Minh City, and the GeoJSON representation (4.5.16)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.support import (
    ENTITIES,
    GEOJSON,
    OPS,
    assert_problem,
    create_all,
    entity_url,
    haversine_m,
    media,
    point,
    prop,
    query_ids,
)

LANDMARKS = {
    "ben-thanh": (106.6981, 10.7725),
    "palace": (106.6953, 10.7770),  # 586 m from Ben Thanh
    "bitexco": (106.7044, 10.7716),  # 695 m
    "cathedral": (106.6990, 10.7798),  # 818 m
    "landmark81": (106.7218, 10.7950),  # 3.6 km
    "airport": (106.6519, 10.8188),  # 7.2 km
    "cu-chi": (106.4602, 11.1416),  # 48.6 km
}
BEN_THANH = LANDMARKS["ben-thanh"]

D1_BOX = [[106.690, 10.765], [106.710, 10.765], [106.710, 10.785], [106.690, 10.785], [106.690, 10.765]]
SOUTH_ZONE = [[106.700, 10.700], [106.800, 10.700], [106.800, 10.775], [106.700, 10.775], [106.700, 10.700]]
NGUYEN_HUE = [[106.7015, 10.7745], [106.7035, 10.7755]]  # inside District 1
METRO_LINE_1 = [[106.7005, 10.7735], [106.8000, 10.8600]]  # leaves District 1


def lm(name: str) -> str:
    return f"urn:ngsi-ld:Landmark:{name}"


def polygon(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": [ring]}}


def line(coords: list[list[float]]) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "LineString", "coordinates": coords}}


def city_geometry() -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = [
        {"id": lm(name), "type": "Landmark", "name": prop(name), "location": point(*coords)}
        for name, coords in LANDMARKS.items()
    ]
    entities += [
        {"id": "urn:ngsi-ld:Area:district-1", "type": "Area", "location": polygon(D1_BOX)},
        {"id": "urn:ngsi-ld:Area:south-zone", "type": "Area", "location": polygon(SOUTH_ZONE)},
        {"id": "urn:ngsi-ld:Route:nguyen-hue", "type": "Route", "location": line(NGUYEN_HUE)},
        {"id": "urn:ngsi-ld:Route:metro-1", "type": "Route", "location": line(METRO_LINE_1)},
    ]
    return entities


@pytest.fixture
def city(client: TestClient) -> TestClient:
    create_all(client, city_geometry())
    return client


def geo_ids(client: TestClient, georel: str, geometry: str, coordinates: Any, **params: str) -> list[str]:
    return query_ids(
        client,
        georel=georel,
        geometry=geometry,
        coordinates=json.dumps(coordinates, separators=(",", ":")),
        **params,
    )


# -- near -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("distance", "expected"),
    [
        (10, ["ben-thanh"]),
        (650, ["ben-thanh", "palace"]),
        (1000, ["ben-thanh", "palace", "bitexco", "cathedral"]),
        (5000, ["ben-thanh", "palace", "bitexco", "cathedral", "landmark81"]),
        (10000, ["ben-thanh", "palace", "bitexco", "cathedral", "landmark81", "airport"]),
    ],
)
def test_near_max_distance(city: TestClient, distance: int, expected: list[str]) -> None:
    found = geo_ids(city, f"near;maxDistance=={distance}", "Point", list(BEN_THANH), type="Landmark")
    assert found == sorted(lm(n) for n in expected)
    # the expectation agrees with an independent great-circle computation
    assert sorted(n for n, c in LANDMARKS.items() if haversine_m(*BEN_THANH, *c) <= distance) == sorted(expected)


@pytest.mark.parametrize(
    ("distance", "expected"),
    [
        (1000, ["landmark81", "airport", "cu-chi"]),
        (5000, ["airport", "cu-chi"]),
        (100_000, []),
    ],
)
def test_near_min_distance(city: TestClient, distance: int, expected: list[str]) -> None:
    found = geo_ids(city, f"near;minDistance=={distance}", "Point", list(BEN_THANH), type="Landmark")
    assert found == sorted(lm(n) for n in expected)


def test_near_with_min_and_max_distance(city: TestClient) -> None:
    found = geo_ids(city, "near;minDistance==1000;maxDistance==10000", "Point", list(BEN_THANH), type="Landmark")
    assert found == sorted([lm("landmark81"), lm("airport")])


def test_near_a_line(city: TestClient) -> None:
    ben_thanh_to_cathedral = [list(BEN_THANH), list(LANDMARKS["cathedral"])]
    assert geo_ids(city, "near;maxDistance==100", "LineString", ben_thanh_to_cathedral, type="Landmark") == sorted(
        [lm("ben-thanh"), lm("cathedral")]
    )
    # the palace is about 370 m west of the segment, Bitexco about 700 m from its nearest end
    assert geo_ids(city, "near;maxDistance==500", "LineString", ben_thanh_to_cathedral, type="Landmark") == sorted(
        [lm("ben-thanh"), lm("cathedral"), lm("palace")]
    )


def test_near_matches_lines_and_polygons_by_their_nearest_point(city: TestClient) -> None:
    cathedral = list(LANDMARKS["cathedral"])
    found = geo_ids(city, "near;maxDistance==10", "Point", cathedral, type="Area,Route")
    assert found == ["urn:ngsi-ld:Area:district-1"]
    airport = list(LANDMARKS["airport"])
    assert geo_ids(city, "near;maxDistance==5000", "Point", airport, type="Area,Route") == []


# -- topological relations ----------------------------------------------------------------------------


def test_within_a_polygon(city: TestClient) -> None:
    found = geo_ids(city, "within", "Polygon", [D1_BOX])
    assert found == sorted(
        [
            lm("ben-thanh"),
            lm("palace"),
            lm("bitexco"),
            lm("cathedral"),
            "urn:ngsi-ld:Area:district-1",
            "urn:ngsi-ld:Route:nguyen-hue",
        ]
    )


def test_contains_a_point(city: TestClient) -> None:
    inside_d1_only = [106.7000, 10.7800]
    assert geo_ids(city, "contains", "Point", inside_d1_only) == ["urn:ngsi-ld:Area:district-1"]
    in_both_areas = [106.7050, 10.7700]
    assert geo_ids(city, "contains", "Point", in_both_areas) == [
        "urn:ngsi-ld:Area:district-1",
        "urn:ngsi-ld:Area:south-zone",
    ]
    assert geo_ids(city, "contains", "Point", list(LANDMARKS["cu-chi"])) == [lm("cu-chi")]


def test_contains_a_line(city: TestClient) -> None:
    assert geo_ids(city, "contains", "LineString", NGUYEN_HUE) == sorted(
        ["urn:ngsi-ld:Area:district-1", "urn:ngsi-ld:Route:nguyen-hue"]
    )


def test_intersects_a_polygon(city: TestClient) -> None:
    found = geo_ids(city, "intersects", "Polygon", [D1_BOX])
    assert found == sorted(
        [
            lm("ben-thanh"),
            lm("palace"),
            lm("bitexco"),
            lm("cathedral"),
            "urn:ngsi-ld:Area:district-1",
            "urn:ngsi-ld:Area:south-zone",
            "urn:ngsi-ld:Route:nguyen-hue",
            "urn:ngsi-ld:Route:metro-1",
        ]
    )


def test_intersects_a_line(city: TestClient) -> None:
    across_the_river = [[106.7100, 10.7600], [106.7100, 10.8000]]
    assert geo_ids(city, "intersects", "LineString", across_the_river) == sorted(
        ["urn:ngsi-ld:Area:district-1", "urn:ngsi-ld:Area:south-zone", "urn:ngsi-ld:Route:metro-1"]
    )


def test_equals(city: TestClient) -> None:
    assert geo_ids(city, "equals", "Point", list(BEN_THANH)) == [lm("ben-thanh")]
    assert geo_ids(city, "equals", "Polygon", [D1_BOX]) == ["urn:ngsi-ld:Area:district-1"]
    assert geo_ids(city, "equals", "LineString", NGUYEN_HUE) == ["urn:ngsi-ld:Route:nguyen-hue"]
    assert geo_ids(city, "equals", "Point", [106.0, 10.0]) == []


def test_disjoint(city: TestClient) -> None:
    found = geo_ids(city, "disjoint", "Polygon", [D1_BOX])
    assert found == sorted([lm("landmark81"), lm("airport"), lm("cu-chi")])


def test_overlaps(city: TestClient) -> None:
    assert geo_ids(city, "overlaps", "Polygon", [D1_BOX]) == ["urn:ngsi-ld:Area:south-zone"]
    # a line cannot overlap a polygon (different dimensions), even when it crosses it
    assert "urn:ngsi-ld:Route:metro-1" not in geo_ids(city, "overlaps", "Polygon", [D1_BOX])


def test_geo_query_combines_with_type_and_q(city: TestClient) -> None:
    found = geo_ids(city, "near;maxDistance==1000", "Point", list(BEN_THANH), type="Landmark", q="name~=^(b|c)")
    assert found == sorted([lm("ben-thanh"), lm("bitexco"), lm("cathedral")])


def test_geo_query_with_count_and_paging(city: TestClient) -> None:
    params = {
        "type": "Landmark",
        "georel": "near;maxDistance==10000",
        "geometry": "Point",
        "coordinates": json.dumps(list(BEN_THANH)),
        "count": "true",
        "limit": "4",
    }
    first = city.get(ENTITIES, params=params)
    assert first.headers["ngsild-results-count"] == "6"
    second = city.get(ENTITIES, params={**params, "offset": "4"})
    ids = [e["id"] for e in first.json()] + [e["id"] for e in second.json()]
    assert len(first.json()) == 4
    assert sorted(ids) == sorted(lm(n) for n in LANDMARKS if n != "cu-chi")


def test_percent_encoded_coordinates_are_accepted(city: TestClient) -> None:
    url = (
        f"{ENTITIES}?type=Landmark&georel=near%3BmaxDistance%3D%3D650"
        "&geometry=Point&coordinates=%5B106.6981%2C10.7725%5D"
    )
    response = city.get(url)
    assert response.status_code == 200
    assert sorted(e["id"] for e in response.json()) == [lm("ben-thanh"), lm("palace")]


# -- geoproperty other than location --------------------------------------------------------------------


@pytest.fixture
def parking(client: TestClient) -> TestClient:
    create_all(
        client,
        [
            {
                "id": "urn:ngsi-ld:ParkingLot:ben-thanh",
                "type": "ParkingLot",
                "location": point(106.6981, 10.7725),
                "entrance": point(106.6990, 10.7730),
                "coverage": polygon(
                    [[106.697, 10.771], [106.699, 10.771], [106.699, 10.774], [106.697, 10.774], [106.697, 10.771]]
                ),
            },
            {
                "id": "urn:ngsi-ld:ParkingLot:airport",
                "type": "ParkingLot",
                "location": point(106.6519, 10.8188),
                "entrance": point(106.6981, 10.7726),  # far from its location, next to Ben Thanh
                "observationSpace": polygon(D1_BOX),
            },
        ],
    )
    return client


def test_geoproperty_selects_the_geometry_queried(parking: TestClient) -> None:
    near_ben_thanh = {"type": "ParkingLot", "georel": "near;maxDistance==50", "geometry": "Point"}
    coords = json.dumps(list(BEN_THANH))
    assert query_ids(parking, **near_ben_thanh, coordinates=coords) == ["urn:ngsi-ld:ParkingLot:ben-thanh"]
    assert query_ids(parking, **near_ben_thanh, coordinates=coords, geoproperty="location") == [
        "urn:ngsi-ld:ParkingLot:ben-thanh"
    ]
    assert query_ids(parking, **near_ben_thanh, coordinates=coords, geoproperty="entrance") == [
        "urn:ngsi-ld:ParkingLot:airport"
    ]


def test_geoproperty_polygon_and_core_observation_space(parking: TestClient) -> None:
    coords = json.dumps([106.698, 10.772])
    base = {"type": "ParkingLot", "georel": "contains", "geometry": "Point", "coordinates": coords}
    assert query_ids(parking, **base, geoproperty="coverage") == ["urn:ngsi-ld:ParkingLot:ben-thanh"]
    assert query_ids(parking, **base, geoproperty="observationSpace") == ["urn:ngsi-ld:ParkingLot:airport"]
    assert query_ids(parking, **base, geoproperty="nothing") == []


def test_post_query_with_geo_q(parking: TestClient) -> None:
    body = {
        "type": "Query",
        "entities": [{"type": "ParkingLot"}],
        "geoQ": {"georel": "within", "geometry": "Polygon", "coordinates": [D1_BOX], "geoproperty": "entrance"},
    }
    response = parking.post(f"{OPS}/query", json=body)
    assert response.status_code == 200, response.text
    assert sorted(e["id"] for e in response.json()) == [
        "urn:ngsi-ld:ParkingLot:airport",
        "urn:ngsi-ld:ParkingLot:ben-thanh",
    ]
    body["geoQ"] = {"georel": "within", "geometry": "Polygon", "coordinates": [D1_BOX]}
    response = parking.post(f"{OPS}/query", json=body)
    assert [e["id"] for e in response.json()] == ["urn:ngsi-ld:ParkingLot:ben-thanh"]


def test_geo_index_follows_attribute_updates(parking: TestClient) -> None:
    lot = "urn:ngsi-ld:ParkingLot:airport"
    moved = {"location": point(106.6982, 10.7724)}
    assert parking.patch(f"{entity_url(lot)}/attrs", json=moved).status_code == 204
    near = {"type": "ParkingLot", "georel": "near;maxDistance==50", "geometry": "Point"}
    assert query_ids(parking, **near, coordinates=json.dumps(list(BEN_THANH))) == sorted(
        ["urn:ngsi-ld:ParkingLot:airport", "urn:ngsi-ld:ParkingLot:ben-thanh"]
    )
    assert query_ids(parking, **near, coordinates=json.dumps([106.6519, 10.8188])) == []
    assert parking.delete(f"{entity_url(lot)}/attrs/location").status_code == 204
    assert query_ids(parking, **near, coordinates=json.dumps(list(BEN_THANH))) == ["urn:ngsi-ld:ParkingLot:ben-thanh"]


# -- GeoJSON representation ---------------------------------------------------------------------------


def test_query_as_geojson_feature_collection(city: TestClient) -> None:
    response = city.get(
        ENTITIES,
        params={"type": "Landmark", "q": 'name=="palace"'},
        headers={"Accept": GEOJSON},
    )
    assert response.status_code == 200
    assert media(response) == GEOJSON
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["features"] == [
        {
            "id": lm("palace"),
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [106.6953, 10.7770]},
            "properties": {"type": "Landmark", "name": prop("palace"), "location": point(106.6953, 10.7770)},
        }
    ]


def test_retrieve_as_geojson_feature_with_key_values(city: TestClient) -> None:
    response = city.get(
        entity_url("urn:ngsi-ld:Route:nguyen-hue"), params={"options": "keyValues"}, headers={"Accept": GEOJSON}
    )
    assert response.status_code == 200
    assert media(response) == GEOJSON
    assert response.json() == {
        "id": "urn:ngsi-ld:Route:nguyen-hue",
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": NGUYEN_HUE},
        "properties": {"type": "Route", "location": {"type": "LineString", "coordinates": NGUYEN_HUE}},
    }


def test_geojson_geometry_property(parking: TestClient) -> None:
    response = parking.get(
        ENTITIES,
        params={"type": "ParkingLot", "geometryProperty": "entrance", "attrs": "entrance"},
        headers={"Accept": GEOJSON},
    )
    assert response.status_code == 200
    geometries = {f["id"]: f["geometry"] for f in response.json()["features"]}
    assert geometries == {
        "urn:ngsi-ld:ParkingLot:ben-thanh": {"type": "Point", "coordinates": [106.6990, 10.7730]},
        "urn:ngsi-ld:ParkingLot:airport": {"type": "Point", "coordinates": [106.6981, 10.7726]},
    }
    one = parking.get(
        entity_url("urn:ngsi-ld:ParkingLot:airport"),
        params={"geometryProperty": "observationSpace"},
        headers={"Accept": GEOJSON},
    )
    assert one.json()["geometry"] == {"type": "Polygon", "coordinates": [D1_BOX]}


def test_geojson_feature_without_the_geometry_property_has_null_geometry(parking: TestClient) -> None:
    response = parking.get(
        entity_url("urn:ngsi-ld:ParkingLot:ben-thanh"),
        params={"geometryProperty": "observationSpace"},
        headers={"Accept": GEOJSON},
    )
    assert response.status_code == 200
    assert response.json()["geometry"] is None


def test_geojson_is_not_offered_by_discovery(city: TestClient) -> None:
    assert_problem(city.get("/ngsi-ld/v1/types", headers={"Accept": GEOJSON}), 406, "NotAcceptable")


# -- invalid geo-queries ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"georel": "near", "geometry": "Point", "coordinates": "[106.7,10.77]"},
        {"georel": "near;maxDistance==-5", "geometry": "Point", "coordinates": "[106.7,10.77]"},
        {"georel": "near;minDistance==900;maxDistance==100", "geometry": "Point", "coordinates": "[106.7,10.77]"},
        {"georel": "near;maxDistance==1000", "geometry": "Point"},
        {"georel": "within;maxDistance==1000", "geometry": "Polygon", "coordinates": json.dumps([D1_BOX])},
        {"georel": "within", "geometry": "Circle", "coordinates": "[106.7,10.77]"},
        {"georel": "within", "geometry": "Polygon", "coordinates": "[[[106.7,10.7],[106.8,10.7],[106.8,10.8]]]"},
        {"georel": "intersects", "geometry": "Point", "coordinates": "[206.7,10.77]"},
        {"georel": "intersects", "geometry": "Point", "coordinates": "[106.7,95]"},
        {"georel": "intersects", "geometry": "Point", "coordinates": "not json"},
        {"georel": "equals", "geometry": "Point", "coordinates": "[106.7,10.77]", "geoproperty": "bad name"},
    ],
)
def test_invalid_geo_query_is_400(city: TestClient, params: dict[str, str]) -> None:
    assert_problem(city.get(ENTITIES, params={"type": "Landmark", **params}), 400, "BadRequestData")


def test_points_with_tiny_extents_can_be_indexed(client: TestClient) -> None:
    tiny = [
        {"id": f"urn:ngsi-ld:Marker:{k}", "type": "Marker", "location": point(k * 1e-170, k * 1e-170)}
        for k in range(1, 151)
    ]
    response = client.post(f"{OPS}/create", json=tiny)
    assert response.status_code == 201, response.text[:300]
    found = geo_ids(client, "near;maxDistance==1", "Point", [0.0, 0.0], type="Marker", limit="1000")
    assert len(found) == 150
