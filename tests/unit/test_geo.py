"""Tests of smartcity.hub.geo: GeoJSON validation, georel parsing and the geo-query predicates."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from shapely.geometry import GeometryCollection, LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from smartcity.hub import geo
from smartcity.hub.geo import (
    GEOMETRY_TYPES,
    GeoError,
    GeoQuery,
    Georel,
    bbox,
    haversine_m,
    parse_geojson,
    parse_georel,
    parse_query_geometry,
    to_geojson,
)

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Landmarks of District 1, Ho Chi Minh City (lon, lat).
BEN_THANH = (106.6981, 10.7725)
NOTRE_DAME = (106.6990, 10.7798)

SQUARE = [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]


def pt(lon: float, lat: float) -> Point:
    return parse_geojson({"type": "Point", "coordinates": [lon, lat]})


def box(x0: float, y0: float, x1: float, y1: float) -> BaseGeometry:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return parse_geojson({"type": "Polygon", "coordinates": [ring]})


def destination(lon: float, lat: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """Point reached from (lon, lat) along a great circle (independent of the module under test)."""
    delta = distance_m / geo.EARTH_RADIUS_M
    theta = math.radians(bearing_deg)
    phi1, lam1 = math.radians(lat), math.radians(lon)
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lam2 = lam1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * sin_phi2
    )
    lon2 = (math.degrees(lam2) + 540.0) % 360.0 - 180.0
    return (max(-180.0, min(180.0, lon2)), max(-90.0, min(90.0, math.degrees(phi2))))


def inside(b: tuple[float, float, float, float], outer: tuple[float, float, float, float] | None) -> bool:
    """Does bbox b intersect the candidate bbox ``outer`` (None = no restriction)?"""
    if outer is None:
        return True
    return b[0] <= outer[2] and b[2] >= outer[0] and b[1] <= outer[3] and b[3] >= outer[1]


# ---------------------------------------------------------------------------------------------------------
# parse_geojson: valid input
# ---------------------------------------------------------------------------------------------------------


def test_public_api() -> None:
    assert set(geo.__all__) == {
        "GeoError",
        "GEOMETRY_TYPES",
        "parse_geojson",
        "parse_query_geometry",
        "Georel",
        "parse_georel",
        "GeoQuery",
        "to_geojson",
        "bbox",
        "check_geojson",
        "geojson_bbox",
        "haversine_m",
    }
    assert GEOMETRY_TYPES == (
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    )
    assert issubclass(GeoError, ValueError)


VALID: list[dict[str, Any]] = [
    {"type": "Point", "coordinates": [106.7, 10.78]},
    {"type": "Point", "coordinates": [-180, -90]},
    {"type": "Point", "coordinates": [180, 90]},
    {"type": "MultiPoint", "coordinates": [[106.7, 10.78], [106.71, 10.79]]},
    {"type": "LineString", "coordinates": [[106.7, 10.78], [106.71, 10.79]]},
    {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3], [4, 2]]]},
    {"type": "Polygon", "coordinates": SQUARE},
    {
        "type": "Polygon",
        "coordinates": [SQUARE[0], [[2, 2], [2, 4], [4, 4], [4, 2], [2, 2]]],  # with a hole
    },
    {
        "type": "MultiPolygon",
        "coordinates": [SQUARE, [[[20, 20], [30, 20], [30, 30], [20, 20]]]],
    },
    {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Point", "coordinates": [1, 2]},
            {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
            {"type": "GeometryCollection", "geometries": [{"type": "Polygon", "coordinates": SQUARE}]},
        ],
    },
]


@pytest.mark.parametrize("obj", VALID, ids=lambda o: str(o["type"]))
def test_parse_valid_geometries_round_trip(obj: dict[str, Any]) -> None:
    geom = parse_geojson(obj)
    assert geom.geom_type == obj["type"]
    assert geom.is_valid
    out = to_geojson(geom)
    assert out["type"] == obj["type"]
    assert parse_geojson(out).equals_exact(geom, 0.0)
    if "coordinates" in obj:
        assert out["coordinates"] == obj["coordinates"]  # ints compare equal to floats; lists, not tuples


def test_third_coordinate_is_ignored_and_foreign_members_allowed() -> None:
    geom = parse_geojson(
        {"type": "LineString", "coordinates": [[106.7, 10.78, 5.5], [106.71, 10.79, 7]], "bbox": [1, 2, 3, 4]}
    )
    assert not geom.has_z
    assert to_geojson(geom) == {"type": "LineString", "coordinates": [[106.7, 10.78], [106.71, 10.79]]}


def test_tuples_are_accepted_as_arrays() -> None:
    assert parse_geojson({"type": "Point", "coordinates": (1.5, 2.5)}).equals(Point(1.5, 2.5))


def test_to_geojson_of_shapely_objects() -> None:
    assert to_geojson(Point(1, 2)) == {"type": "Point", "coordinates": [1.0, 2.0]}
    ring = shapely.LinearRing([(0, 0), (1, 0), (1, 1)])
    assert to_geojson(ring)["type"] == "LineString"
    gc = GeometryCollection([Point(1, 2), LineString([(0, 0), (1, 1)])])
    assert to_geojson(gc) == {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Point", "coordinates": [1.0, 2.0]},
            {"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0]]},
        ],
    }
    with pytest.raises(GeoError):
        to_geojson("POINT (1 2)")


def test_bbox() -> None:
    assert bbox(parse_geojson({"type": "LineString", "coordinates": [[3, -1], [-2, 4]]})) == (-2, -1, 3, 4)
    assert bbox(pt(*BEN_THANH)) == (*BEN_THANH, *BEN_THANH)
    with pytest.raises(GeoError, match="empty"):
        bbox(Point())


# ---------------------------------------------------------------------------------------------------------
# parse_geojson: invalid input
# ---------------------------------------------------------------------------------------------------------

BOWTIE = [[[0, 0], [10, 10], [10, 0], [0, 10], [0, 0]]]

INVALID: list[tuple[object, str]] = [
    (None, "must be an object"),
    ([1, 2], "must be an object"),
    ("Point", "must be an object"),
    ({}, "'type'"),
    ({"type": 5, "coordinates": [1, 2]}, "'type'"),
    ({"type": "Feature", "geometry": None}, "unsupported geometry type 'Feature'"),
    ({"type": "point", "coordinates": [1, 2]}, "unsupported geometry type"),
    ({"type": "Point"}, "needs a member 'coordinates'"),
    # Point
    ({"type": "Point", "coordinates": [200, 10]}, r"longitude 200 out of range \[-180, 180\]"),
    ({"type": "Point", "coordinates": [-180.5, 10]}, "longitude .* out of range"),
    ({"type": "Point", "coordinates": [10, 91]}, r"latitude 91 out of range \[-90, 90\]"),
    ({"type": "Point", "coordinates": [10, -90.0001]}, "latitude .* out of range"),
    ({"type": "Point", "coordinates": [1]}, "2 or 3 numbers"),
    ({"type": "Point", "coordinates": [1, 2, 3, 4]}, "2 or 3 numbers"),
    ({"type": "Point", "coordinates": []}, "2 or 3 numbers"),
    ({"type": "Point", "coordinates": "1,2"}, "array of 2 or 3 numbers"),
    ({"type": "Point", "coordinates": {"lon": 1, "lat": 2}}, "array of 2 or 3 numbers"),
    ({"type": "Point", "coordinates": [[1, 2]]}, "2 or 3 numbers, got 1"),
    ({"type": "Point", "coordinates": [[1, 2], 3]}, "longitude must be a number, got array"),
    ({"type": "Point", "coordinates": [True, 2]}, "longitude must be a number, got boolean"),
    ({"type": "Point", "coordinates": [1, False]}, "latitude must be a number, got boolean"),
    ({"type": "Point", "coordinates": ["1", 2]}, "got string"),
    ({"type": "Point", "coordinates": [None, 2]}, "got null"),
    ({"type": "Point", "coordinates": [float("nan"), 2]}, "finite"),
    ({"type": "Point", "coordinates": [1, float("inf")]}, "finite"),
    ({"type": "Point", "coordinates": [1, 2, float("nan")]}, "altitude must be a finite number"),
    ({"type": "Point", "coordinates": [1, 2, "high"]}, "altitude must be a number"),
    ({"type": "Point", "coordinates": [10**400, 2]}, "out of range"),
    ({"type": "Point", "coordinates": [10**5000, 2]}, "<huge integer> out of range"),
    # MultiPoint
    ({"type": "MultiPoint", "coordinates": []}, "at least 1"),
    ({"type": "MultiPoint", "coordinates": [1, 2]}, "position must be an array"),
    (
        {"type": "MultiPoint", "coordinates": [[1, 2], [1, 200]]},
        r"latitude 200 .* at geometry\.coordinates\[1\]",
    ),
    # LineString
    ({"type": "LineString", "coordinates": [[1, 2]]}, "at least 2"),
    ({"type": "LineString", "coordinates": [1, 2]}, "position must be an array"),
    (
        {"type": "LineString", "coordinates": [[[1, 2], [3, 4]], [1, 2]]},
        "longitude must be a number, got array",
    ),
    ({"type": "LineString", "coordinates": [[1, 2], [[3, 4]]]}, "2 or 3 numbers"),
    # MultiLineString
    ({"type": "MultiLineString", "coordinates": []}, "at least 1"),
    ({"type": "MultiLineString", "coordinates": [[1, 2], [3, 4]]}, "position must be an array"),
    ({"type": "MultiLineString", "coordinates": [[[1, 2]]]}, "LineString must have at least 2"),
    # Polygon
    ({"type": "Polygon", "coordinates": []}, "at least 1"),
    (
        {"type": "Polygon", "coordinates": [[0, 0], [1, 0], [1, 1], [0, 0]]},
        "ring must have at least 4 positions",
    ),
    ({"type": "Polygon", "coordinates": [[1, 2, 3, 4]]}, "position must be an array"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "ring must have at least 4"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "Polygon ring is not closed"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0.5]]]}, "Polygon ring is not closed"),
    ({"type": "Polygon", "coordinates": BOWTIE}, "invalid polygon: Self-intersection"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [2, 0], [0, 0]]]}, "invalid polygon"),
    (
        {"type": "Polygon", "coordinates": [SQUARE[0], [[20, 20], [20, 25], [25, 25], [20, 20]]]},
        "invalid polygon: Hole lies outside shell",
    ),
    # MultiPolygon
    ({"type": "MultiPolygon", "coordinates": []}, "at least 1"),
    ({"type": "MultiPolygon", "coordinates": SQUARE}, "ring must have at least 4 positions, got 2"),
    ({"type": "MultiPolygon", "coordinates": [[1, 2]]}, "ring must be an array, got number"),
    ({"type": "MultiPolygon", "coordinates": [BOWTIE]}, "invalid polygon: Self-intersection"),
    (
        {"type": "MultiPolygon", "coordinates": [SQUARE, [[[5, 5], [15, 5], [15, 15], [5, 15], [5, 5]]]]},
        "invalid multipolygon",
    ),
    # GeometryCollection
    ({"type": "GeometryCollection"}, "needs a member 'geometries'"),
    ({"type": "GeometryCollection", "geometries": []}, "at least 1"),
    ({"type": "GeometryCollection", "geometries": {"type": "Point"}}, "must be an array"),
    (
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}, 7]},
        r"must be an object, got number at geometry.geometries\[1\]",
    ),
    (
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [999, 2]}]},
        "longitude 999 out of range",
    ),
]


@pytest.mark.parametrize(("obj", "message"), INVALID)
def test_parse_invalid_geometries(obj: object, message: str) -> None:
    with pytest.raises(GeoError, match=message):
        parse_geojson(obj)


def test_deeply_nested_collection_is_rejected() -> None:
    obj: dict[str, Any] = {"type": "Point", "coordinates": [1, 2]}
    for _ in range(50):
        obj = {"type": "GeometryCollection", "geometries": [obj]}
    with pytest.raises(GeoError, match="nested too deeply"):
        parse_geojson(obj)


def test_deeply_nested_arrays_are_rejected() -> None:
    coords: Any = [1, 2]
    for _ in range(5000):
        coords = [coords]
    with pytest.raises(GeoError):
        parse_geojson({"type": "MultiPolygon", "coordinates": coords})


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.floats(min_value=-200, max_value=200)
    | st.text(max_size=4)
    | st.sampled_from(GEOMETRY_TYPES)
)
json_keys = st.sampled_from(["type", "coordinates", "geometries", "bbox"]) | st.text(max_size=3)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(json_keys, children, max_size=4),
    max_leaves=30,
)
nested_numbers = st.recursive(
    st.integers(min_value=-200, max_value=200) | st.floats(min_value=-200, max_value=200) | st.booleans(),
    lambda children: st.lists(children, max_size=6),
    max_leaves=40,
)
geometry_like = st.recursive(
    st.fixed_dictionaries({"type": st.sampled_from(GEOMETRY_TYPES), "coordinates": nested_numbers}),
    lambda children: st.fixed_dictionaries(
        {"type": st.just("GeometryCollection"), "geometries": st.lists(children, max_size=3)}
    ),
    max_leaves=5,
)


@PROPERTY
@given(json_values | geometry_like)
def test_parse_geojson_only_raises_geo_error(obj: object) -> None:
    try:
        geom = parse_geojson(obj)
    except GeoError as exc:
        assert str(exc)
    else:
        note(repr(geom))
        assert not geom.is_empty
        assert geom.is_valid or geom.geom_type in ("LineString", "MultiLineString", "GeometryCollection")
        assert parse_geojson(to_geojson(geom)).equals_exact(geom, 0.0)


# ---------------------------------------------------------------------------------------------------------
# parse_query_geometry
# ---------------------------------------------------------------------------------------------------------


def test_parse_query_geometry() -> None:
    assert parse_query_geometry("Point", "[106.7,10.78]").equals(Point(106.7, 10.78))
    assert parse_query_geometry("Point", "%5B106.7%2C10.78%5D").equals(Point(106.7, 10.78))
    poly = parse_query_geometry("Polygon", "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]")
    assert poly.equals(Polygon([(0, 0), (1, 0), (1, 1), (0, 1)]))
    line = parse_query_geometry("LineString", " [ [0, 0], [1, 1] ] ")
    assert line.equals(LineString([(0, 0), (1, 1)]))


@pytest.mark.parametrize(
    ("geometry", "coordinates", "message"),
    [
        ("Circle", "[1,2]", "unknown geometry 'Circle'"),
        ("point", "[1,2]", "unknown geometry"),
        ("", "[1,2]", "unknown geometry"),
        ("GeometryCollection", "[]", "GeometryCollection cannot be used"),
        ("Point", "", "not a valid JSON array"),
        ("Point", "106.7,10.78", "not a valid JSON array"),
        ("Point", "[106.7,10.78", "not a valid JSON array"),
        ("Point", "%5B106.7", "not a valid JSON array"),
        ("Point", '{"lon": 1}', "must be a JSON array, got object"),
        ("Point", "1", "must be a JSON array, got number"),
        ("Point", "[NaN, 1]", "finite"),
        ("Point", "[1e999, 1]", "finite"),
        ("Point", "[1, " + "9" * 5000 + "]", "not a valid JSON array"),
        ("Point", "[" * 100_000, "not a valid JSON array"),
        ("Point", "[200, 1]", "longitude 200 out of range"),
        ("Polygon", "[[[0,0],[1,0],[1,1],[0,1]]]", "Polygon ring is not closed"),
    ],
)
def test_parse_query_geometry_errors(geometry: str, coordinates: str, message: str) -> None:
    with pytest.raises(GeoError, match=message):
        parse_query_geometry(geometry, coordinates)


# ---------------------------------------------------------------------------------------------------------
# georel
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("near;maxDistance==2000", Georel("near", max_distance=2000.0)),
        ("near;minDistance==100", Georel("near", min_distance=100.0)),
        ("near;maxDistance==2000;minDistance==10", Georel("near", 2000.0, 10.0)),
        ("near;minDistance==10;maxDistance==2000", Georel("near", 2000.0, 10.0)),
        ("near;maxDistance==0", Georel("near", max_distance=0.0)),
        ("near;maxDistance==12.5", Georel("near", max_distance=12.5)),
        ("near;maxDistance==1e3", Georel("near", max_distance=1000.0)),
        ("near;maxDistance==.5", Georel("near", max_distance=0.5)),
        ("near;maxDistance==5.", Georel("near", max_distance=5.0)),
        ("near;maxDistance==100;minDistance==100", Georel("near", 100.0, 100.0)),
        (" within ", Georel("within")),
        ("within", Georel("within")),
        ("contains", Georel("contains")),
        ("intersects", Georel("intersects")),
        ("equals", Georel("equals")),
        ("disjoint", Georel("disjoint")),
        ("overlaps", Georel("overlaps")),
    ],
)
def test_parse_georel(text: str, expected: Georel) -> None:
    assert parse_georel(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unknown georel"),
        ("near", "needs maxDistance and/or minDistance"),
        ("near;", "invalid near parameter"),
        ("Near;maxDistance==10", "unknown georel"),
        ("touches", "unknown georel 'touches'"),
        ("within;maxDistance==10", "takes no parameters"),
        ("near;maxDistance=10", "invalid near parameter"),
        ("near;maxDistance:10", "invalid near parameter"),
        ("near;maxdistance==10", "invalid near parameter"),
        ("near;distance==10", "invalid near parameter"),
        ("near;maxDistance==", "non-negative number"),
        ("near;maxDistance==-1", "non-negative number"),
        ("near;maxDistance==+1", "non-negative number"),
        ("near;maxDistance==abc", "non-negative number"),
        ("near;maxDistance==nan", "non-negative number"),
        ("near;maxDistance==inf", "non-negative number"),
        ("near;maxDistance==1_000", "non-negative number"),
        ("near;maxDistance==\u0661\u0660", "non-negative number"),  # Arabic-Indic digits
        ("near;maxDistance== 10", "non-negative number"),
        ("near;maxDistance==1e999", "too large"),
        ("near;maxDistance==10;maxDistance==20", "given more than once"),
        ("near;maxDistance==10;minDistance==20", "greater than maxDistance"),
        ("near;maxDistance==10;;", "invalid near parameter"),
    ],
)
def test_parse_georel_errors(text: str, message: str) -> None:
    with pytest.raises(GeoError, match=message):
        parse_georel(text)


def test_georel_constructor_validates() -> None:
    assert Georel("near", max_distance=5).max_distance == 5.0
    assert isinstance(Georel("near", max_distance=5).max_distance, float)
    with pytest.raises(GeoError):
        Georel("nearby")  # type: ignore[arg-type]
    with pytest.raises(GeoError):
        Georel("near")
    with pytest.raises(GeoError):
        Georel("within", max_distance=3)
    with pytest.raises(GeoError):
        Georel("near", max_distance=-1)
    with pytest.raises(GeoError):
        Georel("near", max_distance=math.nan)
    with pytest.raises(GeoError):
        Georel("near", max_distance=True)


def test_parse_georel_rejects_non_strings() -> None:
    with pytest.raises(GeoError):
        parse_georel(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# distances and near
# ---------------------------------------------------------------------------------------------------------


def test_haversine_known_distances() -> None:
    assert haversine_m(*BEN_THANH, *NOTRE_DAME) == pytest.approx(815, rel=0.01)
    assert haversine_m(*NOTRE_DAME, *BEN_THANH) == haversine_m(*BEN_THANH, *NOTRE_DAME)
    assert haversine_m(*BEN_THANH, *BEN_THANH) == 0.0
    one_degree = geo.EARTH_RADIUS_M * math.pi / 180
    assert haversine_m(106.7, 10.0, 106.7, 11.0) == pytest.approx(one_degree, rel=1e-12)
    assert haversine_m(179.9995, 0, -179.9995, 0) == pytest.approx(one_degree / 1000, rel=1e-6)
    assert haversine_m(0, 0, 180, 0) == pytest.approx(math.pi * geo.EARTH_RADIUS_M)


def near(max_distance: float | None = None, min_distance: float | None = None) -> Georel:
    return Georel("near", max_distance=max_distance, min_distance=min_distance)


def test_near_point_to_point_in_ho_chi_minh_city() -> None:
    target = pt(*NOTRE_DAME)
    assert GeoQuery(near(900), pt(*BEN_THANH)).matches(target)
    assert not GeoQuery(near(800), pt(*BEN_THANH)).matches(target)
    assert GeoQuery(near(min_distance=800), pt(*BEN_THANH)).matches(target)
    assert not GeoQuery(near(min_distance=900), pt(*BEN_THANH)).matches(target)
    assert GeoQuery(near(900, 800), pt(*BEN_THANH)).matches(target)
    assert not GeoQuery(near(2000, 900), pt(*BEN_THANH)).matches(target)
    assert GeoQuery(near(0), pt(*BEN_THANH)).matches(pt(*BEN_THANH))


def test_near_polygon_query_and_non_point_targets() -> None:
    district = box(106.69, 10.77, 106.70, 10.78)
    east = haversine_m(106.70, 10.775, 106.705, 10.775)  # ~546 m east of the box's edge
    q = GeoQuery(near(east * 1.001), district)
    assert q.matches(pt(106.705, 10.775))
    assert not GeoQuery(near(east * 0.999), district).matches(pt(106.705, 10.775))
    assert q.matches(pt(106.695, 10.775))  # inside: distance 0
    line = parse_geojson({"type": "LineString", "coordinates": [[106.705, 10.775], [106.71, 10.775]]})
    assert q.matches(line)
    assert not GeoQuery(near(min_distance=east * 1.001), district).matches(line)
    # A point query and a polygon target containing it: distance 0.
    assert GeoQuery(near(1), pt(106.695, 10.775)).matches(district)
    assert not GeoQuery(near(min_distance=1), pt(106.695, 10.775)).matches(district)


def test_near_line_target_distance_matches_haversine() -> None:
    # Point query, LineString target whose nearest vertex is 815 m away (north-south).
    line = parse_geojson({"type": "LineString", "coordinates": [list(NOTRE_DAME), [106.6990, 10.79]]})
    d = haversine_m(*BEN_THANH, *NOTRE_DAME)
    assert GeoQuery(near(d * 1.001), pt(*BEN_THANH)).matches(line)
    assert not GeoQuery(near(d * 0.995), pt(*BEN_THANH)).matches(line)


def test_near_follows_long_lon_lat_edges() -> None:
    # A 20-degree LineString along the parallel 60.0001 N passes ~11 m north of (0, 60).  As a great circle
    # (or a single projected chord) it would bulge tens of kilometres poleward: edges must be densified.
    along = {"type": "LineString", "coordinates": [[-10, 60.0001], [10, 60.0001]]}
    gap = haversine_m(0, 60, 0, 60.0001)
    assert GeoQuery(near(gap * 1.01), pt(0, 60)).matches(parse_geojson(along))
    assert not GeoQuery(near(gap * 0.99), pt(0, 60)).matches(parse_geojson(along))
    # The same with the long line as the query and the point as the target.
    assert GeoQuery(near(gap * 1.01), parse_geojson(along)).matches(pt(0, 60))
    assert not GeoQuery(near(gap * 0.99), parse_geojson(along)).matches(pt(0, 60))


def test_projection_paths_agree() -> None:
    q = GeoQuery(near(10), box(106.6, 10.7, 106.8, 10.9))
    lons = [-180.0, -73.3, 0.0, 106.7, 106.70001, 180.0, -73.3] + [106.7 + i * 0.37 for i in range(40)]
    lats = [0.0, -10.8, 89.0, 10.8, 10.80001, -90.0, -10.8] + [10.8 - i * 0.5 for i in range(40)]
    centre = q.geometry.centroid
    lons.append(centre.x)
    lats.append(centre.y)
    coords = np.column_stack([np.array(lons, dtype=np.float64), np.array(lats, dtype=np.float64)])
    fast = q._project_array(coords)  # numpy path (more than a handful of vertices)
    slow = np.array([q._project_xy(x, y) for x, y in coords.tolist()])
    assert fast.shape == slow.shape == (len(lons), 2)
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-6)
    assert tuple(fast[-1]) == pytest.approx((0.0, 0.0), abs=1e-6)
    # Projected distances from the centre are the spherical ones.
    for (lon, lat), (x, y) in zip(coords.tolist(), fast.tolist(), strict=True):
        expected = haversine_m(centre.x, centre.y, lon, lat)
        assert math.hypot(x, y) == pytest.approx(expected, rel=1e-9, abs=1e-5)


def test_near_across_the_antimeridian_and_at_the_pole() -> None:
    q = GeoQuery(near(300), pt(179.9995, 0))
    target = pt(-179.9995, 0)  # ~111 m away across the antimeridian
    assert q.matches(target)
    assert inside(bbox(target), q.candidate_bbox())
    assert q.candidate_bbox() == pytest.approx((-180.0, -0.0027, 180.0, 0.0027), abs=1e-4)
    polar = GeoQuery(near(1000), pt(0, 89.999))
    far_side = pt(180, 89.999)  # ~222 m away over the pole
    assert polar.matches(far_side)
    cb = polar.candidate_bbox()
    assert cb is not None
    assert cb[0] == -180 and cb[2] == 180 and cb[3] == 90
    assert GeoQuery(near(2.1e7), pt(0, 0)).candidate_bbox() == (-180, -90, 180, 90)
    assert GeoQuery(near(2.1e7), pt(0, 0)).matches(pt(180, 0))


def test_near_with_polygon_query_near_the_antimeridian() -> None:
    q = GeoQuery(near(5000), box(179.9, -0.1, 180, 0.1))
    assert q.matches(pt(-179.98, 0))  # ~2.2 km across the antimeridian
    assert not q.matches(pt(-179.9, 0))  # ~11 km
    assert inside(bbox(pt(-179.98, 0)), q.candidate_bbox())


def test_near_rejects_empty_targets() -> None:
    q = GeoQuery(near(1e6), pt(0, 0))
    assert not q.matches(Point())
    assert GeoQuery(Georel("disjoint"), pt(0, 0)).matches(Point())
    assert not GeoQuery(Georel("intersects"), pt(0, 0)).matches(Point())


# ---------------------------------------------------------------------------------------------------------
# topological relations
# ---------------------------------------------------------------------------------------------------------

BIG = box(0, 0, 10, 10)
SMALL = box(2, 2, 4, 4)
OVERLAPPING = box(5, 5, 15, 15)
FAR = box(20, 20, 30, 30)
EDGE_POINT = (10.0, 5.0)
REVERSED_RING = [[10, 10], [10, 0], [0, 0], [0, 10], [10, 10]]
BIG_REVERSED = parse_geojson({"type": "Polygon", "coordinates": [REVERSED_RING]})


@pytest.mark.parametrize(
    ("relation", "query", "target", "expected"),
    [
        ("within", BIG, SMALL, True),
        ("within", BIG, pt(5, 5), True),
        ("within", BIG, pt(*EDGE_POINT), False),  # boundary only: not within
        ("within", SMALL, BIG, False),
        ("within", BIG, OVERLAPPING, False),
        ("within", BIG, BIG, True),
        ("contains", SMALL, BIG, True),
        ("contains", BIG, SMALL, False),
        ("contains", pt(5, 5), BIG, True),
        ("contains", BIG, OVERLAPPING, False),
        ("intersects", BIG, OVERLAPPING, True),
        ("intersects", BIG, pt(*EDGE_POINT), True),
        ("intersects", BIG, FAR, False),
        ("intersects", BIG, SMALL, True),
        ("equals", BIG, BIG, True),
        ("equals", BIG, box(0, 0, 10, 10.0000001), False),
        ("equals", BIG, BIG_REVERSED, True),  # topological: other start vertex and orientation
        ("equals", pt(1, 2), pt(1, 2), True),
        ("equals", pt(1, 2), pt(1, 2.000001), False),
        ("disjoint", BIG, FAR, True),
        ("disjoint", BIG, OVERLAPPING, False),
        ("disjoint", BIG, pt(*EDGE_POINT), False),
        ("overlaps", BIG, OVERLAPPING, True),
        ("overlaps", BIG, SMALL, False),  # containment is not overlap
        ("overlaps", BIG, FAR, False),
        ("overlaps", BIG, BIG, False),
        ("overlaps", BIG, pt(5, 5), False),  # different dimensions never overlap
    ],
)
def test_relations(relation: Any, query: BaseGeometry, target: BaseGeometry, expected: bool) -> None:
    q = GeoQuery(Georel(relation), query)
    assert q.matches(target) is expected
    if expected:
        assert inside(bbox(target), q.candidate_bbox())


def test_relations_with_geometry_collections() -> None:
    gc = parse_geojson(
        {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Point", "coordinates": [5, 5]},
                {"type": "Polygon", "coordinates": SQUARE},
            ],
        }
    )
    assert GeoQuery(Georel("within"), BIG).matches(gc)
    assert GeoQuery(Georel("intersects"), FAR).matches(gc) is False
    assert GeoQuery(Georel("contains"), SMALL).matches(gc)


def test_candidate_bbox_per_relation() -> None:
    for relation in ("within", "contains", "intersects", "equals", "overlaps"):
        assert GeoQuery(Georel(relation), SMALL).candidate_bbox() == (2, 2, 4, 4)
    assert GeoQuery(Georel("disjoint"), SMALL).candidate_bbox() is None
    assert GeoQuery(near(min_distance=10), SMALL).candidate_bbox() is None
    cb = GeoQuery(near(1000), pt(*BEN_THANH)).candidate_bbox()
    assert cb is not None
    # ~0.009 degrees of latitude per km; slightly more in longitude at 10.8 degrees north.
    assert cb[1] == pytest.approx(BEN_THANH[1] - 0.009, abs=2e-4)
    assert cb[3] == pytest.approx(BEN_THANH[1] + 0.009, abs=2e-4)
    assert cb[0] == pytest.approx(BEN_THANH[0] - 0.009 / math.cos(math.radians(10.77)), abs=2e-4)
    assert cb[2] == pytest.approx(BEN_THANH[0] + 0.009 / math.cos(math.radians(10.77)), abs=2e-4)


def test_geoquery_validation_equality_and_geoproperty() -> None:
    q = GeoQuery(near(100), pt(1, 2), geoproperty="observationSpace")
    assert q.geoproperty == "observationSpace"
    assert GeoQuery(near(100), pt(1, 2)).geoproperty == "location"
    assert q == GeoQuery(near(100), pt(1, 2), geoproperty="observationSpace")
    assert hash(q) == hash(GeoQuery(near(100), pt(1, 2), geoproperty="observationSpace"))
    assert "_projected" not in repr(q)
    with pytest.raises(GeoError):
        GeoQuery(near(100), Point())
    with pytest.raises(GeoError):
        GeoQuery(near(100), "POINT (1 2)")
    with pytest.raises(GeoError):
        GeoQuery("near", pt(1, 2))  # type: ignore[arg-type]
    with pytest.raises(GeoError):
        GeoQuery(near(100), pt(1, 2), geoproperty="")


def test_query_geometry_is_not_changed() -> None:
    geom = box(0, 0, 1, 1)
    before = to_geojson(geom)
    q = GeoQuery(near(10), geom)
    assert q.geometry is geom
    assert to_geojson(geom) == before


# ---------------------------------------------------------------------------------------------------------
# properties: candidate_bbox is never too small; near is exact for point queries
# ---------------------------------------------------------------------------------------------------------

longitudes = st.floats(min_value=-180, max_value=180)
latitudes = st.floats(min_value=-90, max_value=90)
max_distances = st.one_of(
    st.floats(min_value=0, max_value=5_000),
    st.floats(min_value=0, max_value=500_000),
    st.floats(min_value=0, max_value=2.5e7),
)


@PROPERTY
@given(
    lon=longitudes | st.sampled_from([-180.0, 180.0, 179.9999, -179.9999, 106.7]),
    lat=latitudes | st.sampled_from([-90.0, 90.0, 89.9999, -89.9999, 10.78]),
    max_distance=max_distances,
    min_distance=st.none() | st.floats(min_value=0, max_value=1),
    bearing=st.floats(min_value=0, max_value=360),
    fraction=st.floats(min_value=0, max_value=1.5),
)
def test_candidate_bbox_contains_every_matching_point(
    lon: float,
    lat: float,
    max_distance: float,
    min_distance: float | None,
    bearing: float,
    fraction: float,
) -> None:
    min_d = None if min_distance is None else min_distance * max_distance
    q = GeoQuery(near(max_distance, min_d), pt(lon, lat))
    target = pt(*destination(lon, lat, bearing, fraction * max_distance))
    cb = q.candidate_bbox()
    assert cb is not None
    assert -180 <= cb[0] <= cb[2] <= 180 and -90 <= cb[1] <= cb[3] <= 90
    assert inside(bbox(pt(lon, lat)), cb)
    distance = haversine_m(lon, lat, target.x, target.y)
    note(f"bbox={cb} target={target} distance={distance}")
    tol = 1e-5  # metres: the module compares with a 1 µm tolerance
    if distance < max_distance - tol and (min_d is None or distance > min_d + tol):
        assert q.matches(target)
    if distance > max_distance + tol or (min_d is not None and distance < min_d - tol):
        assert not q.matches(target)
    if q.matches(target):
        assert inside(bbox(target), cb)


@PROPERTY
@given(
    lon=longitudes,
    lat=st.floats(min_value=-85, max_value=85),
    width=st.floats(min_value=1e-4, max_value=0.5),
    height=st.floats(min_value=1e-4, max_value=0.5),
    max_distance=st.floats(min_value=0, max_value=200_000),
    bearing=st.floats(min_value=0, max_value=360),
    fraction=st.floats(min_value=0, max_value=1.5),
    corner=st.sampled_from([(0, 0), (1, 0), (0, 1), (1, 1), (0.5, 0)]),
)
def test_candidate_bbox_contains_every_point_near_a_polygon(
    lon: float,
    lat: float,
    width: float,
    height: float,
    max_distance: float,
    bearing: float,
    fraction: float,
    corner: tuple[float, float],
) -> None:
    x0 = min(lon, 180 - width)
    query = box(x0, lat, x0 + width, lat + height)
    q = GeoQuery(near(max_distance), query)
    origin = (x0 + corner[0] * width, lat + corner[1] * height)
    target = pt(*destination(*origin, bearing, fraction * max_distance))
    if q.matches(target):
        assert inside(bbox(target), q.candidate_bbox())
    if fraction <= 0.99 and corner != (0.5, 0):
        # Within maxDistance of a vertex, hence of the polygon (to the projection's accuracy).
        assert q.matches(target)


@PROPERTY
@given(
    lon=st.floats(min_value=-170, max_value=170),
    lat=st.floats(min_value=-80, max_value=80),
    bearing1=st.floats(min_value=0, max_value=360),
    bearing2=st.floats(min_value=0, max_value=360),
    d1=st.floats(min_value=0, max_value=50_000),
    d2=st.floats(min_value=0, max_value=50_000),
)
def test_projected_distance_never_shrinks(
    lon: float, lat: float, bearing1: float, bearing2: float, d1: float, d2: float
) -> None:
    a = destination(lon, lat, bearing1, d1)
    b = destination(lon, lat, bearing2, d2)
    query = parse_geojson({"type": "MultiPoint", "coordinates": [[lon, lat], list(a)]})
    true = min(haversine_m(lon, lat, *b), haversine_m(*a, *b))
    q = GeoQuery(near(true * (1 - 1e-9) - 1e-5) if true > 1e-3 else near(0), query)
    if true > 1e-3:
        assert not q.matches(pt(*b))  # projected distance >= the spherical one
    assert GeoQuery(near(true * 1.001 + 1e-3), query).matches(pt(*b))  # and it is accurate


@settings(max_examples=300, deadline=None)
@given(
    coords=st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-400, 400), st.booleans()),
        min_size=0,
        max_size=4,
    ),
    extra=st.booleans(),
)
def test_check_geojson_agrees_with_the_full_parser_on_points(coords: list[object], extra: bool) -> None:
    obj: dict[str, object] = {"type": "Point", "coordinates": coords}
    if extra:
        obj["bbox"] = [0, 0, 1, 1]
    try:
        geo.parse_geojson(obj)
        full_ok = True
    except geo.GeoError:
        full_ok = False
    try:
        geo.check_geojson(obj)
        fast_ok = True
    except geo.GeoError:
        fast_ok = False
    assert fast_ok == full_ok
