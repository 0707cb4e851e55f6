"""GeoJSON coverage -> GeoSPARQL WKT, bounding box and centroid; refusals of what is not a geometry."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.opendata.dcat import geometry
from smartcity.opendata.dcat.geometry import GeometryInvalid

lon = st.floats(min_value=-180, max_value=180, allow_nan=False, allow_infinity=False)
lat = st.floats(min_value=-90, max_value=90, allow_nan=False, allow_infinity=False)
position = st.tuples(lon, lat).map(list)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def ring(points: list[list[float]]) -> list[list[float]]:
    return [*points, points[0]]


geometries = st.one_of(
    position.map(lambda p: {"type": "Point", "coordinates": p}),
    st.lists(position, min_size=1, max_size=20).map(lambda ps: {"type": "MultiPoint", "coordinates": ps}),
    st.lists(position, min_size=2, max_size=20).map(lambda ps: {"type": "LineString", "coordinates": ps}),
    st.lists(position, min_size=3, max_size=20).map(lambda ps: {"type": "Polygon", "coordinates": [ring(ps)]}),
    st.lists(st.lists(position, min_size=3, max_size=8).map(lambda ps: [ring(ps)]), min_size=1, max_size=4).map(
        lambda polys: {"type": "MultiPolygon", "coordinates": polys}
    ),
)


@given(geometries)
def test_wkt_keeps_every_coordinate_in_order(shape: dict[str, Any]) -> None:
    wkt = geometry.to_wkt(geometry.parse(shape))
    assert wkt.startswith(shape["type"].upper())
    numbers = [float(n) for n in NUMBER.findall(wkt)]
    expected = [float(v) for p in geometry.positions(shape) for v in p]
    assert numbers == pytest.approx(expected, abs=1e-14)
    assert "e" not in wkt.lower().replace("point", "").replace("polygon", "").replace("linestring", "")
    assert wkt.count("(") == wkt.count(")")


@given(geometries)
def test_bbox_contains_every_position_and_the_centroid_lies_in_the_box(shape: dict[str, Any]) -> None:
    found = geometry.coverage(shape)
    west, south, east, north = found.box
    for p in geometry.positions(shape):
        assert west <= p[0] <= east and south <= p[1] <= north
    assert found.bbox.startswith(("POLYGON ((", "POINT ("))
    if found.centroid is not None:
        x, y = (float(n) for n in NUMBER.findall(found.centroid))
        assert west - 1e-12 <= x <= east + 1e-12 and south - 1e-12 <= y <= north + 1e-12


@given(st.text(max_size=200) | st.dictionaries(st.text(max_size=8), st.integers(), max_size=4))
def test_anything_else_is_refused_cleanly(value: Any) -> None:
    with contextlib.suppress(GeometryInvalid):
        geometry.coverage(value)


def test_square_centroid_and_holes() -> None:
    square = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]
    assert geometry.centroid({"type": "Polygon", "coordinates": [square]}) == pytest.approx((2, 2))
    hole = [[0, 0], [0, 2], [2, 2], [2, 0], [0, 0]]  # the lower-left quarter removed
    x, y = geometry.centroid({"type": "Polygon", "coordinates": [square, hole]}) or (0, 0)
    assert x == pytest.approx(7 / 3) and y == pytest.approx(7 / 3)  # (16 * 2 - 4 * 1) / 12


def test_points_z_collections_and_features() -> None:
    assert geometry.to_wkt({"type": "Point", "coordinates": [106.7, 10.78, 5]}) == "POINT Z (106.7 10.78 5)"
    collection = {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Point", "coordinates": [1, 2]},
            {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
        ],
    }
    assert geometry.to_wkt(geometry.parse(collection)) == "GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (1 2, 3 4))"
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [106.7, 10.78]}}
    found = geometry.coverage(feature)
    assert found.bbox == "POINT (106.7 10.78)"
    assert found.centroid == "POINT (106.7 10.78)"


def test_large_geometries_keep_only_box_and_centroid() -> None:
    points = [[106 + i / 10000, 10 + (i % 7) / 100] for i in range(geometry.MAX_POINTS + 1)]
    found = geometry.coverage({"type": "MultiPoint", "coordinates": points})
    assert found.wkt is None and found.geojson is None
    assert found.bbox.startswith("POLYGON")


@pytest.mark.parametrize(
    "value",
    [
        '{"type": "Point", "coordinates": [200, 10]}',
        '{"type": "Point", "coordinates": [106, "10"]}',
        '{"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}',
        '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}',
        '{"type": "Circle", "coordinates": [0, 0]}',
        '{"type": "LineString", "coordinates": [[0, 0]]}',
        "[1, 2]",
        "{not json",
    ],
)
def test_invalid_geometries(value: str) -> None:
    with pytest.raises(GeometryInvalid):
        geometry.coverage(value)
